"""The crises slice's services: declaring a crisis from incidents or from a suggestion (and
the dismissal reason shown on the next similar suggestion), linking incidents by topic and by
hand, containing and re-activating, the cabinet (seats, one commander, one spokesperson,
hand-over of command) and the departments."""

import time
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from crisis.incidents import services as incident_services
from crisis.incidents.models import Incident, IncidentState
from crisis.models import AuditEvent
from crisis.notifications.models import Notification, NotificationKind
from crisis.rooms import access, crises, tasks_crises
from crisis.rooms.crises import CrisisError
from crisis.rooms.models import (
    CabinetMember,
    CabinetRole,
    Crisis,
    CrisisIncident,
    CrisisStatus,
    Department,
)
from protocols.models import CrisisSuggestion
from protocols.services import active_version, dismiss_suggestion
from tests.incidents.factories import NOW, incident, manager, scored_mention, team
from tests.rooms.factories import a_crisis, cabinet_member_user, department, seat

pytestmark = pytest.mark.django_db

LATER = NOW + timedelta(minutes=10)


def _on_topic(topic: str, *, state: str = IncidentState.NEW, **kwargs) -> Incident:
    made = incident(state=state, **kwargs)
    Incident.objects.filter(pk=made.pk).update(topic=topic)
    made.refresh_from_db()
    return made


def _events(crisis: Crisis, verb: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            object_type="rooms.crisis", object_id=str(crisis.pk), verb=verb
        ).order_by("pk")
    )


def _told(user, kind) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=kind))


def _suggestion(topic: str = "billing", **kwargs) -> CrisisSuggestion:
    return CrisisSuggestion.objects.create(
        topic=topic,
        reason=CrisisSuggestion.Reason.INCIDENTS,
        observed=6,
        protocol_version=active_version(),
        raised_at=NOW,
        **kwargs,
    )


# --- Declaration -----------------------------------------------------------------------------


def test_a_supervisor_declares_a_crisis_from_incidents(
    supervisor, executive, django_capture_on_commit_callbacks
):
    first, second = _on_topic("billing"), _on_topic("refunds")
    with django_capture_on_commit_callbacks(execute=True):
        crisis = crises.declare_crisis(
            actor=supervisor,
            title="  Double   charges ",
            level=2,
            topics=[],
            incident_ids=[first.pk, second.pk],
            now=NOW,
        )
    assert (crisis.title, crisis.level, crisis.status) == ("Double charges", 2, "active")
    assert crisis.topics == ["billing", "refunds"]  # the incidents' topics when none is given
    assert crisis.protocol_version == active_version()
    assert crisis.commander == supervisor and crisis.declared_by == supervisor
    assert set(crisis.incident_links.values_list("incident_id", flat=True)) == {first.pk, second.pk}
    [commander_seat] = CabinetMember.objects.filter(crisis=crisis)
    assert (commander_seat.user, commander_seat.role, commander_seat.department.key) == (
        supervisor,
        CabinetRole.COMMANDER,
        "communications",
    )
    [declared] = _events(crisis, "crisis.declare")
    assert declared.actor == supervisor and declared.after["incidents"] == [first.pk, second.pk]
    assert len(_events(crisis, "crisis.incident_linked")) == 2
    [told] = _told(executive, NotificationKind.CRISIS_DECLARED)
    assert "Double charges" in told.title and told.url == reverse("rooms:room", args=[crisis.pk])
    # The declarer needs no notice of their own seat.
    assert not _told(supervisor, NotificationKind.CABINET_ADDED)


def test_a_commander_named_by_the_declarer_is_seated_and_told(
    supervisor, django_capture_on_commit_callbacks
):
    lead = cabinet_member_user("strategy-lead")
    with django_capture_on_commit_callbacks(execute=True):
        crisis = crises.declare_crisis(
            actor=supervisor,
            title="Outage",
            level=3,
            topics=["outage"],
            commander=lead,
            commander_department="strategic_direction",
            now=NOW,
        )
    assert crisis.commander == lead
    seat_of_lead = access.seat_of(lead, crisis)
    assert seat_of_lead.role == CabinetRole.COMMANDER
    assert seat_of_lead.department.key == "strategic_direction"
    [told] = _told(lead, NotificationKind.CABINET_ADDED)
    assert "Outage" in told.title and "Commander" in told.title


