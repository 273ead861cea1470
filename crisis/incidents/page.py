"""Reads of the incident page: who may see it, the thread, the author's history with the
brand, the topic around it, what the protocol says to do, and which actions to offer."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q

from crisis.incidents.models import OPEN_STATES, Incident, IncidentState, TriageCorrection
from crisis.incidents.transitions import (
    can_act,
    is_allowed,
    is_supervisor,
    team_of,
    works_incidents,
)
from crisis.roles import Perm
from monitoring.models import Author, Mention
from protocols.models import MentionTopic
from protocols.scoring.types import OVERALL_TOPIC

# Bounds per page, so one enormous thread or a prolific author cannot make the page slow.
THREAD_LIMIT = 200
RELATED_LIMIT = 10
OTHER_OPEN_LIMIT = 10

User = AbstractBaseUser | AnonymousUser | None


class PageAction:
    """What a viewer may do from the page (each has a button or a form)."""

    TAKE = "take"
    ASK_HAND_OVER = "ask_hand_over"
    HAND_OVER = "hand_over"
    START = "start"
    ESCALATE = "escalate"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    CORRECT_CLASS = "correct_class"
    SET_AUTHOR_FLAGS = "set_author_flags"


def can_view(user: User, incident: Incident) -> bool:
    """Supervisors see every incident; a manager sees their own and their team's (an
    incident no team holds is every manager's); executives and admins see none."""
    if not works_incidents(user):
        return False
    if is_supervisor(user) or incident.owner_id == user.pk:
        return True
    return incident.team_id is None or incident.team_id == team_of(user)


def reads_every_incident(user: User) -> bool:
    """Someone who reads incidents without working them (an executive following a number on
    the board): every incident, read-only. Acting still needs TRIAGE and `can_view`."""
    return bool(
        user
        and user.is_authenticated
        and user.has_perm(Perm.VIEW_INCIDENTS)
        and not works_incidents(user)
    )


def can_read(user: User, incident: Incident) -> bool:
    """May open the incident's page: those who may work it, and read-only readers."""
    return can_view(user, incident) or reads_every_incident(user)


def incident_for_page(pk: int) -> Incident:
    return Incident.objects.select_related(
        "owner", "team", "author", "protocol_version", "first_mention"
    ).get(pk=pk)


def available_actions(viewer: User, incident: Incident) -> frozenset[str]:
    """Only the owner acts (a supervisor too); others take an unowned incident or ask its
    owner for a hand-over. Each action is offered only when the state table allows it."""
    if not works_incidents(viewer):
        return frozenset()
    state = incident.state
    actions: set[str] = {PageAction.SET_AUTHOR_FLAGS}
    if incident.owner_id is None:
        if can_act(viewer, incident) and is_allowed(state, IncidentState.ASSIGNED):
            actions.add(PageAction.TAKE)
    elif incident.owner_id != viewer.pk and not is_supervisor(viewer):
        actions.add(PageAction.ASK_HAND_OVER)
    may_work = can_act(viewer, incident) and (
        incident.owner_id == viewer.pk or is_supervisor(viewer)
    )
    if not may_work:
        return frozenset(actions)
    actions.add(PageAction.CORRECT_CLASS)
    moves = {
        PageAction.HAND_OVER: IncidentState.ASSIGNED,
        PageAction.ESCALATE: IncidentState.ESCALATED,
        PageAction.RESOLVE: IncidentState.RESOLVED,
        PageAction.CLOSE: IncidentState.CLOSED,
        PageAction.REOPEN: IncidentState.REOPENED,
    }
    if incident.owner_id is not None:
        moves[PageAction.START] = IncidentState.IN_PROGRESS
    actions.update(action for action, target in moves.items() if is_allowed(state, target))
    if incident.owner_id is None:
        actions.discard(PageAction.HAND_OVER)
    return frozenset(actions)


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    mention: Mention
    is_first: bool
    attached: bool  # False: a reply in the thread that the incident stage kept elsewhere


def _thread_order(entry: ThreadEntry) -> tuple[bool, datetime, int]:
    return (not entry.is_first, entry.mention.published_at, entry.mention.pk)


def thread(incident: Incident) -> list[ThreadEntry]:
    """The original mention first, then attached mentions and replies to them in time order."""
    attached = list(
        Mention.objects.filter(incident_link__incident=incident)
        .select_related("author", "score")
        .order_by("published_at", "pk")[:THREAD_LIMIT]
    )
    attached_ids = {mention.pk for mention in attached}
    external_ids = [mention.external_id for mention in attached]
    replies = list(
        Mention.objects.filter(
            platform=incident.first_mention.platform,
            origin=incident.origin,
            reply_to_id__in=external_ids,
        )
        .exclude(pk__in=attached_ids)
        .select_related("author", "score")
        .order_by("published_at", "pk")[: max(0, THREAD_LIMIT - len(attached))]
    )
    entries = [
        ThreadEntry(mention, mention.pk == incident.first_mention_id, mention.pk in attached_ids)
        for mention in attached + replies
    ]
    entries.sort(key=_thread_order)
    return entries


@dataclass(frozen=True, slots=True)
class AuthorHistory:
    mentions: int
    past_incidents: int
    other_open: list[Incident]


