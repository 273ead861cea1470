"""Reads of drills: the list, a drill's progress and the events it raised so far."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from crisis.drills.models import Drill, Scenario
from crisis.incidents.models import Incident
from crisis.rooms.models import Crisis
from protocols.models import CrisisSuggestion, SurgeAlert
from protocols.scoring.types import topic_label

EVENTS_SHOWN = 30


def drills() -> QuerySet[Drill]:
    return Drill.objects.select_related("run", "scenario", "started_by").order_by(
        "-started_at", "-id"
    )


def scenarios() -> QuerySet[Scenario]:
    return Scenario.objects.select_related("created_by").defer("data").order_by("-created_at")


def drill(pk: int) -> Drill:
    return Drill.objects.select_related("run", "scenario", "started_by", "closed_by").get(pk=pk)


@dataclass(frozen=True, slots=True)
class DrillEvent:
    at: datetime  # scenario time (a declaration: the wall time read in scenario time)
    kind: str  # "incident" | "spike" | "suggestion" | "crisis"
    label: str
    detail: str
    url: str = ""


def events(drill: Drill, *, scenario_at) -> list[DrillEvent]:
    """The newest events the drill raised (at most EVENTS_SHOWN of each kind, EVENTS_SHOWN in
    all), newest first: incidents opened, surges, crisis suggestions, crises declared.
    `scenario_at` turns a wall-clock time into scenario time."""
    from django.urls import reverse
    from django.utils.translation import gettext

    origin = drill.run.origin
    found: list[DrillEvent] = []
    for pk, opened_at, topic, severity in (
        Incident.objects.filter(origin=origin)
        .order_by("-opened_at", "-pk")
        .values_list("pk", "opened_at", "topic", "severity")[:EVENTS_SHOWN]
    ):
        found.append(
            DrillEvent(
                at=opened_at,
                kind="incident",
                label=gettext("Incident #%(id)s opened") % {"id": pk},
                detail=f"{topic_label(topic)} · {severity}",
                url=reverse("incidents:detail", args=[pk]),
            )
        )
    for topic, factor, raised_at, serious in (
        SurgeAlert.objects.filter(origin=origin)
        .order_by("-raised_at")
        .values_list("topic", "factor", "raised_at", "serious")[:EVENTS_SHOWN]
    ):
        found.append(
            DrillEvent(
                at=raised_at,
                kind="spike",
                label=gettext("Serious surge") if serious else gettext("Spike"),
                detail=f"{topic_label(topic)} ×{factor:.1f}",
            )
        )
    for suggestion in CrisisSuggestion.objects.filter(origin=origin).order_by("-raised_at")[
        :EVENTS_SHOWN
    ]:
        open_now = suggestion.dismissed_at is None
        found.append(
            DrillEvent(
                at=suggestion.raised_at,
                kind="suggestion",
                label=gettext("Crisis suggested"),
                detail=f"{topic_label(suggestion.topic)} · {suggestion.get_reason_display()}",
                url=reverse("rooms:accept_suggestion", args=[suggestion.pk]) if open_now else "",
            )
        )
    for pk, title, declared_at in (
        Crisis.objects.filter(origin=origin)
        .order_by("-declared_at")
        .values_list("pk", "title", "declared_at")[:EVENTS_SHOWN]
    ):
        found.append(
            DrillEvent(
                at=scenario_at(declared_at),
                kind="crisis",
                label=gettext("Crisis declared"),
                detail=title,
                url=reverse("rooms:room", args=[pk]),
            )
        )
    found.sort(key=lambda event: event.at, reverse=True)
    return found[:EVENTS_SHOWN]


def open_suggestions(drill: Drill) -> list[CrisisSuggestion]:
    return list(CrisisSuggestion.objects.filter(origin=drill.run.origin, dismissed_at__isnull=True))
