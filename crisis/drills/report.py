"""A drill's report, in scenario time: from the first scenario mention to the first crisis
suggestion, the declaration and the first approved statement, and the SLA compliance of the
drill's incidents.

What the replay did (mentions, incidents, suggestions) carries scenario times already. What
people did (declaring, approving, answering) happened on the wall clock, and is read back in
scenario time through the drill's clock: scenario = first row + (wall - start) x speed.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Min
from django.utils.translation import gettext_lazy as _

from crisis.drills.models import Drill
from crisis.drills.services import scenario_time
from crisis.incidents.models import Incident
from crisis.rooms.models import Crisis, StatementVersion
from protocols.models import CrisisSuggestion


@dataclass(frozen=True, slots=True)
class Milestone:
    key: str  # "first_mention" | "suggestion" | "declaration" | "statement"
    label: str
    at: datetime | None  # scenario time; None when it has not happened
    since_start: timedelta | None  # from the first scenario mention


@dataclass(frozen=True, slots=True)
class SlaCompliance:
    incidents: int  # the drill's incidents with a first-response target
    in_time: int  # first response (in scenario time) by the target
    late: int  # answered after the target
    missed: int  # unanswered, target passed
    waiting: int  # unanswered, target still ahead

    @property
    def percent(self) -> int | None:
        """Share answered in time of those decided (answered, or past their target)."""
        decided = self.in_time + self.late + self.missed
        return round(100 * self.in_time / decided) if decided else None


@dataclass(frozen=True, slots=True)
class DrillReport:
    milestones: list[Milestone]
    sla: SlaCompliance
    now: datetime  # scenario time the report was read at


def drill_report(drill: Drill, *, now: datetime) -> DrillReport:
    """The report as of the wall-clock moment `now` (a closed drill: its closing time)."""
    origin = drill.run.origin
    at_scenario = scenario_time(drill, drill.closed_at or now)
    first_mention = drill.scenario_start
    suggestion = CrisisSuggestion.objects.filter(origin=origin).aggregate(first=Min("raised_at"))[
        "first"
    ]
    declared = Crisis.objects.filter(origin=origin).aggregate(first=Min("declared_at"))["first"]
    approved = StatementVersion.objects.filter(
        statement__crisis__origin=origin, approved_at__isnull=False
    ).aggregate(first=Min("approved_at"))["first"]
    moments = [
        ("first_mention", _("First scenario mention"), first_mention),
        ("suggestion", _("Crisis suggested"), suggestion),
        ("declaration", _("Crisis declared"), _in_scenario(drill, declared)),
        ("statement", _("First statement approved"), _in_scenario(drill, approved)),
    ]
    milestones = [
        Milestone(
            key=key,
            label=str(label),
            at=at,
            since_start=(at - first_mention) if at is not None else None,
        )
        for key, label, at in moments
    ]
    return DrillReport(
        milestones=milestones, sla=sla_compliance(drill, at=at_scenario), now=at_scenario
    )


def _in_scenario(drill: Drill, wall: datetime | None) -> datetime | None:
    return scenario_time(drill, wall) if wall is not None else None


def sla_compliance(drill: Drill, *, at: datetime) -> SlaCompliance:
    """The drill's incidents against their first-response target, in scenario time: the
    target was set when the replay opened the incident (scenario time), the response was
    given by a participant on the wall clock."""
    rows = Incident.objects.filter(origin=drill.run.origin, sla_due_at__isnull=False).values_list(
        "sla_due_at", "first_response_at"
    )
    in_time = late = missed = waiting = 0
    for due, responded in rows:
        if responded is not None:
            if scenario_time(drill, responded) <= due:
                in_time += 1
            else:
                late += 1
        elif due < at:
            missed += 1
        else:
            waiting += 1
    return SlaCompliance(
        incidents=in_time + late + missed + waiting,
        in_time=in_time,
        late=late,
        missed=missed,
        waiting=waiting,
    )


def offset_label(delta: timedelta | None) -> str:
    """ "+12 min", "+1 h 05 min", "+0 min" from the first scenario mention."""
    if delta is None:
        return ""
    minutes = max(0, int(delta.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("+%(hours)s h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    return _("+%(minutes)s min") % {"minutes": minutes}
