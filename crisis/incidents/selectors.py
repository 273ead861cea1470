"""Reads of incidents: where a scored mention belongs (the incident stage's lookups) and the
inbox's queues, filters, sorts and counts (one query per list, whatever the page size)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.db.models import (
    Case,
    Count,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils.translation import gettext_lazy as _

from crisis.incidents.exposure import exposure_expression
from crisis.incidents.models import (
    LIVE_ORIGIN,
    OPEN_STATES,
    Incident,
    IncidentMention,
    IncidentState,
)
from crisis.people.models import Profile, Team
from crisis.roles import Perm
from monitoring.models import Mention
from protocols.models import Run, RunKind, run_origin
from protocols.scoring.types import Severity

if TYPE_CHECKING:
    from crisis.incidents.sla import SlaPolicy


def default_team_id() -> int | None:
    """The team that gets incidents routing cannot place elsewhere (None until one is set)."""
    return Team.objects.filter(is_default=True).values_list("pk", flat=True).first()


def incident_replied_to(mention: Mention) -> Incident | None:
    """The open incident holding the mention this one replies to (same platform and origin)."""
    if not mention.reply_to_id:
        return None
    link = (
        IncidentMention.objects.filter(
            mention__platform=mention.platform,
            mention__external_id=mention.reply_to_id,
            incident__state__in=OPEN_STATES,
            incident__origin=mention.origin,
        )
        .select_related("incident")
        .first()
    )
    return link.incident if link else None


def open_incident_of_author(
    mention: Mention, topics: list[str], *, window: timedelta
) -> Incident | None:
    """The author's open incident on one of the mention's topics with a mention of theirs
    published within `window` of this one (the newest such incident)."""
    return (
        Incident.objects.filter(
            author_id=mention.author_id,
            origin=mention.origin,
            state__in=OPEN_STATES,
            topic__in=topics,
            links__mention__published_at__gte=mention.published_at - window,
            links__mention__published_at__lte=mention.published_at + window,
        )
        .order_by("-opened_at", "-pk")
        .first()
    )


def resolved_incident_to_reopen(
    mention: Mention, topics: list[str], *, window: timedelta
) -> Incident | None:
    """The author's incident on one of the mention's topics resolved within `window` before
    the mention was published (the most recently resolved)."""
    return (
        Incident.objects.filter(
            author_id=mention.author_id,
            origin=mention.origin,
            state=IncidentState.RESOLVED,
            topic__in=topics,
            resolved_at__gte=mention.published_at - window,
        )
        .order_by("-resolved_at", "-pk")
        .first()
    )


# --- the inbox ---------------------------------------------------------------------------

INBOX_PAGE_SIZES = (25, 100)


class InboxQueue(models.TextChoices):
    MINE = "mine", _("Mine")
    TEAM = "team", _("Team")
    UNASSIGNED = "unassigned", _("Unassigned")


class SlaStatus(models.TextChoices):
    """The labels of crisis.incidents.sla's statuses (the one definition of each)."""

    OK = "ok", _("On time")
    WARNING = "warning", _("Due soon")
    BREACHED = "breached", _("Breached")
    MET = "met", _("Answered in time")


class InboxSort(models.TextChoices):
    SLA_DUE = "sla", _("SLA due")
    SEVERITY = "severity", _("Severity")
    EXPOSURE = "exposure", _("Exposure")


@dataclass(frozen=True, slots=True)
class InboxViewer:
    """Who is looking: their queues depend on their team and on being a supervisor."""

    user_id: int
    team_id: int | None
    supervisor: bool
    # A read-only reader (an executive from the board): every team's incidents, no action.
    reads_every_team: bool = False
    # Whose incidents the queues hold: live ones, and those of the drills the viewer takes
    # part in (until the drill is closed).
    origins: tuple[str, ...] = (LIVE_ORIGIN,)


@dataclass(frozen=True, slots=True)
class InboxFilters:
    queue: str = InboxQueue.TEAM
    severity: str = ""
    triage_class: str = ""
    platform: str = ""
    language: str = ""
    state: str = ""
    sla_status: str = ""
    search: str = ""
    sort: str = InboxSort.SLA_DUE
    topic: str = ""  # exact incident topic (the board links its topics here)


def inbox_viewer(user: AbstractBaseUser) -> InboxViewer:
    if not user.has_perm(Perm.TRIAGE):
        # Reads the list (Perm.VIEW_INCIDENTS) without working it: no team of their own.
        return InboxViewer(user_id=user.pk, team_id=None, supervisor=False, reads_every_team=True)
    team_id = Profile.objects.filter(user=user).values_list("team_id", flat=True).first()
    return InboxViewer(
        user_id=user.pk,
        team_id=team_id,
        supervisor=user.has_perm(Perm.SUPERVISE_INCIDENTS),
        origins=(LIVE_ORIGIN, *drill_origins_of(user)),
    )


def drill_origins_of(user: AbstractBaseUser) -> list[str]:
    """The origins of the drills in progress (not closed) the user takes part in."""
    runs = Run.objects.filter(kind=RunKind.DRILL, finished_at__isnull=True, participants=user)
    return [run_origin(pk) for pk in runs.values_list("pk", flat=True)]


def open_live_incidents() -> QuerySet[Incident]:
    """Incidents that still need work; a replay's or drill's never reach a live inbox."""
    return Incident.objects.filter(origin=LIVE_ORIGIN, state__in=OPEN_STATES)


