"""The board's headline: calm, watch or crisis, with the reasons and the page behind each.

- crisis: a live crisis is active (one reason per crisis, to its room);
- watch: a contained live crisis, a live surge alert in the last BOARD_WATCH_HOURS hours
  (setting, default 3), an undecided crisis suggestion (open: neither dismissed nor
  accepted; accepting marks it dismissed and links the crisis), or a high or critical open
  incident past its SLA (its deadline passed while a response is awaited);
- calm: none of those.
Only the reasons of the level shown are listed. A reason's url is "" when nothing lies
behind it (the calm reason).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count as CountOf
from django.db.models import Max
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext

from crisis.incidents.models import LIVE_ORIGIN, OPEN_STATES, Incident
from crisis.incidents.sla import awaiting_response
from crisis.rooms.models import OPEN_CRISIS_STATES, Crisis, CrisisStatus
from protocols.models import CrisisSuggestion, SurgeAlert
from protocols.scoring.types import Severity, topic_label

CALM, WATCH, CRISIS = "calm", "watch", "crisis"
SERIOUS = (Severity.HIGH, Severity.CRITICAL)
DEFAULT_WATCH_HOURS = 3
MAX_CRISES_NAMED = 5  # more than this: one more reason links the crisis list


@dataclass(frozen=True, slots=True)
class Reason:
    text: str  # translated
    url: str  # the list or page behind it ("" when none)


@dataclass(frozen=True, slots=True)
class Headline:
    level: str  # CALM, WATCH or CRISIS
    reasons: list[Reason] = field(default_factory=list)


def watch_hours() -> int:
    """BOARD_WATCH_HOURS, a whole number of hours from 1 to 48 (else the default)."""
    value = getattr(settings, "BOARD_WATCH_HOURS", DEFAULT_WATCH_HOURS)
    try:
        hours = int(value)
    except (TypeError, ValueError):
        return DEFAULT_WATCH_HOURS
    return hours if 1 <= hours <= 48 else DEFAULT_WATCH_HOURS


def headline(now: datetime) -> Headline:
    """At most four queries (one when a crisis is active)."""
    crises = list(
        Crisis.objects.filter(origin=LIVE_ORIGIN, status__in=OPEN_CRISIS_STATES)
        .order_by("-declared_at", "-pk")
        .values("pk", "title", "status")
    )
    active = [row for row in crises if row["status"] == CrisisStatus.ACTIVE]
    if active:
        return Headline(CRISIS, crisis_reasons(active, gettext("Crisis: %(title)s")))
    hours = watch_hours()
    reasons = [
        *crisis_reasons(crises, gettext("Crisis contained: %(title)s")),
        *surge_reasons(now, hours),
        *suggestion_reasons(),
        *overdue_incident_reasons(now),
    ]
    if reasons:
        return Headline(WATCH, reasons)
    calm = ngettext(
        "No surge, suggestion or overdue serious incident in the last hour",
        "No surge, suggestion or overdue serious incident in the last %(hours)s hours",
        hours,
    ) % {"hours": hours}
    return Headline(CALM, [Reason(calm, "")])


def crisis_reasons(crises: list[dict], text: str) -> list[Reason]:
    """One reason per crisis (its room), the first few; then one to the crisis list."""
    reasons = [
        Reason(text % {"title": row["title"]}, reverse("rooms:room", args=[row["pk"]]))
        for row in crises[:MAX_CRISES_NAMED]
    ]
    if len(crises) > MAX_CRISES_NAMED:
        more = len(crises) - MAX_CRISES_NAMED
        reasons.append(
            Reason(
                ngettext("%(count)s more crisis", "%(count)s more crises", more) % {"count": more},
                reverse("rooms:list"),
            )
        )
    return reasons


def surge_reasons(now: datetime, hours: int) -> list[Reason]:
    """The strongest recent alert names the topic; the count says how many there were."""
    recent = SurgeAlert.objects.filter(
        origin=LIVE_ORIGIN, raised_at__gt=now - timedelta(hours=hours), raised_at__lte=now
    )
    strongest = recent.order_by("-factor", "-raised_at").values("topic", "factor").first()
    if strongest is None:
        return []
    return [
        Reason(
            gettext("Surge on %(topic)s: ×%(factor)s the usual rate")
            % {
                "topic": topic_label(strongest["topic"]),
                # number_format cuts decimals: round first (3.46 reads 3.5).
                "factor": number_format(round(strongest["factor"], 1), 1),
            },
            f"{reverse('board')}#alerts",
        )
    ]


def suggestion_reasons() -> list[Reason]:
    undecided = CrisisSuggestion.objects.filter(
        origin=LIVE_ORIGIN, dismissed_at__isnull=True, crisis__isnull=True
    ).aggregate(count=CountOf("pk"), newest=Max("raised_at"))
    if not undecided["count"]:
        return []
    text = ngettext(
        "%(count)s crisis suggestion waits for a decision",
        "%(count)s crisis suggestions wait for a decision",
        undecided["count"],
    ) % {"count": undecided["count"]}
    return [Reason(text, reverse("protocols:suggestions"))]


def overdue_incident_reasons(now: datetime) -> list[Reason]:
    """High or critical open incidents whose first-response deadline passed unanswered."""
    overdue = (
        Incident.objects.filter(
            awaiting_response(),
            origin=LIVE_ORIGIN,
            state__in=OPEN_STATES,
            severity__in=SERIOUS,
            sla_due_at__lte=now,
        )
        .order_by()
        .count()
    )
    if not overdue:
        return []
    text = ngettext(
        "%(count)s high or critical incident is past its SLA",
        "%(count)s high or critical incidents are past their SLA",
        overdue,
    ) % {"count": overdue}
    # The inbox has one severity per filter: every overdue incident, most severe first.
    query = urlencode({"queue": "team", "sla": "breached", "sort": "severity"})
    return [Reason(text, f"{reverse('inbox')}?{query}")]
