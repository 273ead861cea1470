"""The SLA clock that acts, with a controlled clock (`now=`): status and time left, the 80 %
warning to the owner (once), the breach recorded once, supervisors told, the incident handed
back to routing and given to someone else."""

from datetime import timedelta

import pytest

from crisis.incidents import services, sla
from crisis.incidents.models import Incident, IncidentState
from crisis.models import AuditEvent
from crisis.notifications.models import Notification
from crisis.roles import Role
from tests.factories import UserFactory
from tests.incidents.factories import NOW, incident
from tests.incidents.routing_helpers import set_protocol, skilled_manager, team_on_shift

pytestmark = pytest.mark.django_db

# The factory's incidents are high (60-minute SLA), opened at NOW, due at NOW + 60 min.
WARN_AT = NOW + timedelta(minutes=48)  # 80 % of 60 minutes
DUE = NOW + timedelta(minutes=60)


@pytest.fixture
def owned(db):
    care = team_on_shift()
    ana = skilled_manager("ana", team=care)
    skilled_manager("ben", team=care)
    return incident(owner=ana, state=IncidentState.ASSIGNED)


@pytest.fixture
def supervisor_boss(db):
    return UserFactory(username="boss", role=Role.SUPERVISOR)


def sweep(now, capture):
    with capture(execute=True):
        return sla.sweep_sla(now=now)


# --- status and time left ---------------------------------------------------------------------


def test_status_is_ok_before_the_warning_moment(owned):
    assert sla.sla_status(owned, now=WARN_AT - timedelta(seconds=1)) == sla.SlaStatus.OK


def test_status_is_warning_from_the_warning_moment(owned):
    assert sla.sla_status(owned, now=WARN_AT) == sla.SlaStatus.WARNING


def test_status_is_breached_at_the_deadline(owned):
    assert sla.sla_status(owned, now=DUE) == sla.SlaStatus.BREACHED


def test_status_is_met_when_answered_in_time(owned):
    owned.first_response_at = DUE - timedelta(minutes=1)
    assert sla.sla_status(owned, now=DUE + timedelta(hours=1)) == sla.SlaStatus.MET


def test_status_is_breached_when_answered_late(owned):
    owned.first_response_at = DUE + timedelta(minutes=1)
    assert sla.sla_status(owned, now=DUE + timedelta(hours=1)) == sla.SlaStatus.BREACHED


def test_seconds_left_counts_down_and_goes_negative(owned):
    assert sla.seconds_left(owned, now=NOW) == 3600
    assert sla.seconds_left(owned, now=DUE + timedelta(seconds=30)) == -30


def test_seconds_left_is_none_once_answered(owned):
    owned.first_response_at = NOW
    assert sla.seconds_left(owned, now=NOW) is None


@pytest.mark.parametrize(
    ("now", "answered_at", "expected"),
    [
        (NOW, None, "ok"),
        (WARN_AT, None, "warning"),
        (DUE, None, "breached"),
        (DUE, NOW + timedelta(minutes=5), "met"),
        (DUE + timedelta(hours=1), DUE + timedelta(minutes=5), "breached"),
    ],
)
def test_the_database_status_matches_the_python_status(owned, now, answered_at, expected):
    Incident.objects.filter(pk=owned.pk).update(first_response_at=answered_at)
    owned.refresh_from_db()
    annotated = sla.with_sla_status(Incident.objects.filter(pk=owned.pk), now=now).get()
    assert annotated.sla_status == sla.sla_status(owned, now=now) == expected


# --- warning ----------------------------------------------------------------------------------


def test_the_owner_is_warned_at_eighty_percent(owned, django_capture_on_commit_callbacks):
    result = sweep(WARN_AT, django_capture_on_commit_callbacks)
    assert result.warned == [owned.pk]
    assert Incident.objects.get(pk=owned.pk).sla_warned_at == WARN_AT
    assert Notification.objects.filter(user=owned.owner, kind="sla_warning").count() == 1


def test_nobody_is_warned_before_eighty_percent(owned, django_capture_on_commit_callbacks):
    result = sweep(WARN_AT - timedelta(minutes=1), django_capture_on_commit_callbacks)
    assert result.warned == []
    assert not Notification.objects.filter(kind="sla_warning").exists()


def test_the_owner_is_warned_once(owned, django_capture_on_commit_callbacks):
    sweep(WARN_AT, django_capture_on_commit_callbacks)
    again = sweep(WARN_AT + timedelta(minutes=1), django_capture_on_commit_callbacks)
    assert again.warned == []
    assert Notification.objects.filter(kind="sla_warning").count() == 1


def test_the_warning_fraction_comes_from_the_protocol(owned, django_capture_on_commit_callbacks):
    set_protocol("sla", warn_at_fraction=0.5)
    result = sweep(NOW + timedelta(minutes=30), django_capture_on_commit_callbacks)
    assert result.warned == [owned.pk]


