"""Routing: skills, shifts (also across midnight), capacity, least-loaded, round-robin,
on-call outside shifts, the unassigned queue, alerts, and hand-back at shift end."""

from datetime import time, timedelta

import pytest
from django.core import mail

from crisis.incidents import routing, services
from crisis.incidents.models import Incident, IncidentState
from crisis.models import AuditEvent
from crisis.notifications.models import Notification
from crisis.roles import Role
from tests.factories import UserFactory
from tests.incidents.factories import NOW, incident
from tests.incidents.routing_helpers import (
    set_protocol,
    skilled_manager,
    supervisor_on_call,
    team_on_shift,
)

pytestmark = pytest.mark.django_db


def route(case, now=NOW):
    routing.route_incident(incident_id=case.pk, now=now)
    case.refresh_from_db()
    return case


# --- eligibility ------------------------------------------------------------------------------


def test_an_incident_goes_to_a_manager_on_shift_with_the_skills():
    ana = skilled_manager("ana", team=team_on_shift())
    case = route(incident())
    assert (case.owner, case.state) == (ana, IncidentState.ASSIGNED)


def test_a_manager_without_the_incident_language_is_not_chosen():
    care = team_on_shift()
    skilled_manager("english-only", team=care, languages=("en",))
    speaker = skilled_manager("speaker", team=care, languages=("en", "es"))
    assert route(incident()).owner == speaker


def test_a_manager_of_other_platforms_is_not_chosen():
    care = team_on_shift()
    skilled_manager("mastodon-only", team=care, platforms=("mastodon",))
    bluesky = skilled_manager("bluesky", team=care, platforms=("bluesky", "reddit"))
    assert route(incident()).owner == bluesky


def test_a_manager_with_no_platforms_works_every_platform():
    everyone = skilled_manager("everyone", team=team_on_shift(), platforms=())
    assert route(incident()).owner == everyone


def test_a_manager_whose_team_is_off_shift_is_not_chosen():
    skilled_manager("night", team=team_on_shift("Night", starts=time(22, 0), ends=time(6, 0)))
    day = skilled_manager("day", team=team_on_shift("Day"))
    assert route(incident()).owner == day


def test_a_shift_across_midnight_covers_the_early_hours_of_the_next_day():
    # Sunday 22:00 - Monday 06:00 in Madrid; 04:00 UTC on Monday is 05:00 there.
    night = team_on_shift("Night", weekday=6, starts=time(22, 0), ends=time(6, 0))
    owl = skilled_manager("owl", team=night)
    early = NOW.replace(hour=4)
    assert route(incident(at=early), now=early).owner == owl


def test_a_shift_across_midnight_is_over_after_it_ends():
    night = team_on_shift("Night", weekday=6, starts=time(22, 0), ends=time(6, 0))
    skilled_manager("owl", team=night)
    after = NOW.replace(hour=6)  # 07:00 in Madrid
    assert route(incident(at=after), now=after).owner is None


def test_an_inactive_manager_is_not_chosen():
    gone = skilled_manager("gone", team=team_on_shift())
    gone.is_active = False
    gone.save()
    assert route(incident()).owner is None


# --- capacity and order -----------------------------------------------------------------------


def test_a_manager_at_their_own_capacity_is_skipped():
    care = team_on_shift()
    full = skilled_manager("full", team=care, max_open=1)
    incident(owner=full, state=IncidentState.ASSIGNED)
    other = skilled_manager("other", team=care)
    incident(owner=other, state=IncidentState.ASSIGNED)
    incident(owner=other, state=IncidentState.IN_PROGRESS)
    assert route(incident()).owner == other


def test_the_protocol_capacity_applies_when_the_profile_sets_none():
    set_protocol("routing", max_open_per_manager=1)
    ana = skilled_manager("ana", team=team_on_shift())
    incident(owner=ana, state=IncidentState.ASSIGNED)
    assert route(incident()).owner is None


def test_resolved_and_closed_incidents_do_not_count_toward_capacity():
    ana = skilled_manager("ana", team=team_on_shift(), max_open=1)
    incident(owner=ana, state=IncidentState.RESOLVED)
    incident(owner=ana, state=IncidentState.CLOSED)
    assert route(incident()).owner == ana


