"""Reads of the crises slice for screens: the crisis list, the room's header, cabinet and
linked incidents, the crises an incident is in, and who may sit in a cabinet. Each returns
its rows with what the screen shows already joined, so query counts stay constant."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext, gettext_noop

from crisis.incidents.models import Incident
from crisis.roles import Role
from crisis.rooms.access import visible_crises
from crisis.rooms.models import (
    OPEN_CRISIS_STATES,
    CabinetMember,
    CabinetRole,
    Crisis,
    CrisisIncident,
    Department,
)
from protocols.models import ProtocolVersion
from protocols.schema import section

# The shipped level labels, so the interface can show them in the reader's language (a label
# a supervisor typed into the protocol is shown as typed).
SHIPPED_LEVEL_LABELS = (gettext_noop("Watch"), gettext_noop("Serious"), gettext_noop("Critical"))

# People who may hold a seat: those who work in Calma's case work or sit in cabinets.
# Executives read every crisis and admins run the platform; neither sits in a cabinet.
SEATABLE_ROLES = (Role.COMMUNITY_MANAGER, Role.SUPERVISOR, Role.CABINET_MEMBER)

ROLE_ORDER = Case(
    When(role=CabinetRole.COMMANDER, then=Value(0)),
    When(role=CabinetRole.SPOKESPERSON, then=Value(1)),
    When(role=CabinetRole.SCRIBE, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def crisis_levels(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The protocol's crisis levels [{level, label}], lowest first."""
    levels = [
        entry
        for entry in section(config, "crisis").get("levels") or []
        if isinstance(entry, dict) and isinstance(entry.get("level"), int)
    ]
    return sorted(levels, key=lambda entry: entry["level"])


def level_label(levels: list[dict[str, Any]], level: int) -> str:
    for entry in levels:
        if entry["level"] == level:
            label = str(entry.get("label") or "")
            return gettext(label) if label in SHIPPED_LEVEL_LABELS else label
    return str(level)


def _levels_by_version(version_ids: set[int]) -> dict[int, list[dict[str, Any]]]:
    """Each protocol version's crisis levels, reading only that section (one query)."""
    rows = ProtocolVersion.objects.filter(pk__in=version_ids).values_list("pk", "config__crisis")
    return {pk: crisis_levels({"crisis": crisis} if crisis else {}) for pk, crisis in rows}


def with_level_labels(crises: list[Crisis]) -> list[Crisis]:
    """Set `level_label` on each crisis from its own protocol version's levels."""
    levels = _levels_by_version({crisis.protocol_version_id for crisis in crises})
    for crisis in crises:
        crisis.level_label = level_label(levels.get(crisis.protocol_version_id, []), crisis.level)
    return crises


def _incident_count() -> Coalesce:
    links = (
        CrisisIncident.objects.filter(crisis=OuterRef("pk"))
        .order_by()
        .values("crisis")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(links, output_field=IntegerField()), Value(0))


def crisis_list(user) -> QuerySet[Crisis]:
    """The crises this person may open: open ones first, then the rest, newest first within
    each, with the commander and the count of linked incidents (one query a page)."""
    return (
        Crisis.objects.filter(pk__in=visible_crises(user).values("pk"))
        .select_related("commander")
        .annotate(
            incident_count=_incident_count(),
            open_rank=Case(
                When(status__in=OPEN_CRISIS_STATES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("open_rank", "-declared_at", "-pk")
    )


def crisis_for_room(pk: int) -> Crisis:
    """The crisis with what the room's header shows (raises Crisis.DoesNotExist)."""
    crisis = (
        Crisis.objects.select_related("commander", "declared_by", "suggestion")
        .annotate(incident_count=_incident_count())
        .get(pk=pk)
    )
    with_level_labels([crisis])
    return crisis


def cabinet(crisis: Crisis) -> list[CabinetMember]:
    """The active seats, commander first, then spokesperson, scribe and members, by department."""
    return list(
        CabinetMember.objects.filter(crisis=crisis, removed_at__isnull=True)
        .select_related("user", "department")
        .annotate(role_rank=ROLE_ORDER)
        .order_by("role_rank", "department__ordering", "department__name", "user__username")
    )


def linked_incidents(crisis: Crisis) -> QuerySet[CrisisIncident]:
    """The crisis's incidents, newest link first, with what each row shows."""
    return (
        CrisisIncident.objects.filter(crisis=crisis)
        .select_related("incident", "incident__owner", "incident__author", "linked_by")
        .order_by("-linked_at", "-pk")
    )


def crises_of_incident(incident: Incident) -> list[CrisisIncident]:
    return list(
        CrisisIncident.objects.filter(incident=incident)
        .select_related("crisis")
        .order_by("-crisis__declared_at")
    )


def open_crises_to_link(incident: Incident) -> QuerySet[Crisis]:
    """Open crises of the incident's origin that it is not linked to yet."""
    return (
        Crisis.objects.filter(status__in=OPEN_CRISIS_STATES, origin=incident.origin)
        .exclude(incident_links__incident=incident)
        .order_by("-declared_at", "-pk")
    )


def open_crises_on_topic(topic: str, *, origin: str) -> list[Crisis]:
    """Open crises of this origin whose topics include `topic`. The open crises are few, so
    their topic lists are matched here: a JSON `contains` lookup is Postgres-only and the
    embedded SQLite default must link incidents to crises too."""
    open_crises = Crisis.objects.filter(status__in=OPEN_CRISIS_STATES, origin=origin)
    return [crisis for crisis in open_crises if topic in (crisis.topics or [])]


def seatable_people() -> QuerySet:
    """Active people who may sit in a cabinet (and hold command)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[role.value for role in SEATABLE_ROLES])
        .distinct()
        .order_by("username")
    )


def departments() -> QuerySet[Department]:
    return Department.objects.annotate(seats=Count("members")).order_by("ordering", "name")


def has_any_seat(user) -> bool:
    return CabinetMember.objects.filter(user=user, removed_at__isnull=True).exists()


def topics_of_open_crises(origins: set[str]) -> set[tuple[str, str]]:
    """(origin, topic) of every topic an active or contained crisis of these origins
    handles: the crisis rule suggests none of them again while the crisis is open (one
    query; settings.PROTOCOLS["COVERED_TOPICS"])."""
    return {
        (origin, topic)
        for origin, topics in Crisis.objects.filter(
            origin__in=origins, status__in=OPEN_CRISIS_STATES
        ).values_list("origin", "topics")
        for topic in topics or ()
        if isinstance(topic, str)
    }
