"""Writes of the crises slice: declaring a crisis (from incidents or from a crisis suggestion),
linking and unlinking incidents (by hand, or automatically by topic), containing and
re-activating it, its cabinet (seats, roles, the hand-over of command) and the departments.

Every function takes the acting user and `now`, runs in one transaction, checks permission
through crisis.rooms.access, writes an audit event whose target is the Crisis (the timeline
reads them) and tells people after the commit.

Choices (documented in the report of issue 11):
- Exactly one commander seat: the commander is seated with the role "commander"; nobody is
  given that role any other way than by declaring or handing over command, the commander's
  seat is never removed, and a hand-over makes the former commander a member.
- At most one spokesperson: the statement speaks with one voice (practice 13). A second one
  is refused; change the first one's role first.
- Cabinet changes are serialised by locking the crisis row (select_for_update), so two
  supervisors cannot seat two spokespersons at once.
- Accepting a suggestion marks it dismissed with the reason "Accepted as crisis #N" (and
  crisis.suggestion set): the one-open-suggestion-per-topic constraint frees the topic, so a
  later surge on it is suggested afresh and shows that reason as the last decision.
"""

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop

from crisis.incidents.models import OPEN_STATES, Incident
from crisis.incidents.transitions import can_act as can_act_on_incident
from crisis.notifications.models import NotificationKind
from crisis.notifications.services import notify
from crisis.roles import Perm, Role
from crisis.rooms import access
from crisis.rooms.models import (
    LIVE_ORIGIN,
    OPEN_CRISIS_STATES,
    CabinetMember,
    CabinetRole,
    Crisis,
    CrisisIncident,
    CrisisStatus,
    Department,
)
from crisis.rooms.selectors import crisis_levels, open_crises_on_topic, seatable_people
from crisis.services.audit import record_audit_event
from protocols.models import CrisisSuggestion
from protocols.scoring.types import OVERALL_TOPIC
from protocols.services import active_version

logger = logging.getLogger(__name__)

TITLE_MAX_LENGTH = Crisis._meta.get_field("title").max_length
TOPIC_MAX_LENGTH = 200
MAX_TOPICS = 20
# A declaration links at most this many incidents by number; more link by topic.
MAX_INCIDENTS = 200
DEFAULT_DEPARTMENT = "communications"

S = CrisisStatus

# The crisis's life cycle: from each status, the statuses it may move to. This slice moves
# active <-> contained and resolved -> active (reopen); the post-mortem slice resolves and
# marks the post-mortem done.
ALLOWED_MOVES: dict[str, frozenset[str]] = {
    S.ACTIVE: frozenset({S.CONTAINED, S.RESOLVED}),
    S.CONTAINED: frozenset({S.ACTIVE, S.RESOLVED}),
    S.RESOLVED: frozenset({S.ACTIVE, S.POST_MORTEM_DONE}),
    S.POST_MORTEM_DONE: frozenset(),
}


class CrisisError(Exception):
    """The crisis cannot do this now; the message says why, in the reader's language."""


def check_move(crisis: Crisis, to_status: str) -> None:
    if to_status not in ALLOWED_MOVES[crisis.status]:
        raise CrisisError(
            gettext("This crisis is %(status)s; it cannot become %(target)s.")
            % {
                "status": str(CrisisStatus(crisis.status).label).lower(),
                "target": str(CrisisStatus(to_status).label).lower(),
            }
        )


# --- Who may -----------------------------------------------------------------------------------


def can_manage_cabinet(user, crisis: Crisis) -> bool:
    """Seat, change and remove members, hand over command: a supervisor or the commander."""
    return crisis.is_open and access.can_resolve(user, crisis) and not access.is_executive(user)


def require_manage_cabinet(user, crisis: Crisis) -> None:
    if not access.can_resolve(user, crisis) or access.is_executive(user):
        raise PermissionDenied(
            gettext("Only the commander or a supervisor changes the crisis cabinet.")
        )