def test_a_runs_incidents_do_not_count_toward_capacity():
    ana = skilled_manager("ana", team=team_on_shift(), max_open=1)
    drill = incident(owner=ana, state=IncidentState.ASSIGNED)
    Incident.objects.filter(pk=drill.pk).update(origin="run:3")
    assert route(incident()).owner == ana


def test_the_least_loaded_manager_is_chosen():
    care = team_on_shift()
    busy = skilled_manager("busy", team=care)
    incident(owner=busy, state=IncidentState.ASSIGNED)
    incident(owner=busy, state=IncidentState.ASSIGNED)
    calm = skilled_manager("calm", team=care)
    incident(owner=calm, state=IncidentState.IN_PROGRESS)
    assert route(incident()).owner == calm


def test_equally_loaded_managers_take_turns():
    care = team_on_shift()
    ana = skilled_manager("ana", team=care, max_open=10)
    ben = skilled_manager("ben", team=care, max_open=10)
    owners = [route(incident()).owner for _ in range(4)]
    assert owners == [ana, ben, ana, ben]


def test_turns_continue_when_earlier_incidents_are_resolved():
    care = team_on_shift()
    ana = skilled_manager("ana", team=care)
    ben = skilled_manager("ben", team=care)
    first = route(incident())
    Incident.objects.filter(pk=first.pk).update(state=IncidentState.RESOLVED)
    assert (first.owner, route(incident()).owner) == (ana, ben)


def test_the_incident_joins_the_chosen_managers_team():
    night = team_on_shift("Support", is_default=False)
    team_on_shift("Default", weekday=5, is_default=True)
    skilled_manager("ana", team=night)
    assert route(incident()).team == night


# --- nobody, on call, runs ------------------------------------------------------------------


def test_nobody_eligible_leaves_the_incident_in_the_unassigned_queue():
    skilled_manager("english-only", team=team_on_shift(), languages=("en",))
    case = route(incident())
    assert (case.owner, case.state) == (None, IncidentState.NEW)
    event = AuditEvent.objects.get(verb="incident.route", object_id=str(case.pk))
    assert event.after["rule"] == routing.RouteRule.UNASSIGNED


def test_outside_every_shift_a_critical_incident_goes_to_the_on_call_supervisor():
    team_on_shift("Weekend", weekday=5)
    boss = supervisor_on_call()
    case = route(incident(severity="critical"))
    assert (case.owner, case.state) == (boss, IncidentState.ASSIGNED)


def test_outside_every_shift_a_high_incident_stays_unassigned():
    team_on_shift("Weekend", weekday=5)
    supervisor_on_call()
    assert route(incident(severity="high")).owner is None


def test_during_a_shift_a_critical_incident_nobody_can_take_is_not_sent_on_call():
    team_on_shift()  # on shift, but with nobody in it
    supervisor_on_call()
    assert route(incident(severity="critical")).owner is None


def test_a_runs_incident_is_never_routed():
    skilled_manager("ana", team=team_on_shift())
    drill = incident()
    Incident.objects.filter(pk=drill.pk).update(origin="run:3")
    assert routing.route_incident(incident_id=drill.pk, now=NOW) is None
    assert Incident.objects.get(pk=drill.pk).owner is None


def test_an_owned_incident_is_not_routed_again():
    care = team_on_shift()
    ana = skilled_manager("ana", team=care)
    skilled_manager("ben", team=care)
    case = incident(owner=ana, state=IncidentState.ASSIGNED)
    assert routing.route_incident(incident_id=case.pk, now=NOW) is None
    assert Incident.objects.get(pk=case.pk).owner == ana


def test_a_handed_back_incident_goes_to_someone_else():
    care = team_on_shift()
    ana = skilled_manager("ana", team=care)
    ben = skilled_manager("ben", team=care)
    case = route(incident())
    assert case.owner == ana
    services.hand_back_incident(actor=None, incident=case, reason="sla_breach", now=NOW)
    assert route(case).owner == ben


# --- audit and notifications --------------------------------------------------------------


def test_the_assignment_is_audited_and_the_manager_told_after_the_commit(
    django_capture_on_commit_callbacks,
):
    ana = skilled_manager("ana", team=team_on_shift())
    with django_capture_on_commit_callbacks(execute=True):
        case = route(incident())
    assert AuditEvent.objects.filter(verb="incident.assign", object_id=str(case.pk)).exists()
    route_event = AuditEvent.objects.get(verb="incident.route", object_id=str(case.pk))
    assert route_event.after["owner"] == ana.pk
    assert Notification.objects.filter(user=ana, kind="assigned").count() == 1


