"""Writes of incidents: the incident stage (open, attach, reopen) and every state change.

Each state change checks the actor's permission, runs in one transaction, records the audit
event and tells people after the commit. `actor=None` is the system (a task): the stage,
routing, the SLA sweep.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext, gettext_noop
from kombu.exceptions import KombuError

from crisis.incidents.models import (
    LIVE_ORIGIN,
    CloseReason,
    Incident,
    IncidentMention,
    IncidentState,
    TriageCorrection,
)
from crisis.incidents.selectors import (
    default_team_id,
    incident_replied_to,
    open_incident_of_author,
    resolved_incident_to_reopen,
)
from crisis.incidents.transitions import (
    InvalidTransition,
    check_transition,
    is_supervisor,
    require_can_act,
    require_supervisor,
    works_incidents,
)
from crisis.models import AuditEvent
from crisis.notifications.services import notify
from crisis.services.audit import record_audit_event
from monitoring.models import Author, Mention
from protocols.schema import section
from protocols.scoring.types import OVERALL_TOPIC, Severity, TriageClass
from protocols.topics import topics_for

logger = logging.getLogger(__name__)

ROUTE_TASK = "crisis.incidents.tasks.route_incident"
LINK_TO_CRISES_TASK = "crisis.rooms.tasks.link_incident"


class StageAction:
    """What the incident stage did with one scored mention."""

    OPENED = "opened"
    ATTACHED = "attached"
    REOPENED = "reopened"
    KEPT = "kept"  # scored, needs no incident (praise, neutral, low)
    ALREADY_HANDLED = "already_handled"  # delivered twice: attached the first time


@dataclass(frozen=True, slots=True)
class StageOutcome:
    mention_id: int
    action: str
    incident_id: int | None = None


# --- the incident stage ------------------------------------------------------------------


def handle_scored_mentions(*, mention_ids: list[int], now: datetime) -> list[StageOutcome]:
    """Attach, reopen or open for each scored mention (oldest first), then mark them handed
    off. Idempotent: a mention handed over twice is attached once."""
    mentions = list(
        Mention.objects.filter(pk__in=list(mention_ids), score__isnull=False)
        .select_related("score__protocol_version", "author")
        .order_by("published_at", "pk")
    )
    team_id = default_team_id()
    outcomes = [
        handle_scored_mention(mention=mention, now=now, team_id=team_id) for mention in mentions
    ]
    if mentions:
        # The scoring engineer's function; the stage is the system, so no permission.
        from protocols.services import mark_handed_off

        mark_handed_off([mention.pk for mention in mentions], now=now)
    return outcomes


def handle_scored_mention(
    *, mention: Mention, now: datetime, team_id: int | None = None
) -> StageOutcome:
    """One scored mention: attach it to its open incident, reopen a resolved one, open a new
    one when the protocol says so, or keep it. Its link's unique mention stops doubles."""
    score = mention.score
    rules = section(score.protocol_version.config, "incidents")
    topics = topics_for(mention.text, score.matched_groups or ())
    try:
        with transaction.atomic():
            # One author's mentions are decided one at a time, so two workers cannot open
            # two incidents for the same complaint thread.
            Author.objects.select_for_update().filter(pk=mention.author_id).first()
            incident = incident_replied_to(mention) or open_incident_of_author(
                mention, topics, window=timedelta(minutes=rules["attach_window_minutes"])
            )
            if incident is not None:
                _attach(incident, mention, now=now)
                return StageOutcome(mention.pk, StageAction.ATTACHED, incident.pk)
            if score.triage_class != TriageClass.PRAISE:
                incident = resolved_incident_to_reopen(
                    mention, topics, window=timedelta(minutes=rules["reopen_window_minutes"])
                )
            if incident is not None:
                _reopen_for_mention(incident, mention, now=now)
                return StageOutcome(mention.pk, StageAction.REOPENED, incident.pk)
            if should_open(score.severity, score.triage_class, rules):
                incident = _open(mention, topics, now=now, team_id=team_id)
                return StageOutcome(mention.pk, StageAction.OPENED, incident.pk)
            return StageOutcome(mention.pk, StageAction.KEPT)
    except IntegrityError:
        link = IncidentMention.objects.filter(mention=mention).first()
        if link is None:
            raise
        return StageOutcome(mention.pk, StageAction.ALREADY_HANDLED, link.incident_id)


