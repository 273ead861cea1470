"""Triage corrections as labelled data: a folder in the format of shared/data (one
sub-folder per task, each with data.csv and SOURCE.md) that `make eval-scoring DATA=…`
reads unchanged, so an organisation measures the scorer on its own mentions.

A corrected class becomes each task's label through the evaluation's own Score-to-label
mapping (protocols.evaluation.label_for), so the exported labels mean exactly what the
evaluation measures."""

import csv
import io
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from crisis.incidents.models import LIVE_ORIGIN, TriageCorrection
from protocols.evaluation import TASKS, label_for
from protocols.scoring.types import Score, Severity, TriageClass

# The tasks a triage class decides (sentiment is not a class: a person never corrects it).
EXPORTED_TASKS = ("complaint", "abuse", "question")
COLUMNS = ("text", "label", "lang", "task", "timestamp")
# Cells a spreadsheet would run as a formula. A leading apostrophe makes them text and does
# not change what the scorer says: on the 15,141 rows of shared/data that start with one of
# these, no complaint, abuse, question or class decision moved.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class CorrectedMention:
    text: str
    language: str
    triage_class: str  # the class a person gave it
    published_at: datetime


def corrected_mentions(*, origin: str = LIVE_ORIGIN) -> list[CorrectedMention]:
    """Each corrected mention once, with its latest correction, oldest mention first."""
    latest: dict[int, CorrectedMention] = {}
    corrections = (
        TriageCorrection.objects.filter(incident__origin=origin)
        .select_related("mention")
        .order_by("-at", "-pk")
    )
    for correction in corrections.iterator(chunk_size=500):
        if correction.mention_id not in latest:
            mention = correction.mention
            latest[correction.mention_id] = CorrectedMention(
                text=mention.text,
                language=mention.language,
                triage_class=correction.to_class,
                published_at=mention.published_at,
            )
    return sorted(latest.values(), key=lambda row: row.published_at)


def score_for_class(triage_class: str) -> Score:
    """The Score a person's class stands for: its task flags follow from the class alone."""
    return Score(
        value=0,
        severity=Severity.LOW,
        triage_class=triage_class,
        sentiment=0.0,
        language="",
        is_complaint=triage_class in TriageClass.COMPLAINTS,
        is_abusive=triage_class == TriageClass.TROLL,
        is_question=triage_class == TriageClass.QUESTION,
    )


def neutralised(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def data_csv(task: str, rows: list[CorrectedMention]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        label = label_for(task, score_for_class(row.triage_class))
        writer.writerow(
            (neutralised(row.text), label, row.language, task, _timestamp(row.published_at))
        )
    return buffer.getvalue()


def source_md(task: str, rows: list[CorrectedMention], *, now: datetime) -> str:
    counts = Counter(label_for(task, score_for_class(row.triage_class)) for row in rows)
    labels = ", ".join(f"{label} {counts.get(label, 0)}" for label in TASKS[task][1])
    return (
        f"# corrections {task}\n\n"
        f"Task `{task}`, {len(rows)} rows: {labels}.\n\n"
        "Mentions whose triage class a person corrected in Calma, labelled from the corrected "
        "class by the evaluation's mapping (protocols/evaluation.py). Exported "
        f"{_timestamp(now)}. The organisation's own data: handle it as its mentions.\n"
    )


def export_files(rows: list[CorrectedMention], *, now: datetime) -> dict[str, str]:
    """Relative path -> content of every file of the exported folder."""
    files: dict[str, str] = {}
    for task in EXPORTED_TASKS:
        files[f"{task}/data.csv"] = data_csv(task, rows)
        files[f"{task}/SOURCE.md"] = source_md(task, rows, now=now)
    return files


def write_corrections_folder(folder: Path, *, now: datetime, origin: str = LIVE_ORIGIN) -> int:
    """Write the folder (created if needed; its task files replaced); returns the rows."""
    rows = corrected_mentions(origin=origin)
    for relative, content in export_files(rows, now=now).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return len(rows)


def corrections_zip(*, now: datetime, origin: str = LIVE_ORIGIN) -> bytes:
    """The same folder as a zip (top folder `calma-corrections`), for the page's button."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        rows = corrected_mentions(origin=origin)
        for relative, content in export_files(rows, now=now).items():
            archive.writestr(f"calma-corrections/{relative}", content)
    return buffer.getvalue()
