"""Review follow-ups of the incident stage, on a controlled clock: the waiting queue is routed
again every minute, a reopened incident runs a new first-response clock, and each incident
notification names its event so the same event told twice is stored once."""

import logging
from datetime import time, timedelta

import pytest
from django.conf import settings

from crisis.incidents import routing, services, sla
from crisis.incidents.models import Incident, IncidentState
from crisis.models import AuditEvent
from crisis.notifications.models import Notification
from crisis.roles import Role
from tests.factories import UserFactory
from tests.incidents.factories import NOW, incident, scored_mention
from tests.incidents.routing_helpers import skilled_manager, supervisor_on_call, team_on_shift

pytestmark = pytest.mark.django_db

# NOW is Monday 10:00 UTC, 11:00 in Madrid. This team starts at 12:00 Madrid (11:00 UTC).
SHIFT_STARTS = NOW + timedelta(hours=1)


def sweep(now, capture, **options):
    with capture(execute=True):
        return routing.route_waiting_incidents(now=now, **options)


def route_events(case) -> int:
    return AuditEvent.objects.filter(verb="incident.route", object_id=str(case.pk)).count()


@pytest.fixture
def late_shift(db):
    return team_on_shift(starts=time(12, 0), ends=time(20, 0))


# --- 1. the waiting queue is routed again -----------------------------------------------------


def test_a_waiting_incident_stays_unassigned_while_nobody_is_on_shift(
    late_shift, django_capture_on_commit_callbacks
):
    skilled_manager("ana", team=late_shift)
    case = incident()
    assert sweep(NOW, django_capture_on_commit_callbacks) == []
    case.refresh_from_db()
    assert (case.owner, case.state) == (None, IncidentState.NEW)


def test_a_waiting_incident_goes_to_the_manager_whose_shift_starts(
    late_shift, django_capture_on_commit_callbacks
):
    ana = skilled_manager("ana", team=late_shift)
    case = incident()
    sweep(NOW, django_capture_on_commit_callbacks)
    assert sweep(SHIFT_STARTS, django_capture_on_commit_callbacks) == [case.pk]
    case.refresh_from_db()
    assert (case.owner, case.state) == (ana, IncidentState.ASSIGNED)
    assert Notification.objects.filter(user=ana, kind="assigned").count() == 1


def test_an_incident_whose_routing_task_was_never_sent_is_routed_by_the_sweep(
    django_capture_on_commit_callbacks,
):
    ana = skilled_manager("ana", team=team_on_shift())
    # The broker was down at the commit: the stage's on_commit hand-off never ran.
    with django_capture_on_commit_callbacks(execute=False):
        outcome = services.handle_scored_mentions(mention_ids=[scored_mention().pk], now=NOW)[0]
    sweep(NOW + timedelta(minutes=1), django_capture_on_commit_callbacks)
    assert Incident.objects.get(pk=outcome.incident_id).owner == ana


def test_the_sweep_does_not_audit_an_incident_it_still_cannot_assign(
    django_capture_on_commit_callbacks,
):
    skilled_manager("english-only", team=team_on_shift(), languages=("en",))
    case = incident()
    for minute in range(3):
        sweep(NOW + timedelta(minutes=minute), django_capture_on_commit_callbacks)
    assert route_events(case) == 0


def test_the_waiting_queue_drains_oldest_first_within_capacity(
    django_capture_on_commit_callbacks,
):
    ana = skilled_manager("ana", team=team_on_shift(), max_open=1)
    older = incident(at=NOW - timedelta(minutes=30))
    newer = incident(at=NOW - timedelta(minutes=5))
    assert sweep(NOW, django_capture_on_commit_callbacks) == [older.pk]
    assert Incident.objects.get(pk=older.pk).owner == ana
    assert Incident.objects.get(pk=newer.pk).owner is None


def test_an_incident_nobody_can_serve_does_not_hold_back_newer_ones(
    django_capture_on_commit_callbacks,
):
    skilled_manager("ana", team=team_on_shift(), languages=("es",))
    french = incident(at=NOW - timedelta(minutes=30))
    Incident.objects.filter(pk=french.pk).update(opened_score={"language": "fr"})
    spanish = incident(at=NOW - timedelta(minutes=5))
    assert sweep(NOW, django_capture_on_commit_callbacks, limit=1) == [spanish.pk]