def can_declare(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active) and user.has_perm(
        Perm.DECLARE_CRISIS
    )


def require_declare(user) -> None:
    if not can_declare(user):
        raise PermissionDenied(gettext("Only a supervisor declares a crisis."))


def can_unlink(user, crisis: Crisis) -> bool:
    return crisis.is_open and access.runs_every_crisis(user)


def can_link(user, incident: Incident) -> bool:
    """Link an incident to a crisis by hand: whoever can act on the incident."""
    return can_act_on_incident(user, incident)


# --- Cleaning what people type ---------------------------------------------------------------


def clean_text(value: str, *, limit: int) -> str:
    text = (value or "").replace("\x00", "")
    text = text.encode("utf-8", "replace").decode("utf-8")
    return " ".join(text.split())[:limit]


def clean_topics(topics: Iterable[str]) -> list[str]:
    """Topics as stored: trimmed, without blanks or repeats, in the order given."""
    cleaned: list[str] = []
    for topic in topics:
        text = clean_text(str(topic), limit=TOPIC_MAX_LENGTH)
        if text and text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_TOPICS:
        raise CrisisError(gettext("A crisis has at most %(count)s topics.") % {"count": MAX_TOPICS})
    return cleaned


def _check_level(level: int, config: dict[str, Any]) -> int:
    levels = [entry["level"] for entry in crisis_levels(config)]
    if level not in levels:
        raise CrisisError(
            gettext("Level %(level)s is not one of the protocol's crisis levels.")
            % {"level": level}
        )
    return level


def _check_seatable(user) -> None:
    if user is None or not seatable_people().filter(pk=user.pk).exists():
        raise CrisisError(
            gettext(
                "%(name)s cannot sit in a crisis cabinet (community managers, supervisors and "
                "cabinet members can)."
            )
            % {"name": user.get_username() if user is not None else "—"}
        )


def _department(department: Department | str | None) -> Department:
    if isinstance(department, Department):
        return department
    key = department or DEFAULT_DEPARTMENT
    found = Department.objects.filter(key=key).first()
    if found is None:
        found = Department.objects.order_by("ordering", "name").first()
    if found is None:
        raise CrisisError(gettext("Add a department first: every seat belongs to one."))
    return found


# --- Notifications -------------------------------------------------------------------------------


def room_url(crisis: Crisis) -> str:
    return reverse("rooms:room", args=[crisis.pk])


def notify_after_commit(
    *,
    crisis: Crisis,
    user_ids: Iterable[int],
    kind: str,
    title: Any,
    dedupe_key: str,
    now: datetime,
    body: Any = "",
) -> None:
    """Tell people once the change is committed; a crisis of a drill or replay tells nobody
    (notify stores its rows unsent). A database error then is logged on one line."""
    user_ids = sorted(set(user_ids))
    if not user_ids:
        return
    crisis_id, origin, url = crisis.pk, crisis.origin, room_url(crisis)

    def send() -> None:
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
                "crisis %s: %s notification %s not stored (%s)",
                crisis_id,
                kind,
                dedupe_key,
                str(error).splitlines()[0] if str(error) else type(error).__name__,
            )

    transaction.on_commit(send, robust=True)


def _role_ids(role: Role) -> list[int]:
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=role.value)
        .values_list("pk", flat=True)
        .distinct()
    )


def _told_seated(member: CabinetMember, *, actor, now: datetime) -> None:
    if actor is not None and member.user_id == actor.pk:
        return
    crisis = member.crisis
    notify_after_commit(
        crisis=crisis,
        user_ids=[member.user_id],
        kind=NotificationKind.CABINET_ADDED,
        title=(
            gettext_noop("You are in the cabinet of the crisis “%(title)s” as %(role)s"),
            {"title": crisis.title, "role": CabinetRole(member.role).label},
        ),
        body=(gettext_noop("Department: %(department)s"), {"department": member.department.name}),
        dedupe_key=f"crisis:{crisis.pk}:seat:{member.pk}:added",
        now=now,
    )


