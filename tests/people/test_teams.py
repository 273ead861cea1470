"""Admin pages for teams, shifts, members' skills and the on-call rota (issue 9, routing's
inputs edited in Calma): who may open each, what each service stores and audits, and the
validation at the form boundary (time zones, empty shifts, capacity)."""

from datetime import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from hypothesis import given, settings
from hypothesis import strategies as st

from crisis.models import AuditEvent
from crisis.people import services
from crisis.people.forms import MemberSkillsForm, OnCallSlotForm, ShiftForm, TeamForm
from crisis.people.models import OnCallSlot, Profile, Shift, Team, Weekday
from crisis.roles import Role
from tests.factories import UserFactory

ROLE_FIXTURES = ["manager", "supervisor", "executive"]


@pytest.fixture
def team(db):
    return Team.objects.create(name="Madrid desk", time_zone="Europe/Madrid")


@pytest.fixture
def shift(team):
    return Shift.objects.create(
        team=team, weekday=Weekday.MONDAY, starts_at=time(9), ends_at=time(17)
    )


@pytest.fixture
def slot(supervisor):
    return OnCallSlot.objects.create(
        user=supervisor, weekday=Weekday.SUNDAY, starts_at=time(0), ends_at=time(8)
    )


@pytest.fixture
def pages(team, shift, slot, manager):
    """Every GET page of this slice, by URL name."""
    return {
        "people:teams": reverse("people:teams"),
        "people:team_create": reverse("people:team_create"),
        "people:team_detail": reverse("people:team_detail", args=[team.pk]),
        "people:team_delete": reverse("people:team_delete", args=[team.pk]),
        "people:shift_delete": reverse("people:shift_delete", args=[shift.pk]),
        "people:skills": reverse("people:skills", args=[manager.pk]),
        "people:on_call": reverse("people:on_call"),
        "people:on_call_delete": reverse("people:on_call_delete", args=[slot.pk]),
    }


GET_PAGES = [
    "people:teams",
    "people:team_create",
    "people:team_detail",
    "people:team_delete",
    "people:shift_delete",
    "people:skills",
    "people:on_call",
    "people:on_call_delete",
]


# --- Who may open what (one test per role) ---------------------------------------------------


@pytest.mark.parametrize("url_name", GET_PAGES)
def test_anonymous_is_sent_to_login_from_team_pages(client, pages, url_name):
    response = client.get(pages[url_name])
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
@pytest.mark.parametrize("url_name", GET_PAGES)
def test_other_roles_are_refused_team_pages(client, request, pages, role_fixture, url_name):
    client.force_login(request.getfixturevalue(role_fixture))
    assert client.get(pages[url_name]).status_code == 403


@pytest.mark.parametrize("url_name", GET_PAGES)
def test_admin_opens_team_pages(client, administrator, pages, url_name):
    client.force_login(administrator)
    assert client.get(pages[url_name]).status_code == 200


def test_anonymous_cannot_add_a_shift(client, team):
    response = client.post(reverse("people:shift_add", args=[team.pk]))
    assert response.status_code == 302
    assert not team.shifts.exists()


@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_other_roles_cannot_add_a_shift(client, request, team, role_fixture):
    client.force_login(request.getfixturevalue(role_fixture))
    data = {"weekday": "0", "starts_at": "09:00", "ends_at": "17:00"}
    assert client.post(reverse("people:shift_add", args=[team.pk]), data).status_code == 403
    assert not team.shifts.exists()


def test_admin_adds_a_shift_from_the_team_page(client, administrator, team):
    client.force_login(administrator)
    data = {"weekday": "5", "starts_at": "22:00", "ends_at": "06:00"}
    response = client.post(reverse("people:shift_add", args=[team.pk]), data)
    assert response.status_code == 302
    shift = team.shifts.get()
    assert (shift.weekday, shift.starts_at, shift.ends_at) == (5, time(22), time(6))


def test_adding_an_empty_shift_shows_the_error_on_the_team_page(client, administrator, team):
    client.force_login(administrator)
    data = {"weekday": "5", "starts_at": "09:00", "ends_at": "09:00"}
    response = client.post(reverse("people:shift_add", args=[team.pk]), data)
    assert response.status_code == 200
    assert "The start and the end must differ." in response.content.decode()
    assert not team.shifts.exists()


def test_nav_shows_teams_to_admins_only(client, administrator, supervisor):
    client.force_login(administrator)
    assert reverse("people:teams") in client.get(reverse("profile")).content.decode()
    client.force_login(supervisor)
    assert reverse("people:teams") not in client.get(reverse("profile")).content.decode()


