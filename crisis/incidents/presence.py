"""Collision on an incident: who has it open right now, and asking its owner for a hand-over.

Presence lives in the cache (Redis, or the embedded file cache), one entry per incident
mapping user ids to when their page last said it was open. Each open page refreshes it by
polling every POLL_SECONDS; an entry older than PRESENT_FOR_SECONDS is gone (a closed tab
stops polling). Only plain get/set are used, so any Django cache backend works; two pages
writing in the same instant can drop one viewer until that viewer's next poll, which a
collision warning tolerates.
"""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from crisis.incidents.models import Incident
from crisis.incidents.page import can_view
from crisis.incidents.services import incident_url
from crisis.incidents.transitions import InvalidTransition
from crisis.services.audit import record_audit_event

POLL_SECONDS = 15
# Two missed polls and a margin: a slow network does not make a viewer flicker away.
PRESENT_FOR_SECONDS = 40


def _key(incident_id: int) -> str:
    return f"incident-presence:{incident_id}"


def _fresh(entries: dict, now: datetime) -> dict[int, float]:
    """Entries seen within PRESENT_FOR_SECONDS of now (malformed ones are dropped)."""
    oldest = now.timestamp() - PRESENT_FOR_SECONDS
    fresh: dict[int, float] = {}
    for user_id, seen in (entries or {}).items():
        if isinstance(seen, int | float) and oldest <= seen <= now.timestamp() + 60:
            fresh[int(user_id)] = float(seen)
    return fresh


def mark_present(*, incident_id: int, user_id: int, now: datetime) -> None:
    """The user's page for the incident is open at `now`."""
    entries = _fresh(cache.get(_key(incident_id)) or {}, now)
    entries[user_id] = now.timestamp()
    cache.set(_key(incident_id), entries, timeout=PRESENT_FOR_SECONDS)


def mark_left(*, incident_id: int, user_id: int, now: datetime) -> None:
    """The user closed or left the page (best effort: the TTL covers a closed tab)."""
    entries = _fresh(cache.get(_key(incident_id)) or {}, now)
    if entries.pop(user_id, None) is not None:
        cache.set(_key(incident_id), entries, timeout=PRESENT_FOR_SECONDS)


def present_user_ids(*, incident_id: int, now: datetime) -> list[int]:
    """Ids of users with the incident open now, the most recent first."""
    entries = _fresh(cache.get(_key(incident_id)) or {}, now)
    return [user_id for user_id, _seen in sorted(entries.items(), key=lambda item: -item[1])]


def others_present(*, incident_id: int, viewer_id: int, now: datetime) -> list[AbstractBaseUser]:
    """The other people who have the incident open now (active users only)."""
    ids = [pk for pk in present_user_ids(incident_id=incident_id, now=now) if pk != viewer_id]
    if not ids:
        return []
    users = get_user_model().objects.filter(pk__in=ids, is_active=True).in_bulk()
    return [users[pk] for pk in ids if pk in users]


def hand_over_request_key(incident: Incident, actor: AbstractBaseUser, now: datetime) -> str:
    """One request per incident, asker, owner and hour: a double click tells the owner once."""
    return f"incident:{incident.pk}:hand_over_request:{actor.pk}:{incident.owner_id}:{now:%Y%m%d%H}"


def request_hand_over(*, actor: AbstractBaseUser, incident: Incident, now: datetime) -> Incident:
    """Someone who may not act on an owned incident asks its owner to hand it over: the
    owner is told (once per hour per asker) and the request is audited."""
    with transaction.atomic():
        incident = Incident.objects.select_related("owner").get(pk=incident.pk)
        if incident.owner_id is None:
            raise InvalidTransition(
                gettext("Incident #%(id)s has no owner: take it instead.") % {"id": incident.pk}
            )
        if incident.owner_id == actor.pk:
            raise InvalidTransition(
                gettext("Incident #%(id)s is already yours.") % {"id": incident.pk}
            )
        if not can_view(actor, incident):
            # A manager of another team does not see the incident, so cannot ask for it.
            raise PermissionDenied(
                gettext("You cannot act on incident #%(id)s.") % {"id": incident.pk}
            )
        record_audit_event(
            actor=actor,
            verb="incident.hand_over_request",
            target=incident,
            after={"owner": incident.owner_id},
        )
        _tell_owner_after_commit(incident, actor, now)
    return incident


def _tell_owner_after_commit(incident: Incident, actor: AbstractBaseUser, now: datetime) -> None:
    from crisis.notifications.services import notify

    owner_id, origin = incident.owner_id, incident.origin
    title = (
        gettext_noop("%(user)s asks you to hand over incident #%(id)s"),
        {"user": actor.get_username(), "id": incident.pk},
    )
    key = hand_over_request_key(incident, actor, now)
    url = incident_url(incident)

    def send() -> None:
        notify(
            users=get_user_model().objects.filter(pk=owner_id),
            kind="assigned",
            title=title,
            url=url,
            dedupe_key=key,
            now=now,
            origin=origin,
        )

    transaction.on_commit(send, robust=True)