# --- Declaration -------------------------------------------------------------------------------


def _locked(crisis: Crisis) -> Crisis:
    return Crisis.objects.select_for_update().get(pk=crisis.pk)


def _seat(
    crisis: Crisis,
    *,
    user,
    department: Department,
    role: str,
    actor,
    now: datetime,
) -> CabinetMember:
    try:
        with transaction.atomic():
            return CabinetMember.objects.create(
                crisis=crisis,
                user=user,
                department=department,
                role=role,
                added_by=actor,
                added_at=now,
            )
    except IntegrityError as taken:
        raise CrisisError(
            gettext("%(name)s already has a seat in this cabinet.") % {"name": user.get_username()}
        ) from taken


def _link(crisis: Crisis, incident: Incident, *, actor, now: datetime) -> CrisisIncident | None:
    """Insert the link in a savepoint; an existing one (the unique pair) is left as it is."""
    try:
        with transaction.atomic():
            link = CrisisIncident.objects.create(
                crisis=crisis, incident=incident, linked_by=actor, linked_at=now
            )
    except IntegrityError:
        return None
    record_audit_event(
        actor=actor,
        verb="crisis.incident_linked",
        target=crisis,
        after={"incident": incident.pk, "automatic": actor is None, "topic": incident.topic},
    )
    return link


def declare_crisis(
    *,
    actor: AbstractBaseUser,
    title: str,
    level: int,
    topics: Iterable[str],
    now: datetime,
    incident_ids: Iterable[int] = (),
    commander: AbstractBaseUser | None = None,
    commander_department: Department | str | None = None,
    suggestion: CrisisSuggestion | None = None,
    origin: str = LIVE_ORIGIN,
) -> Crisis:
    """Declare a crisis on the active protocol: link the incidents named, seat the commander
    (the actor by default; in communications by default) as commander, tell the executives
    and the commander (when someone else declared)."""
    require_declare(actor)
    title = clean_text(title, limit=TITLE_MAX_LENGTH)
    if not title:
        raise CrisisError(gettext("Give the crisis a title."))
    topics = clean_topics(topics)
    incident_ids = sorted({int(pk) for pk in incident_ids})
    if len(incident_ids) > MAX_INCIDENTS:
        raise CrisisError(
            gettext("Link at most %(count)s incidents by number; the rest link by topic.")
            % {"count": MAX_INCIDENTS}
        )
    commander = commander or actor
    _check_seatable(commander)
    with transaction.atomic():
        protocol = active_version()
        level = _check_level(int(level), protocol.config)
        incidents = list(Incident.objects.filter(pk__in=incident_ids, origin=origin).order_by("pk"))
        missing = sorted(set(incident_ids) - {incident.pk for incident in incidents})
        if missing:
            raise CrisisError(
                gettext("No incident %(numbers)s.")
                % {"numbers": ", ".join(f"#{pk}" for pk in missing)}
            )
        if not topics:
            # The incidents' own topics; the overall one would pull in every new incident.
            topics = clean_topics(
                incident.topic for incident in incidents if incident.topic != OVERALL_TOPIC
            )
        crisis = Crisis.objects.create(
            title=title,
            level=level,
            topics=topics,
            status=CrisisStatus.ACTIVE,
            commander=commander,
            declared_by=actor,
            declared_at=now,
            suggestion=suggestion,
            protocol_version=protocol,
            origin=origin,
        )
        seat = _seat(
            crisis,
            user=commander,
            department=_department(commander_department),
            role=CabinetRole.COMMANDER,
            actor=actor,
            now=now,
        )
        record_audit_event(
            actor=actor,
            verb="crisis.declare",
            target=crisis,
            after={
                "title": title,
                "level": level,
                "topics": topics,
                "commander": commander.pk,
                "incidents": incident_ids,
                "suggestion": suggestion.pk if suggestion else None,
                "protocol_version": protocol.number,
            },
        )
        for incident in incidents:
            _link(crisis, incident, actor=actor, now=now)
        notify_after_commit(
            crisis=crisis,
            user_ids=[pk for pk in _role_ids(Role.EXECUTIVE) if pk != actor.pk],
            kind=NotificationKind.CRISIS_DECLARED,
            title=(
                gettext_noop("Crisis declared: “%(title)s” (level %(level)s)"),
                {"title": title, "level": level},
            ),
            body=(
                gettext_noop("Declared by %(who)s; commander %(commander)s."),
                {"who": actor.get_username(), "commander": commander.get_username()},
            ),
            dedupe_key=f"crisis:{crisis.pk}:declared",
            now=now,
        )
        _told_seated(seat, actor=actor, now=now)
    return crisis