@pytest.mark.parametrize("who", ["manager", "executive", "administrator"])
def test_only_a_supervisor_declares(request, who):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        crises.declare_crisis(actor=actor, title="X", level=1, topics=["x"], now=NOW)
    assert not Crisis.objects.exists()


def test_a_cabinet_member_cannot_declare():
    with pytest.raises(PermissionDenied):
        crises.declare_crisis(
            actor=cabinet_member_user("ana"), title="X", level=1, topics=["x"], now=NOW
        )


def test_the_level_must_be_one_of_the_protocol(supervisor):
    with pytest.raises(CrisisError, match="not one of the protocol"):
        crises.declare_crisis(actor=supervisor, title="X", level=7, topics=["x"], now=NOW)
    assert not Crisis.objects.exists()


def test_an_unknown_incident_declares_nothing(supervisor):
    with pytest.raises(CrisisError, match="#999999"):
        crises.declare_crisis(
            actor=supervisor, title="X", level=1, topics=["x"], incident_ids=[999999], now=NOW
        )
    assert not Crisis.objects.exists()


def test_a_title_is_needed(supervisor):
    with pytest.raises(CrisisError):
        crises.declare_crisis(actor=supervisor, title=" \x00 ", level=1, topics=["x"], now=NOW)


def test_an_executive_cannot_command(supervisor, executive):
    with pytest.raises(CrisisError, match="cannot sit"):
        crises.declare_crisis(
            actor=supervisor, title="X", level=1, topics=["x"], commander=executive, now=NOW
        )


# --- From a suggestion -------------------------------------------------------------------------


def test_accepting_a_suggestion_declares_on_its_topic_with_its_open_incidents(supervisor):
    suggestion = _suggestion("billing")
    open_one = _on_topic("billing")
    closed = _on_topic("billing", state=IncidentState.CLOSED)
    elsewhere = _on_topic("delivery")
    crisis = crises.accept_suggestion(
        actor=supervisor, suggestion=suggestion, title="Double charges", level=2, now=LATER
    )
    assert crisis.topics == ["billing"]
    assert crisis.suggestion == suggestion
    linked = set(crisis.incident_links.values_list("incident_id", flat=True))
    assert linked == {open_one.pk}
    assert closed.pk not in linked and elsewhere.pk not in linked
    suggestion.refresh_from_db()
    # Taken: closed with a reason, so the topic can be suggested afresh later.
    assert suggestion.dismissed_at == LATER and suggestion.dismissed_by == supervisor
    assert suggestion.dismiss_reason == f"Accepted as crisis #{crisis.pk}: Double charges"
    assert _events(crisis, "crisis.suggestion_accepted")
    assert AuditEvent.objects.filter(
        verb="crisis_suggestion.accept", object_id=str(suggestion.pk)
    ).exists()


def test_a_suggestion_is_accepted_once(supervisor):
    suggestion = _suggestion()
    crises.accept_suggestion(actor=supervisor, suggestion=suggestion, title="A", level=1, now=NOW)
    with pytest.raises(CrisisError, match="already"):
        crises.accept_suggestion(
            actor=supervisor, suggestion=suggestion, title="B", level=1, now=NOW
        )
    assert Crisis.objects.count() == 1


def test_a_dismissed_suggestion_cannot_be_accepted(supervisor):
    suggestion = _suggestion()
    dismiss_suggestion(actor=supervisor, suggestion=suggestion, reason="Just noise", now=NOW)
    with pytest.raises(CrisisError):
        crises.accept_suggestion(
            actor=supervisor, suggestion=suggestion, title="B", level=1, now=NOW
        )


def test_the_next_similar_suggestion_shows_the_last_dismissal(client, supervisor):
    first = _suggestion("billing")
    dismiss_suggestion(
        actor=supervisor, suggestion=first, reason="A bot repeating one post", now=NOW
    )
    again = _suggestion("billing")
    client.force_login(supervisor)
    body = client.get(reverse("protocols:suggestions")).content.decode()
    article = body[body.index(f'id="suggestion-{again.pk}"') :]
    assert "A bot repeating one post" in article
    assert "boss dismissed it" in article
    assert reverse("rooms:accept_suggestion", args=[again.pk]) in article


