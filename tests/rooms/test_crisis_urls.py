"""Every URL of the crises slice per role (anonymous, community manager, supervisor,
executive, admin, a cabinet member of this crisis, a cabinet member of another crisis), and
what the room and the list show to each."""

import pytest
from django.urls import reverse

from crisis.rooms.models import CabinetRole
from tests.incidents.factories import incident
from tests.rooms.factories import a_crisis, cabinet_member_user, link, seat

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "manager",
    "supervisor",
    "executive",
    "admin",
    "member_here",
    "member_elsewhere",
)


@pytest.fixture
def people(db, manager, supervisor, executive, administrator):
    return {
        "anonymous": None,
        "manager": manager,
        "supervisor": supervisor,
        "executive": executive,
        "admin": administrator,
        "member_here": cabinet_member_user("legal-ana"),
        "member_elsewhere": cabinet_member_user("legal-bo"),
    }


@pytest.fixture
def rooms(people):
    here = a_crisis(title="Double charges", commander=people["supervisor"])
    elsewhere = a_crisis(
        title="Late deliveries", topics=("delivery",), commander=people["supervisor"]
    )
    seat(here, people["member_here"], "legal", CabinetRole.MEMBER)
    seat(elsewhere, people["member_elsewhere"], "legal", CabinetRole.MEMBER)
    link(here, incident())
    return here, elsewhere


def _login(client, people, role):
    if people[role] is not None:
        client.force_login(people[role])


def _is_login_redirect(response):
    return response.status_code == 302 and response.url.startswith(reverse("login"))


SEES_ROOM = ("supervisor", "executive", "member_here")


@pytest.mark.parametrize("role", ROLES)
def test_the_room(client, people, rooms, role):
    here, _elsewhere = rooms
    _login(client, people, role)
    response = client.get(reverse("rooms:room", args=[here.pk]))
    if role == "anonymous":
        assert _is_login_redirect(response)
    elif role in SEES_ROOM:
        assert response.status_code == 200
        body = response.content.decode()
        assert "Double charges" in body
        assert 'id="room-cabinet"' in body and "legal-ana" in body
    else:
        assert response.status_code == 403
        assert "Double charges" not in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_the_list(client, people, rooms, role):
    _login(client, people, role)
    response = client.get(reverse("rooms:list"))
    if role == "anonymous":
        assert _is_login_redirect(response)
    elif role in ("supervisor", "executive"):
        body = response.content.decode()
        assert "Double charges" in body and "Late deliveries" in body
    elif role == "member_here":
        body = response.content.decode()
        assert "Double charges" in body and "Late deliveries" not in body
    elif role == "member_elsewhere":
        body = response.content.decode()
        assert "Late deliveries" in body and "Double charges" not in body
    else:
        assert response.status_code == 403


def _body(response) -> str:
    return response.content.decode()


def _check(response, role, allowed, *, ok=(200,)):
    """Anonymous → sign in; the allowed roles get `ok`; everyone else 403."""
    if role == "anonymous":
        assert _is_login_redirect(response)
    elif role in allowed:
        assert response.status_code in ok, response.status_code
    else:
        assert response.status_code == 403, response.status_code


# --- The room's live parts -------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "name", ["rooms:room_header", "rooms:room_cabinet", "rooms:room_incidents"]
)
def test_the_live_parts_of_the_room(client, people, rooms, role, name):
    here, _elsewhere = rooms
    _login(client, people, role)
    response = client.get(reverse(name, args=[here.pk]), headers={"HX-Request": "true"})
    _check(response, role, SEES_ROOM)
    if response.status_code == 200:
        # htmx gets only the part, not the page around it.
        assert "<html" not in _body(response)


def test_a_live_part_without_htmx_is_the_whole_room(client, people, rooms):
    here, _elsewhere = rooms
    client.force_login(people["supervisor"])
    body = _body(client.get(reverse("rooms:room_cabinet", args=[here.pk])))
    assert "<html" in body and 'id="room-incidents"' in body


def test_an_unknown_crisis_is_not_found(client, people, rooms):
    client.force_login(people["supervisor"])
    assert client.get(reverse("rooms:room", args=[999999])).status_code == 404


