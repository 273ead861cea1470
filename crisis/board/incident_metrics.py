"""The board's incident numbers: open incidents by severity, exposure now and over time, SLA
compliance today against the last 7 days, the active crises and the recent surge alerts.

Live rows only (origin "live"). What must be exact to the minute (open incidents, exposure
now, today's SLA) reads the incidents table through its indexes; history (exposure at the
end of past hours, the week's SLA) reads IncidentHour (crisis.board.incident_rollups, whose
docstring defines each number).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Count as CountOf
from django.db.models import F, FloatField, Func, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from crisis.board.filters import HOUR, BoardFilters, floor_hour, local_day_start, organisation_zone
from crisis.board.incident_rollups import (
    exposure_expression,
    live_incidents,
    met_condition,
    seconds_between,
    unanswered_at,
)
from crisis.board.mention_metrics import Count, bucket_bounds, topic_filter
from crisis.board.models import DailyFigure, IncidentHour, MentionHour
from crisis.incidents.models import LIVE_ORIGIN, OPEN_STATES, Incident
from crisis.rooms.models import (
    OPEN_CRISIS_STATES,
    Commitment,
    Crisis,
    CrisisStatus,
    StatementState,
    StatementVersion,
    TaskStatus,
)
from crisis.rooms.selectors import crisis_levels, level_label
from crisis.rooms.statement import cadence
from protocols.models import ProtocolVersion, SurgeAlert
from protocols.scoring.types import OVERALL_TOPIC, Severity

# Most severe first, as the board lists them.
SEVERITIES_DOWN = tuple(reversed(Severity.ORDER))
# A crisis topic's mentions in the last full hour against the hour before: rising from +25 %,
# falling from -25 %.
TREND_CHANGE = 0.25
OPEN_COMMITMENT_STATES = (TaskStatus.TODO, TaskStatus.DOING)
# DailyFigure.name of the SLA of the 7 days before a day (due, met, median minutes).
SLA_WEEK_FIGURE = "sla_week"


# --- open incidents -------------------------------------------------------------------------
def open_incidents(f: BoardFilters) -> QuerySet[Incident]:
    """Live incidents in an open state, on the filters' topic (the incident's primary topic),
    platform and language (of the incident's first mention). The range does not apply: open
    is a state of now."""
    incidents = Incident.objects.filter(origin=LIVE_ORIGIN, state__in=OPEN_STATES)
    topic = topic_filter(f)
    if topic:
        incidents = incidents.filter(topic=topic)
    if f.platform:
        incidents = incidents.filter(first_mention__platform=f.platform)
    if f.has_language:
        incidents = incidents.filter(first_mention__language=f.language_value)
    return incidents


def open_incidents_by_severity(f: BoardFilters) -> list[Count]:
    """Open incidents per severity, critical to low, zeros included (one query)."""
    counted = dict(
        open_incidents(f)
        .order_by()
        .values("severity")
        .annotate(count=CountOf("pk"))
        .values_list("severity", "count")
    )
    return [
        Count(key=severity, label=str(Severity(severity).label), count=counted.get(severity, 0))
        for severity in SEVERITIES_DOWN
    ]


# --- exposure ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Exposure:
    value: float  # sum of reach x minutes unanswered
    unanswered: int  # incidents it sums over


def exposure_now(now: datetime) -> Exposure:
    """Exposure of the live incidents unanswered at `now` (opened before it, not answered,
    closed nor resolved): reach x minutes since each opened (one query)."""
    totals = (
        live_incidents()
        .filter(unanswered_at(now))
        .aggregate(value=Sum(exposure_expression(now)), unanswered=CountOf("pk"))
    )
    return Exposure(value=max(float(totals["value"] or 0.0), 0.0), unanswered=totals["unanswered"])


@dataclass(frozen=True, slots=True)
class Point:
    start: datetime
    value: float


def exposure_series(
    f: BoardFilters, now: datetime, *, current: Exposure | None = None
) -> list[Point]:
    """Exposure at the end of each chart bucket of the range (IncidentHour at the end of the
    bucket's last hour, all severities); the bucket still in progress reads exposure_now
    (`current`, when the caller has it already: one query fewer).
    Exposure is the organisation's: the platform, language and topic filters do not apply."""
    bounds = bucket_bounds(f)
    closed_ends = [end for _start, end in bounds if end <= now]
    at_end = dict(
        IncidentHour.objects.filter(hour__in=[end - HOUR for end in closed_ends])
        .order_by()
        .values("hour")
        .annotate(value=Sum("exposure_at_end"))
        .values_list("hour", "value")
    )
    in_progress = None
    if len(closed_ends) < len(bounds):
        in_progress = (current or exposure_now(now)).value
    points = []
    for start, end in bounds:
        if end <= now:
            points.append(Point(start=start, value=float(at_end.get(end - HOUR) or 0.0)))
        elif start <= now:
            points.append(Point(start=start, value=in_progress or 0.0))
    return points


# --- SLA --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SlaSummary:
    """Compliance = incidents answered within their SLA / incidents whose first response fell
    due (None when none fell due); the median is of the minutes from opening to the first
    public response, over the responses given in the period."""

    today_due: int
    today_met: int
    today_compliance: float | None
    today_median_minutes: float | None
    week_due: int
    week_met: int
    week_compliance: float | None
    week_median_minutes: float | None
    today_start: datetime
    week_start: datetime


def sla_summary(now: datetime) -> SlaSummary:
    """Today = the organisation's calendar day so far ([local midnight, now]); the week = the 7
    calendar days before today. Due = `sla_due_at` in the period; met = of those, answered
    within the SLA (crisis.incidents.sla's "met"). Today reads the incidents table (indexed on
    sla_due_at and first_response_at), three queries; the week is the day's stored figure
    (week_sla), one query once the day's first reader computed it."""
    today_start = local_day_start(now)
    day = today_start.astimezone(organisation_zone()).date()
    today = (
        Incident.objects.filter(
            origin=LIVE_ORIGIN, sla_due_at__gte=today_start, sla_due_at__lte=now
        )
        .order_by()
        .aggregate(due=CountOf("pk"), met=CountOf("pk", filter=met_condition()))
    )
    week = week_sla(day)
    return SlaSummary(
        today_due=today["due"],
        today_met=today["met"],
        today_compliance=_share(today["met"], today["due"]),
        today_median_minutes=median_response_minutes(today_start, now, inclusive=True),
        week_due=week["due"],
        week_met=week["met"],
        week_compliance=_share(week["met"], week["due"]),
        week_median_minutes=week["median_minutes"],
        today_start=today_start,
        week_start=_week_bounds(day)[0],
    )


def week_sla(day: date) -> dict:
    """{"due", "met", "median_minutes"} of the 7 calendar days before `day` (an organisation
    day). It changes only when the day changes, yet its median reads a week of incidents
    (tens of milliseconds at 100,000 incidents), so it is stored once per day (DailyFigure):
    the day's first reader computes it, the others read one row; the beat's correction
    refreshes the current day's (refresh_week_sla) after late changes. Race-safe: two first
    readers compute the same figure and the second insert is ignored (ON CONFLICT DO
    NOTHING)."""
    stored = (
        DailyFigure.objects.filter(day=day, name=SLA_WEEK_FIGURE)
        .values_list("value", flat=True)
        .first()
    )
    if _is_week_sla(stored):
        return stored
    value = compute_week_sla(day)
    DailyFigure.objects.bulk_create(
        [_daily_figure(day, value)], ignore_conflicts=True, unique_fields=["day", "name"]
    )
    return value


def refresh_week_sla(now: datetime) -> dict:
    """Recompute and store the week's SLA figure of the organisation's current day (the beat's
    correction calls it, so a late answer or a recomputed hour reaches the board within
    minutes). One upsert (ON CONFLICT DO UPDATE)."""
    day = local_day_start(now).astimezone(organisation_zone()).date()
    value = compute_week_sla(day)
    DailyFigure.objects.bulk_create(
        [_daily_figure(day, value)],
        update_conflicts=True,
        unique_fields=["day", "name"],
        update_fields=["value", "computed_at"],
    )
    return value


def compute_week_sla(day: date) -> dict:
    """The week's figure from the tables: due and met from IncidentHour, the median from the
    incidents table (two queries)."""
    week_start, week_end = _week_bounds(day)
    totals = _week_due_and_met(week_start, week_end)
    return {
        "due": totals["due"],
        "met": totals["met"],
        "median_minutes": median_response_minutes(week_start, week_end),
    }


def _week_bounds(day: date) -> tuple[datetime, datetime]:
    """[local midnight 7 days before `day`, local midnight of `day`)."""
    zone = organisation_zone()
    return (
        datetime.combine(day - timedelta(days=7), time.min, tzinfo=zone),
        datetime.combine(day, time.min, tzinfo=zone),
    )


def _daily_figure(day: date, value: dict) -> DailyFigure:
    return DailyFigure(day=day, name=SLA_WEEK_FIGURE, value=value, computed_at=timezone.now())


def _is_week_sla(value: object) -> bool:
    return isinstance(value, dict) and {"due", "met", "median_minutes"} <= set(value)


def _week_due_and_met(start: datetime, end: datetime) -> dict[str, int]:
    totals = IncidentHour.objects.filter(
        hour__gte=floor_hour(start), hour__lt=floor_hour(end)
    ).aggregate(due=Sum("due"), met=Sum("met"))
    return {"due": totals["due"] or 0, "met": totals["met"] or 0}


class _Median(Func):
    """percentile_cont(0.5) WITHIN GROUP (ORDER BY expression): Postgres only."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    contains_aggregate = True


def median_response_minutes(
    start: datetime, end: datetime, *, inclusive: bool = False
) -> float | None:
    """Median minutes from opening to the first public response, over live incidents first
    answered in [start, end) ([start, end] with `inclusive`); None without any."""
    answered = Incident.objects.filter(origin=LIVE_ORIGIN, first_response_at__gte=start).filter(
        Q(first_response_at__lte=end) if inclusive else Q(first_response_at__lt=end)
    )
    seconds = seconds_between(F("first_response_at"), F("opened_at"))
    if connection.vendor == "postgresql":
        value = answered.order_by().aggregate(median=_Median(seconds, output_field=FloatField()))[
            "median"
        ]
        return None if value is None else max(value, 0.0) / 60
    values = list(answered.annotate(seconds=seconds).values_list("seconds", flat=True))
    return max(statistics.median(values), 0.0) / 60 if values else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- active crises ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CrisisSummary:
    crisis: Crisis  # with .level_label and .commander loaded
    level_label: str
    commander: object
    age: timedelta
    trend: str  # "rising" | "steady" | "falling"
    trend_detail: str
    next_update_due: datetime | None
    open_commitments: int


def active_crises(now: datetime) -> list[CrisisSummary]:
    """Live crises that are active or contained, newest first, with level label, commander,
    age, trend of their topics' mentions (last full hour against the one before), when the
    statement's next update is due and the open commitments (task to do or in progress).
    Three queries however many crises: crises (with their protocol's crisis section),
    commitments, topic hours."""
    crises = list(_open_crises())
    if not crises:
        return []
    for crisis in crises:
        _attach_crisis_section(crisis)
    commitments = _open_commitments([crisis.pk for crisis in crises])
    trends = _topic_mentions_by_hour(crises, now)
    summaries = []
    for crisis in crises:
        last, before = trends.get(crisis.pk, (0, 0))
        summaries.append(
            CrisisSummary(
                crisis=crisis,
                level_label=crisis.level_label,
                commander=crisis.commander,
                age=max(now - crisis.declared_at, timedelta(0)),
                trend=trend_of(last, before),
                trend_detail=trend_detail(last, before),
                next_update_due=_next_update_due(crisis),
                open_commitments=commitments.get(crisis.pk, 0),
            )
        )
    return summaries


def _next_update_due(crisis: Crisis) -> datetime | None:
    """crisis.rooms.statement.next_update_due from the version in force read with the crisis:
    while active, its approval (the declaration before any) plus the protocol's cadence. Not
    through next_update_due itself: without an approved version it would look for one again,
    a query per crisis (as its beat, notify_statement_updates_due, this reads the annotation)."""
    if crisis.status != CrisisStatus.ACTIVE:
        return None
    return (crisis.in_force_approved_at or crisis.declared_at) + cadence(crisis)


def _open_crises() -> QuerySet[Crisis]:
    """The open live crises with their commander, the version in force and only the crisis
    section of their protocol version (levels, cadence): the whole configuration, keyword
    groups and all, would be read and decoded once per crisis."""
    in_force = StatementVersion.objects.filter(
        statement__crisis=OuterRef("pk"), state=StatementState.APPROVED
    ).order_by("-number")
    return (
        Crisis.objects.filter(origin=LIVE_ORIGIN, status__in=OPEN_CRISIS_STATES)
        .select_related("commander")
        .annotate(
            in_force_id=Subquery(in_force.values("pk")[:1]),
            in_force_approved_at=Subquery(in_force.values("approved_at")[:1]),
            protocol_crisis_section=F("protocol_version__config__crisis"),
        )
        .order_by("-declared_at", "-pk")
    )


def _attach_crisis_section(crisis: Crisis) -> None:
    """The crisis's level label, and its protocol version holding only the crisis section (what
    crisis.rooms.statement.cadence reads), from the section read with the crisis."""
    config = {"crisis": crisis.protocol_crisis_section or {}}
    crisis.protocol_version = ProtocolVersion(pk=crisis.protocol_version_id, config=config)
    crisis.level_label = level_label(crisis_levels(config), crisis.level)


def _open_commitments(crisis_ids: list[int]) -> dict[int, int]:
    rows = (
        Commitment.objects.filter(
            version__statement__crisis_id__in=crisis_ids, task__status__in=OPEN_COMMITMENT_STATES
        )
        .order_by()
        .values("version__statement__crisis_id")
        .annotate(count=CountOf("pk"))
        .values_list("version__statement__crisis_id", "count")
    )
    return dict(rows)


def _topic_mentions_by_hour(crises: list[Crisis], now: datetime) -> dict[int, tuple[int, int]]:
    """Per crisis: mentions on its topics in the last full hour and in the hour before (a
    mention on two of its topics counts on each)."""
    last_hour = floor_hour(now) - HOUR
    topics = {topic for crisis in crises for topic in _topics(crisis)}
    if not topics:
        return {}
    rows = (
        MentionHour.objects.filter(topic__in=topics, hour__in=[last_hour - HOUR, last_hour])
        .order_by()
        .values("topic", "hour")
        .annotate(mentions=Sum("mentions"))
    )
    counts = {(row["topic"], row["hour"]): row["mentions"] for row in rows}
    return {
        crisis.pk: (
            sum(counts.get((topic, last_hour), 0) for topic in _topics(crisis)),
            sum(counts.get((topic, last_hour - HOUR), 0) for topic in _topics(crisis)),
        )
        for crisis in crises
    }


def _topics(crisis: Crisis) -> list[str]:
    """The crisis's topics as stored (a list of strings; anything else is ignored)."""
    topics = crisis.topics if isinstance(crisis.topics, list) else []
    # MentionHour counts every mention once under topic "" (the overall topic).
    return [
        "" if topic == OVERALL_TOPIC else topic[:200]
        for topic in topics
        if isinstance(topic, str) and topic
    ]


def trend_of(last: int, before: int) -> str:
    """Rising from +25 % (or any mention after an hour with none), falling from -25 %."""
    if last > before and (before == 0 or last >= before * (1 + TREND_CHANGE)):
        return "rising"
    if last < before and last <= before * (1 - TREND_CHANGE):
        return "falling"
    return "steady"


def trend_detail(last: int, before: int) -> str:
    return ngettext(
        "%(last)s mention in the last hour, %(before)s the hour before",
        "%(last)s mentions in the last hour, %(before)s the hour before",
        last,
    ) % {"last": last, "before": before}


# --- surge alerts -----------------------------------------------------------------------------
def recent_surge_alerts(f: BoardFilters, limit: int = 10) -> list[SurgeAlert]:
    """The newest live surge alerts raised in the range (on the filters' topic if any),
    newest first. The platform and language filters do not apply: the detector counts topics
    across platforms and languages."""
    alerts = SurgeAlert.objects.filter(
        origin=LIVE_ORIGIN, raised_at__gte=f.start, raised_at__lt=f.end
    )
    topic = topic_filter(f)
    if topic:
        alerts = alerts.filter(topic=topic)
    return list(alerts.order_by("-raised_at", "-pk")[: max(0, min(limit, 100))])


def describe_trend(trend: str) -> str:
    """The trend's word in the reader's language."""
    return {
        "rising": gettext("rising"),
        "falling": gettext("falling"),
    }.get(trend, gettext("steady"))