# --- Pages: empty states and confirmations ---------------------------------------------------


def test_team_list_says_what_to_do_when_there_are_no_teams(client, administrator):
    client.force_login(administrator)
    assert "No teams yet" in client.get(reverse("people:teams")).content.decode()


def test_team_without_shifts_is_flagged_as_never_on_shift(client, administrator, team):
    client.force_login(administrator)
    assert "never on shift" in client.get(reverse("people:teams")).content.decode()


def test_deleting_a_team_asks_first(client, administrator, team):
    client.force_login(administrator)
    client.get(reverse("people:team_delete", args=[team.pk]))
    assert Team.objects.filter(pk=team.pk).exists()


def test_admin_deletes_a_team_after_confirming(client, administrator, team, shift):
    client.force_login(administrator)
    response = client.post(reverse("people:team_delete", args=[team.pk]))
    assert response.url == reverse("people:teams")
    assert not Team.objects.filter(pk=team.pk).exists()
    assert not Shift.objects.filter(pk=shift.pk).exists()


def test_removing_a_shift_asks_first(client, administrator, shift):
    client.force_login(administrator)
    client.get(reverse("people:shift_delete", args=[shift.pk]))
    assert Shift.objects.filter(pk=shift.pk).exists()


def test_admin_removes_an_on_call_slot_after_confirming(client, administrator, slot):
    client.force_login(administrator)
    client.post(reverse("people:on_call_delete", args=[slot.pk]))
    assert not OnCallSlot.objects.filter(pk=slot.pk).exists()


def test_admin_sets_a_managers_skills_from_the_page(client, administrator, manager, team):
    client.force_login(administrator)
    data = {
        "team": str(team.pk),
        "languages": ["es", "en"],
        "platforms": ["mastodon"],
        "max_open_incidents": "4",
    }
    response = client.post(reverse("people:skills", args=[manager.pk]), data)
    assert response.status_code == 302
    profile = Profile.objects.get(user=manager)
    assert (profile.team, profile.languages, profile.platforms, profile.max_open_incidents) == (
        team,
        ["en", "es"],
        ["mastodon"],
        4,
    )


def test_team_page_lists_its_members(client, administrator, manager, team):
    Profile.objects.create(user=manager, team=team, languages=["es"])
    client.force_login(administrator)
    content = client.get(reverse("people:team_detail", args=[team.pk])).content.decode()
    assert reverse("people:skills", args=[manager.pk]) in content


# --- Services: permission, storage, audit -----------------------------------------------------


def test_save_team_refuses_a_non_admin(supervisor):
    with pytest.raises(PermissionDenied):
        services.save_team(actor=supervisor, name="X", time_zone="UTC", is_default=False)


def test_save_team_records_an_audit_event(administrator):
    team = services.save_team(
        actor=administrator, name="Night", time_zone="Europe/Madrid", is_default=False
    )
    event = AuditEvent.objects.get(verb="team.created")
    assert event.object_id == str(team.pk)
    assert event.after == {"name": "Night", "time_zone": "Europe/Madrid", "is_default": False}


def test_choosing_a_new_default_team_replaces_the_old_one(administrator, team):
    services.save_team(
        actor=administrator, team=team, name=team.name, time_zone="UTC", is_default=True
    )
    other = services.save_team(actor=administrator, name="Other", time_zone="UTC", is_default=True)
    assert list(Team.objects.filter(is_default=True)) == [other]


def test_team_names_are_unique_ignoring_case(administrator, team):
    with pytest.raises(ValidationError):
        services.save_team(
            actor=administrator, name="MADRID DESK", time_zone="UTC", is_default=False
        )


def test_deleting_a_team_keeps_its_members_without_a_team(administrator, team, manager):
    Profile.objects.create(user=manager, team=team)
    services.delete_team(actor=administrator, team=team)
    assert Profile.objects.get(user=manager).team is None
    assert AuditEvent.objects.filter(verb="team.deleted").exists()


def test_add_shift_refuses_a_shift_that_starts_when_it_ends(administrator, team):
    with pytest.raises(ValidationError):
        services.add_shift(
            actor=administrator, team=team, weekday=0, starts_at=time(9), ends_at=time(9)
        )


def test_add_shift_is_audited_on_the_team(administrator, team):
    services.add_shift(
        actor=administrator, team=team, weekday=5, starts_at=time(22), ends_at=time(6)
    )
    event = AuditEvent.objects.get(verb="team.shift_added")
    assert (event.object_type, event.object_id) == ("people.team", str(team.pk))
    assert event.after == {"weekday": 5, "starts_at": "22:00", "ends_at": "06:00"}


