"""Replay mention-volume streams through the live surge detector and score it on their labels.

Prints, at the shipped protocol's sensitivity ("normal"): one `alert <stream> <bucket_start>`
line per alert, then `recall`, `false_alarms_per_stream_day` and `median_lead_minutes` over the
whole streams; then the same figures for the part of each stream the detector was tuned on
(its first 60 %) and the part held back (the last 40 %); then the trade-off curve, one line per
sensitivity level and a few points of the same knob between and beyond them.
"""

from __future__ import annotations

import csv
import itertools
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from protocols.defaults import default_config
from protocols.spikes import SENSITIVITIES, DetectorSettings, replay

WARM_UP = timedelta(days=3)  # false alarms are counted after it
TUNED_SHARE = 0.6  # the first 60 % of each stream is the part the detector was tuned on
PARTS = ("tuned", "held_out")
# Points of the sensitivity knob (`peak_multiple`) printed on the curve besides the levels.
CURVE_MULTIPLES = (0.7, 1.0, 1.3, 1.7)


@dataclass(frozen=True, slots=True)
class LabelledSurge:
    stream: str
    labelled_at: datetime
    window_start: datetime
    window_end: datetime


@dataclass(frozen=True, slots=True)
class Stream:
    name: str
    first: datetime
    last: datetime

    @property
    def cut(self) -> datetime:
        """Where the tuned part ends and the held-out part begins."""
        return self.first + (self.last - self.first) * TUNED_SHARE

    def span(self, part: str | None) -> tuple[datetime, datetime]:
        """The part's time span (the whole stream for None), warm-up included."""
        if part == "tuned":
            return self.first, self.cut
        if part == "held_out":
            return self.cut, self.last
        return self.first, self.last

    def part_of(self, moment: datetime) -> str:
        return "tuned" if moment < self.cut else "held_out"


@dataclass(frozen=True, slots=True)
class Score:
    found: int
    surges: int
    false_alarms: int
    days: float
    leads: tuple[float, ...]

    @property
    def recall(self) -> float:
        return self.found / self.surges if self.surges else 0.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.days if self.days else 0.0

    @property
    def median_lead(self) -> str:
        return f"{statistics.median(self.leads):.0f}" if self.leads else "n/a"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def read_stream(path: Path) -> list[tuple[str, datetime, int]]:
    """Rows `(bucket_start as written, bucket_start, mentions)` in time order."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [
            (row["bucket_start"], _parse(row["bucket_start"]), int(float(row["mentions"])))
            for row in csv.DictReader(handle)
        ]
    return sorted(rows, key=lambda row: row[1])


def read_labels(path: Path, streams: set[str]) -> list[LabelledSurge]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            LabelledSurge(
                row["stream"],
                _parse(row["labelled_at"]),
                _parse(row["window_start"]),
                _parse(row["window_end"]),
            )
            for row in csv.DictReader(handle)
            if row["stream"] in streams
        ]


def bucket_seconds(rows: list[tuple[str, datetime, int]]) -> int:
    """The stream's bucket length: the most common step between consecutive rows."""
    steps = [int((b[1] - a[1]).total_seconds()) for a, b in itertools.pairwise(rows)]
    steps = [step for step in steps if step > 0]
    return statistics.mode(steps) if steps else 60


def score(
    alerts: dict[str, list[datetime]],
    streams: dict[str, Stream],
    surges: list[LabelledSurge],
    part: str | None = None,
) -> Score:
    """Recall, false alarms and lead over the whole streams (`part` None) or one part.

    A surge belongs to the part holding its `labelled_at` and is found when an alert falls
    inside its window; a false alarm is an alert outside every window, counted after the
    warm-up, over the days of the part after the warm-up."""
    mine = [
        surge
        for surge in surges
        if part is None or streams[surge.stream].part_of(surge.labelled_at) == part
    ]
    found, leads = 0, []
    for surge in mine:
        inside = [at for at in alerts[surge.stream] if surge.window_start <= at <= surge.window_end]
        if inside:
            found += 1
            leads.append((surge.labelled_at - min(inside)).total_seconds() / 60)
    false_alarms, days = 0, 0.0
    for name, moments in alerts.items():
        begin, end = streams[name].span(part)
        begin = max(begin, streams[name].first + WARM_UP)
        days += max((end - begin).total_seconds() / 86400, 0.0)
        windows = [(s.window_start, s.window_end) for s in surges if s.stream == name]
        # The held-out part starts at the cut; the tuned part ends just before it.
        false_alarms += sum(
            1
            for at in moments
            if begin <= at <= end
            and (part != "tuned" or at < end)
            and not any(low <= at <= high for low, high in windows)
        )
    return Score(found, len(mine), false_alarms, days, tuple(leads))


class Command(BaseCommand):
    help = "Replay <name>.csv mention streams through the surge detector; score on surges.csv."

    def add_arguments(self, parser) -> None:
        parser.add_argument("data_dir", nargs="?", default=None)

    def handle(self, *args, data_dir: str | None = None, **options) -> None:
        default = Path(settings.BASE_DIR).parent / "shared" / "data" / "streams"
        folder = Path(data_dir) if data_dir else default
        paths = sorted(path for path in folder.glob("*.csv") if path.name != "surges.csv")
        if not paths:
            raise CommandError(f"no <name>.csv streams in {folder}")
        series = {path.stem: rows for path in paths if (rows := read_stream(path))}
        streams = {name: Stream(name, rows[0][1], rows[-1][1]) for name, rows in series.items()}
        protocol = default_config()
        alerts = self._alerts(series, protocol, write=True)
        labels = folder / "surges.csv"
        if not labels.exists():
            return
        surges = read_labels(labels, set(series))
        whole = score(alerts, streams, surges)
        self.stdout.write(f"recall {whole.found}/{whole.surges} {whole.recall:.3f}")
        self.stdout.write(f"false_alarms_per_stream_day {whole.false_alarm_rate:.3f}")
        self.stdout.write(f"median_lead_minutes {whole.median_lead}")
        for part in PARTS:
            result = score(alerts, streams, surges, part)
            self.stdout.write(
                f"part {part} recall {result.found}/{result.surges} {result.recall:.3f} "
                f"false_alarms_per_stream_day {result.false_alarm_rate:.3f}"
            )
        points: list[tuple[str, dict]] = []
        for level in SENSITIVITIES:
            config = default_config()
            config["velocity"]["sensitivity"] = level
            points.append((level, {"config": config}))
        points += [
            (f"x{multiple:.2f}", {"config": protocol, "peak_multiple": multiple})
            for multiple in CURVE_MULTIPLES
        ]
        for label, point in points:
            config = point.pop("config")
            result = score(self._alerts(series, config, **point), streams, surges)
            self.stdout.write(
                f"curve {label} recall {result.recall:.3f} "
                f"false_alarms_per_stream_day {result.false_alarm_rate:.3f} "
                f"median_lead_minutes {result.median_lead}"
            )

    def _alerts(
        self, series: dict, protocol: dict, *, write: bool = False, **overrides
    ) -> dict[str, list[datetime]]:
        """Each stream's alert times (bucket starts) at the protocol's settings."""
        alerts = {}
        for name, rows in series.items():
            detector_settings = DetectorSettings.from_protocol(
                protocol, bucket_seconds=bucket_seconds(rows), **overrides
            )
            found = replay([(moment, count) for _, moment, count in rows], detector_settings)
            alerts[name] = [alert.bucket_start for alert in found]
            if write:
                written = {moment: text for text, moment, _ in rows}
                for alert in found:
                    self.stdout.write(f"alert {name} {written[alert.bucket_start]}")
        return alerts