def should_open(severity: str, triage_class: str, rules: dict[str, Any]) -> bool:
    """The protocol's rule: a listed severity and class, or a low mention of a low class."""
    if severity in rules["open_severities"] and triage_class in rules["open_classes"]:
        return True
    return severity == Severity.LOW and triage_class in rules["open_low_classes"]


def primary_topic(topics: list[str]) -> str:
    """The matched keyword group or first hashtag (topics_for puts them after the overall)."""
    specific = [topic for topic in topics if topic != OVERALL_TOPIC]
    return specific[0] if specific else OVERALL_TOPIC


def severity_rank(severity: str) -> int:
    return Severity.ORDER.index(severity)


def sla_minutes(config: dict[str, Any], severity: str) -> int | None:
    policy = (config.get("policies") or {}).get(severity) or {}
    minutes = policy.get("sla_minutes")
    return int(minutes) if minutes else None


def _opened_score(mention: Mention) -> dict[str, Any]:
    score = mention.score
    return {
        "value": score.value,
        "severity": score.severity,
        "class": score.triage_class,
        "signals": score.signals,
        "matched_groups": score.matched_groups,
        "language": score.language,
        "protocol_version": score.protocol_version.number,
        "scored_at": score.scored_at.isoformat(),
    }


def _open(mention: Mention, topics: list[str], *, now: datetime, team_id: int | None) -> Incident:
    score = mention.score
    minutes = sla_minutes(score.protocol_version.config, score.severity)
    incident = Incident.objects.create(
        team_id=team_id,
        state=IncidentState.NEW,
        severity=score.severity,
        triage_class=score.triage_class,
        topic=primary_topic(topics),
        author=mention.author,
        first_mention=mention,
        opened_at=now,
        opened_score=_opened_score(mention),
        protocol_version=score.protocol_version,
        sla_due_at=now + timedelta(minutes=minutes) if minutes else None,
        awaiting_response_since=now,
        reach=mention.author.followers,
        last_activity_at=now,
        origin=mention.origin,
    )
    _link(incident, mention, now=now)
    record_audit_event(
        actor=None,
        verb="incident.open",
        target=incident,
        after={
            "mention": mention.pk,
            "severity": incident.severity,
            "class": incident.triage_class,
        },
    )
    _route_after_commit(incident)
    _link_to_crises_after_commit(incident)
    return incident


def _link(incident: Incident, mention: Mention, *, now: datetime) -> IncidentMention:
    """Insert the link in a savepoint: a second delivery fails here on the unique mention."""
    with transaction.atomic():
        return IncidentMention.objects.create(
            incident=incident, mention=mention, severity=mention.score.severity, attached_at=now
        )


def _attach(incident: Incident, mention: Mention, *, now: datetime) -> Incident:
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    _link(incident, mention, now=now)
    before = {"severity": incident.severity, "sla_due_at": _iso(incident.sla_due_at)}
    raised = _raise_severity(incident, mention)
    incident.last_activity_at = now
    incident.save()
    record_audit_event(
        actor=None,
        verb="incident.attach",
        target=incident,
        before=before if raised else None,
        after={
            "mention": mention.pk,
            "severity": incident.severity,
            "sla_due_at": _iso(incident.sla_due_at),
        },
    )
    return incident


def _raise_severity(incident: Incident, mention: Mention) -> bool:
    """A more severe new mention raises the incident's severity and can only bring its
    deadline forward (the new severity's SLA counted from when the incident opened)."""
    severity = mention.score.severity
    if severity_rank(severity) <= severity_rank(incident.severity):
        return False
    incident.severity = severity
    minutes = sla_minutes(mention.score.protocol_version.config, severity)
    if minutes:
        due = incident.opened_at + timedelta(minutes=minutes)
        if incident.sla_due_at is None or due < incident.sla_due_at:
            incident.sla_due_at = due
    return True