def test_after_an_accepted_suggestion_the_next_one_says_so(client, supervisor):
    first = _suggestion("billing")
    crisis = crises.accept_suggestion(
        actor=supervisor, suggestion=first, title="Double charges", level=2, now=NOW
    )
    again = _suggestion("billing")
    client.force_login(supervisor)
    body = client.get(reverse("protocols:suggestions")).content.decode()
    article = body[body.index(f'id="suggestion-{again.pk}"') :]
    assert f"Accepted as crisis #{crisis.pk}" in article


# --- Linking incidents -------------------------------------------------------------------------


def test_a_new_incident_on_a_crisis_topic_links_by_itself():
    crisis = a_crisis(topics=("billing", "refunds"))
    on_topic = _on_topic("refunds")
    assert tasks_crises.link_incident(on_topic.pk) == [crisis.pk]
    link = CrisisIncident.objects.get(crisis=crisis)
    assert link.incident == on_topic and link.linked_by is None
    [event] = _events(crisis, "crisis.incident_linked")
    assert event.actor is None and event.after["automatic"] is True


def test_linking_by_topic_twice_links_once():
    crisis = a_crisis(topics=("billing",))
    on_topic = _on_topic("billing")
    tasks_crises.link_incident(on_topic.pk)
    assert tasks_crises.link_incident(on_topic.pk) == []
    assert CrisisIncident.objects.filter(crisis=crisis).count() == 1
    assert len(_events(crisis, "crisis.incident_linked")) == 1


def test_only_open_crises_of_the_same_run_collect_incidents():
    a_crisis(topics=("billing",), status=CrisisStatus.RESOLVED, title="Old")
    a_crisis(topics=("billing",), origin="run:7", title="Drill")
    contained = a_crisis(topics=("billing",), status=CrisisStatus.CONTAINED, title="Calmer")
    on_topic = _on_topic("billing")
    assert tasks_crises.link_incident(on_topic.pk) == [contained.pk]
    assert tasks_crises.link_incident(_on_topic("delivery").pk) == []
    assert tasks_crises.link_incident(999999) == []


def test_a_topic_links_only_to_crises_naming_it_whole():
    # Matched in Python (the embedded SQLite has no JSON `contains`): whole topics, never parts.
    a_crisis(topics=("billing-error",), title="Longer topic")
    named = a_crisis(topics=("refunds", "billing"), title="Named")
    assert tasks_crises.link_incident(_on_topic("billing").pk) == [named.pk]
    assert tasks_crises.link_incident(_on_topic("bill").pk) == []


@pytest.mark.django_db(transaction=True)
def test_an_opened_incident_reaches_its_crisis_through_a_real_worker(celery_worker):
    crisis = a_crisis(topics=("billing",))
    mention = scored_mention(matched_groups=("billing",))
    [outcome] = incident_services.handle_scored_mentions(mention_ids=[mention.pk], now=NOW)
    assert outcome.action == incident_services.StageAction.OPENED
    deadline = time.monotonic() + 30
    while not CrisisIncident.objects.filter(crisis=crisis).exists():
        assert time.monotonic() < deadline, "the opened incident never reached the crisis"
        time.sleep(0.1)
    assert CrisisIncident.objects.get(crisis=crisis).incident_id == outcome.incident_id


def test_a_manager_who_can_act_on_the_incident_links_it_by_hand():
    care = team("Care")
    cm = manager("cm-care", of=care)
    crisis = a_crisis(topics=("billing",))
    owned = incident(owner=cm, of=care, state=IncidentState.ASSIGNED)
    link = crises.link_incident(actor=cm, crisis=crisis, incident=owned, now=LATER)
    assert link.linked_by == cm
    [event] = _events(crisis, "crisis.incident_linked")
    assert event.actor == cm and event.after["automatic"] is False
    with pytest.raises(CrisisError, match="already linked"):
        crises.link_incident(actor=cm, crisis=crisis, incident=owned, now=LATER)


