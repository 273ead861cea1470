"""IncidentHour: live incidents per UTC hour and severity, recomputed exactly from the incidents
table, and kept current when an incident changes.

Definitions (each a pure function of the incidents table; `hour` = [H, H + 1 h), E = H + 1 h;
only live incidents, origin "live"; `severity` = the incident's severity now, which a more
severe attached mention may raise, while a rescore of its mentions never changes it):

- opened: incidents with `opened_at` in the hour.
- responded / response_seconds: incidents with `first_response_at` (the first public response
  ever, kept across a reopen) in the hour, and the sum of their seconds from `opened_at` to it.
- due: incidents with `sla_due_at` in the hour; met: of those, the ones answered within the
  SLA: `first_response_at <= sla_due_at`, no breach recorded and not awaiting a new response
  (a reopened incident runs a fresh deadline; this is crisis.incidents.sla's "met").
- unanswered_at_end / exposure_at_end: incidents opened before E with no first response
  before E and neither closed nor resolved before E (each of those times NULL or >= E): their
  count and the sum of reach (followers at open, 0 when unknown) x minutes from `opened_at`
  to E. The table keeps no history of states, so an incident reopened after being closed
  unanswered counts as unanswered since it opened, in every hour.

Every hour is rewritten with all four severities (zeros included) in one transaction, under
a Postgres advisory lock per hour, so two concurrent recomputes of an hour cannot leave the
older reading last. Maintenance: `post_save` on Incident recomputes the hours the change
touched once the transaction commits (`connect_receivers`, called by the board app's
ready()); `queryset.update()` and COPY paths are corrected by the beat
(crisis.board.tasks.correct_recent_rollups) and by `rebuild_range`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    Sum,
    Value,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, Coalesce, Extract, Least
from django.db.models.signals import post_delete, post_init, post_save
from django.utils import timezone

from crisis.board.filters import HOUR, floor_hour
from crisis.board.models import IncidentHour
from crisis.incidents.models import LIVE_ORIGIN, Incident
from protocols.scoring.types import Severity

logger = logging.getLogger(__name__)

SEVERITIES = tuple(Severity.ORDER)  # low .. critical
# Advisory lock namespace of IncidentHour (the second key is the hour's number since 1970).
LOCK_NAMESPACE = 0x1C1D
# A change reaches back at most this far when it recomputes the hours it touched (a reopen
# of an incident closed weeks ago); older hours are the beat's and rebuild_range's.
MAX_TOUCHED_SPAN = timedelta(hours=72)
# Fields that place an incident in the hours (read from the instance, never loaded lazily).
PLACING_FIELDS = (
    "origin",
    "severity",
    "reach",
    "opened_at",
    "first_response_at",
    "sla_due_at",
    "closed_at",
    "resolved_at",
)
MOMENT_FIELDS = ("opened_at", "first_response_at", "sla_due_at", "closed_at", "resolved_at")
# What an unanswered incident adds to an hour's end (with its being live).
CONTRIBUTION_FIELDS = ("origin", "severity", "reach", "opened_at")
# A deadline further ahead than this is left to the beat (a hostile or mistaken date).
MAX_AHEAD = timedelta(days=31)
LOADED_ATTRIBUTE = "_board_placing_at_load"
# Longer runs of consecutive hours are recomputed in one sweep rather than hour by hour.
SINGLE_QUERY_RUN = timedelta(hours=3)
UPDATE_FIELDS = [
    "opened",
    "responded",
    "response_seconds",
    "due",
    "met",
    "unanswered_at_end",
    "exposure_at_end",
]


# --- expressions shared with incident_metrics -------------------------------------------------
def seconds_between(later: Combinable, earlier: Combinable) -> Any:
    """Seconds from `earlier` to `later` as a float expression (Postgres: epoch of the
    interval; SQLite: its microseconds)."""
    interval = ExpressionWrapper(later - earlier, output_field=DurationField())
    if connection.vendor == "postgresql":
        return Cast(Extract(interval, "epoch"), FloatField())
    return Cast(interval, FloatField()) / Value(1_000_000.0)


def moment(value: datetime) -> Value:
    return Value(value, output_field=DateTimeField())


def in_range(field: str, start: datetime, end: datetime) -> Q:
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def live_incidents():
    """Live incidents; on Postgres with `unanswered_until` (the earliest of first response,
    close and resolution, NULL when none: the expression of index incident_unanswered_until)."""
    incidents = Incident.objects.filter(origin=LIVE_ORIGIN)
    if connection.vendor == "postgresql":
        incidents = incidents.alias(
            unanswered_until=Least("first_response_at", "closed_at", "resolved_at")
        )
    return incidents


def unanswered_at(at: datetime) -> Q:
    """Opened before `at`, and not answered, closed nor resolved before `at` (a condition on
    `live_incidents()`)."""
    return Q(opened_at__lt=at) & _open_until_at_least(at)


def _open_until_at_least(at: datetime) -> Q:
    """Not answered, closed nor resolved before `at` (a condition on `live_incidents()`)."""
    if connection.vendor == "postgresql":
        # The expression of index incident_unanswered_until (LEAST skips NULLs on Postgres).
        return Q(unanswered_until__isnull=True) | Q(unanswered_until__gte=at)
    # SQLite's MIN() is NULL when any argument is: spell the condition out.
    condition = Q()
    for field in ("first_response_at", "closed_at", "resolved_at"):
        condition &= Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": at})
    return condition


def exposure_expression(at: datetime) -> Any:
    """reach x minutes from opened_at to `at`, per incident."""
    reach = Cast(Coalesce(F("reach"), Value(0)), FloatField())
    return reach * seconds_between(moment(at), F("opened_at")) / Value(60.0)


def met_condition() -> Q:
    """Answered within the SLA (crisis.incidents.sla's "met")."""
    return Q(
        first_response_at__lte=F("sla_due_at"),
        sla_breached_at__isnull=True,
        awaiting_response_since__isnull=True,
    )


# --- recomputing -------------------------------------------------------------------------------
def recompute_hours(hours: Iterable[datetime]) -> None:
    """Recompute IncidentHour for each hour (any datetime in it) from the incidents table: a
    run of consecutive hours in one sweep (the beat's last 48 hours), a lone hour by one
    aggregate query."""
    for start, end in _runs(sorted({_utc_hour(value) for value in hours})):
        if end - start > SINGLE_QUERY_RUN:
            _rebuild_run(start, end)
        else:
            hour = start
            while hour < end:
                _recompute_hour(hour)
                hour += HOUR


def rebuild_range(start: datetime, end: datetime) -> int:
    """Recompute every hour in [start, end) (generator, repairs) in one sweep over the
    incidents that touch it; returns how many hours."""
    first, last = _utc_hour(start), end.astimezone(UTC)
    if first >= last:
        return 0
    last = max(_utc_hour(last - timedelta(microseconds=1)) + HOUR, first + HOUR)
    _rebuild_run(first, last)
    return int((last - first) / HOUR)


def _runs(hours: list[datetime]) -> list[tuple[datetime, datetime]]:
    """[start, end) of each run of consecutive hours."""
    runs: list[tuple[datetime, datetime]] = []
    for hour in hours:
        if runs and runs[-1][1] == hour:
            runs[-1] = (runs[-1][0], hour + HOUR)
        else:
            runs.append((hour, hour + HOUR))
    return runs


def hour_cells(hour: datetime) -> dict[str, dict[str, float | int]]:
    """The hour's numbers per severity, read from the incidents table (one query)."""
    end = hour + HOUR
    opened = in_range("opened_at", hour, end)
    responded = in_range("first_response_at", hour, end)
    due = in_range("sla_due_at", hour, end)
    unanswered = unanswered_at(end)
    rows = (
        live_incidents()
        .filter(opened | responded | due | unanswered)
        .order_by()
        .values("severity")
        .annotate(
            opened=Count("pk", filter=opened),
            responded=Count("pk", filter=responded),
            response_seconds=Sum(
                seconds_between(F("first_response_at"), F("opened_at")), filter=responded
            ),
            due=Count("pk", filter=due),
            met=Count("pk", filter=due & met_condition()),
            unanswered_at_end=Count("pk", filter=unanswered),
            exposure_at_end=Sum(exposure_expression(end), filter=unanswered),
        )
    )
    cells = {severity: dict.fromkeys(UPDATE_FIELDS, 0) for severity in SEVERITIES}
    for row in rows:
        severity = row.pop("severity")
        if severity in cells:
            cells[severity] = {field: row[field] or 0 for field in UPDATE_FIELDS}
    return cells


def _recompute_hour(hour: datetime) -> None:
    with transaction.atomic():
        _lock(hour, hour + HOUR)
        cells = hour_cells(hour)
        # Replaced rather than updated: new ids tell crisis.board.version that the hour moved.
        IncidentHour.objects.filter(hour=hour).delete()
        IncidentHour.objects.bulk_create(
            [
                IncidentHour(
                    hour=hour,
                    severity=severity,
                    opened=values["opened"],
                    responded=values["responded"],
                    response_seconds=max(float(values["response_seconds"]), 0.0),
                    due=values["due"],
                    met=values["met"],
                    unanswered_at_end=values["unanswered_at_end"],
                    exposure_at_end=max(float(values["exposure_at_end"]), 0.0),
                )
                for severity, values in cells.items()
            ]
        )


def _lock(start: datetime, end: datetime) -> None:
    """Take the advisory lock of every hour in [start, end) until the transaction ends (in
    hour order, as every recompute takes them, so two never wait on each other)."""
    if connection.vendor != "postgresql":
        return
    first, last = int(start.timestamp() // 3600), int(end.timestamp() // 3600)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hour) FROM generate_series(%s, %s) AS hour "
            "ORDER BY hour",
            [LOCK_NAMESPACE, first, last - 1],
        )


def _rebuild_run(start: datetime, end: datetime) -> None:
    """Every hour in [start, end) from one read of the incidents that touch it: their moments
    counted in their hours, their unanswered spans added with difference arrays (exact
    integers: reach and microseconds), so the cost is the incidents read, not hours x
    incidents."""
    with transaction.atomic():
        _lock(start, end)
        cells = _sweep(start, end)
        IncidentHour.objects.filter(hour__gte=start, hour__lt=end).delete()
        IncidentHour.objects.bulk_create(
            [
                IncidentHour(hour=hour, severity=severity, **values)
                for (hour, severity), values in sorted(cells.items())
            ],
            batch_size=2000,
        )


UNANSWERED_UNTIL = ("first_response_at", "closed_at", "resolved_at")
SWEEP_COLUMNS = (
    "severity",
    "reach",
    "opened_at",
    "first_response_at",
    "sla_due_at",
    "closed_at",
    "resolved_at",
    "sla_breached_at",
    "awaiting_response_since",
)


class _Sweep:
    """The numbers of every hour of [start, end) for one severity, built incident by incident
    with integer hour indexes (seconds since the range's start // 3600) and, for the unanswered
    spans, difference arrays of exact integers (reach and microseconds since 1970)."""

    def __init__(self, start: datetime, count: int) -> None:
        self.start = start.timestamp()
        self.count = count
        self.cells = [dict.fromkeys(UPDATE_FIELDS, 0) for _ in range(count)]
        self.unanswered = [0] * (count + 1)
        self.reach = [0] * (count + 1)
        self.reach_opened = [0] * (count + 1)

    def index(self, value: datetime) -> int:
        """The hour of `value` in the range (may fall outside [0, count))."""
        return int((value.timestamp() - self.start) // 3600)

    def add(self, item: dict[str, Any]) -> None:
        opened, answered, due = item["opened_at"], item["first_response_at"], item["sla_due_at"]
        index = self.index(opened)
        if 0 <= index < self.count:
            self.cells[index]["opened"] += 1
        if answered is not None:
            index = self.index(answered)
            if 0 <= index < self.count:
                self.cells[index]["responded"] += 1
                self.cells[index]["response_seconds"] += (answered - opened).total_seconds()
        if due is not None:
            index = self.index(due)
            if 0 <= index < self.count:
                self.cells[index]["due"] += 1
                self.cells[index]["met"] += _met(item)
        self.add_span(item)

    def add_span(self, item: dict[str, Any]) -> None:
        """The hours at whose end the incident is unanswered: from its opening hour to the last
        hour ending at or before the earliest of its response, close and resolution."""
        opened = item["opened_at"]
        ends = [item[name] for name in UNANSWERED_UNTIL if item[name] is not None]
        first = max(self.index(opened), 0)
        last = self.count - 1
        if ends:
            last = min(last, int((min(ends).timestamp() - self.start - 3600) // 3600))
        if last < first:
            return
        followers = item["reach"] or 0
        for array, value in (
            (self.unanswered, 1),
            (self.reach, followers),
            (self.reach_opened, followers * _microseconds(opened)),
        ):
            array[first] += value
            array[last + 1] -= value

    def finish(self) -> list[dict[str, Any]]:
        unanswered = reach = reach_opened = 0
        for index, cell in enumerate(self.cells):
            unanswered += self.unanswered[index]
            reach += self.reach[index]
            reach_opened += self.reach_opened[index]
            end = round((self.start + 3600 * (index + 1)) * 1_000_000)
            cell["unanswered_at_end"] = unanswered
            cell["exposure_at_end"] = max((reach * end - reach_opened) / 60_000_000, 0.0)
        return self.cells


def _met(item: dict[str, Any]) -> bool:
    """met_condition() in Python."""
    answered, due = item["first_response_at"], item["sla_due_at"]
    return (
        answered is not None
        and answered <= due
        and item["sla_breached_at"] is None
        and item["awaiting_response_since"] is None
    )


def _sweep(start: datetime, end: datetime) -> dict[tuple[datetime, str], dict[str, Any]]:
    count = int((end - start) / HOUR)
    sweeps = {severity: _Sweep(start, count) for severity in SEVERITIES}
    touching = (
        in_range("opened_at", start, end)
        | in_range("first_response_at", start, end)
        | in_range("sla_due_at", start, end)
        | _unanswered_at_some_end(start, end)
    )
    rows = live_incidents().filter(touching).order_by().values_list(*SWEEP_COLUMNS)
    for row in rows.iterator(chunk_size=5000):
        item = dict(zip(SWEEP_COLUMNS, row, strict=True))
        sweep = sweeps.get(item["severity"])
        if sweep is not None:
            sweep.add(item)
    return {
        (start + HOUR * index, severity): cell
        for severity, sweep in sweeps.items()
        for index, cell in enumerate(sweep.finish())
    }


def _unanswered_at_some_end(start: datetime, end: datetime) -> Q:
    """Unanswered at the end of at least one hour of [start, end) (a superset): opened before
    the last end, and not answered, closed nor resolved before the first end."""
    return Q(opened_at__lt=end) & _open_until_at_least(start + HOUR)


def _microseconds(value: datetime) -> int:
    """Microseconds since 1970, exact (an integer: no float rounding in the sums)."""
    return round(value.timestamp() * 1_000_000)


def _utc_hour(value: datetime) -> datetime:
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return floor_hour(value.astimezone(UTC))


# --- the hours a change touched ----------------------------------------------------------------
def placing(instance: Incident) -> dict[str, Any]:
    """The fields that place the incident in the hours, as the instance holds them (a field
    deferred by the query is left out, never loaded)."""
    return {name: instance.__dict__[name] for name in PLACING_FIELDS if name in instance.__dict__}


def touched_hours(
    before: dict[str, Any] | None, after: dict[str, Any] | None, *, now: datetime
) -> set[datetime]:
    """Every hour whose IncidentHour row may differ after the change from `before` to
    `after` (None: created, deleted or not known): the hours of each moment that changed (a
    deadline up to MAX_AHEAD ahead), and the hours at whose end the incident's being
    unanswered (or what it adds) changed, at most MAX_TOUCHED_SPAN back. A save that moved
    none of the placing fields (assigned, started, class corrected) touches nothing."""
    if before is not None and after is not None and before == after:
        return set()
    current = _utc_hour(now)
    states = [state for state in (before, after) if state and state.get("origin") == LIVE_ORIGIN]
    hours: set[datetime] = set()
    for name in MOMENT_FIELDS:
        if before is not None and after is not None and before.get(name) == after.get(name):
            continue
        hours.update(_utc_hour(state[name]) for state in states if state.get(name) is not None)
    spans = [_unanswered_span(state, current) for state in states]
    same_contribution = len(states) == 2 and all(
        states[0].get(name) == states[1].get(name) for name in CONTRIBUTION_FIELDS
    )
    if same_contribution:
        changed = spans[0].symmetric_difference(spans[1])
    else:
        changed = set().union(*spans) if spans else set()
    oldest = current - MAX_TOUCHED_SPAN
    hours.update(hour for hour in changed if hour >= oldest)
    return {hour for hour in hours if hour <= current + MAX_AHEAD}


def _unanswered_span(state: dict[str, Any], current: datetime) -> set[datetime]:
    """The hours at whose end the incident counts as unanswered (up to the current hour)."""
    opened = state.get("opened_at")
    if opened is None:
        return set()
    ends = [state.get(name) for name in ("first_response_at", "closed_at", "resolved_at")]
    ends = [value for value in ends if value is not None]
    last = _utc_hour(min(ends) - HOUR) if ends else current
    first = max(_utc_hour(opened), current - MAX_TOUCHED_SPAN)
    hours, hour = set(), first
    while hour <= min(last, current):
        hours.add(hour)
        hour += HOUR
    return hours


PENDING_ATTRIBUTE = "_board_incident_hours_pending"


def _schedule(hours: set[datetime]) -> None:
    """Recompute `hours` once the current transaction commits (at once in autocommit). The
    hours wait on the connection and the first callback after a commit takes them all, so a
    transaction that saves many incidents recomputes each hour once; hours left by a rolled
    back transaction are recomputed with the next commit's (harmless: a recompute is exact).
    Nothing touched (a drill's incident, a save that moved no placing field): no callback."""
    if not hours:
        return
    wrapper = connections[DEFAULT_DB_ALIAS]  # this thread's connection, not the shared proxy
    pending = getattr(wrapper, PENDING_ATTRIBUTE, None)
    if pending is None:
        pending = set()
        setattr(wrapper, PENDING_ATTRIBUTE, pending)
    pending.update(hours)
    transaction.on_commit(_recompute_pending, robust=True)


def _recompute_pending() -> None:
    wrapper = connections[DEFAULT_DB_ALIAS]
    hours = getattr(wrapper, PENDING_ATTRIBUTE, None) or set()
    setattr(wrapper, PENDING_ATTRIBUTE, set())
    if not hours:
        return
    try:
        recompute_hours(hours)
    except Exception:  # the change is committed: the beat corrects these hours
        logger.exception("incident hours %s not recomputed", sorted(hours))


# --- receivers ---------------------------------------------------------------------------------
def remember_placing(sender, instance: Incident, **kwargs) -> None:
    instance.__dict__[LOADED_ATTRIBUTE] = placing(instance) if instance.pk else None


def incident_saved(sender, instance: Incident, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:  # loaddata
        return
    before = None if created else instance.__dict__.get(LOADED_ATTRIBUTE)
    after = placing(instance)
    _schedule(touched_hours(before, after, now=timezone.now()))
    instance.__dict__[LOADED_ATTRIBUTE] = after


def incident_deleted(sender, instance: Incident, **kwargs) -> None:
    before = instance.__dict__.get(LOADED_ATTRIBUTE) or placing(instance)
    _schedule(touched_hours(before, None, now=timezone.now()))


def connect_receivers() -> None:
    """Called by the board app's ready(): keep IncidentHour current as incidents change."""
    uid = "crisis.board.incident_rollups"
    post_init.connect(remember_placing, sender=Incident, dispatch_uid=f"{uid}.init")
    post_save.connect(incident_saved, sender=Incident, dispatch_uid=f"{uid}.save")
    post_delete.connect(incident_deleted, sender=Incident, dispatch_uid=f"{uid}.delete")
