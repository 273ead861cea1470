"""`replay_mentions` (issue 13, acceptance 4): a file built here — ordinary days with a burst of
praise and a collection gap, then a burst of complaints from many accounts within minutes —
is played through the live path; the crisis is suggested inside the complaint burst and never
before it, and playing the file again stores nothing twice."""

import csv
import io
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from crisis.incidents.models import Incident
from monitoring.models import Mention
from protocols.models import CrisisSuggestion, Run, SurgeAlert

LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{6})?Z)\t(\w+)\t(.+)$")
COLUMNS = ["id", "url", "text", "published_at", "author", "language"]

ORDINARY = (
    "Hoy he cambiado la tarifa de móvil de Brisa, a ver qué tal #móvil",
    "¿Alguien sabe a qué hora abre la tienda de Brisa en Madrid?",
    "Acabo de ver el anuncio nuevo de Brisa en la tele",
)
PRAISE = "Me encanta la fibra de Brisa, gracias equipo, genial 😍 #BrisaMola"
COMPLAINTS = (
    "Voy a denunciar a Brisa ante la OCU, me han cobrado dos veces, es un robo #cobroduplicado",
    "Brisa me ha cobrado dos veces la factura, lo denuncio a consumo y a la OCU #cobroduplicado",
    "Denuncia a Brisa ante la OCU ya: cobro duplicado en la factura, un robo #cobroduplicado",
)


@dataclass(frozen=True)
class Story:
    """The built file and the moments the assertions need."""

    data: bytes
    rows: int
    complaints_start: datetime
    complaints_end: datetime


def write_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def row(number: int, at: datetime, text: str, author: str) -> dict:
    return {
        "id": f"story-{number}",
        "url": f"https://example.org/story/{number}",
        "text": text,
        "published_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "author": author,
        "language": "es",
    }


def build_story(now: datetime) -> Story:
    """Three days, oldest first: a few neutral mentions an hour; on the third morning a burst
    of praise; that afternoon six hours without a single mention (collection stopped) and a
    backlog when it resumes; on the fourth morning thirty complaints from thirty accounts in
    four minutes."""
    start = (now - timedelta(days=10)).replace(hour=0, minute=0, second=0, microsecond=0)
    rows: list[dict] = []

    def add(at: datetime, text: str, author: str) -> None:
        rows.append(row(len(rows), at, text, author))

    gap_start, gap_end = start + timedelta(days=2, hours=12), start + timedelta(days=2, hours=18)
    complaints_start = start + timedelta(days=3, hours=9, minutes=30)
    for hour in range(3 * 24 + 11):
        at_hour = start + timedelta(hours=hour)
        if gap_start <= at_hour < gap_end:
            continue
        for slot, minute in enumerate((7, 27, 47)):
            add(at_hour + timedelta(minutes=minute), ORDINARY[slot], f"vecino{(hour + slot) % 40}")
    praise_start = start + timedelta(days=2, hours=10, minutes=2)
    for fan in range(40):
        add(praise_start + timedelta(seconds=6 * fan), PRAISE, f"fan{fan}")
    for late in range(12):  # the backlog once collection resumes
        add(gap_end + timedelta(seconds=10 * late), ORDINARY[late % 3], f"vecino{late}")
    for customer in range(30):
        add(
            complaints_start + timedelta(seconds=8 * customer),
            COMPLAINTS[customer % 3],
            f"cliente{customer}",
        )
    # The file is not in time order: the player sorts it.
    rows.reverse()
    return Story(
        data=write_csv(rows),
        rows=len(rows),
        complaints_start=complaints_start,
        complaints_end=complaints_start + timedelta(seconds=8 * 29),
    )


def replay(path: Path, *args: str) -> tuple[list[str], list[str]]:
    out, err = io.StringIO(), io.StringIO()
    call_command("replay_mentions", str(path), *args, stdout=out, stderr=err)
    return out.getvalue().splitlines(), err.getvalue().splitlines()


def events(lines: list[str]) -> list[tuple[datetime, str, str]]:
    found = []
    for line in lines[:-1]:
        match = LINE.match(line)
        assert match, f"not <ISO time>\\t<event>\\t<detail>: {line!r}"
        found.append((datetime.fromisoformat(match[1]), match[2], match[3]))
    return found


def counts() -> dict[str, int]:
    return {
        "mentions": Mention.objects.count(),
        "incidents": Incident.objects.count(),
        "suggestions": CrisisSuggestion.objects.count(),
        "alerts": SurgeAlert.objects.count(),
    }


@pytest.fixture
def replaying(transactional_db, redis_client, settings):
    """Committed transactions (each stage acts after its commit); no hand-off task, since
    the replay runs the incident stage itself."""
    settings.PROTOCOLS = {**settings.PROTOCOLS, "SCORED_MENTIONS_TASK": ""}


@pytest.fixture
def story(tmp_path) -> tuple[Story, Path]:
    built = build_story(timezone.now())
    path = tmp_path / "story.csv"
    path.write_bytes(built.data)
    return built, path


def test_the_crisis_is_suggested_inside_the_complaint_burst_and_never_before(replaying, story):
    built, path = story
    lines, errors = replay(path)
    found = events(lines)
    suggested = [at for at, kind, _detail in found if kind == "crisis_suggested"]
    assert suggested, lines
    assert all(built.complaints_start <= at <= built.complaints_end for at in suggested), found
    assert errors == []


def test_every_event_line_is_tab_separated_with_an_iso_utc_time_and_in_order(replaying, story):
    _built, path = story
    lines, _errors = replay(path)
    found = events(lines)
    kinds = {kind for _at, kind, _detail in found}
    assert kinds <= {"incident_opened", "spike", "crisis_suggested"}
    assert [at for at, _kind, _detail in found] == sorted(at for at, _kind, _detail in found)
    assert all(at.tzinfo == UTC for at, _kind, _detail in found)


