"""Replay mention-volume streams through the live surge detector and score it on their labels."""

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
from protocols.spikes import DetectorSettings, replay

WARM_UP = timedelta(days=3)  # false alarms are counted after it


@dataclass(frozen=True, slots=True)
class LabelledSurge:
    stream: str
    labelled_at: datetime
    window_start: datetime
    window_end: datetime


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


def bucket_seconds(rows: list[tuple[str, datetime, int]]) -> int:
    """The stream's bucket length: the most common step between consecutive rows."""
    steps = [int((b[1] - a[1]).total_seconds()) for a, b in itertools.pairwise(rows)]
    steps = [step for step in steps if step > 0]
    return statistics.mode(steps) if steps else 60


class Command(BaseCommand):
    help = "Replay <name>.csv mention streams through the surge detector; score on surges.csv."

    def add_arguments(self, parser) -> None:
        parser.add_argument("data_dir", nargs="?", default=None)

    def handle(self, *args, data_dir: str | None = None, **options) -> None:
        default = Path(settings.BASE_DIR).parent / "shared" / "data" / "streams"
        folder = Path(data_dir) if data_dir else default
        streams = sorted(path for path in folder.glob("*.csv") if path.name != "surges.csv")
        if not streams:
            raise CommandError(f"no <name>.csv streams in {folder}")
        protocol = default_config()
        alerts: dict[str, list[datetime]] = {}
        days: dict[str, float] = {}
        starts: dict[str, datetime] = {}
        for path in streams:
            rows = read_stream(path)
            if not rows:
                continue
            name = path.stem
            detector_settings = DetectorSettings.from_protocol(
                protocol, bucket_seconds=bucket_seconds(rows)
            )
            written = {moment: text for text, moment, _ in rows}
            found = replay([(moment, count) for _, moment, count in rows], detector_settings)
            alerts[name] = [alert.bucket_start for alert in found]
            for alert in found:
                self.stdout.write(f"alert {name} {written[alert.bucket_start]}")
            starts[name] = rows[0][1]
            counted = rows[-1][1] - (rows[0][1] + WARM_UP)
            days[name] = max(counted.total_seconds() / 86400, 0.0)
        labels = folder / "surges.csv"
        if labels.exists():
            self._score(labels, alerts, days, starts)

    def _score(
        self,
        labels: Path,
        alerts: dict[str, list[datetime]],
        days: dict[str, float],
        starts: dict[str, datetime],
    ) -> None:
        with labels.open(newline="", encoding="utf-8") as handle:
            surges = [
                LabelledSurge(
                    row["stream"],
                    _parse(row["labelled_at"]),
                    _parse(row["window_start"]),
                    _parse(row["window_end"]),
                )
                for row in csv.DictReader(handle)
                if row["stream"] in alerts
            ]
        found, leads = 0, []
        for surge in surges:
            inside = [
                at for at in alerts[surge.stream] if surge.window_start <= at <= surge.window_end
            ]
            if inside:
                found += 1
                leads.append((surge.labelled_at - min(inside)).total_seconds() / 60)
        false_alarms = 0
        for name, moments in alerts.items():
            start = starts[name] + WARM_UP
            windows = [(s.window_start, s.window_end) for s in surges if s.stream == name]
            false_alarms += sum(
                1
                for at in moments
                if at >= start and not any(begin <= at <= end for begin, end in windows)
            )
        total_days = sum(days.values())
        recall = found / len(surges) if surges else 0.0
        rate = false_alarms / total_days if total_days else 0.0
        self.stdout.write(f"recall {found}/{len(surges)} {recall:.3f}")
        self.stdout.write(f"false_alarms_per_stream_day {rate:.3f}")
        median = f"{statistics.median(leads):.0f}" if leads else "n/a"
        self.stdout.write(f"median_lead_minutes {median}")