def test_a_manager_who_cannot_act_on_the_incident_cannot_link_it(executive):
    care, sales = team("Care"), team("Sales")
    crisis = a_crisis()
    theirs = incident(owner=manager("cm-care", of=care), of=care, state=IncidentState.ASSIGNED)
    for outsider in (manager("cm-sales", of=sales), executive, cabinet_member_user("ana")):
        with pytest.raises(PermissionDenied):
            crises.link_incident(actor=outsider, crisis=crisis, incident=theirs, now=LATER)
    assert not CrisisIncident.objects.exists()


def test_a_resolved_crisis_takes_no_more_incidents(supervisor):
    crisis = a_crisis(status=CrisisStatus.RESOLVED)
    with pytest.raises(CrisisError):
        crises.link_incident(actor=supervisor, crisis=crisis, incident=incident(), now=LATER)


def test_a_supervisor_unlinks_and_nobody_else(supervisor, manager):
    linked = incident()
    commander = cabinet_member_user("lead")
    crisis = a_crisis(incidents=[linked], commander=commander)
    for other in (manager, commander):
        with pytest.raises(PermissionDenied):
            crises.unlink_incident(actor=other, crisis=crisis, incident=linked, now=LATER)
    crises.unlink_incident(actor=supervisor, crisis=crisis, incident=linked, now=LATER)
    assert not CrisisIncident.objects.exists()
    [event] = _events(crisis, "crisis.incident_unlinked")
    assert event.before == {"incident": linked.pk}
    with pytest.raises(CrisisError, match="not linked"):
        crises.unlink_incident(actor=supervisor, crisis=crisis, incident=linked, now=LATER)


# --- Status --------------------------------------------------------------------------------------


def test_the_commander_contains_and_reactivates():
    commander = cabinet_member_user("strategy-lead")
    crisis = a_crisis(commander=commander)
    crisis = crises.contain_crisis(actor=commander, crisis=crisis, now=LATER)
    assert (crisis.status, crisis.contained_at) == (CrisisStatus.CONTAINED, LATER)
    with pytest.raises(CrisisError):
        crises.contain_crisis(actor=commander, crisis=crisis, now=LATER)
    crisis = crises.reactivate_crisis(actor=commander, crisis=crisis, now=LATER)
    assert crisis.status == CrisisStatus.ACTIVE
    verbs = [event.verb for event in AuditEvent.objects.filter(object_id=str(crisis.pk))]
    assert "crisis.contain" in verbs and "crisis.reactivate" in verbs


def test_a_resolved_crisis_can_be_reactivated_but_not_after_its_post_mortem(supervisor):
    resolved = a_crisis(status=CrisisStatus.RESOLVED)
    resolved = crises.reactivate_crisis(actor=supervisor, crisis=resolved, now=LATER)
    assert resolved.status == CrisisStatus.ACTIVE and resolved.resolved_at is None
    done = a_crisis(status=CrisisStatus.POST_MORTEM_DONE, title="Done")
    with pytest.raises(CrisisError):
        crises.reactivate_crisis(actor=supervisor, crisis=done, now=LATER)


def test_members_and_executives_do_not_change_the_status(executive, manager):
    crisis = a_crisis()
    member = cabinet_member_user("ana")
    seat(crisis, member)
    seat(crisis, manager, "customer_service")
    for actor in (executive, member, manager):
        with pytest.raises(PermissionDenied):
            crises.contain_crisis(actor=actor, crisis=crisis, now=LATER)
    crisis.refresh_from_db()
    assert crisis.status == CrisisStatus.ACTIVE


# --- Cabinet -------------------------------------------------------------------------------------


