"""The replay engine: rows of a CSV (the import format) played as a run through the live path.

Each row is played with the clock at its own time (`published_at`), oldest first: ingest
(origin "run:<id>", external ids namespaced "run<id>:<id>" so they never meet live ones) →
scoring (`protocols.pipeline.score_and_store`, which counts the row in the run's own surge
detector and applies the crisis rule) → the incident stage
(`crisis.incidents.services.handle_scored_mentions`). What the run's rows raised (incidents
opened, surges, crisis suggestions of its origin) is read back after each row as events
stamped with the scenario time at which they appeared.

A run is resumable and idempotent: `Run.played` counts the rows played (in the scenario's
order, which is a stable sort of the file) and `Run.clock` is the time reached; a run is
found again by its key (a replay's file hash), so playing the same file again into the same
database skips what was played, and a row interrupted half-way is played again harmlessly
(ingest upserts, scoring reuses its stored velocity, the detector's markers count nothing
twice, an incident's link is unique).

The Player runs in autocommit (never inside a transaction): each stage's side effects run
when its writes commit, as they do live.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from crisis.incidents.models import Incident
from crisis.incidents.services import handle_scored_mentions
from monitoring.connectors import boundary
from monitoring.connectors import csv as csv_import
from monitoring.connectors.base import MentionIn
from monitoring.ingest import ingest_mentions
from monitoring.models import Mention
from protocols import pipeline, velocity
from protocols.models import (
    CrisisSuggestion,
    MentionTopic,
    ProtocolVersion,
    Run,
    RunKind,
    SurgeAlert,
)
from protocols.spike_stores import MemorySpikeStore

# A replay file may be larger than an upload (real history), but stays bounded: every row
# is held in memory while the scenario plays.
MAX_SCENARIO_BYTES = 32 * 1024 * 1024
# Rows with the same time are played together (each keeps its own clock), this many at most.
BATCH_ROWS = 200

INCIDENT_OPENED = "incident_opened"
SPIKE = "spike"
CRISIS_SUGGESTED = "crisis_suggested"


class ScenarioError(ValueError):
    """The file cannot be a scenario at all (too large, no header): nothing to play."""


@dataclass(frozen=True, slots=True)
class ReplayEvent:
    at: datetime  # scenario (row) time, UTC
    kind: str  # INCIDENT_OPENED | CRISIS_SUGGESTED | SPIKE
    detail: str

    def line(self) -> str:
        """`<ISO-8601 UTC time>\\t<event>\\t<detail>`, one line whatever the detail holds."""
        return f"{iso_utc(self.at)}\t{self.kind}\t{one_line(self.detail)}"


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that could not be played: its file line and why."""

    line: int
    message: str

    def __str__(self) -> str:
        return str(_("line %(line)s: %(message)s") % {"line": self.line, "message": self.message})


@dataclass(frozen=True, slots=True)
class Scenario:
    rows: tuple[MentionIn, ...]  # valid rows, oldest first (stable: file order within a time)
    errors: tuple[csv_import.RowError, ...]  # rows the import format refused, with their line
    digest: str  # sha256 of the file's bytes (a replay's run key)

    @property
    def start(self) -> datetime | None:
        return self.rows[0].published_at if self.rows else None

    @property
    def end(self) -> datetime | None:
        return self.rows[-1].published_at if self.rows else None

    def line_of(self, index: int) -> int:
        """The file line of the row at `index` (0 when unknown)."""
        line = self.rows[index].raw.get(csv_import.LINE_KEY)
        return line if isinstance(line, int) else 0


