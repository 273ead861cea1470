"""Who sees the crisis board, and what executives may open behind it: the lists of incidents
and mentions read-only, never an action (no form that changes anything is rendered for them,
and every main POST endpoint refuses them)."""

import re

import pytest
from django.urls import reverse

from crisis.board.fragments import FRAGMENTS
from crisis.incidents.models import IncidentState
from crisis.models import AuditEvent
from crisis.roles import Perm, Role
from tests.factories import UserFactory
from tests.incidents.factories import incident, team

pytestmark = pytest.mark.django_db

BOARD_URLS = [
    reverse("board"),
    reverse("board_wall"),
    *(reverse("board_fragment", args=[name]) for name in FRAGMENTS),
]


@pytest.fixture
def case(db):
    return incident(state=IncidentState.NEW, of=team("Care"))


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in BOARD_URLS:
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"], url


@pytest.mark.parametrize("role", [Role.COMMUNITY_MANAGER, Role.CABINET_MEMBER])
def test_roles_without_the_board_permission_are_refused(client, role):
    client.force_login(UserFactory(role=role))
    for url in BOARD_URLS:
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("fixture", ["executive", "supervisor", "administrator"])
def test_roles_with_the_board_permission_see_it(client, request, fixture):
    client.force_login(request.getfixturevalue(fixture))
    for url in BOARD_URLS:
        assert client.get(url).status_code == 200, url


def test_the_board_is_read_only(client, executive):
    client.force_login(executive)
    for url in BOARD_URLS:
        assert client.post(url).status_code == 405, url


def test_the_executive_role_reads_incidents_and_mentions_but_does_not_triage(executive):
    assert executive.has_perm(Perm.VIEW_INCIDENTS)
    assert executive.has_perm(Perm.VIEW_MENTIONS)
    assert not executive.has_perm(Perm.TRIAGE)


# --- the lists behind the numbers, read-only ---------------------------------------------------

_POST_FORMS = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]+)"', re.IGNORECASE)
# The forms every page has: the language switch and signing out.
_EVERY_PAGE = {reverse("set_language"), reverse("logout")}


def _post_forms(html: str) -> set[str]:
    return set(_POST_FORMS.findall(html)) - _EVERY_PAGE


def test_executive_reads_every_teams_open_incidents_without_actions(client, executive, case):
    other = incident(state=IncidentState.NEW, of=team("Sales"))
    client.force_login(executive)
    html = client.get(reverse("inbox")).content.decode()
    assert f'id="incident-row-{case.pk}"' in html and f'id="incident-row-{other.pk}"' in html
    assert _post_forms(html) == set()
    assert "data-take" not in html and "data-escalate" not in html and "data-select" not in html
    assert reverse("board:incidents_csv") not in html  # the export is the workers'


@pytest.mark.parametrize("reader", ["executive", "administrator"])
def test_executive_and_admin_read_an_incident_without_any_form(client, request, reader, case):
    client.force_login(request.getfixturevalue(reader))
    response = client.get(reverse("incidents:detail", args=[case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert _post_forms(html) == set()
    assert "You can read this incident but not act on it." in html
    assert reverse("incidents:presence", args=[case.pk]) not in html


def test_executive_explores_mentions(client, executive, case):
    client.force_login(executive)
    response = client.get(reverse("monitoring:mentions"))
    assert response.status_code == 200
    assert _post_forms(response.content.decode()) == set()


def test_a_manager_of_another_team_still_cannot_open_the_incident(client, case):
    from tests.incidents.factories import manager

    client.force_login(manager("outsider", of=team("Sales")))
    assert client.get(reverse("incidents:detail", args=[case.pk])).status_code == 403


def _post_urls(case) -> list[tuple[str, dict]]:
    """The main actions on incidents, replies and crises, with data a worker would send."""
    pk = case.pk
    return [
        (reverse("incidents:inbox_act"), {"action": "take", "incidents": [pk]}),
        (reverse("incidents:take", args=[pk]), {}),
        (reverse("incidents:ask_hand_over", args=[pk]), {}),
        (reverse("incidents:start", args=[pk]), {}),
        (reverse("incidents:escalate", args=[pk]), {"escalate-note": "x"}),
        (reverse("incidents:resolve", args=[pk]), {"resolve-note": "x"}),
        (reverse("incidents:close", args=[pk]), {"close-reason": "duplicate"}),
        (reverse("incidents:reopen", args=[pk]), {}),
        (
            reverse("incidents:correct_class", args=[pk]),
            {"correct-to_class": "question", "correct-reason": "x"},
        ),
        (
            reverse("incidents:author_flags", args=[pk]),
            {"flags-flags": ["troll"], "flags-reason": "x"},
        ),
        (reverse("incidents:export_corrections"), {}),
        (reverse("replies:draft_start", args=[pk]), {}),
        (reverse("replies:take_private", args=[pk]), {}),
        (reverse("replies:offer_compensation", args=[pk]), {}),
        (reverse("rooms:declare"), {"title": "x"}),
        (reverse("rooms:link_incident", args=[pk]), {}),
    ]


def test_executive_cannot_post_any_action(client, executive, case):
    client.force_login(executive)
    for url, data in _post_urls(case):
        assert client.post(url, data).status_code == 403, url
    case.refresh_from_db()
    assert case.owner is None and case.state == IncidentState.NEW
    assert not AuditEvent.objects.filter(actor=executive).exists()