def test_a_waiting_critical_incident_goes_to_the_on_call_supervisor_outside_every_shift(
    late_shift, django_capture_on_commit_callbacks
):
    oncall = supervisor_on_call()
    case = incident(severity="critical")
    assert sweep(NOW, django_capture_on_commit_callbacks) == [case.pk]
    assert Incident.objects.get(pk=case.pk).owner == oncall


def test_a_runs_incident_is_not_routed_by_the_sweep(django_capture_on_commit_callbacks):
    skilled_manager("ana", team=team_on_shift())
    drill = incident()
    Incident.objects.filter(pk=drill.pk).update(origin="run:5")
    assert sweep(NOW, django_capture_on_commit_callbacks) == []


def test_the_waiting_queue_is_routed_every_minute_by_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["route-waiting-incidents"]
    assert (entry["task"], entry["schedule"]) == (
        "crisis.incidents.tasks.route_waiting_incidents",
        60.0,
    )


# --- 2. a reopened incident awaits a new first response ---------------------------------------

ANSWERED = NOW + timedelta(minutes=10)
REOPENED = NOW + timedelta(hours=3)
NEW_WARN_AT = REOPENED + timedelta(minutes=48)  # 80 % of the high SLA's 60 minutes
NEW_DUE = REOPENED + timedelta(minutes=60)


@pytest.fixture
def reopened(db):
    """Answered in time, resolved, then reopened: a fresh 60-minute deadline from REOPENED."""
    care = team_on_shift()
    ana = skilled_manager("ana", team=care)
    skilled_manager("ben", team=care)
    case = incident(owner=ana, state=IncidentState.ASSIGNED)
    services.start_progress(actor=ana, incident=case, now=NOW)
    services.record_first_response(actor=ana, incident=case, now=ANSWERED)
    services.resolve_incident(actor=ana, incident=case, now=ANSWERED + timedelta(minutes=5))
    services.reopen_incident(actor=ana, incident=case, now=REOPENED)
    return Incident.objects.get(pk=case.pk)


def sweep_sla(now, capture):
    with capture(execute=True):
        return sla.sweep_sla(now=now)


def test_a_reopened_incident_warns_its_owner_on_the_new_deadline(
    reopened, django_capture_on_commit_callbacks
):
    assert sla.sla_status(reopened, now=NEW_WARN_AT) == sla.SlaStatus.WARNING
    assert sweep_sla(NEW_WARN_AT, django_capture_on_commit_callbacks).warned == [reopened.pk]
    assert Notification.objects.filter(user=reopened.owner, kind="sla_warning").count() == 1


def test_a_reopened_incident_breaches_on_the_new_deadline(
    reopened, django_capture_on_commit_callbacks
):
    assert sla.sla_status(reopened, now=NEW_DUE) == sla.SlaStatus.BREACHED
    assert sweep_sla(NEW_DUE, django_capture_on_commit_callbacks).breached == [reopened.pk]
    assert Incident.objects.get(pk=reopened.pk).sla_breached_at == NEW_DUE


def test_answering_a_reopened_incident_stops_its_clock(
    reopened, django_capture_on_commit_callbacks
):
    services.record_first_response(
        actor=reopened.owner, incident=reopened, now=REOPENED + timedelta(minutes=20)
    )
    result = sweep_sla(NEW_DUE + timedelta(hours=1), django_capture_on_commit_callbacks)
    reopened.refresh_from_db()
    assert (result.warned, result.breached) == ([], [])
    assert sla.sla_status(reopened, now=NEW_DUE) == sla.SlaStatus.MET
    assert sla.seconds_left(reopened, now=NEW_DUE) is None


def test_a_reopened_incident_keeps_its_first_ever_response_time(reopened):
    services.record_first_response(
        actor=reopened.owner, incident=reopened, now=REOPENED + timedelta(minutes=20)
    )
    assert Incident.objects.get(pk=reopened.pk).first_response_at == ANSWERED