def accept_suggestion(
    *,
    actor: AbstractBaseUser,
    suggestion: CrisisSuggestion,
    title: str,
    level: int,
    now: datetime,
    commander: AbstractBaseUser | None = None,
    commander_department: Department | str | None = None,
) -> Crisis:
    """Declare a crisis from an open suggestion: its topic, its open incidents on that topic
    linked, the suggestion taken (closed with the reason "Accepted as crisis #N")."""
    require_declare(actor)
    with transaction.atomic():
        suggestion = CrisisSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if suggestion.dismissed_at is not None:
            raise CrisisError(gettext("This suggestion was already dismissed or accepted."))
        incident_ids = list(
            Incident.objects.filter(
                topic=suggestion.topic, state__in=OPEN_STATES, origin=suggestion.origin
            )
            .order_by("-opened_at")
            .values_list("pk", flat=True)[:MAX_INCIDENTS]
        )
        crisis = declare_crisis(
            actor=actor,
            title=title,
            level=level,
            topics=[suggestion.topic],
            now=now,
            incident_ids=incident_ids,
            commander=commander,
            commander_department=commander_department,
            suggestion=suggestion,
            origin=suggestion.origin,
        )
        reason = gettext("Accepted as crisis #%(id)s: %(title)s") % {
            "id": crisis.pk,
            "title": crisis.title,
        }
        CrisisSuggestion.objects.filter(pk=suggestion.pk).update(
            dismissed_at=now, dismissed_by=actor, dismiss_reason=reason
        )
        record_audit_event(
            actor=actor,
            verb="crisis_suggestion.accept",
            target=suggestion,
            before={"dismissed_at": None},
            after={"crisis": crisis.pk, "reason": reason, "dismissed_at": now.isoformat()},
        )
        record_audit_event(
            actor=actor,
            verb="crisis.suggestion_accepted",
            target=crisis,
            after={"suggestion": suggestion.pk, "topic": suggestion.topic},
        )
    return crisis


# --- Incidents ---------------------------------------------------------------------------------


def link_incident(
    *, actor: AbstractBaseUser, crisis: Crisis, incident: Incident, now: datetime
) -> CrisisIncident:
    """Link an incident to an open crisis by hand (whoever can act on the incident, or a
    supervisor). Linking it again is refused with a message."""
    if not (can_link(actor, incident) or access.runs_every_crisis(actor)):
        raise PermissionDenied(gettext("You cannot act on incident #%(id)s.") % {"id": incident.pk})
    with transaction.atomic():
        crisis = _locked(crisis)
        if not crisis.is_open:
            raise CrisisError(gettext("Incidents link only to an open crisis."))
        if incident.origin != crisis.origin:
            raise CrisisError(gettext("This incident belongs to another run than the crisis."))
        link = _link(crisis, incident, actor=actor, now=now)
        if link is None:
            raise CrisisError(
                gettext("Incident #%(id)s is already linked to this crisis.") % {"id": incident.pk}
            )
    return link