def test_a_critical_incident_alerts_every_supervisor_once(django_capture_on_commit_callbacks):
    boss = UserFactory(username="boss", role=Role.SUPERVISOR)
    deputy = UserFactory(username="deputy", role=Role.SUPERVISOR)
    care = team_on_shift()
    skilled_manager("ana", team=care)
    skilled_manager("ben", team=care)
    case = incident(severity="critical")
    with django_capture_on_commit_callbacks(execute=True):
        route(case)
        services.hand_back_incident(actor=None, incident=case, reason="shift_end", now=NOW)
        route(case)
    alerts = Notification.objects.filter(kind="critical")
    assert sorted(alerts.values_list("user__username", flat=True)) == ["boss", "deputy"]
    assert {boss, deputy} == {alert.user for alert in alerts}


def test_a_high_incident_without_alert_groups_alerts_nobody(django_capture_on_commit_callbacks):
    UserFactory(username="boss", role=Role.SUPERVISOR)
    with django_capture_on_commit_callbacks(execute=True):
        route(incident(severity="high"))
    assert not Notification.objects.filter(kind__in=["critical", "escalation"]).exists()


def test_a_legal_threat_alerts_supervisors_and_lists_the_groups_contact(
    django_capture_on_commit_callbacks,
):
    UserFactory(username="boss", role=Role.SUPERVISOR)
    case = incident(severity="high")
    Incident.objects.filter(pk=case.pk).update(
        opened_score={"severity": "high", "matched_groups": ["legal_threat"]}
    )
    with django_capture_on_commit_callbacks(execute=True):
        route(case)
    assert Notification.objects.filter(user__username="boss", kind="escalation").exists()
    alert = AuditEvent.objects.get(verb="incident.alert", object_id=str(case.pk))
    assert alert.after["contacts"] == ["legal@brisa.example"]


def test_the_escalation_contact_gets_a_plain_email_about_the_incident():
    case = incident(severity="critical")
    assert routing.email_escalation_contact(incident_id=case.pk, address="legal@brisa.example")
    [message] = mail.outbox
    assert message.to == ["legal@brisa.example"]
    assert f"#{case.pk}" in message.subject


# --- shift end ----------------------------------------------------------------------------


def _owned_by_day_manager():
    day = team_on_shift("Day", starts=time(8, 0), ends=time(12, 0))
    ana = skilled_manager("ana", team=day)
    case = route(incident())
    assert case.owner == ana
    return case


def test_untouched_incidents_go_back_to_routing_when_the_shift_ends():
    case = _owned_by_day_manager()
    after_shift = NOW + timedelta(hours=2)  # 13:00 in Madrid
    assert routing.handback_on_shift_end(now=after_shift) == [case.pk]
    case.refresh_from_db()
    assert (case.owner, case.state) == (None, IncidentState.NEW)


def test_an_incident_the_manager_started_stays_with_them_after_the_shift():
    case = _owned_by_day_manager()
    services.start_progress(actor=case.owner, incident=case, now=NOW)
    assert routing.handback_on_shift_end(now=NOW + timedelta(hours=2)) == []
    assert Incident.objects.get(pk=case.pk).state == IncidentState.IN_PROGRESS


def test_nothing_goes_back_while_the_shift_lasts():
    _owned_by_day_manager()
    assert routing.handback_on_shift_end(now=NOW + timedelta(minutes=30)) == []


def test_handback_at_shift_end_can_be_switched_off_in_the_protocol():
    case = _owned_by_day_manager()
    set_protocol("routing", handback_on_shift_end=False)
    assert routing.handback_on_shift_end(now=NOW + timedelta(hours=2)) == []
    assert Incident.objects.get(pk=case.pk).owner is not None


def test_a_handed_back_incident_goes_to_the_next_shift():
    case = _owned_by_day_manager()
    late = team_on_shift("Late", starts=time(12, 0), ends=time(20, 0))
    ben = skilled_manager("ben", team=late)
    routing.handback_on_shift_end(now=NOW + timedelta(hours=2))
    assert Incident.objects.get(pk=case.pk).owner == ben