def test_a_reopened_incident_answered_late_between_sweeps_reads_breached(reopened):
    services.record_first_response(
        actor=reopened.owner, incident=reopened, now=NEW_DUE + timedelta(seconds=30)
    )
    reopened.refresh_from_db()
    assert reopened.sla_breached_at == NEW_DUE
    assert sla.sla_status(reopened, now=NEW_DUE + timedelta(hours=1)) == sla.SlaStatus.BREACHED


@pytest.mark.parametrize(
    ("answer_after", "now", "expected"),
    [
        (None, NEW_WARN_AT - timedelta(minutes=1), "ok"),
        (None, NEW_WARN_AT, "warning"),
        (None, NEW_DUE, "breached"),
        (timedelta(minutes=20), NEW_DUE, "met"),
        (timedelta(minutes=61), NEW_DUE + timedelta(hours=1), "breached"),
    ],
)
def test_the_database_status_of_a_reopened_incident_matches_the_python_status(
    reopened, answer_after, now, expected
):
    if answer_after is not None:
        services.record_first_response(
            actor=reopened.owner, incident=reopened, now=REOPENED + answer_after
        )
    reopened.refresh_from_db()
    annotated = sla.with_sla_status(Incident.objects.filter(pk=reopened.pk), now=now).get()
    assert annotated.sla_status == sla.sla_status(reopened, now=now) == expected


def test_an_opened_incident_awaits_a_response_since_it_opened(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        outcome = services.handle_scored_mentions(mention_ids=[scored_mention().pk], now=NOW)[0]
    assert Incident.objects.get(pk=outcome.incident_id).awaiting_response_since == NOW


# --- 3. one notification per event ------------------------------------------------------------


def test_the_same_assignment_event_delivered_twice_notifies_once(
    supervisor, django_capture_on_commit_callbacks
):
    owner = skilled_manager("owner", team=None)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.assign_incident(actor=supervisor, incident=incident(), to_user=owner, now=NOW)
    for callback in callbacks * 2:
        callback()
    assert Notification.objects.filter(user=owner, kind="assigned").count() == 1


def test_a_later_assignment_to_the_same_person_is_told_again(
    supervisor, django_capture_on_commit_callbacks
):
    ana = skilled_manager("ana", team=None)
    ben = skilled_manager("ben", team=None)
    case = incident()
    with django_capture_on_commit_callbacks(execute=True):
        services.assign_incident(actor=supervisor, incident=case, to_user=ana, now=NOW)
        services.assign_incident(actor=supervisor, incident=case, to_user=ben, now=NOW)
        services.assign_incident(actor=supervisor, incident=case, to_user=ana, now=NOW)
    assert Notification.objects.filter(user=ana, kind="assigned").count() == 2


def test_the_same_escalation_delivered_twice_reaches_each_supervisor_once(
    django_capture_on_commit_callbacks,
):
    boss = UserFactory(username="boss", role=Role.SUPERVISOR)
    owner = skilled_manager("owner", team=None)
    case = incident(owner=owner, state=IncidentState.ASSIGNED)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.escalate_incident(actor=owner, incident=case, now=NOW)
    for callback in callbacks * 2:
        callback()
    assert Notification.objects.filter(user=boss, kind="escalation").count() == 1


def test_a_notification_lost_to_a_database_error_is_logged_on_one_line(caplog):
    owner = skilled_manager("owner", team=None)
    with caplog.at_level(logging.ERROR, logger="crisis.incidents.services"):
        told = services.notify_or_log(
            incident_id=7,
            user_ids=[owner.pk],
            kind="assigned",
            title="Incident #7 assigned to you",
            url="/incidents/7/",
            dedupe_key="incident:7:assigned:1:1",
            now=NOW,
            origin="run:" + "x" * 60,  # longer than the column: Postgres refuses the row
        )
    assert told is False
    assert not Notification.objects.exists()
    [record] = caplog.records
    assert "incident 7: assigned notification incident:7:assigned:1:1 not stored" in (
        record.getMessage()
    )
    assert "\n" not in record.getMessage()