def _reopen_for_mention(incident: Incident, mention: Mention, *, now: datetime) -> Incident:
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    _link(incident, mention, now=now)
    _raise_severity(incident, mention)
    return _apply_reopen(incident, actor=None, now=now, mention=mention)


def _apply_reopen(
    incident: Incident, *, actor: AbstractBaseUser | None, now: datetime, mention: Mention | None
) -> Incident:
    """The author is back: a fresh first-response clock from now, awaiting a new public
    response (the first-ever response time is kept for the board); the owner keeps the case."""
    check_transition(incident, IncidentState.REOPENED)
    before = _snapshot(incident)
    minutes = sla_minutes(incident.protocol_version.config, incident.severity)
    incident.state = IncidentState.REOPENED
    incident.resolved_at = None
    incident.closed_at = None
    incident.close_reason = ""
    incident.close_note = ""
    incident.sla_due_at = now + timedelta(minutes=minutes) if minutes else None
    incident.sla_warned_at = None
    incident.sla_breached_at = None
    incident.awaiting_response_since = now
    incident.last_activity_at = now
    incident.save()
    after = _snapshot(incident)
    if mention is not None:
        after["mention"] = mention.pk
    event = record_audit_event(
        actor=actor, verb="incident.reopen", target=incident, before=before, after=after
    )
    if incident.owner_id is None:
        _route_after_commit(incident)
    else:
        notify_after_commit(
            user_ids=[incident.owner_id],
            kind="assigned",
            title=(
                gettext_noop("Incident #%(id)s reopened: its author wrote again"),
                {"id": incident.pk},
            ),
            incident=incident,
            dedupe_key=event_key(incident, "reopened", event),
            now=now,
        )
    return incident


# --- state changes ---------------------------------------------------------------------------


def assign_incident(
    *, actor: AbstractBaseUser | None, incident: Incident, to_user: AbstractBaseUser, now: datetime
) -> Incident:
    """Routing (actor None) or a supervisor gives the incident to someone who works incidents."""
    if actor is not None:
        require_supervisor(actor)
    return _give(actor=actor, incident=incident, to_user=to_user, now=now, verb="incident.assign")


def take_incident(*, actor: AbstractBaseUser, incident: Incident, now: datetime) -> Incident:
    """A manager (or supervisor) takes an incident nobody owns."""
    with transaction.atomic():
        incident = _locked(incident)
        if not works_incidents(actor):
            require_can_act(actor, incident)  # refused: says why
        if incident.owner_id == actor.pk:
            raise InvalidTransition(
                gettext("Incident #%(id)s is already yours.") % {"id": incident.pk}
            )
        if incident.owner_id is not None:
            raise InvalidTransition(
                gettext("Incident #%(id)s belongs to %(owner)s: ask them for a hand-over.")
                % {"id": incident.pk, "owner": incident.owner.get_username()}
            )
        require_can_act(actor, incident)  # unowned: the actor's team, or a supervisor
        return _set_owner(
            actor=actor, incident=incident, to_user=actor, now=now, verb="incident.take"
        )


def hand_over_incident(
    *, actor: AbstractBaseUser, incident: Incident, to_user: AbstractBaseUser, now: datetime
) -> Incident:
    """The owner (or a supervisor) hands the incident to another person who works incidents."""
    with transaction.atomic():
        incident = _locked(incident)
        require_can_act(actor, incident)
        if incident.owner_id != actor.pk and not is_supervisor(actor):
            raise InvalidTransition(
                gettext("Only the owner of incident #%(id)s can hand it over.")
                % {"id": incident.pk}
            )
        return _set_owner(
            actor=actor, incident=incident, to_user=to_user, now=now, verb="incident.hand_over"
        )