def test_the_room_shows_header_cabinet_incidents_and_the_sections(client, people, rooms):
    here, _elsewhere = rooms
    client.force_login(people["supervisor"])
    body = _body(client.get(reverse("rooms:room", args=[here.pk])))
    assert "Level 2 · Serious" in body and "Active" in body
    assert "Commander: boss" in body and "1 incident" in body
    assert 'hx-trigger="every 30s"' in body
    assert 'id="crisis-incident-' in body
    # The supervisor runs the room: the cabinet's forms are there.
    assert reverse("rooms:add_member", args=[here.pk]) in body
    assert reverse("rooms:hand_over", args=[here.pk]) in body
    assert reverse("rooms:contain", args=[here.pk]) in body


@pytest.mark.parametrize("role", ["executive", "member_here"])
def test_readers_and_members_get_no_cabinet_forms(client, people, rooms, role):
    here, _elsewhere = rooms
    client.force_login(people[role])
    body = _body(client.get(reverse("rooms:room", args=[here.pk])))
    assert reverse("rooms:add_member", args=[here.pk]) not in body
    assert reverse("rooms:hand_over", args=[here.pk]) not in body
    assert reverse("rooms:contain", args=[here.pk]) not in body
    assert "unlink" not in body
    if role == "executive":
        assert '<form method="post" action="/crises/' not in body


def test_linked_incidents_are_paginated(client, people, rooms):
    here, _elsewhere = rooms
    for _ in range(21):
        link(here, incident())
    client.force_login(people["supervisor"])
    body = _body(client.get(reverse("rooms:room", args=[here.pk])))
    assert body.count('id="crisis-incident-') == 20 and "Page 1 of 2" in body
    second = _body(
        client.get(
            reverse("rooms:room_incidents", args=[here.pk]) + "?page=2",
            headers={"HX-Request": "true"},
        )
    )
    assert second.count('id="crisis-incident-') == 2


