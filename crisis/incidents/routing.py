"""Routing: who gets an incident (skills, shifts, capacity, least-loaded, round-robin), the
alerts for critical and sensitive incidents, and handing untouched work back at shift end.

Concurrency: the incident is claimed with SELECT … FOR UPDATE SKIP LOCKED (a second worker
skips it) and each candidate manager's Profile row is locked while their open incidents are
counted again, so two workers never give one incident twice nor push a manager over
capacity. Each candidate is tried in a savepoint: a full manager's lock is released at once,
so a worker holds at most one manager lock and workers cannot deadlock on each other.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, F, Max, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from crisis.incidents import services
from crisis.incidents.models import LIVE_ORIGIN, OPEN_STATES, Incident, IncidentState
from crisis.incidents.selectors import assignable_people
from crisis.models import AuditEvent
from crisis.notifications.services import absolute_link
from crisis.people.models import Profile
from crisis.people.selectors import managers_on_shift, on_call_supervisor, teams_on_shift
from crisis.roles import Role
from crisis.services.audit import record_audit_event
from protocols.models import ProtocolStatus, ProtocolVersion, Run, run_origin
from protocols.schema import section

logger = logging.getLogger(__name__)

# Incidents routing may give to someone: nobody owns them and nobody is working them.
ROUTABLE_STATES = (IncidentState.NEW, IncidentState.REOPENED)

EMAIL_CONTACT_TASK = "crisis.incidents.tasks.email_escalation_contact"


class RouteRule:
    """Why routing decided what it did (kept in the audit event)."""

    LEAST_LOADED = "least_loaded"
    ON_CALL = "on_call"
    UNASSIGNED = "unassigned"


@dataclass(frozen=True, slots=True)
class Needs:
    """What a manager must have to get the incident."""

    language: str  # "" when the scorer could not tell: any language will do
    platform: str


class _Full(Exception):
    """The candidate reached capacity under the lock (rolls back the savepoint and its lock)."""


# --- policy --------------------------------------------------------------------------------


def routing_policy() -> dict[str, Any]:
    """The active protocol's routing section (defaults while no version is active or it
    predates the section). Only the section is read: the whole document is large."""
    routing = (
        ProtocolVersion.objects.filter(status=ProtocolStatus.ACTIVE)
        .values_list("config__routing", flat=True)
        .first()
    )
    return section({"routing": routing} if routing else {}, "routing")


def needs_of(incident: Incident) -> Needs:
    language = (incident.opened_score or {}).get("language") or incident.first_mention.language
    return Needs(language=_primary_language(language), platform=incident.first_mention.platform)


def _primary_language(code: str) -> str:
    # "es-ES" and "es" are the same skill.
    return (code or "").split("-")[0].split("_")[0].lower()


# --- who may get it ---------------------------------------------------------------------------


def open_load_filter(prefix: str = "") -> Q:
    """An open live incident (what counts toward capacity); `prefix` for a related lookup."""
    return Q(**{f"{prefix}origin": LIVE_ORIGIN, f"{prefix}state__in": OPEN_STATES})


def open_load(user_id: int) -> int:
    return Incident.objects.filter(open_load_filter(), owner_id=user_id).count()


def eligible_managers(
    *, needs: Needs, now: datetime, default_capacity: int, exclude: tuple[int, ...] = ()
) -> QuerySet:
    """Active community managers on shift with the skills and room for one more, least
    loaded first; among equals the one whose newest incident is oldest (round-robin), then
    the oldest account. `load` and `capacity` are annotated."""
    with_room = managers_with_room(now=now, default_capacity=default_capacity)
    return (
        with_room.filter(pk__in=_skilled(with_room, needs))
        .exclude(pk__in=list(exclude))
        .annotate(
            newest_incident=Max(
                "owned_incidents__pk", filter=Q(owned_incidents__origin=LIVE_ORIGIN)
            ),
        )
        .order_by("load", F("newest_incident").asc(nulls_first=True), "pk")
    )


def _skilled(managers: QuerySet, needs: Needs) -> list[int]:
    """The managers whose skills cover the incident. Checked here rather than with a JSON
    containment lookup, which the embedded SQLite default does not support; the managers on
    shift with room are a handful, and their skill lists a few codes each."""
    rows = managers.values_list("pk", "profile__languages", "profile__platforms")
    return [
        pk
        for pk, languages, platforms in rows
        if (not platforms or needs.platform in platforms)
        and (not needs.language or needs.language in (languages or []))
    ]


def managers_with_room(*, now: datetime, default_capacity: int) -> QuerySet:
    """Active community managers on shift with room for one more incident, whatever their
    skills; `load` and `capacity` are annotated."""
    return (
        get_user_model()
        .objects.filter(pk__in=managers_on_shift(now).values("pk"))
        .annotate(
            load=Count("owned_incidents", filter=open_load_filter("owned_incidents__")),
            capacity=Coalesce(F("profile__max_open_incidents"), Value(default_capacity)),
        )
        .filter(load__lt=F("capacity"))
    )


def serves(needs: Needs, languages: list[str] | None, platforms: list[str] | None) -> bool:
    """eligible_managers' skill rule for one manager's profile (no profile: serves nothing)."""
    if languages is None or platforms is None:
        return False
    platform_ok = not platforms or needs.platform in platforms
    return platform_ok and (not needs.language or needs.language in languages)


def handed_back_from(incident: Incident) -> tuple[int, ...]:
    """The owner the incident was last handed back from (breach, shift end): routing gives
    it to someone else, or leaves it for the team to take."""
    event = (
        AuditEvent.objects.filter(
            object_type=incident._meta.label_lower,
            object_id=str(incident.pk),
            verb="incident.hand_back",
        )
        .order_by("-id")
        .values_list("before", flat=True)
        .first()
    )
    owner = (event or {}).get("owner")
    return (owner,) if owner else ()


# --- routing ----------------------------------------------------------------------------------


def route_incident(
    *, incident_id: int, now: datetime, audit_unassigned: bool = True
) -> Incident | None:
    """Give an unowned live incident to the best eligible manager (or the on-call supervisor
    outside every shift), alert supervisors and contacts when the policy says so.

    Returns the incident when this call decided it (assigned or left unassigned), None when
    there was nothing to do: another worker holds it, it has an owner, it is a run's.
    `audit_unassigned=False` (the waiting sweep) records only decisions that change something,
    so a minute-by-minute retry does not fill the audit log."""
    with transaction.atomic():
        incident = (
            Incident.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("first_mention")
            .filter(
                pk=incident_id,
                origin=LIVE_ORIGIN,
                owner__isnull=True,
                state__in=ROUTABLE_STATES,
            )
            .first()
        )
        if incident is None:
            return None
        policy = routing_policy()
        owner, rule, load = _choose_and_assign(incident, policy=policy, now=now)
        if owner is not None or audit_unassigned:
            record_audit_event(
                actor=None,
                verb="incident.route",
                target=incident,
                after={
                    "rule": rule,
                    "owner": owner.pk if owner else None,
                    "team": incident.team_id,
                    "load": load,
                },
            )
        _alert_if_needed(incident, policy=policy, now=now)
    incident.refresh_from_db()
    return incident


def _choose_and_assign(
    incident: Incident, *, policy: dict[str, Any], now: datetime
) -> tuple[AbstractBaseUser | None, str, int | None]:
    candidates = eligible_managers(
        needs=needs_of(incident),
        now=now,
        default_capacity=int(policy["max_open_per_manager"]),
        exclude=handed_back_from(incident),
    )
    for candidate in candidates:
        try:
            load = _assign_within_capacity(incident, candidate, now=now)
        except _Full:
            continue
        return candidate, RouteRule.LEAST_LOADED, load
    if incident.severity in policy["oncall_outside_shifts_severities"] and not teams_on_shift(now):
        supervisor = on_call_supervisor(now)
        if supervisor is not None:
            services.assign_incident(actor=None, incident=incident, to_user=supervisor, now=now)
            return supervisor, RouteRule.ON_CALL, None
    return None, RouteRule.UNASSIGNED, None


def _assign_within_capacity(
    incident: Incident, candidate: AbstractBaseUser, *, now: datetime
) -> int:
    """Lock the manager's profile, count their open incidents again, assign if there is room.
    Raises _Full (releasing the lock with the savepoint) when another worker filled them."""
    with transaction.atomic():
        profile = Profile.objects.select_for_update().get(user_id=candidate.pk)
        load = open_load(candidate.pk)
        if load >= candidate.capacity:
            raise _Full
        # The incident belongs to the team routing chose: the manager's (or stays as it was).
        if profile.team_id is not None and profile.team_id != incident.team_id:
            Incident.objects.filter(pk=incident.pk).update(team_id=profile.team_id)
            incident.team_id = profile.team_id
        services.assign_incident(actor=None, incident=incident, to_user=candidate, now=now)
        return load + 1


# --- a run's incidents (drills) ----------------------------------------------------------------


def route_run_incidents(*, run_id: int, now: datetime, limit: int = 200) -> list[int]:
    """Give a drill's unowned incidents to its participants only: the active community
    managers among them (the participants who work incidents when no manager takes part)
    with the skills, least loaded with the run's own open incidents first (then any of them;
    shifts and live load do not apply to a drill). A run without
    participants (a replay) routes nothing. Returns the ids assigned; `now` is the run's
    clock."""
    taking_part = get_user_model().objects.filter(
        is_active=True,
        pk__in=Run.participants.through.objects.filter(run_id=run_id).values("user_id"),
    )
    columns = ("pk", "profile__languages", "profile__platforms")
    participants = list(
        taking_part.filter(groups__name=Role.COMMUNITY_MANAGER.value)
        .distinct()
        .values_list(*columns)
    ) or list(  # a drill of supervisors alone: they work its incidents themselves
        taking_part.filter(pk__in=assignable_people().values("pk")).distinct().values_list(*columns)
    )
    if not participants:
        return []
    origin = run_origin(run_id)
    assigned = []
    waiting = Incident.objects.filter(
        origin=origin, owner__isnull=True, state__in=ROUTABLE_STATES
    ).order_by("opened_at", "pk")
    for incident_id in list(waiting.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            incident = (
                waiting.select_for_update(skip_locked=True, of=("self",))
                .select_related("first_mention")
                .filter(pk=incident_id)
                .first()
            )
            if incident is None:
                continue
            needs = needs_of(incident)
            skilled = [
                pk
                for pk, languages, platforms in participants
                if serves(needs, languages, platforms)
            ]
            candidates = skilled or [pk for pk, _languages, _platforms in participants]
            loads = dict(
                Incident.objects.filter(
                    origin=origin, state__in=OPEN_STATES, owner_id__in=candidates
                )
                .values_list("owner_id")
                .annotate(load=Count("pk"))
                .values_list("owner_id", "load")
            )
            chosen = min(candidates, key=lambda pk: (loads.get(pk, 0), pk))
            owner = get_user_model().objects.get(pk=chosen)
            services.assign_incident(actor=None, incident=incident, to_user=owner, now=now)
            record_audit_event(
                actor=None,
                verb="incident.route",
                target=incident,
                after={"rule": RouteRule.LEAST_LOADED, "owner": chosen, "run": run_id},
            )
            assigned.append(incident_id)
    return assigned


# --- the waiting queue -----------------------------------------------------------------------


def waiting_incidents() -> QuerySet:
    """Live incidents nobody owns that routing may give, oldest first: nobody was eligible,
    their routing task was lost (broker down at open), or another worker held them."""
    return Incident.objects.filter(
        origin=LIVE_ORIGIN, owner__isnull=True, state__in=ROUTABLE_STATES
    ).order_by("opened_at", "pk")


def route_waiting_incidents(*, now: datetime, limit: int = 100) -> list[int]:
    """Beat: route the waiting queue again, so it drains to managers as they come on shift
    or get room. Returns the ids assigned. Only incidents someone could take now are tried
    (at most `limit`, oldest first), so ones nobody can serve neither cost a routing each
    minute nor hold back the newer ones behind them."""
    policy = routing_policy()
    assigned = []
    for incident_id in takeable_waiting_ids(now=now, policy=policy, limit=limit):
        incident = route_incident(incident_id=incident_id, now=now, audit_unassigned=False)
        if incident is not None and incident.owner_id is not None:
            assigned.append(incident_id)
    return assigned


def takeable_waiting_ids(*, now: datetime, policy: dict[str, Any], limit: int) -> list[int]:
    """Waiting incidents, oldest first, that a manager on shift with room has the skills for,
    or that go to the on-call supervisor outside every shift."""
    skills = list(
        managers_with_room(
            now=now, default_capacity=int(policy["max_open_per_manager"])
        ).values_list("profile__languages", "profile__platforms")
    )
    on_call = not teams_on_shift(now) and on_call_supervisor(now) is not None
    if not skills and not on_call:
        return []
    rows = waiting_incidents().values_list(
        "pk",
        "severity",
        "opened_score__language",
        "first_mention__language",
        "first_mention__platform",
    )
    takeable: list[int] = []
    for pk, severity, scored_language, mention_language, platform in rows.iterator(chunk_size=2000):
        needs = Needs(
            language=_primary_language(scored_language or mention_language), platform=platform
        )
        for_on_call = on_call and severity in policy["oncall_outside_shifts_severities"]
        if for_on_call or any(serves(needs, *profile) for profile in skills):
            takeable.append(pk)
            if len(takeable) >= limit:
                break
    return takeable


# --- alerts -----------------------------------------------------------------------------------


def alert_groups_of(incident: Incident, policy: dict[str, Any]) -> list[str]:
    matched = (incident.opened_score or {}).get("matched_groups") or []
    return [group for group in matched if group in policy["alert_groups"]]


def needs_alert(incident: Incident, policy: dict[str, Any]) -> bool:
    critical = incident.severity in policy["alert_supervisors_severities"]
    return critical or bool(alert_groups_of(incident, policy))


def escalation_contacts(incident: Incident, groups: list[str]) -> list[str]:
    """E-mail addresses of the matched groups' escalation contacts in the incident's protocol
    (a contact that names a team rather than an address gets no e-mail)."""
    contacts = []
    keyword_groups = (
        ProtocolVersion.objects.filter(pk=incident.protocol_version_id)
        .values_list("config__keyword_groups", flat=True)
        .first()
    )
    for group in keyword_groups or []:
        contact = (group.get("escalation_contact") or "").strip()
        if group.get("key") in groups and contact and contact not in contacts:
            try:
                validate_email(contact)
            except ValidationError:
                continue
            contacts.append(contact)
    return contacts


def supervisors() -> QuerySet:
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.SUPERVISOR.value)
        .distinct()
    )


def _already_alerted(incident: Incident) -> bool:
    # Checked under the incident's lock, so a re-route (hand-back) does not alert again.
    return AuditEvent.objects.filter(
        object_type=incident._meta.label_lower, object_id=str(incident.pk), verb="incident.alert"
    ).exists()


def _alert_if_needed(incident: Incident, *, policy: dict[str, Any], now: datetime) -> None:
    if not needs_alert(incident, policy) or _already_alerted(incident):
        return
    groups = alert_groups_of(incident, policy)
    contacts = escalation_contacts(
        incident, (incident.opened_score or {}).get("matched_groups") or []
    )
    record_audit_event(
        actor=None,
        verb="incident.alert",
        target=incident,
        after={"severity": incident.severity, "groups": groups, "contacts": contacts},
    )
    critical = incident.severity in policy["alert_supervisors_severities"]
    title = (
        (gettext_noop("Critical incident #%(id)s"), {"id": incident.pk})
        if critical
        else (
            gettext_noop("Incident #%(id)s matches %(groups)s"),
            {"id": incident.pk, "groups": ", ".join(groups)},
        )
    )
    supervisor_ids = list(supervisors().values_list("pk", flat=True))
    incident_id = incident.pk
    url = services.incident_url(incident)

    def tell() -> None:
        # Once per incident (the alert is audited once), so the incident names the event.
        services.notify_or_log(
            incident_id=incident_id,
            user_ids=supervisor_ids,
            kind="critical" if critical else "escalation",
            title=title,
            url=url,
            dedupe_key=f"incident:{incident_id}:alert",
            now=now,
        )
        for contact in contacts:
            _send_contact_email(incident_id, contact)

    transaction.on_commit(tell, robust=True)


def _send_contact_email(incident_id: int, address: str) -> None:
    from celery import current_app
    from kombu.exceptions import KombuError

    try:
        current_app.send_task(EMAIL_CONTACT_TASK, args=[incident_id, address])
    except (KombuError, OSError) as error:
        logger.warning("escalation e-mail for incident %s not enqueued (%s)", incident_id, error)


# --- shift end --------------------------------------------------------------------------------


def untouched_off_shift(*, now: datetime) -> QuerySet:
    """Live incidents a community manager was given but never started, whose shift is over."""
    return (
        Incident.objects.filter(
            origin=LIVE_ORIGIN,
            state=IncidentState.ASSIGNED,
            owner__isnull=False,
            owner__groups__name=Role.COMMUNITY_MANAGER.value,
        )
        .exclude(owner__in=managers_on_shift(now).values("pk"))
        .order_by("sla_due_at", "pk")
    )


def handback_on_shift_end(*, now: datetime, limit: int = 500) -> list[int]:
    """Return to routing the untouched incidents of managers whose shift ended (when the
    protocol's routing.handback_on_shift_end says so). Returns the ids handed back."""
    if not routing_policy()["handback_on_shift_end"]:
        return []
    handed_back = []
    for incident_id in list(untouched_off_shift(now=now).values_list("pk", flat=True)[:limit]):
        if _hand_back_if_untouched(incident_id, now=now):
            handed_back.append(incident_id)
            route_incident(incident_id=incident_id, now=now)
    return handed_back


def _hand_back_if_untouched(incident_id: int, *, now: datetime) -> bool:
    """Hand back unless, under the lock, the owner started it or it changed hands meanwhile."""
    with transaction.atomic():
        incident = (
            untouched_off_shift(now=now)
            .select_for_update(skip_locked=True, of=("self",))
            .filter(pk=incident_id)
            .first()
        )
        if incident is None:
            return False
        services.hand_back_incident(actor=None, incident=incident, reason="shift_end", now=now)
    return True


# --- e-mail to escalation contacts ------------------------------------------------------------


def email_escalation_contact(*, incident_id: int, address: str) -> bool:
    """A plain e-mail, in the organisation's language, telling a keyword group's escalation
    contact (legal, safety, data protection) about the incident. False when it is gone."""
    incident = Incident.objects.filter(pk=incident_id, origin=LIVE_ORIGIN).first()
    if incident is None:
        return False
    validate_email(address)
    with translation.override(settings.LANGUAGE_CODE):
        subject = gettext("Calma: incident #%(id)s needs your attention") % {"id": incident.pk}
        lines = [
            gettext("Severity: %(severity)s") % {"severity": incident.get_severity_display()},
            gettext("Topic: %(topic)s") % {"topic": incident.topic},
            gettext("Class: %(class)s") % {"class": incident.get_triage_class_display()},
        ]
        link = absolute_link(services.incident_url(incident))
        if link:
            lines.append(link)
    send_mail(subject, "\n".join(lines) + "\n", None, [address])
    return True