def hand_back_incident(
    *, actor: AbstractBaseUser | None, incident: Incident, reason: str, now: datetime
) -> Incident:
    """Back to routing without an owner (SLA breach, shift end, or the owner gives it up)."""
    with transaction.atomic():
        incident = _locked(incident)
        if actor is not None:
            require_can_act(actor, incident)
        previous_owner = incident.owner_id
        event = _move(
            actor=actor,
            incident=incident,
            to_state=IncidentState.NEW,
            now=now,
            verb="incident.hand_back",
            changes={"owner": None},
            extra={"reason": reason},
        )
        _route_after_commit(incident)
        if previous_owner is not None and (actor is None or actor.pk != previous_owner):
            notify_after_commit(
                user_ids=[previous_owner],
                kind="handback",
                title=(gettext_noop("Incident #%(id)s went back to routing"), {"id": incident.pk}),
                incident=incident,
                dedupe_key=event_key(incident, "handback", event),
                now=now,
            )
    return incident


def start_progress(*, actor: AbstractBaseUser, incident: Incident, now: datetime) -> Incident:
    with transaction.atomic():
        incident = _locked(incident)
        require_can_act(actor, incident)
        check_transition(incident, IncidentState.IN_PROGRESS)
        _require_owner(incident)
        _move(
            actor=actor,
            incident=incident,
            to_state=IncidentState.IN_PROGRESS,
            now=now,
            verb="incident.start",
        )
    return incident


def escalate_incident(
    *, actor: AbstractBaseUser, incident: Incident, note: str = "", now: datetime
) -> Incident:
    """Ask the supervisors for help; each of them is told."""
    with transaction.atomic():
        incident = _locked(incident)
        require_can_act(actor, incident)
        event = _move(
            actor=actor,
            incident=incident,
            to_state=IncidentState.ESCALATED,
            now=now,
            verb="incident.escalate",
            extra={"note": note},
        )
        notify_after_commit(
            user_ids=[pk for pk in supervisor_ids() if pk != actor.pk],
            kind="escalation",
            title=(
                gettext_noop("Incident #%(id)s escalated by %(actor)s"),
                {"id": incident.pk, "actor": actor.get_username()},
            ),
            body=note,
            incident=incident,
            dedupe_key=event_key(incident, "escalation", event),
            now=now,
        )
    return incident


def record_first_response(
    *, actor: AbstractBaseUser | None, incident: Incident, now: datetime
) -> Incident:
    """A public reply went out: the incident is replied and its first-response clock stops.
    The first-ever response time is kept; a reply past the deadline records the breach (the
    sweep runs once a minute and may not have seen it)."""
    with transaction.atomic():
        incident = _locked(incident)
        if actor is not None:
            require_can_act(actor, incident)
        _move(
            actor=actor,
            incident=incident,
            to_state=IncidentState.REPLIED,
            now=now,
            verb="incident.reply",
            changes=_response_changes(incident, now=now),
        )
    return incident


def _response_changes(incident: Incident, *, now: datetime) -> dict[str, Any]:
    changes: dict[str, Any] = {"awaiting_response_since": None}
    if incident.first_response_at is None:
        changes["first_response_at"] = now
    awaited = incident.awaiting_response_since is not None or incident.first_response_at is None
    late = incident.sla_due_at is not None and now > incident.sla_due_at
    if awaited and late and incident.sla_breached_at is None:
        changes["sla_breached_at"] = incident.sla_due_at
    return changes


def resolve_incident(
    *, actor: AbstractBaseUser, incident: Incident, note: str = "", now: datetime
) -> Incident:
    with transaction.atomic():
        incident = _locked(incident)
        require_can_act(actor, incident)
        _move(
            actor=actor,
            incident=incident,
            to_state=IncidentState.RESOLVED,
            now=now,
            verb="incident.resolve",
            changes={"resolved_at": now},
            extra={"note": note},
        )
    return incident


def close_incident(
    *, actor: AbstractBaseUser, incident: Incident, reason: str = "", note: str = "", now: datetime
) -> Incident:
    """Close; an incident nobody replied to needs a reason (duplicate, spam, …)."""
    if reason and reason not in CloseReason.values:
        raise InvalidTransition(gettext("Choose one of the listed reasons to close."))
    with transaction.atomic():
        incident = _locked(incident)
        require_can_act(actor, incident)
        if incident.first_response_at is None and not reason:
            raise InvalidTransition(
                gettext("Nobody replied to incident #%(id)s: say why it is closed.")
                % {"id": incident.pk}
            )
        _move(
            actor=actor,
            incident=incident,
            to_state=IncidentState.CLOSED,
            now=now,
            verb="incident.close",
            changes={"closed_at": now, "close_reason": reason, "close_note": note},
        )
    return incident