def open_inbox_incidents(viewer: InboxViewer) -> QuerySet[Incident]:
    """The open incidents of the viewer's queues: live ones, and their drills'."""
    if viewer.origins == (LIVE_ORIGIN,):
        return open_live_incidents()
    return Incident.objects.filter(origin__in=viewer.origins, state__in=OPEN_STATES)


def _team_scope(viewer: InboxViewer) -> Q:
    """A supervisor's team queue is every team; a manager's is their team, the incidents no
    team holds (every manager's) and their own. A read-only reader's is every team."""
    if viewer.supervisor or viewer.reads_every_team:
        return Q(pk__isnull=False)
    team = Q(team__isnull=True) if viewer.team_id is None else Q(team_id=viewer.team_id)
    return team | Q(team__isnull=True) | Q(owner_id=viewer.user_id)


def _queue_filter(viewer: InboxViewer, queue: str) -> Q:
    if queue == InboxQueue.MINE:
        return Q(owner_id=viewer.user_id)
    if queue == InboxQueue.UNASSIGNED:
        return _team_scope(viewer) & Q(owner__isnull=True)
    return _team_scope(viewer)


def inbox_counts(viewer: InboxViewer) -> dict[str, int]:
    """Open incidents per queue, in one query."""
    team = _team_scope(viewer)
    # Aggregate names must not clash with fields ("team"), hence the prefix.
    counted = open_inbox_incidents(viewer).aggregate(
        count_mine=Count("pk", filter=Q(owner_id=viewer.user_id)),
        count_team=Count("pk", filter=team),
        count_unassigned=Count("pk", filter=team & Q(owner__isnull=True)),
    )
    return {queue.value: counted[f"count_{queue.value}"] for queue in InboxQueue}


# Most severe first: critical 3 ... low 0.
_SEVERITY_RANK = Case(
    *(When(severity=severity, then=Value(rank)) for rank, severity in enumerate(Severity.ORDER)),
    default=Value(-1),
    output_field=models.IntegerField(),
)


def _incidents_with_a_mention_matching(search: str) -> QuerySet:
    """Ids of incidents with any mention of their thread containing the text.

    An `IN (subquery)` rather than a correlated EXISTS: inside an OR, Postgres runs an EXISTS
    once per incident, but hashes an uncorrelated IN list once per query.
    """
    return IncidentMention.objects.filter(mention__text__icontains=search).values("incident_id")


def _search_filter(search: str) -> Q:
    found = (
        Q(author__handle__icontains=search)
        | Q(author__display_name__icontains=search)
        | Q(topic__icontains=search)
        | Q(pk__in=_incidents_with_a_mention_matching(search))
    )
    number = search.removeprefix("#")
    # isdigit() also accepts superscripts ("¹") that int() refuses; ASCII digits only.
    if number.isascii() and number.isdigit() and len(number) < 18:
        found |= Q(pk=int(number))
    return found


def inbox_incident_ids(
    viewer: InboxViewer, filters: InboxFilters, *, now: datetime, policy: "SlaPolicy"
) -> QuerySet:
    """The ids of one queue's open incidents, filtered and sorted. Sorting ids alone (joins
    only where a filter needs them) keeps a page fast on a large queue; `inbox_rows` then
    loads the page's rows."""
    incidents = open_inbox_incidents(viewer).filter(_queue_filter(viewer, filters.queue))
    if filters.severity:
        incidents = incidents.filter(severity=filters.severity)
    if filters.triage_class:
        incidents = incidents.filter(triage_class=filters.triage_class)
    if filters.platform:
        incidents = incidents.filter(author__platform=filters.platform)
    if filters.language:
        incidents = incidents.filter(first_mention__language=filters.language)
    if filters.state:
        incidents = incidents.filter(state=filters.state)
    if filters.topic:
        incidents = incidents.filter(topic=filters.topic)
    if filters.sla_status:
        # Imported here: sla imports the services, which import this module.
        from crisis.incidents.sla import sla_status_expression

        incidents = incidents.alias(sla_state=sla_status_expression(now=now, policy=policy)).filter(
            sla_state=filters.sla_status
        )
    if filters.search:
        incidents = incidents.filter(_search_filter(filters.search))
    if filters.sort == InboxSort.EXPOSURE:
        incidents = incidents.alias(exposure_value=exposure_expression(now=now))
    return incidents.order_by(*_ordering(filters.sort)).values_list("pk", flat=True)


def inbox_rows(ids: list[int]) -> list[Incident]:
    """The incidents with these ids, in this order, with everything a row shows joined in
    (author, first mention, owner, team): one query whatever the page size."""
    by_id = (
        Incident.objects.select_related("author", "first_mention", "owner", "team")
        .defer("opened_score", "first_mention__raw", "first_mention__engagement")
        .in_bulk(ids)
    )
    return [by_id[pk] for pk in ids if pk in by_id]


def _ordering(sort: str) -> list:
    due = F("sla_due_at").asc(nulls_last=True)
    if sort == InboxSort.SEVERITY:
        return [_SEVERITY_RANK.desc(), due, "pk"]
    if sort == InboxSort.EXPOSURE:
        return [F("exposure_value").desc(), due, "pk"]
    return [due, "pk"]


def assignable_people() -> QuerySet:
    """Active people who work incidents (community managers and supervisors), by username."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            groups__permissions__content_type__app_label="crisis",
            groups__permissions__codename=Perm.TRIAGE.split(".", 1)[1],
        )
        .distinct()
        .order_by("username")
    )


def mentions_found_since(since: datetime) -> int:
    """Live mentions monitoring stored since a moment (for the inbox's empty state)."""
    return Mention.objects.filter(origin=LIVE_ORIGIN, ingested_at__gte=since).count()
