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