def reopen_incident(*, actor: AbstractBaseUser, incident: Incident, now: datetime) -> Incident:
    with transaction.atomic():
        incident = _locked(incident)
        require_can_act(actor, incident)
        return _apply_reopen(incident, actor=actor, now=now, mention=None)


def correct_triage_class(
    *, actor: AbstractBaseUser, incident: Incident, to_class: str, reason: str, now: datetime
) -> TriageCorrection:
    """Correct the triage decision with a reason; kept as labelled data for evaluation."""
    reason = reason.strip()
    if to_class not in TriageClass.values:
        raise InvalidTransition(gettext("Choose one of the listed classes."))
    if not reason:
        raise InvalidTransition(gettext("Say why the class is wrong."))
    with transaction.atomic():
        incident = _locked(incident)
        require_can_act(actor, incident)
        if to_class == incident.triage_class:
            raise InvalidTransition(gettext("The incident already has this class."))
        correction = TriageCorrection.objects.create(
            incident=incident,
            mention_id=incident.first_mention_id,
            from_class=incident.triage_class,
            to_class=to_class,
            reason=reason,
            by=actor,
            at=now,
        )
        record_audit_event(
            actor=actor,
            verb="incident.correct_class",
            target=incident,
            before={"class": incident.triage_class},
            after={"class": to_class, "reason": reason},
        )
        incident.triage_class = to_class
        incident.last_activity_at = now
        incident.save(update_fields=["triage_class", "last_activity_at", "updated_at"])
    return correction


# --- helpers -----------------------------------------------------------------------------------


def _locked(incident: Incident) -> Incident:
    """The incident as stored now, locked until the transaction ends."""
    return (
        Incident.objects.select_for_update(of=("self",))
        .select_related("owner", "protocol_version")
        .get(pk=incident.pk)
    )


def _require_owner(incident: Incident) -> None:
    if incident.owner_id is None:
        raise InvalidTransition(
            gettext("Take incident #%(id)s before working on it.") % {"id": incident.pk}
        )