def test_an_answered_incident_is_not_warned(owned, django_capture_on_commit_callbacks):
    Incident.objects.filter(pk=owned.pk).update(first_response_at=NOW + timedelta(minutes=5))
    assert sweep(WARN_AT, django_capture_on_commit_callbacks).warned == []


def test_a_runs_incident_is_not_warned(owned, django_capture_on_commit_callbacks):
    Incident.objects.filter(pk=owned.pk).update(origin="run:4")
    assert sweep(WARN_AT, django_capture_on_commit_callbacks).warned == []


# --- breach -----------------------------------------------------------------------------------


def test_the_breach_is_recorded_once(owned, supervisor_boss, django_capture_on_commit_callbacks):
    first = sweep(DUE, django_capture_on_commit_callbacks)
    second = sweep(DUE + timedelta(minutes=1), django_capture_on_commit_callbacks)
    assert (first.breached, second.breached) == ([owned.pk], [])
    assert Incident.objects.get(pk=owned.pk).sla_breached_at == DUE
    assert AuditEvent.objects.filter(verb="incident.sla_breach").count() == 1


def test_the_supervisors_are_told_of_the_breach(
    owned, supervisor_boss, django_capture_on_commit_callbacks
):
    sweep(DUE, django_capture_on_commit_callbacks)
    assert Notification.objects.filter(user=supervisor_boss, kind="sla_breach").count() == 1


def test_a_breached_incident_goes_back_to_routing_and_to_someone_else(
    owned, supervisor_boss, django_capture_on_commit_callbacks
):
    ana = owned.owner
    result = sweep(DUE, django_capture_on_commit_callbacks)
    owned.refresh_from_db()
    assert result.handed_back == [owned.pk]
    assert owned.owner.username == "ben"
    assert AuditEvent.objects.filter(
        verb="incident.hand_back", object_id=str(owned.pk), after__reason="sla_breach"
    ).exists()
    assert Notification.objects.filter(user=ana, kind="handback").count() == 1


def test_a_breached_incident_nobody_else_can_take_waits_unassigned(
    db, supervisor_boss, django_capture_on_commit_callbacks
):
    alone = skilled_manager("alone", team=team_on_shift())
    case = incident(owner=alone, state=IncidentState.ASSIGNED)
    sweep(DUE, django_capture_on_commit_callbacks)
    case.refresh_from_db()
    assert (case.owner, case.state) == (None, IncidentState.NEW)


def test_the_new_owner_is_not_warned_of_an_already_breached_deadline(
    owned, supervisor_boss, django_capture_on_commit_callbacks
):
    sweep(DUE, django_capture_on_commit_callbacks)
    later = sweep(DUE + timedelta(minutes=5), django_capture_on_commit_callbacks)
    assert (later.warned, later.breached) == ([], [])


def test_handback_on_breach_can_be_switched_off(
    owned, supervisor_boss, django_capture_on_commit_callbacks
):
    set_protocol("sla", handback_on_breach=False)
    result = sweep(DUE, django_capture_on_commit_callbacks)
    assert (result.breached, result.handed_back) == ([owned.pk], [])
    assert Incident.objects.get(pk=owned.pk).owner.username == "ana"


def test_an_escalated_incident_is_breached_but_stays_with_its_owner(
    owned, supervisor_boss, django_capture_on_commit_callbacks
):
    services.escalate_incident(actor=owned.owner, incident=owned, now=NOW)
    result = sweep(DUE, django_capture_on_commit_callbacks)
    assert (result.breached, result.handed_back) == ([owned.pk], [])
    assert Incident.objects.get(pk=owned.pk).state == IncidentState.ESCALATED


def test_an_unowned_incident_past_its_deadline_is_breached_and_supervisors_told(
    db, supervisor_boss, django_capture_on_commit_callbacks
):
    case = incident()
    result = sweep(DUE, django_capture_on_commit_callbacks)
    assert result.breached == [case.pk]
    assert Notification.objects.filter(user=supervisor_boss, kind="sla_breach").exists()


def test_an_answered_incident_never_breaches(owned, django_capture_on_commit_callbacks):
    services.start_progress(actor=owned.owner, incident=owned, now=NOW)
    services.record_first_response(
        actor=owned.owner, incident=owned, now=NOW + timedelta(minutes=9)
    )
    result = sweep(DUE + timedelta(hours=1), django_capture_on_commit_callbacks)
    assert result.breached == []
    assert Incident.objects.get(pk=owned.pk).first_response_at == NOW + timedelta(minutes=9)


def test_a_resolved_incident_keeps_its_resolution_time(owned):
    services.start_progress(actor=owned.owner, incident=owned, now=NOW)
    services.resolve_incident(actor=owned.owner, incident=owned, now=NOW + timedelta(hours=2))
    assert Incident.objects.get(pk=owned.pk).resolved_at == NOW + timedelta(hours=2)


def test_a_runs_incident_never_breaches(owned, django_capture_on_commit_callbacks):
    Incident.objects.filter(pk=owned.pk).update(origin="run:4")
    assert sweep(DUE, django_capture_on_commit_callbacks).breached == []