def author_history(author: Author, incident: Incident) -> AuthorHistory:
    """The author's history with the brand: mentions, other incidents, those still open."""
    others = Incident.objects.filter(author=author, origin=incident.origin).exclude(pk=incident.pk)
    counts = others.aggregate(total=Count("pk"), open=Count("pk", filter=Q(state__in=OPEN_STATES)))
    other_open = []
    if counts["open"]:
        other_open = list(
            others.filter(state__in=OPEN_STATES)
            .select_related("owner")
            .order_by("-opened_at", "-pk")[:OTHER_OPEN_LIMIT]
        )
    return AuthorHistory(
        mentions=Mention.objects.filter(author=author, origin=incident.origin).count(),
        past_incidents=counts["total"] - counts["open"],
        other_open=other_open,
    )


def related_on_topic(incident: Incident, exclude_ids: set[int]) -> list[Mention]:
    """The last mentions on the incident's topic, outside its own thread."""
    rows = (
        MentionTopic.objects.filter(topic=incident.topic, origin=incident.origin)
        .exclude(mention_id__in=exclude_ids)
        .select_related("mention__author", "mention__score")
        .order_by("-published_at", "-pk")[:RELATED_LIMIT]
    )
    return [row.mention for row in rows]


def first_on_topic(incident: Incident) -> Mention | None:
    """The first mention on the topic: where a story started (none for the overall volume)."""
    if incident.topic == OVERALL_TOPIC:
        return None
    row = (
        MentionTopic.objects.filter(topic=incident.topic, origin=incident.origin)
        .select_related("mention__author", "mention__score")
        .order_by("published_at", "pk")
        .first()
    )
    return row.mention if row else None


def recommended_action(incident: Incident) -> str:
    """The protocol's action for the incident's class at its severity ("" when none)."""
    policies = incident.protocol_version.config.get("policies") or {}
    actions = (policies.get(incident.severity) or {}).get("actions") or {}
    return str((actions.get(incident.triage_class) or {}).get("action") or "")


@dataclass(frozen=True, slots=True)
class Contact:
    group: str
    label: str
    contact: str


def matched_groups(incident: Incident, entries: list[ThreadEntry]) -> set[str]:
    groups = set(incident.opened_score.get("matched_groups") or [])
    for entry in entries:
        score = getattr(entry.mention, "score", None)
        if entry.attached and score is not None:
            groups.update(score.matched_groups or [])
    return groups


def escalation_contacts(incident: Incident, groups: set[str]) -> list[Contact]:
    """Escalation contacts of the keyword groups the incident's mentions matched."""
    config = incident.protocol_version.config
    return [
        Contact(group["key"], str(group.get("label") or group["key"]), group["escalation_contact"])
        for group in config.get("keyword_groups") or []
        if group.get("key") in groups and group.get("escalation_contact")
    ]


def severity_contacts(incident: Incident) -> list[str]:
    """Contacts the protocol's policy names for the incident's severity."""
    policies = incident.protocol_version.config.get("policies") or {}
    return list((policies.get(incident.severity) or {}).get("escalation_contacts") or [])


def corrections(incident: Incident) -> list[TriageCorrection]:
    return list(incident.triage_corrections.select_related("by").order_by("-at", "-pk"))


def opened_score(incident: Incident) -> dict[str, Any]:
    """The score the incident was opened on, shaped as the "why this score" partial reads."""
    snapshot = incident.opened_score or {}
    return {
        "value": snapshot.get("value"),
        "severity": snapshot.get("severity") or incident.severity,
        "triage_class": snapshot.get("class") or "",
        "signals": snapshot.get("signals") or [],
    }


def sla_clock(incident: Incident, now: datetime) -> tuple[str, bool]:
    """The first-response countdown as H:MM:SS, and whether it is overdue."""
    if incident.sla_due_at is None:
        return "", False
    seconds = int((incident.sla_due_at - now).total_seconds())
    remaining = abs(seconds)
    clock = f"{remaining // 3600}:{remaining % 3600 // 60:02d}:{remaining % 60:02d}"
    return clock, seconds < 0


def _unless_in(mention: Mention | None, ids: set[int]) -> Mention | None:
    """The mention, unless the thread already shows it (the incident started the topic)."""
    return None if mention is None or mention.pk in ids else mention


def page_context(incident: Incident, viewer: User, *, now: datetime) -> dict[str, Any]:
    """Everything the incident page shows, in a bounded number of queries."""
    entries = thread(incident)
    groups = matched_groups(incident, entries)
    clock, overdue = sla_clock(incident, now)
    thread_ids = {entry.mention.pk for entry in entries}
    return {
        "incident": incident,
        "thread": entries,
        "opened_score": opened_score(incident),
        "sla_clock": clock,
        "sla_overdue": overdue,
        "history": author_history(incident.author, incident),
        "related": related_on_topic(incident, thread_ids),
        "first_on_topic": _unless_in(first_on_topic(incident), thread_ids),
        "recommended_action": recommended_action(incident),
        "contacts": escalation_contacts(incident, groups),
        "severity_contacts": severity_contacts(incident),
        "corrections": corrections(incident),
        "actions": available_actions(viewer, incident),
        "exposure": incident.exposure(now),
        "minutes_unanswered": incident.minutes_unanswered(now),
        "now": now,
    }