def _snapshot(incident: Incident) -> dict[str, Any]:
    return {
        "state": incident.state,
        "owner": incident.owner_id,
        "severity": incident.severity,
        "sla_due_at": _iso(incident.sla_due_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _move(
    *,
    actor: AbstractBaseUser | None,
    incident: Incident,
    to_state: str,
    now: datetime,
    verb: str,
    changes: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> AuditEvent:
    """Check the table, apply the state and field changes, save and audit; returns the audit
    event (its id names the change in notification dedupe keys)."""
    check_transition(incident, to_state)
    before = _snapshot(incident)
    incident.state = to_state
    for field, value in (changes or {}).items():
        setattr(incident, field if field != "owner" else "owner_id", value)
    incident.last_activity_at = now
    incident.save()
    after = _snapshot(incident)
    after.update({key: value for key, value in (extra or {}).items() if value})
    if "close_reason" in (changes or {}):
        after["close_reason"] = incident.close_reason
    return record_audit_event(actor=actor, verb=verb, target=incident, before=before, after=after)


def _set_owner(
    *,
    actor: AbstractBaseUser | None,
    incident: Incident,
    to_user: AbstractBaseUser,
    now: datetime,
    verb: str,
) -> Incident:
    if not works_incidents(to_user):
        raise InvalidTransition(
            gettext("%(user)s does not work incidents.") % {"user": to_user.get_username()}
        )
    if incident.owner_id == to_user.pk:
        raise InvalidTransition(
            gettext("Incident #%(id)s already belongs to %(user)s.")
            % {"id": incident.pk, "user": to_user.get_username()}
        )
    event = _move(
        actor=actor,
        incident=incident,
        to_state=IncidentState.ASSIGNED,
        now=now,
        verb=verb,
        changes={"owner": to_user.pk},
    )
    if actor is None or actor.pk != to_user.pk:
        notify_after_commit(
            user_ids=[to_user.pk],
            kind="assigned",
            title=(gettext_noop("Incident #%(id)s assigned to you"), {"id": incident.pk}),
            incident=incident,
            dedupe_key=event_key(incident, f"assigned:{to_user.pk}", event),
            now=now,
        )
    return incident


def _give(
    *,
    actor: AbstractBaseUser | None,
    incident: Incident,
    to_user: AbstractBaseUser,
    now: datetime,
    verb: str,
) -> Incident:
    with transaction.atomic():
        incident = _locked(incident)
        return _set_owner(actor=actor, incident=incident, to_user=to_user, now=now, verb=verb)


def supervisor_ids() -> list[int]:
    """Every active person who supervises incidents (the replies' services tell them too)."""
    return list(
        get_user_model()
        .objects.filter(
            is_active=True,
            groups__permissions__content_type__app_label="crisis",
            groups__permissions__codename="supervise_incidents",
        )
        .values_list("pk", flat=True)
        .distinct()
    )


def incident_url(incident: Incident) -> str:
    """The incident page (its URL lands with the incident page; until then no link)."""
    try:
        return reverse("incidents:detail", args=[incident.pk])
    except NoReverseMatch:
        return ""


def event_key(incident: Incident, what: str, event: AuditEvent) -> str:
    """A notification dedupe key naming one event of the incident (its audit event): the same
    event told twice (a retried task, a callback run again) is stored once, while a later event
    of the same kind is told again."""
    return f"incident:{incident.pk}:{what}:{event.pk}"


def notify_after_commit(
    *,
    user_ids: list[int],
    kind: str,
    title: Any,
    incident: Incident,
    dedupe_key: str,
    now: datetime,
    body: Any = "",
) -> None:
    """Tell people once the change is committed (nothing is said about a change rolled back)."""
    if not user_ids:
        return
    incident_id, origin, url = incident.pk, incident.origin, incident_url(incident)

    def send() -> None:
        notify_or_log(
            incident_id=incident_id,
            user_ids=user_ids,
            kind=kind,
            title=title,
            body=body,
            url=url,
            dedupe_key=dedupe_key,
            now=now,
            origin=origin,
        )

    transaction.on_commit(send, robust=True)


def notify_or_log(
    *,
    incident_id: int,
    user_ids: list[int],
    kind: str,
    title: Any,
    url: str,
    dedupe_key: str,
    now: datetime,
    origin: str = LIVE_ORIGIN,
    body: Any = "",
) -> bool:
    """notify() from an on_commit callback. The change is committed by then and nobody is left
    to raise to, so a database error is logged on one line naming what was not told."""
    try:
        notify(
            users=get_user_model().objects.filter(pk__in=user_ids),
            kind=kind,
            title=title,
            body=body,
            url=url,
            dedupe_key=dedupe_key,
            now=now,
            origin=origin,
        )
    except DatabaseError as error:
        logger.error(
            "incident %s: %s notification %s not stored (%s)",
            incident_id,
            kind,
            dedupe_key,
            str(error).splitlines()[0] if str(error) else type(error).__name__,
        )
        return False
    return True


def _route_after_commit(incident: Incident) -> None:
    """Hand a live incident to routing by task name once it is committed. A run's incidents
    (replays, drills) are kept for the run's report and never reach a live manager."""
    if incident.origin != LIVE_ORIGIN:
        return
    incident_id = incident.pk
    transaction.on_commit(lambda: send_to_routing(incident_id), robust=True)


def _link_to_crises_after_commit(incident: Incident) -> None:
    """Hand a live opened incident to crisis rooms by task name once it is committed: it joins
    the open crises on its topic (rooms import incidents, never the reverse)."""
    if incident.origin != LIVE_ORIGIN:
        return
    incident_id = incident.pk
    transaction.on_commit(lambda: send_to_crisis_rooms(incident_id), robust=True)


def send_to_crisis_rooms(incident_id: int) -> bool:
    """Enqueue the crisis link; False (one log line) when the broker is unreachable."""
    try:
        current_app.send_task(LINK_TO_CRISES_TASK, args=[incident_id])
    except (KombuError, OSError) as error:
        logger.warning("crisis link of incident %s not enqueued (%s)", incident_id, error)
        return False
    return True


def send_to_routing(incident_id: int) -> bool:
    """Enqueue routing; False (one log line) when the broker is unreachable, as the incident
    is committed by then and stays in the unassigned queue."""
    try:
        current_app.send_task(ROUTE_TASK, args=[incident_id])
    except (KombuError, OSError) as error:
        logger.warning("routing of incident %s not enqueued (%s)", incident_id, error)
        return False
    return True


# --- Replies (private follow-ups) ---


def enter_private_follow_up(
    *, actor: AbstractBaseUser | None, incident: Incident, now: datetime
) -> Incident:
    """The public acknowledgement of "take it private" is out: the case goes on in private.
    `actor=None` is the system (the send that posted the acknowledgement). Already there: no
    change."""
    with transaction.atomic():
        incident = _locked(incident)
        if actor is not None:
            require_can_act(actor, incident)
        if incident.state == IncidentState.PRIVATE_FOLLOW_UP:
            return incident
        _move(
            actor=actor,
            incident=incident,
            to_state=IncidentState.PRIVATE_FOLLOW_UP,
            now=now,
            verb="incident.private_follow_up",
        )
    return incident


# --- Replies (drafts) --------------------------------------------------------------------------
# Moves of the incident that a reply's approval makes. The reply services (crisis.replies)
# check who may act on the reply (an approver may not work incidents at all), so these two
# take the actor only for the audit trail.


def await_reply_approval(
    *, actor: AbstractBaseUser | None, incident: Incident, now: datetime
) -> Incident:
    """A reply was submitted for approval: the incident waits for it (in progress only)."""
    with transaction.atomic():
        incident = _locked(incident)
        if incident.state == IncidentState.IN_PROGRESS:
            _move(
                actor=actor,
                incident=incident,
                to_state=IncidentState.AWAITING_APPROVAL,
                now=now,
                verb="incident.await_approval",
            )
    return incident


def end_reply_approval(
    *, actor: AbstractBaseUser | None, incident: Incident, now: datetime
) -> Incident:
    """The wait for approval is over (approved, sent back, discarded): back in progress."""
    with transaction.atomic():
        incident = _locked(incident)
        if incident.state == IncidentState.AWAITING_APPROVAL:
            _move(
                actor=actor,
                incident=incident,
                to_state=IncidentState.IN_PROGRESS,
                now=now,
                verb="incident.approval_done",
            )
    return incident


# --- Replies (sending) ---------------------------------------------------------------------


def record_reply_sent(
    *, actor: AbstractBaseUser | None, incident: Incident, now: datetime
) -> Incident:
    """A public reply went out (posted by Calma or marked sent by hand). Where the state table
    lets the incident become replied, it does and its first-response clock stops
    (`record_first_response`). Otherwise (already replied, taken private, a correction after
    the fact) only an awaited response is recorded: the clock stops, the state stays."""
    from crisis.incidents.transitions import is_allowed

    with transaction.atomic():
        incident = _locked(incident)
        if is_allowed(incident.state, IncidentState.REPLIED):
            return record_first_response(actor=actor, incident=incident, now=now)
        awaited = incident.awaiting_response_since is not None or incident.first_response_at is None
        if not awaited:
            incident.last_activity_at = now
            incident.save(update_fields=["last_activity_at", "updated_at"])
            return incident
        before = _snapshot(incident)
        for field, value in _response_changes(incident, now=now).items():
            setattr(incident, field, value)
        incident.last_activity_at = now
        incident.save()
        after = _snapshot(incident)
        after["first_response_at"] = _iso(incident.first_response_at)
        record_audit_event(
            actor=actor, verb="incident.reply", target=incident, before=before, after=after
        )
    return incident