def test_the_list_puts_open_crises_first_and_counts_incidents_in_one_query(
    client, people, rooms, django_assert_max_num_queries
):
    _here, elsewhere = rooms
    from crisis.rooms.models import CrisisStatus

    old = a_crisis(title="Old one", status=CrisisStatus.RESOLVED, commander=people["supervisor"])
    for _ in range(3):
        link(elsewhere, incident())
    client.force_login(people["supervisor"])
    with django_assert_max_num_queries(12) as few:
        body = _body(client.get(reverse("rooms:list")))
    assert body.index("Late deliveries") < body.index("Double charges") < body.index("Old one")
    for number in range(6):
        a_crisis(title=f"More {number}", commander=people["supervisor"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("rooms:list"))
    assert old.pk


# --- Declaring -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_declare_page(client, people, rooms, role):
    _login(client, people, role)
    first = incident()
    response = client.get(reverse("rooms:declare") + f"?incidents={first.pk}")
    _check(response, role, ("supervisor",))
    if response.status_code == 200:
        assert f'value="{first.pk}"' in _body(response)


@pytest.mark.parametrize("role", ROLES)
def test_declaring(client, people, rooms, role):
    from crisis.rooms.models import Crisis

    before = Crisis.objects.count()
    _login(client, people, role)
    response = client.post(
        reverse("rooms:declare"),
        {"title": "Outage", "level": "3", "topics": "outage, status", "incidents": ""},
    )
    _check(response, role, ("supervisor",), ok=(302,))
    if role == "supervisor":
        crisis = Crisis.objects.get(title="Outage")
        assert response.url == reverse("rooms:room", args=[crisis.pk])
        assert crisis.topics == ["outage", "status"] and crisis.commander == people["supervisor"]
    else:
        assert Crisis.objects.count() == before


def test_a_declaration_that_does_not_validate_says_why(client, people, rooms):
    client.force_login(people["supervisor"])
    response = client.post(
        reverse("rooms:declare"), {"title": "X", "level": "2", "incidents": "12abc"}
    )
    assert response.status_code == 400
    assert "is not an incident number" in _body(response)
    response = client.post(reverse("rooms:declare"), {"title": "X", "level": "2"})
    assert response.status_code == 400 and "Name the topics or the incidents" in _body(response)
    response = client.post(
        reverse("rooms:declare"), {"title": "X", "level": "2", "incidents": "999999"}
    )
    assert response.status_code == 400 and "No incident #999999" in _body(response)


def _open_suggestion():
    from protocols.models import CrisisSuggestion
    from protocols.services import active_version

    return CrisisSuggestion.objects.create(
        topic="billing", reason="incidents", observed=6, protocol_version=active_version()
    )


@pytest.mark.parametrize("role", ROLES)
def test_the_accept_page(client, people, rooms, role):
    suggestion = _open_suggestion()
    _login(client, people, role)
    response = client.get(reverse("rooms:accept_suggestion", args=[suggestion.pk]))
    _check(response, role, ("supervisor",))


@pytest.mark.parametrize("role", ROLES)
def test_accepting_a_suggestion(client, people, rooms, role):
    suggestion = _open_suggestion()
    _login(client, people, role)
    response = client.post(
        reverse("rooms:accept_suggestion", args=[suggestion.pk]),
        {"title": "Billing storm", "level": "2", "commander_department": "communications"},
    )
    _check(response, role, ("supervisor",), ok=(302,))
    suggestion.refresh_from_db()
    assert (suggestion.dismissed_at is not None) == (role == "supervisor")


def test_the_suggestion_list_offers_to_declare(client, people):
    suggestion = _open_suggestion()
    client.force_login(people["supervisor"])
    body = _body(client.get(reverse("protocols:suggestions")))
    assert reverse("rooms:accept_suggestion", args=[suggestion.pk]) in body


# --- Status ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_containing(client, people, rooms, role):
    here, _elsewhere = rooms
    _login(client, people, role)
    response = client.post(reverse("rooms:contain", args=[here.pk]))
    _check(response, role, ("supervisor",), ok=(302,))
    here.refresh_from_db()
    assert (here.status == "contained") == (role == "supervisor")


@pytest.mark.parametrize("role", ROLES)
def test_reactivating(client, people, rooms, role):
    from crisis.rooms.models import CrisisStatus

    here, _elsewhere = rooms
    here.status = CrisisStatus.CONTAINED
    here.save()
    _login(client, people, role)
    response = client.post(reverse("rooms:reactivate", args=[here.pk]))
    _check(response, role, ("supervisor",), ok=(302,))
    here.refresh_from_db()
    assert (here.status == "active") == (role == "supervisor")


def test_containing_twice_is_a_message(client, people, rooms):
    here, _elsewhere = rooms
    client.force_login(people["supervisor"])
    client.post(reverse("rooms:contain", args=[here.pk]))
    response = client.post(reverse("rooms:contain", args=[here.pk]), follow=True)
    assert response.status_code == 200 and "cannot become contained" in _body(response)


# --- Cabinet ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_adding_a_member(client, people, rooms, role):
    from tests.rooms.factories import cabinet_member_user

    here, _elsewhere = rooms
    newcomer = cabinet_member_user("cs-lead")
    _login(client, people, role)
    response = client.post(
        reverse("rooms:add_member", args=[here.pk]),
        {"user": newcomer.pk, "department": "customer_service", "role": "scribe"},
    )
    _check(response, role, ("supervisor",), ok=(302,))
    from crisis.rooms import access

    assert (access.seat_of(newcomer, here) is not None) == (role == "supervisor")


def test_adding_a_second_spokesperson_shows_why_on_the_room(client, people, rooms):
    here, _elsewhere = rooms
    from tests.rooms.factories import cabinet_member_user

    seat(here, cabinet_member_user("voice"), "communications", CabinetRole.SPOKESPERSON)
    client.force_login(people["supervisor"])
    response = client.post(
        reverse("rooms:add_member", args=[here.pk]),
        {"user": people["manager"].pk, "department": "communications", "role": "spokesperson"},
    )
    assert response.status_code == 400
    assert "voice is the spokesperson" in _body(response)
    response = client.post(reverse("rooms:add_member", args=[here.pk]), {"user": "nobody"})
    assert response.status_code == 400


def _member_seat(rooms, people):
    here, _elsewhere = rooms
    from crisis.rooms.models import CabinetMember

    return CabinetMember.objects.get(crisis=here, user=people["member_here"])


@pytest.mark.parametrize("role", ROLES)
def test_changing_a_role(client, people, rooms, role):
    here, _elsewhere = rooms
    member = _member_seat(rooms, people)
    _login(client, people, role)
    response = client.post(
        reverse("rooms:change_member_role", args=[here.pk, member.pk]), {"role": "scribe"}
    )
    _check(response, role, ("supervisor",), ok=(302,))
    member.refresh_from_db()
    assert (member.role == "scribe") == (role == "supervisor")


@pytest.mark.parametrize("role", ROLES)
def test_the_remove_confirmation(client, people, rooms, role):
    here, _elsewhere = rooms
    member = _member_seat(rooms, people)
    _login(client, people, role)
    response = client.get(reverse("rooms:remove_member", args=[here.pk, member.pk]))
    _check(response, role, ("supervisor",))
    if response.status_code == 200:
        assert "Yes, remove them" in _body(response)
    member.refresh_from_db()
    assert member.removed_at is None


@pytest.mark.parametrize("role", ROLES)
def test_removing_a_member(client, people, rooms, role):
    here, _elsewhere = rooms
    member = _member_seat(rooms, people)
    _login(client, people, role)
    response = client.post(reverse("rooms:remove_member", args=[here.pk, member.pk]))
    _check(response, role, ("supervisor",), ok=(302,))
    member.refresh_from_db()
    assert (member.removed_at is not None) == (role == "supervisor")


def test_a_removed_member_no_longer_sees_the_room(client, people, rooms):
    here, _elsewhere = rooms
    member = _member_seat(rooms, people)
    client.force_login(people["supervisor"])
    client.post(reverse("rooms:remove_member", args=[here.pk, member.pk]))
    client.force_login(people["member_here"])
    assert client.get(reverse("rooms:room", args=[here.pk])).status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_handing_over_command(client, people, rooms, role):
    here, _elsewhere = rooms
    _login(client, people, role)
    response = client.post(
        reverse("rooms:hand_over", args=[here.pk]),
        {"to_user": people["member_here"].pk, "department": ""},
    )
    _check(response, role, ("supervisor",), ok=(302,))
    here.refresh_from_db()
    assert (here.commander == people["member_here"]) == (role == "supervisor")


def test_a_commander_from_another_department_runs_the_cabinet(client, people, rooms):
    here, _elsewhere = rooms
    client.force_login(people["supervisor"])
    client.post(reverse("rooms:hand_over", args=[here.pk]), {"to_user": people["member_here"].pk})
    client.force_login(people["member_here"])
    body = _body(client.get(reverse("rooms:room", args=[here.pk])))
    assert reverse("rooms:add_member", args=[here.pk]) in body
    response = client.post(
        reverse("rooms:add_member", args=[here.pk]),
        {"user": people["manager"].pk, "department": "customer_service", "role": "member"},
    )
    assert response.status_code == 302


# --- Incidents -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_linking_an_incident_by_hand(client, people, rooms, role):
    from crisis.rooms.models import CrisisIncident

    _here, elsewhere = rooms
    unowned = incident()  # no team, no owner: every manager's
    _login(client, people, role)
    response = client.post(
        reverse("rooms:link_incident", args=[unowned.pk]), {"crisis": elsewhere.pk}
    )
    _check(response, role, ("manager", "supervisor"), ok=(302,))
    linked = CrisisIncident.objects.filter(crisis=elsewhere, incident=unowned).exists()
    assert linked == (role in ("manager", "supervisor"))


def test_the_incident_page_offers_the_link_and_the_declaration(client, people, rooms):
    unowned = incident()
    client.force_login(people["supervisor"])
    body = _body(client.get(reverse("incidents:detail", args=[unowned.pk])))
    assert reverse("rooms:link_incident", args=[unowned.pk]) in body
    assert f"{reverse('rooms:declare')}?incidents={unowned.pk}" in body
    client.force_login(people["manager"])
    body = _body(client.get(reverse("incidents:detail", args=[unowned.pk])))
    assert reverse("rooms:link_incident", args=[unowned.pk]) in body
    assert reverse("rooms:declare") not in body


@pytest.mark.parametrize("role", ROLES)
def test_unlinking_an_incident(client, people, rooms, role):
    from crisis.rooms.models import CrisisIncident

    here, _elsewhere = rooms
    linked = CrisisIncident.objects.get(crisis=here)
    _login(client, people, role)
    response = client.post(reverse("rooms:unlink_incident", args=[here.pk, linked.incident_id]))
    _check(response, role, ("supervisor",), ok=(302,))
    assert CrisisIncident.objects.filter(pk=linked.pk).exists() == (role != "supervisor")


# --- Departments -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_departments_page(client, people, rooms, role):
    _login(client, people, role)
    response = client.get(reverse("rooms:departments"))
    _check(response, role, ("supervisor", "admin"))
    if response.status_code == 200:
        assert "Strategic direction" in _body(response)


@pytest.mark.parametrize("role", ROLES)
def test_adding_a_department(client, people, rooms, role):
    from crisis.rooms.models import Department

    _login(client, people, role)
    response = client.post(
        reverse("rooms:departments"), {"name": "Operations", "key": "operations"}
    )
    _check(response, role, ("supervisor", "admin"), ok=(302,))
    assert Department.objects.filter(key="operations").exists() == (role in ("supervisor", "admin"))


@pytest.mark.parametrize("role", ROLES)
def test_editing_a_department(client, people, rooms, role):
    from crisis.rooms.models import Department

    legal = Department.objects.get(key="legal")
    _login(client, people, role)
    response = client.post(
        reverse("rooms:department_edit", args=[legal.pk]), {"name": "Legal & compliance"}
    )
    _check(response, role, ("supervisor", "admin"), ok=(302,))
    legal.refresh_from_db()
    changed = (legal.name, legal.is_legal) == ("Legal & compliance", False)
    assert changed == (role in ("supervisor", "admin"))


# --- The cabinet-member role everywhere else -------------------------------------------------


def test_a_cabinet_member_lands_on_the_crisis_list(client, people, rooms):
    client.force_login(people["member_here"])
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url == reverse("rooms:list")


def test_a_cabinet_member_navigates_to_crises_and_profile_only(client, people, rooms):
    client.force_login(people["member_here"])
    response = client.get(reverse("rooms:list"))
    items = [item["url"] for item in response.context["nav_items"]]
    assert items == [reverse("rooms:list"), reverse("profile")]
    body = _body(response)
    assert 'data-shortcut="x"' in body
    assert 'href="/replies/' not in body and 'href="/inbox/' not in body


@pytest.mark.parametrize(
    "url_name",
    [
        "inbox",
        "approvals",
        "board",
        "audit_log",
        "replies:follow_ups",
        "monitoring:mentions",
        "monitoring:sources",
        "people:list",
        "protocols:list",
        "protocols:suggestions",
        "rooms:declare",
        "rooms:departments",
    ],
)
def test_everything_else_is_refused_to_a_cabinet_member(client, people, rooms, url_name):
    client.force_login(people["member_here"])
    assert client.get(reverse(url_name)).status_code == 403


def test_a_cabinet_member_cannot_open_incidents_of_their_crisis(client, people, rooms):
    from crisis.rooms.models import CrisisIncident

    here, _elsewhere = rooms
    linked = CrisisIncident.objects.get(crisis=here).incident_id
    client.force_login(people["member_here"])
    body = _body(client.get(reverse("rooms:room", args=[here.pk])))
    assert f'href="{reverse("incidents:detail", args=[linked])}"' not in body
    assert client.get(reverse("incidents:detail", args=[linked])).status_code == 403


def test_the_people_page_offers_the_cabinet_member_role(client, people):
    client.force_login(people["admin"])
    response = client.get(reverse("people:create"))
    assert "cabinet_member" in _body(response)


def test_a_seated_manager_reaches_the_list_without_the_navigation_item(client, people, rooms):
    here, _elsewhere = rooms
    seat(here, people["manager"], "customer_service")
    client.force_login(people["manager"])
    body = _body(client.get(reverse("rooms:list")))
    assert "Double charges" in body and "Late deliveries" not in body


def test_accepting_a_taken_suggestion_goes_back_to_the_list(client, people):
    suggestion = _open_suggestion()
    client.force_login(people["supervisor"])
    data = {"title": "Billing storm", "level": "2"}
    client.post(reverse("rooms:accept_suggestion", args=[suggestion.pk]), data)
    response = client.post(
        reverse("rooms:accept_suggestion", args=[suggestion.pk]), data, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("protocols:suggestions")
    assert "already dismissed or accepted" in _body(response)