def test_adding_a_member_seats_and_tells_them(supervisor, django_capture_on_commit_callbacks):
    crisis = a_crisis(commander=supervisor)
    lawyer = cabinet_member_user("legal-ana")
    with django_capture_on_commit_callbacks(execute=True):
        member = crises.add_member(
            actor=supervisor,
            crisis=crisis,
            user=lawyer,
            department="legal",
            role=CabinetRole.MEMBER,
            now=LATER,
        )
    assert member.department.is_legal and member.added_by == supervisor
    assert access.can_view(lawyer, crisis) and access.can_act(lawyer, crisis)
    [told] = _told(lawyer, NotificationKind.CABINET_ADDED)
    assert told.url == reverse("rooms:room", args=[crisis.pk])
    [event] = _events(crisis, "crisis.member_added")
    assert event.after["username"] == "legal-ana" and event.after["department"] == "legal"
    with pytest.raises(CrisisError, match="already has a seat"):
        crises.add_member(
            actor=supervisor, crisis=crisis, user=lawyer, department="legal", now=LATER
        )


def test_one_spokesperson_and_no_second_commander(supervisor, manager):
    crisis = a_crisis(commander=supervisor)
    crises.add_member(
        actor=supervisor,
        crisis=crisis,
        user=manager,
        department="communications",
        role=CabinetRole.SPOKESPERSON,
        now=LATER,
    )
    other = cabinet_member_user("voice-two")
    with pytest.raises(CrisisError, match="spokesperson"):
        crises.add_member(
            actor=supervisor,
            crisis=crisis,
            user=other,
            department="communications",
            role=CabinetRole.SPOKESPERSON,
            now=LATER,
        )
    with pytest.raises(CrisisError, match="hand over"):
        crises.add_member(
            actor=supervisor,
            crisis=crisis,
            user=other,
            department="legal",
            role=CabinetRole.COMMANDER,
            now=LATER,
        )
    assert (
        CabinetMember.objects.filter(crisis=crisis, role=CabinetRole.COMMANDER).count(),
        CabinetMember.objects.filter(crisis=crisis, role=CabinetRole.SPOKESPERSON).count(),
    ) == (1, 1)


def test_changing_a_role_and_removing_a_member(supervisor):
    crisis = a_crisis(commander=supervisor)
    ana = cabinet_member_user("ana")
    member = seat(crisis, ana, "legal")
    member = crises.change_member_role(
        actor=supervisor, member=member, role=CabinetRole.SCRIBE, now=LATER
    )
    assert member.role == CabinetRole.SCRIBE
    [changed] = _events(crisis, "crisis.member_role_changed")
    assert (changed.before["role"], changed.after["role"]) == ("member", "scribe")
    crises.remove_member(actor=supervisor, member=member, now=LATER)
    assert not access.can_view(ana, crisis)
    assert _events(crisis, "crisis.member_removed")
    with pytest.raises(CrisisError):
        crises.change_member_role(
            actor=supervisor, member=member, role=CabinetRole.MEMBER, now=LATER
        )


def test_the_commander_seat_is_neither_removed_nor_demoted(supervisor):
    crisis = a_crisis(commander=supervisor)
    commander_seat = CabinetMember.objects.get(crisis=crisis, role=CabinetRole.COMMANDER)
    with pytest.raises(CrisisError):
        crises.remove_member(actor=supervisor, member=commander_seat, now=LATER)
    with pytest.raises(CrisisError):
        crises.change_member_role(
            actor=supervisor, member=commander_seat, role=CabinetRole.MEMBER, now=LATER
        )


def test_members_who_are_not_commander_do_not_change_the_cabinet(executive, manager):
    crisis = a_crisis()
    ana = cabinet_member_user("ana")
    seat(crisis, ana, "legal")
    for actor in (ana, executive, manager):
        with pytest.raises(PermissionDenied):
            crises.add_member(
                actor=actor, crisis=crisis, user=manager, department="legal", now=LATER
            )