def unlink_incident(
    *, actor: AbstractBaseUser, crisis: Crisis, incident: Incident, now: datetime
) -> None:
    """A supervisor takes an incident out of an open crisis."""
    if not access.runs_every_crisis(actor):
        raise PermissionDenied(gettext("Only a supervisor unlinks an incident from a crisis."))
    with transaction.atomic():
        crisis = _locked(crisis)
        if not crisis.is_open:
            raise CrisisError(gettext("The incidents of a closed crisis stay as they were."))
        deleted, _rows = CrisisIncident.objects.filter(crisis=crisis, incident=incident).delete()
        if not deleted:
            raise CrisisError(
                gettext("Incident #%(id)s is not linked to this crisis.") % {"id": incident.pk}
            )
        record_audit_event(
            actor=actor,
            verb="crisis.incident_unlinked",
            target=crisis,
            before={"incident": incident.pk},
            after={"incident": incident.pk, "at": now.isoformat()},
        )


def link_by_topic(*, incident_id: int, now: datetime) -> list[int]:
    """The system links an incident to every open crisis (of its origin) whose topics include
    its topic; returns the crises it was newly linked to. Idempotent: the unique pair."""
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None:
        return []
    linked: list[int] = []
    with transaction.atomic():
        for crisis in open_crises_on_topic(incident.topic, origin=incident.origin):
            if _link(crisis, incident, actor=None, now=now) is not None:
                linked.append(crisis.pk)
    return linked


# --- Status ------------------------------------------------------------------------------------


def contain_crisis(*, actor: AbstractBaseUser, crisis: Crisis, now: datetime) -> Crisis:
    """Active -> contained: the commander or a supervisor says it stopped growing."""
    access.require_resolve(actor, crisis)
    with transaction.atomic():
        crisis = _locked(crisis)
        check_move(crisis, CrisisStatus.CONTAINED)
        before = crisis.status
        crisis.status = CrisisStatus.CONTAINED
        crisis.contained_at = now
        crisis.save(update_fields=["status", "contained_at", "updated_at"])
        record_audit_event(
            actor=actor,
            verb="crisis.contain",
            target=crisis,
            before={"status": before},
            after={"status": crisis.status, "contained_at": now.isoformat()},
        )
    return crisis


def reactivate_crisis(*, actor: AbstractBaseUser, crisis: Crisis, now: datetime) -> Crisis:
    """Contained or resolved -> active again (it flared up): the commander or a supervisor.
    A crisis whose post-mortem is done stays closed; declare a new one."""
    access.require_resolve(actor, crisis)
    with transaction.atomic():
        crisis = _locked(crisis)
        check_move(crisis, CrisisStatus.ACTIVE)
        before = {
            "status": crisis.status,
            "resolved_at": crisis.resolved_at.isoformat() if crisis.resolved_at else None,
        }
        crisis.status = CrisisStatus.ACTIVE
        crisis.resolved_at = None
        crisis.resolved_by = None
        crisis.save(update_fields=["status", "resolved_at", "resolved_by", "updated_at"])
        record_audit_event(
            actor=actor,
            verb="crisis.reactivate",
            target=crisis,
            before=before,
            after={"status": crisis.status, "at": now.isoformat()},
        )
    return crisis


# --- Cabinet -----------------------------------------------------------------------------------


def _open_for_cabinet(crisis: Crisis) -> None:
    if crisis.status not in OPEN_CRISIS_STATES:
        raise CrisisError(gettext("The cabinet of a closed crisis stays as it was."))


def _check_role(crisis: Crisis, role: str, *, except_member: CabinetMember | None = None) -> str:
    role = CabinetRole(role)
    if role == CabinetRole.COMMANDER:
        raise CrisisError(
            gettext("There is one commander: hand over command to make someone commander.")
        )
    if role == CabinetRole.SPOKESPERSON:
        others = CabinetMember.objects.filter(
            crisis=crisis, role=CabinetRole.SPOKESPERSON, removed_at__isnull=True
        )
        if except_member is not None:
            others = others.exclude(pk=except_member.pk)
        current = others.select_related("user").first()
        if current is not None:
            raise CrisisError(
                gettext(
                    "%(name)s is the spokesperson: the statement speaks with one voice. "
                    "Change their role first."
                )
                % {"name": current.user.get_username()}
            )
    return role


