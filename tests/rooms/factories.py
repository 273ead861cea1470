"""Builders for crisis-room tests: crises (stored as the declaration leaves them, without
notifying anyone), cabinet seats, links to incidents, and the people who sit in cabinets.
Incidents come from tests/incidents/factories.py."""

from collections.abc import Iterable
from datetime import datetime

from crisis.incidents.models import Incident
from crisis.roles import Role
from crisis.rooms.models import (
    LIVE_ORIGIN,
    CabinetMember,
    CabinetRole,
    Crisis,
    CrisisIncident,
    CrisisStatus,
    Department,
)
from protocols.services import active_version
from tests.factories import UserFactory
from tests.incidents.factories import NOW

COMMUNICATIONS = "communications"
LEGAL = "legal"


def cabinet_member_user(username: str):
    """A person from another department with the cabinet-member role (sees only the crises
    where they hold a seat)."""
    return UserFactory(username=username, role=Role.CABINET_MEMBER)


def crisis_supervisor(username: str = "crisis-boss"):
    return UserFactory(username=username, role=Role.SUPERVISOR)


def department(key: str = COMMUNICATIONS) -> Department:
    """One of the default departments (communications, customer_service, legal,
    strategic_direction), or a new one with that key."""
    found, _created = Department.objects.get_or_create(
        key=key, defaults={"name": key.replace("_", " ").capitalize()}
    )
    return found


def seat(
    crisis: Crisis,
    user,
    department_key: str = COMMUNICATIONS,
    role: str = CabinetRole.MEMBER,
    *,
    at: datetime | None = None,
) -> CabinetMember:
    """Give `user` an active seat in the crisis's cabinet."""
    return CabinetMember.objects.create(
        crisis=crisis,
        user=user,
        department=department(department_key),
        role=role,
        added_by=crisis.commander,
        added_at=at or crisis.declared_at,
    )


def link(crisis: Crisis, incident: Incident, *, by=None, at: datetime | None = None):
    return CrisisIncident.objects.create(
        crisis=crisis, incident=incident, linked_by=by, linked_at=at or crisis.declared_at
    )


def a_crisis(
    *,
    title: str = "Double charges on cards",
    level: int = 2,
    topics: Iterable[str] = ("billing",),
    commander=None,
    declared_by=None,
    status: str = CrisisStatus.ACTIVE,
    declared_at: datetime = NOW,
    incidents: Iterable[Incident] = (),
    origin: str = LIVE_ORIGIN,
    commander_department: str = COMMUNICATIONS,
) -> Crisis:
    """A declared crisis with its commander seated (communications by default) and the given
    incidents linked. The commander defaults to a supervisor named "crisis-boss"."""
    commander = commander or crisis_supervisor()
    crisis = Crisis.objects.create(
        title=title,
        level=level,
        topics=list(topics),
        status=status,
        commander=commander,
        declared_by=declared_by or commander,
        declared_at=declared_at,
        protocol_version=active_version(),
        contained_at=declared_at if status == CrisisStatus.CONTAINED else None,
        resolved_at=declared_at
        if status in (CrisisStatus.RESOLVED, CrisisStatus.POST_MORTEM_DONE)
        else None,
        origin=origin,
    )
    seat(crisis, commander, commander_department, CabinetRole.COMMANDER)
    for incident in incidents:
        link(crisis, incident)
    return crisis