def test_command_is_handed_over_recorded_and_told(supervisor, django_capture_on_commit_callbacks):
    first = cabinet_member_user("first-lead")
    crisis = a_crisis(commander=first)
    successor = cabinet_member_user("next-lead")
    with django_capture_on_commit_callbacks(execute=True):
        crisis = crises.hand_over_command(
            actor=first, crisis=crisis, to_user=successor, department="legal", now=LATER
        )
    assert crisis.commander == successor
    seats = {seat.user: seat.role for seat in CabinetMember.objects.filter(crisis=crisis)}
    assert seats == {first: CabinetRole.MEMBER, successor: CabinetRole.COMMANDER}
    assert CabinetMember.objects.get(crisis=crisis, user=successor).department.key == "legal"
    [event] = _events(crisis, "crisis.command_handed_over")
    assert event.actor == first
    assert (event.before["commander"], event.after["commander"]) == (first.pk, successor.pk)
    [told] = _told(successor, NotificationKind.COMMAND_HANDED_OVER)
    assert "Double charges" in told.title
    # The former commander can no longer resolve; the new one can.
    assert not access.can_resolve(first, crisis) and access.can_resolve(successor, crisis)
    # A supervisor hands it back to a seated member: their seat becomes the commander's.
    crises.hand_over_command(actor=supervisor, crisis=crisis, to_user=first, now=LATER)
    assert (
        CabinetMember.objects.filter(crisis=crisis, role=CabinetRole.COMMANDER).get().user == first
    )
    assert CabinetMember.objects.filter(crisis=crisis, removed_at__isnull=True).count() == 2


def test_a_plain_member_cannot_take_command(supervisor):
    crisis = a_crisis(commander=supervisor)
    ana = cabinet_member_user("ana")
    seat(crisis, ana, "legal")
    with pytest.raises(PermissionDenied):
        crises.hand_over_command(actor=ana, crisis=crisis, to_user=ana, now=LATER)
    with pytest.raises(CrisisError, match="already commands"):
        crises.hand_over_command(actor=supervisor, crisis=crisis, to_user=supervisor, now=LATER)


def test_a_closed_crisis_keeps_its_cabinet(supervisor):
    crisis = a_crisis(commander=supervisor, status=CrisisStatus.RESOLVED)
    with pytest.raises(CrisisError):
        crises.add_member(
            actor=supervisor,
            crisis=crisis,
            user=cabinet_member_user("ana"),
            department="legal",
            now=LATER,
        )


# --- Visibility --------------------------------------------------------------------------------


def test_a_cabinet_member_sees_only_the_crises_they_sit_in(executive):
    ana = cabinet_member_user("ana")
    mine, other = a_crisis(title="Mine"), a_crisis(title="Other", topics=("x",))
    seat(mine, ana, "legal")
    assert list(access.visible_crises(ana)) == [mine]
    assert access.can_view(ana, mine) and not access.can_view(ana, other)
    assert set(access.visible_crises(executive)) == {mine, other}
    assert not access.can_act(executive, mine)


# --- Departments ---------------------------------------------------------------------------------


def test_admins_and_supervisors_manage_departments(administrator, supervisor, manager, executive):
    added = crises.add_department(actor=administrator, key="operations", name="Operations", now=NOW)
    assert added.ordering > department("strategic_direction").ordering
    crises.update_department(
        actor=supervisor, department=added, name="Ops & logistics", is_legal=True, now=NOW
    )
    added.refresh_from_db()
    assert (added.name, added.is_legal) == ("Ops & logistics", True)
    assert AuditEvent.objects.filter(verb="department.update", object_id=str(added.pk)).exists()
    with pytest.raises(CrisisError):
        crises.add_department(actor=supervisor, key="operations", name="Again", now=NOW)
    for outsider in (manager, executive, cabinet_member_user("ana")):
        with pytest.raises(PermissionDenied):
            crises.add_department(actor=outsider, key="x", name="X", now=NOW)
    assert Department.objects.filter(key="x").count() == 0


def test_the_banner_names_the_last_dismissal_of_the_newest_suggestion(client, supervisor):
    first = _suggestion("billing")
    dismiss_suggestion(actor=supervisor, suggestion=first, reason="Only one angry bot", now=NOW)
    _suggestion("billing")
    client.force_login(supervisor)
    page = client.get(reverse("rooms:list")).content.decode()
    banner = page[page.index('class="crisis-banner"') :]
    assert "1 open crisis suggestion" in banner
    assert "Only one angry bot" in banner and "boss decided" in banner


def test_the_banner_of_a_first_suggestion_says_only_the_count(client, supervisor):
    _suggestion("billing")
    client.force_login(supervisor)
    page = client.get(reverse("rooms:list")).content.decode()
    assert "1 open crisis suggestion" in page and "Last time on" not in page