def _member_snapshot(member: CabinetMember) -> dict[str, Any]:
    return {
        "member": member.pk,
        "user": member.user_id,
        "username": member.user.get_username(),
        "department": member.department.key,
        "role": member.role,
    }


def add_member(
    *,
    actor: AbstractBaseUser,
    crisis: Crisis,
    user: AbstractBaseUser,
    department: Department | str,
    role: str = CabinetRole.MEMBER,
    now: datetime,
) -> CabinetMember:
    """Seat a person in the cabinet by department and crisis role, and tell them."""
    require_manage_cabinet(actor, crisis)
    _check_seatable(user)
    with transaction.atomic():
        crisis = _locked(crisis)
        _open_for_cabinet(crisis)
        role = _check_role(crisis, role)
        member = _seat(
            crisis, user=user, department=_department(department), role=role, actor=actor, now=now
        )
        record_audit_event(
            actor=actor, verb="crisis.member_added", target=crisis, after=_member_snapshot(member)
        )
        _told_seated(member, actor=actor, now=now)
    return member


def _locked_member(crisis: Crisis, member: CabinetMember) -> CabinetMember:
    found = (
        CabinetMember.objects.select_for_update(of=("self",))
        .select_related("user", "department")
        .filter(pk=member.pk, crisis=crisis, removed_at__isnull=True)
        .first()
    )
    if found is None:
        raise CrisisError(gettext("This person no longer sits in the cabinet."))
    return found


def change_member_role(
    *, actor: AbstractBaseUser, member: CabinetMember, role: str, now: datetime
) -> CabinetMember:
    """Change a member's crisis role (never to or from commander: that is a hand-over)."""
    crisis = member.crisis
    require_manage_cabinet(actor, crisis)
    with transaction.atomic():
        crisis = _locked(crisis)
        _open_for_cabinet(crisis)
        member = _locked_member(crisis, member)
        if member.role == CabinetRole.COMMANDER:
            raise CrisisError(
                gettext("The commander stays commander until command is handed over.")
            )
        role = _check_role(crisis, role, except_member=member)
        if role == member.role:
            return member
        before = _member_snapshot(member)
        member.role = role
        member.save(update_fields=["role"])
        record_audit_event(
            actor=actor,
            verb="crisis.member_role_changed",
            target=crisis,
            before=before,
            after=_member_snapshot(member),
        )
    return member


def remove_member(
    *, actor: AbstractBaseUser, member: CabinetMember, now: datetime
) -> CabinetMember:
    """Take a person out of the cabinet (their seat is kept, ended). The commander's seat is
    not removed: hand over command first."""
    crisis = member.crisis
    require_manage_cabinet(actor, crisis)
    with transaction.atomic():
        crisis = _locked(crisis)
        _open_for_cabinet(crisis)
        member = _locked_member(crisis, member)
        if member.role == CabinetRole.COMMANDER or member.user_id == crisis.commander_id:
            raise CrisisError(gettext("Hand over command before the commander leaves the cabinet."))
        member.removed_at = now
        member.save(update_fields=["removed_at"])
        record_audit_event(
            actor=actor,
            verb="crisis.member_removed",
            target=crisis,
            before=_member_snapshot(member),
            after={"member": member.pk, "removed_at": now.isoformat()},
        )
    return member