def iso_utc(at: datetime) -> str:
    """2026-03-02T10:15:00Z (seconds; microseconds only when the row had them)."""
    at = at.astimezone(UTC)
    text = at.isoformat(timespec="microseconds" if at.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def one_line(text: str) -> str:
    return " ".join(str(text).replace("\t", " ").split())


def scenario_from_csv(data: bytes, *, now: datetime | None = None) -> Scenario:
    """A file in the CSV import format as a scenario: the valid rows sorted by published_at
    (stable), the row errors kept with their lines. `now` bounds the dates (default: now).
    Raises ScenarioError when the file is too large or has no usable header."""
    if len(data) > MAX_SCENARIO_BYTES:
        raise ScenarioError(
            _("the file is %(size)s bytes; a replay reads %(limit)s at most")
            % {"size": len(data), "limit": MAX_SCENARIO_BYTES}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # as Excel saves it, as the import
    mentions, errors = csv_import.parse_rows(text, now=now or timezone.now())
    if not mentions and errors and errors[0].line <= 1:
        raise ScenarioError(str(errors[0]))  # the header: no row can be read
    rows = sorted(mentions, key=lambda mention: mention.published_at)
    return Scenario(rows=tuple(rows), errors=tuple(errors), digest=hashlib.sha256(data).hexdigest())


def replay_key(scenario: Scenario) -> str:
    return f"replay:{scenario.digest[:16]}"


def run_for(
    scenario: Scenario, *, kind: str = RunKind.REPLAY, label: str = "", key: str | None = None
) -> tuple[Run, bool]:
    """The run of this scenario, found by `key` (default: the file's hash) or created."""
    return Run.objects.get_or_create(
        key=(key or replay_key(scenario))[:100],
        defaults={"kind": kind, "label": one_line(label)[:200], "total": len(scenario.rows)},
    )


@dataclass(slots=True)
class Tally:
    """What a Player did (summary line)."""

    played: int = 0  # rows played now
    stored: int = 0  # mentions new in the database
    skipped: int = 0  # rows already played by an earlier play of the run
    row_errors: int = 0  # rows of the file refused, and rows that could not be played
    incidents: int = 0
    spikes: int = 0
    suggestions: int = 0
    problems: list[RowProblem] = field(default_factory=list)


class Player:
    """Plays a scenario's rows into a run, resumably (see the module docstring)."""

    def __init__(
        self, run: Run, scenario: Scenario, *, version: ProtocolVersion | None = None
    ) -> None:
        from protocols.services import active_version

        self.run = run
        self.scenario = scenario
        self.version = version or active_version()
        self.origin = run.origin
        self.tally = Tally(skipped=min(run.played, len(scenario.rows)))
        self.tally.row_errors = len(scenario.errors)
        self._last_seen = self._seen_until(run.clock)
        self._warm_detector()

    @property
    def finished(self) -> bool:
        return self.run.played >= len(self.scenario.rows)

    @property
    def next_time(self) -> datetime | None:
        """The time of the next row to play (None when every row is played)."""
        rows = self.scenario.rows
        return rows[self.run.played].published_at if self.run.played < len(rows) else None

    def play_until(
        self, scenario_time: datetime | None = None, limit: int | None = None
    ) -> list[ReplayEvent]:
        """Play the rows dated up to `scenario_time` (every row when None), at most `limit`
        of them, oldest first; returns the events they raised, in order."""
        rows = self.scenario.rows
        events: list[ReplayEvent] = []
        played = 0
        while self.run.played < len(rows) and (limit is None or played < limit):
            start = self.run.played
            at = rows[start].published_at
            if scenario_time is not None and at > scenario_time:
                break
            end = start + 1
            room = BATCH_ROWS if limit is None else min(BATCH_ROWS, limit - played)
            while end < len(rows) and end - start < room and rows[end].published_at == at:
                end += 1
            events += self._play(start, end, at)
            played += end - start
        return events

    # -- one batch of rows with the same time --
    def _play(self, start: int, end: int, at: datetime) -> list[ReplayEvent]:
        batch = [self._namespaced(row) for row in self.scenario.rows[start:end]]
        batch = self._without_foreign(batch, start)
        if batch:
            result = ingest_mentions(batch, source_id=None)
            self.tally.stored += len(result.new_mention_ids)
            ids = self._mention_ids(batch)
            # The replay runs the incident stage itself, with its clock: no hand-off task.
            pipeline.score_and_store(ids, version=self.version, now=at, hand_off=False)
            handle_scored_mentions(mention_ids=ids, now=at)
        Run.objects.filter(pk=self.run.pk).update(played=end, clock=at)
        self.run.played, self.run.clock = end, at
        self.tally.played += end - start
        return self._new_events(at)

    def _namespaced(self, row: MentionIn) -> MentionIn:
        def own(identifier: str) -> str:
            if not identifier:
                return ""
            return boundary.bounded_identifier(
                f"run{self.run.pk}:{identifier}", boundary.MAX_ID_CHARS
            )

        return replace(
            row,
            origin=self.origin,
            external_id=own(row.external_id),
            reply_to_id=own(row.reply_to_id),
            thread_id=own(row.thread_id),
        )

    def _without_foreign(self, batch: list[MentionIn], start: int) -> list[MentionIn]:
        """Rows whose namespaced id is already another origin's mention (a platform id that
        happens to look like a run's) are not played: ingest would update that mention."""
        taken = set(
            Mention.objects.filter(
                platform__in={row.platform for row in batch},
                external_id__in=[row.external_id for row in batch],
            )
            .exclude(origin=self.origin)
            .values_list("platform", "external_id")
        )
        if not taken:
            return batch
        kept = []
        for offset, row in enumerate(batch):
            if (row.platform, row.external_id) in taken:
                self.tally.row_errors += 1
                self.tally.problems.append(
                    RowProblem(
                        self.scenario.line_of(start + offset),
                        _("its id is already a mention outside this run; not played"),
                    )
                )
            else:
                kept.append(row)
        return kept

    def _mention_ids(self, batch: list[MentionIn]) -> list[int]:
        wanted = {(row.platform, row.external_id) for row in batch}
        return [
            pk
            for pk, platform, external_id in Mention.objects.filter(
                origin=self.origin,
                platform__in={row.platform for row in batch},
                external_id__in=[row.external_id for row in batch],
            ).values_list("pk", "platform", "external_id")
            if (platform, external_id) in wanted
        ]

    # -- the run's detector in a new process (embedded default) --
    def _warm_detector(self) -> None:
        """In the embedded default a run's detector lives in the process that played it; a
        resumed run in a new process first re-counts the rows already played, in the same
        order, so the detector continues as if never interrupted (Redis keeps it anyway)."""
        store = velocity.store_for(self.origin)
        if not isinstance(store, MemorySpikeStore) or not store.empty() or not self.run.played:
            return
        # Straight into the run's store: the rows played are never counted again (the player
        # skips them), and this process may still hold their claims (an evicted run).
        detector = velocity.detector_for(self.version, self.origin)
        for topic, published_at in (
            MentionTopic.objects.filter(origin=self.origin)
            .order_by("published_at", "mention_id", "pk")
            .values_list("topic", "published_at")
            .iterator()
        ):
            detector.observe_live(topic, published_at, now=published_at)

    # -- events: rows of the run's origin not reported yet --
    def _seen_until(self, clock: datetime | None) -> dict[str, int]:
        """The newest row of each kind raised up to `clock` (a resumed run reports only what
        its next rows raise; a run played again reports nothing it reported before)."""
        if clock is None:
            return {INCIDENT_OPENED: 0, SPIKE: 0, CRISIS_SUGGESTED: 0}
        top = Max("pk")
        return {
            INCIDENT_OPENED: Incident.objects.filter(
                origin=self.origin, opened_at__lte=clock
            ).aggregate(top=top)["top"]
            or 0,
            SPIKE: SurgeAlert.objects.filter(origin=self.origin, raised_at__lte=clock).aggregate(
                top=top
            )["top"]
            or 0,
            CRISIS_SUGGESTED: CrisisSuggestion.objects.filter(
                origin=self.origin, raised_at__lte=clock
            ).aggregate(top=top)["top"]
            or 0,
        }

    def _new_events(self, at: datetime) -> list[ReplayEvent]:
        events: list[ReplayEvent] = []
        seen = self._last_seen
        for incident in Incident.objects.filter(
            origin=self.origin, pk__gt=seen[INCIDENT_OPENED]
        ).order_by("pk")[:1000]:
            seen[INCIDENT_OPENED] = incident.pk
            self.tally.incidents += 1
            events.append(
                ReplayEvent(
                    at,
                    INCIDENT_OPENED,
                    f"incident={incident.pk} severity={incident.severity} topic={incident.topic}",
                )
            )
        for alert in SurgeAlert.objects.filter(origin=self.origin, pk__gt=seen[SPIKE]).order_by(
            "pk"
        )[:1000]:
            seen[SPIKE] = alert.pk
            self.tally.spikes += 1
            detail = (
                f"topic={alert.topic} factor={alert.factor:.1f} "
                f"serious={'yes' if alert.serious else 'no'}"
            )
            if alert.held_back:
                detail += f" held_back={alert.held_back}"
            events.append(ReplayEvent(at, SPIKE, detail))
        for suggestion in CrisisSuggestion.objects.filter(
            origin=self.origin, pk__gt=seen[CRISIS_SUGGESTED]
        ).order_by("pk")[:1000]:
            seen[CRISIS_SUGGESTED] = suggestion.pk
            self.tally.suggestions += 1
            detail = f"topic={suggestion.topic} reason={suggestion.reason}"
            if suggestion.detail:
                detail += f" ({suggestion.detail})"
            events.append(ReplayEvent(at, CRISIS_SUGGESTED, detail))
        return events