def test_a_suggestion_names_its_topic_and_reason(replaying, story):
    _built, path = story
    lines, _errors = replay(path)
    details = [detail for _at, kind, detail in events(lines) if kind == "crisis_suggested"]
    assert details
    assert all(re.search(r"topic=\S+ reason=(spike|incidents)", detail) for detail in details)


def test_the_summary_counts_rows_stored_and_events(replaying, story):
    built, path = story
    lines, _errors = replay(path)
    run = Run.objects.get()
    summary = lines[-1]
    assert f"{built.rows} rows played, {built.rows} stored, 0 skipped" in summary
    assert summary.endswith(f"run {run.pk}")
    incidents = Incident.objects.filter(origin=run.origin).count()
    assert f"{incidents} incidents" in summary
    assert incidents == sum(1 for _at, kind, _d in events(lines) if kind == "incident_opened")


def test_playing_the_same_file_twice_stores_nothing_twice(replaying, story):
    built, path = story
    replay(path)
    before = counts()
    lines, _errors = replay(path)
    assert counts() == before
    assert events(lines) == []
    assert f"0 rows played, 0 stored, {built.rows} skipped as already played" in lines[-1]
    assert Run.objects.count() == 1
    assert Run.objects.get().played == built.rows


def test_the_replays_rows_are_the_runs_own(replaying, story):
    built, path = story
    replay(path)
    run = Run.objects.get()
    assert Mention.objects.filter(origin=run.origin).count() == built.rows
    assert not Mention.objects.filter(origin="live").exists()
    assert not CrisisSuggestion.objects.filter(origin="live").exists()
    assert not Incident.objects.filter(origin="live").exists()
    assert all(
        external_id.startswith(f"run{run.pk}:story-")
        for external_id in Mention.objects.values_list("external_id", flat=True)
    )


def test_a_replay_never_touches_the_live_detector_keys(replaying, story, redis_client):
    _built, path = story
    replay(path)
    run = Run.objects.get()
    keys = redis_client.keys("calma:spikes:*")
    assert keys
    assert all(key.startswith(f"calma:spikes:run:{run.pk}:".encode()) for key in keys)


def hostile_file() -> bytes:
    at = timezone.now().replace(microsecond=0) - timedelta(days=1)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    header = ",".join(COLUMNS)
    good = [
        f"good-{n},https://example.org/{n},Hola Brisa {n},{stamp},vecino{n},es" for n in range(3)
    ]
    lines = [
        header,
        good[0],
        "bad-date,https://example.org/x,Hola Brisa,ayer por la tarde,vecino,es",
        good[1],
        "nul,https://example.org/y,Hola\x00Brisa,2026-01-01T00:00:00Z,vecino,es",
        "future,https://example.org/z,Hola Brisa,2999-01-01T00:00:00Z,vecino,es",
        f"huge,https://example.org/h,{'a' * 200_000},{stamp},vecino,es",
        good[2],
    ]
    return ("\n".join(lines) + "\n").encode()


def test_hostile_rows_are_row_errors_with_their_line_and_their_neighbours_are_played(
    replaying, tmp_path
):
    path = tmp_path / "hostile.csv"
    path.write_bytes(hostile_file())
    lines, errors = replay(path)
    assert "4 rows played, 4 stored, 0 skipped as already played, 3 row errors" in lines[-1]
    assert [error.split(",")[0] for error in errors] == ["line 3", "line 6", "line 7"]
    assert not any("Traceback" in error for error in errors)
    stored = set(Mention.objects.values_list("text", flat=True))
    assert stored == {"Hola Brisa 0", "Hola Brisa 1", "Hola Brisa 2", "HolaBrisa"}  # NUL cleaned


def test_a_missing_file_is_a_command_error(replaying, tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("replay_mentions", str(tmp_path / "nowhere.csv"))


def test_a_file_that_is_not_csv_of_mentions_is_a_command_error(replaying, tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n not a table at all")
    with pytest.raises(CommandError, match="not a file of mentions"):
        call_command("replay_mentions", str(path))


def test_at_a_speed_the_scenario_time_is_played_at_that_pace(replaying, tmp_path):
    at = timezone.now().replace(microsecond=0) - timedelta(days=1)
    rows = [row(n, at + timedelta(seconds=60 * n), ORDINARY[0], f"vecino{n}") for n in range(3)]
    path = tmp_path / "slow.csv"
    path.write_bytes(write_csv(rows))
    started = time.monotonic()
    lines, _errors = replay(path, "--speed", "60")
    assert time.monotonic() - started >= 1.9  # two minutes of scenario at 60x
    assert "3 rows played" in lines[-1]


def test_the_replay_runs_on_the_embedded_default_too(tmp_path):
    """SQLite and no Redis: the same command, twice, stores nothing twice."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update({"DEBUG": "true", "CALMA_VAR_DIR": str(tmp_path)})
    built = build_story(timezone.now())
    path = tmp_path / "story.csv"
    path.write_bytes(built.data)

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )

    manage("migrate", "--no-input")
    first = manage("replay_mentions", str(path)).stdout.splitlines()
    second = manage("replay_mentions", str(path)).stdout.splitlines()
    suggested = [at for at, kind, _d in events(first) if kind == "crisis_suggested"]
    assert suggested
    assert all(built.complaints_start <= at <= built.complaints_end for at in suggested)
    assert f"{built.rows} rows played, {built.rows} stored" in first[-1]
    assert events(second) == []
    assert f"0 rows played, 0 stored, {built.rows} skipped" in second[-1]