def test_remove_shift_refuses_a_supervisor(supervisor, shift):
    with pytest.raises(PermissionDenied):
        services.remove_shift(actor=supervisor, shift=shift)


def test_change_member_skills_is_audited_with_before_and_after(administrator, manager, team):
    services.change_member_skills(
        actor=administrator,
        person=manager,
        team=team,
        languages=["es"],
        platforms=[],
        max_open_incidents=None,
    )
    event = AuditEvent.objects.get(verb="person.skills_changed")
    assert event.before["team"] is None
    assert event.after == {
        "team": "Madrid desk",
        "languages": ["es"],
        "platforms": [],
        "max_open_incidents": None,
    }


def test_only_a_supervisor_can_be_put_on_call(administrator, manager):
    with pytest.raises(ValidationError):
        services.add_on_call_slot(
            actor=administrator,
            supervisor=manager,
            weekday=0,
            starts_at=time(0),
            ends_at=time(8),
            time_zone="UTC",
        )


def test_add_on_call_slot_is_audited(administrator, supervisor):
    services.add_on_call_slot(
        actor=administrator,
        supervisor=supervisor,
        weekday=6,
        starts_at=time(20),
        ends_at=time(8),
        time_zone="Europe/Madrid",
    )
    assert AuditEvent.objects.get(verb="oncall.slot_added").object_id == str(supervisor.pk)


# --- Forms: the validation boundary -----------------------------------------------------------


def test_team_form_refuses_an_unknown_time_zone(db):
    form = TeamForm({"name": "X", "time_zone": "Mars/Olympus_Mons"})
    assert "time_zone" in form.errors


def test_team_form_accepts_an_iana_time_zone(db):
    assert TeamForm({"name": "X", "time_zone": "America/Mexico_City"}).is_valid()


def test_shift_form_refuses_equal_start_and_end(db):
    form = ShiftForm({"weekday": "0", "starts_at": "09:00", "ends_at": "09:00"})
    assert "ends_at" in form.errors


def test_shift_form_accepts_a_shift_across_midnight(db):
    assert ShiftForm({"weekday": "6", "starts_at": "22:00", "ends_at": "06:00"}).is_valid()


def test_shift_form_refuses_a_weekday_outside_the_week(db):
    form = ShiftForm({"weekday": "7", "starts_at": "09:00", "ends_at": "17:00"})
    assert "weekday" in form.errors


def test_on_call_form_offers_only_active_supervisors(supervisor, manager):
    UserFactory(username="old-boss", role=Role.SUPERVISOR, is_active=False)
    offered = list(OnCallSlotForm().fields["supervisor"].queryset)
    assert offered == [supervisor]


def test_skills_form_refuses_a_capacity_of_zero(db):
    assert "max_open_incidents" in MemberSkillsForm({"max_open_incidents": "0"}).errors


def test_skills_form_refuses_an_unknown_platform(db):
    assert "platforms" in MemberSkillsForm({"platforms": ["myspace"]}).errors


# --- Django admin: read-only, linking to Calma's pages ----------------------------------------


def test_admin_reads_teams_in_django_admin(client, administrator, team):
    client.force_login(administrator)
    content = client.get(reverse("admin:people_team_changelist")).content.decode()
    assert reverse("people:team_detail", args=[team.pk]) in content


def test_teams_cannot_be_changed_in_django_admin(client, administrator, team):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:people_team_change", args=[team.pk]),
        {"name": "Renamed", "time_zone": "UTC"},
    )
    assert response.status_code == 403
    team.refresh_from_db()
    assert team.name == "Madrid desk"


# --- Any input at the form boundary: a clean refusal, never an exception -----------------------

_any_text = st.text(max_size=300)


@settings(max_examples=60, deadline=None)
@given(name=_any_text, zone=_any_text, weekday=_any_text, start=_any_text, end=_any_text)
def test_team_and_shift_forms_never_raise_on_any_input(name, zone, weekday, start, end):
    TeamForm({"name": name, "time_zone": zone}).is_valid()
    ShiftForm({"weekday": weekday, "starts_at": start, "ends_at": end}).is_valid()


@pytest.mark.django_db
@settings(max_examples=40, deadline=None)
@given(
    team=_any_text,
    languages=st.lists(_any_text, max_size=5),
    platforms=st.lists(_any_text, max_size=5),
    capacity=_any_text,
)
def test_skills_form_never_raises_on_any_input(team, languages, platforms, capacity):
    data = MultiValueDict(
        {
            "team": [team],
            "languages": languages,
            "platforms": platforms,
            "max_open_incidents": [capacity],
        }
    )
    MemberSkillsForm(data).is_valid()
