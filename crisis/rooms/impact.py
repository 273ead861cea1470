"""A crisis's impact, computed from the data (never typed): what the post-mortem shows, what
the resolution criteria and the exports read.

Definitions (the post-mortem page says them too):
- the crisis's **first serious mention** is the earliest high or critical mention either on
  one of the crisis's topics (stored topics, `protocols.MentionTopic`, from `LOOKBACK` before
  the declaration) or attached to one of its linked incidents;
- the crisis's **window** runs from that mention (or the declaration, whichever is earlier) to
  the resolution (or `now` while the crisis is open);
- the crisis's **mentions** are those on its topics published in the window, plus every
  mention attached to a linked incident (published by the window's end), counted once each.
  Counts read the mentions themselves (index on topic and time), not the board's rollups;
  rows of another origin (a drill or a replay) never count toward a live crisis.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from crisis.incidents.exposure import exposure_expression
from crisis.incidents.models import Incident, IncidentMention
from crisis.replies.models import Compensation, CompensationState
from crisis.rooms.models import Crisis, Publication, PublicationState, StatementVersion
from monitoring.models import Author, Mention
from protocols.models import MentionTopic
from protocols.scoring.types import Severity

SERIOUS = (Severity.HIGH, Severity.CRITICAL)
# How far before the declaration a serious mention on the crisis's topics may have started it.
LOOKBACK = timedelta(days=7)
IMPACT_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Window:
    first_serious_at: datetime | None
    start: datetime
    end: datetime


def end_of(crisis: Crisis, *, now: datetime) -> datetime:
    """The end of the crisis for its figures: its resolution, or now while it is open."""
    return crisis.resolved_at or now


def linked_incidents(crisis: Crisis) -> QuerySet[Incident]:
    return Incident.objects.filter(crisis_links__crisis=crisis)


def topic_mentions(crisis: Crisis, *, start: datetime, end: datetime) -> QuerySet[MentionTopic]:
    """The stored topic rows of the crisis's topics published in [start, end]."""
    return MentionTopic.objects.filter(
        topic__in=list(crisis.topics or ()),
        origin=crisis.origin,
        published_at__gte=start,
        published_at__lte=end,
    )


def first_serious_mention_at(crisis: Crisis, *, until: datetime) -> datetime | None:
    """The earliest high or critical mention on the crisis's topics (from LOOKBACK before the
    declaration) or attached to a linked incident, published by `until`."""
    on_topics = (
        topic_mentions(crisis, start=crisis.declared_at - LOOKBACK, end=until)
        .filter(mention__score__severity__in=SERIOUS)
        .aggregate(first=Min("published_at"))["first"]
    )
    on_incidents = IncidentMention.objects.filter(
        incident__crisis_links__crisis=crisis,
        mention__published_at__lte=until,
    ).filter(Q(severity__in=SERIOUS) | Q(mention__score__severity__in=SERIOUS))
    on_incidents = on_incidents.aggregate(first=Min("mention__published_at"))["first"]
    found = [at for at in (on_topics, on_incidents) if at is not None]
    return min(found) if found else None


def window_of(crisis: Crisis, *, now: datetime) -> Window:
    end = end_of(crisis, now=now)
    first = first_serious_mention_at(crisis, until=end)
    start = min(first, crisis.declared_at) if first is not None else crisis.declared_at
    return Window(first_serious_at=first, start=start, end=end)


def crisis_mentions(crisis: Crisis, window: Window) -> QuerySet[Mention]:
    """The crisis's mentions (see the module docstring), each once."""
    on_topics = topic_mentions(crisis, start=window.start, end=window.end).values("mention_id")
    on_incidents = IncidentMention.objects.filter(
        incident__crisis_links__crisis=crisis, mention__published_at__lte=window.end
    ).values("mention_id")
    return Mention.objects.filter(Q(pk__in=on_topics) | Q(pk__in=on_incidents))


def percentile(values: list[float], fraction: float) -> float | None:
    """The continuous percentile (linear interpolation between ranks, as Postgres's
    percentile_cont computes it); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def minutes_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60, 1)


def first_statement_at(crisis: Crisis) -> datetime | None:
    """The first approved version's approval, or else the first publication."""
    approved = (
        StatementVersion.objects.filter(statement__crisis=crisis, approved_at__isnull=False)
        .aggregate(first=Min("approved_at"))
        .get("first")
    )
    if approved is not None:
        return approved
    return Publication.objects.filter(
        version__statement__crisis=crisis,
        state=PublicationState.PUBLISHED,
        published_at__isnull=False,
    ).aggregate(first=Min("published_at"))["first"]


def _money(amount: Decimal | None) -> str:
    return str((amount or Decimal(0)).quantize(Decimal("0.01")))


def compute_impact(crisis: Crisis, *, now: datetime) -> dict:
    """The impact figures as stored in PostMortem.impact (JSON): see the module docstring."""
    window = window_of(crisis, now=now)
    mentions = crisis_mentions(crisis, window)
    authors = Author.objects.filter(pk__in=mentions.values("author_id")).aggregate(
        count=Count("pk"), reach=Coalesce(Sum("followers"), 0)
    )
    incidents = linked_incidents(crisis)
    figures = incidents.aggregate(
        count=Count("pk"),
        exposure=Coalesce(Sum(exposure_expression(now=window.end)), 0.0),
        breaches=Count("pk", filter=Q(sla_breached_at__isnull=False)),
    )
    responses = [
        (first_response - opened).total_seconds() / 60
        for opened, first_response in incidents.filter(first_response_at__isnull=False).values_list(
            "opened_at", "first_response_at"
        )
    ]
    compensation = _granted(crisis)
    suggested_at = crisis.suggestion.raised_at if crisis.suggestion_id else None
    statement_at = first_statement_at(crisis)
    first = window.first_serious_at
    return {
        "format": IMPACT_FORMAT,
        "computed_at": now.isoformat(),
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
        "mentions": mentions.count(),
        "unique_authors": authors["count"],
        "reach": int(authors["reach"]),
        "exposure": round(figures["exposure"]),
        "incidents": figures["count"],
        "answered_incidents": len(responses),
        "first_response_p50_minutes": _rounded(percentile(responses, 0.5)),
        "first_response_p90_minutes": _rounded(percentile(responses, 0.9)),
        "sla_breaches": figures["breaches"],
        "compensation_granted": compensation,
        "first_serious_mention_at": _iso(first),
        "suggested_at": _iso(suggested_at),
        "declared_at": _iso(crisis.declared_at),
        "first_statement_at": _iso(statement_at),
        "minutes_to_suggestion": minutes_between(first, suggested_at),
        "minutes_to_declaration": minutes_between(first, crisis.declared_at),
        "minutes_to_first_statement": minutes_between(first, statement_at),
    }


def _granted(crisis: Crisis) -> dict[str, str]:
    rows = (
        Compensation.objects.filter(
            incident__crisis_links__crisis=crisis, state=CompensationState.GRANTED
        )
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by("currency")
    )
    return {row["currency"]: _money(row["total"]) for row in rows}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def stored_datetimes(impact: dict, keys: Iterable[str]) -> dict[str, datetime | None]:
    """The impact's ISO datetimes back as aware datetimes (for templates and exports)."""
    return {key: datetime.fromisoformat(impact[key]) if impact.get(key) else None for key in keys}
