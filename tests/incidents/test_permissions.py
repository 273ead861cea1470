"""Who may act on an incident: managers on their own and their team's unowned ones, supervisors
on all, executives, admins and anonymous visitors on none."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from crisis.incidents import services
from crisis.incidents.models import CloseReason, IncidentState
from crisis.incidents.transitions import can_act
from crisis.models import AuditEvent
from tests.incidents.factories import NOW, incident, manager, team

pytestmark = pytest.mark.django_db

LATER = NOW + timedelta(minutes=5)
ROLES = ("anonymous", "manager", "supervisor", "executive", "admin")
CASES = ("own", "unowned_of_my_team", "unowned_of_another_team", "owned_by_a_colleague")
ALLOWED = {
    ("manager", "own"),
    ("manager", "unowned_of_my_team"),
    *(("supervisor", case) for case in CASES),
}


@pytest.fixture
def people(db, supervisor, executive, administrator):
    mine, theirs = team("Care"), team("Sales")
    return {
        "anonymous": AnonymousUser(),
        "manager": manager("cm", of=mine),
        "colleague": manager("colleague", of=mine),
        "supervisor": supervisor,
        "executive": executive,
        "admin": administrator,
        "teams": (mine, theirs),
    }


def _incident_for(case: str, people):
    mine, theirs = people["teams"]
    if case == "own":
        return incident(state=IncidentState.ASSIGNED, owner=people["manager"], of=mine)
    if case == "unowned_of_my_team":
        return incident(state=IncidentState.NEW, of=mine)
    if case == "unowned_of_another_team":
        return incident(state=IncidentState.NEW, of=theirs)
    return incident(state=IncidentState.ASSIGNED, owner=people["colleague"], of=mine)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("role", ROLES)
def test_escalating_is_allowed_exactly_for_the_roles_that_may_act(people, role, case):
    actor, target = people[role], _incident_for(case, people)
    assert can_act(actor, target) == ((role, case) in ALLOWED)
    if (role, case) in ALLOWED:
        services.escalate_incident(actor=actor, incident=target, now=LATER)
        target.refresh_from_db()
        assert target.state == IncidentState.ESCALATED
    else:
        with pytest.raises(PermissionDenied):
            services.escalate_incident(actor=actor, incident=target, now=LATER)
        target.refresh_from_db()
        assert target.state != IncidentState.ESCALATED
        assert not AuditEvent.objects.filter(object_id=str(target.pk)).exists()


@pytest.mark.parametrize("role", ROLES)
def test_only_a_supervisor_reassigns(people, role):
    target = _incident_for("owned_by_a_colleague", people)
    to_user = manager("third", of=people["teams"][0])
    if role == "supervisor":
        services.assign_incident(actor=people[role], incident=target, to_user=to_user, now=LATER)
        target.refresh_from_db()
        assert target.owner == to_user
    else:
        with pytest.raises(PermissionDenied):
            services.assign_incident(
                actor=people[role], incident=target, to_user=to_user, now=LATER
            )


def test_a_manager_cannot_take_another_teams_incident(people):
    target = _incident_for("unowned_of_another_team", people)
    with pytest.raises(PermissionDenied):
        services.take_incident(actor=people["manager"], incident=target, now=LATER)


def test_a_supervisor_takes_another_teams_incident(people):
    target = _incident_for("unowned_of_another_team", people)
    services.take_incident(actor=people["supervisor"], incident=target, now=LATER)
    target.refresh_from_db()
    assert target.owner == people["supervisor"]


def test_a_manager_cannot_close_a_colleagues_incident(people):
    target = _incident_for("owned_by_a_colleague", people)
    with pytest.raises(PermissionDenied):
        services.close_incident(
            actor=people["manager"], incident=target, reason=CloseReason.SPAM, now=LATER
        )


def test_a_supervisor_closes_a_colleagues_incident(people):
    target = _incident_for("owned_by_a_colleague", people)
    services.close_incident(
        actor=people["supervisor"], incident=target, reason=CloseReason.SPAM, now=LATER
    )
    target.refresh_from_db()
    assert target.state == IncidentState.CLOSED


def test_a_manager_cannot_correct_the_class_of_a_colleagues_incident(people):
    target = _incident_for("owned_by_a_colleague", people)
    with pytest.raises(PermissionDenied):
        services.correct_triage_class(
            actor=people["manager"], incident=target, to_class="question", reason="x", now=LATER
        )


def test_a_manager_without_a_team_acts_on_incidents_no_team_holds(people):
    loner = manager("loner")
    assert can_act(loner, incident(state=IncidentState.NEW))
    assert not can_act(loner, _incident_for("unowned_of_my_team", people))


def test_a_deactivated_manager_cannot_act_on_their_own_incident(people):
    target = _incident_for("own", people)
    people["manager"].is_active = False
    people["manager"].save(update_fields=["is_active"])
    with pytest.raises(PermissionDenied):
        services.start_progress(actor=people["manager"], incident=target, now=LATER)