def hand_over_command(
    *,
    actor: AbstractBaseUser,
    crisis: Crisis,
    to_user: AbstractBaseUser,
    now: datetime,
    department: Department | str | None = None,
) -> Crisis:
    """The commander (or a supervisor) hands command to another person: their seat becomes
    the commander's (a seat is made, in `department`, if they had none), the former
    commander stays as a member; recorded and told to the new commander."""
    require_manage_cabinet(actor, crisis)
    _check_seatable(to_user)
    with transaction.atomic():
        crisis = _locked(crisis)
        _open_for_cabinet(crisis)
        if crisis.commander_id == to_user.pk:
            raise CrisisError(
                gettext("%(name)s already commands this crisis.") % {"name": to_user.get_username()}
            )
        previous_id = crisis.commander_id
        CabinetMember.objects.filter(
            crisis=crisis, role=CabinetRole.COMMANDER, removed_at__isnull=True
        ).update(role=CabinetRole.MEMBER)
        seat = (
            CabinetMember.objects.select_for_update()
            .filter(crisis=crisis, user=to_user, removed_at__isnull=True)
            .first()
        )
        if seat is None:
            seat = _seat(
                crisis,
                user=to_user,
                department=_department(department),
                role=CabinetRole.COMMANDER,
                actor=actor,
                now=now,
            )
        else:
            seat.role = CabinetRole.COMMANDER
            seat.save(update_fields=["role"])
        crisis.commander = to_user
        crisis.save(update_fields=["commander", "updated_at"])
        event = record_audit_event(
            actor=actor,
            verb="crisis.command_handed_over",
            target=crisis,
            before={"commander": previous_id},
            after={
                "commander": to_user.pk,
                "username": to_user.get_username(),
                "member": seat.pk,
            },
        )
        notify_after_commit(
            crisis=crisis,
            user_ids=[to_user.pk] if to_user.pk != actor.pk else [],
            kind=NotificationKind.COMMAND_HANDED_OVER,
            title=(
                gettext_noop("You now command the crisis “%(title)s”"),
                {"title": crisis.title},
            ),
            body=(gettext_noop("Handed over by %(who)s."), {"who": actor.get_username()}),
            dedupe_key=f"crisis:{crisis.pk}:command:{event.pk}",
            now=now,
        )
    return crisis


# --- Departments -------------------------------------------------------------------------------


def can_manage_departments(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active) and (
        user.has_perm(Perm.MANAGE_PEOPLE) or user.has_perm(Perm.RUN_CRISES)
    )


def require_manage_departments(user) -> None:
    if not can_manage_departments(user):
        raise PermissionDenied(gettext("Only admins and supervisors manage departments."))


def add_department(
    *, actor: AbstractBaseUser, key: str, name: str, is_legal: bool = False, now: datetime
) -> Department:
    require_manage_departments(actor)
    name = clean_text(name, limit=100)
    if not name:
        raise CrisisError(gettext("Give the department a name."))
    with transaction.atomic():
        ordering = (
            Department.objects.order_by("-ordering").values_list("ordering", flat=True).first() or 0
        ) + 10
        try:
            with transaction.atomic():
                department = Department.objects.create(
                    key=key, name=name, is_legal=is_legal, ordering=min(ordering, 32767)
                )
        except IntegrityError as taken:
            raise CrisisError(
                gettext("A department with the key “%(key)s” exists already.") % {"key": key}
            ) from taken
        record_audit_event(
            actor=actor,
            verb="department.add",
            target=department,
            after={"key": key, "name": name, "is_legal": is_legal, "at": now.isoformat()},
        )
    return department


def update_department(
    *, actor: AbstractBaseUser, department: Department, name: str, is_legal: bool, now: datetime
) -> Department:
    """Rename a department or mark it (un)legal: its member gives the statement's legal
    approval."""
    require_manage_departments(actor)
    name = clean_text(name, limit=100)
    if not name:
        raise CrisisError(gettext("Give the department a name."))
    with transaction.atomic():
        department = Department.objects.select_for_update().get(pk=department.pk)
        before = {"name": department.name, "is_legal": department.is_legal}
        department.name = name
        department.is_legal = is_legal
        department.save(update_fields=["name", "is_legal"])
        record_audit_event(
            actor=actor,
            verb="department.update",
            target=department,
            before=before,
            after={"name": name, "is_legal": is_legal, "at": now.isoformat()},
        )
    return department
