"""Collision: who else has an incident open right now (in the cache, on Redis and on the
embedded file cache), and asking its owner for a hand-over."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crisis.incidents import presence
from crisis.incidents.models import IncidentState
from crisis.incidents.transitions import InvalidTransition
from crisis.models import AuditEvent
from crisis.notifications.models import Notification
from tests.incidents.factories import NOW, incident, manager, team

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache(redis_client):
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def file_cache(settings, tmp_path):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    from django.core.cache import caches

    caches["default"].clear()
    return caches["default"]


def _backends():
    return pytest.mark.parametrize("backend", ["redis", "file"])


@_backends()
def test_a_viewer_sees_who_else_has_the_incident_open(request, backend):
    if backend == "file":
        request.getfixturevalue("file_cache")
    alice, bob = manager("alice"), manager("bob")
    case = incident()
    presence.mark_present(incident_id=case.pk, user_id=alice.pk, now=NOW)
    presence.mark_present(incident_id=case.pk, user_id=bob.pk, now=NOW + timedelta(seconds=5))
    others = presence.others_present(
        incident_id=case.pk, viewer_id=alice.pk, now=NOW + timedelta(seconds=6)
    )
    assert others == [bob]


@_backends()
def test_a_viewer_who_stops_polling_disappears_after_the_ttl(request, backend):
    if backend == "file":
        request.getfixturevalue("file_cache")
    case = incident()
    presence.mark_present(incident_id=case.pk, user_id=1, now=NOW)
    presence.mark_present(incident_id=case.pk, user_id=2, now=NOW + timedelta(seconds=30))
    later = NOW + timedelta(seconds=presence.PRESENT_FOR_SECONDS + 1)
    assert presence.present_user_ids(incident_id=case.pk, now=later) == [2]


def test_presence_of_one_incident_does_not_leak_to_another():
    first, second = incident(), incident()
    presence.mark_present(incident_id=first.pk, user_id=7, now=NOW)
    assert presence.present_user_ids(incident_id=second.pk, now=NOW) == []


def test_the_page_and_its_poll_show_a_colleague_who_has_it_open(client):
    care = team("Care")
    owner, colleague = manager("owner", of=care), manager("colleague", of=care)
    case = incident(state=IncidentState.ASSIGNED, owner=owner, of=care)
    client.force_login(owner)
    client.get(reverse("incidents:detail", args=[case.pk]))
    client.force_login(colleague)
    page = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    assert "Also open now:" in page and "<strong>owner</strong>" in page
    assert "Only owner, the owner, works on it." in page
    client.force_login(owner)
    poll = client.get(
        reverse("incidents:presence", args=[case.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert "<strong>colleague</strong>" in poll
    assert "<html" not in poll  # the partial only


def test_the_page_polls_presence_every_fifteen_seconds(client, supervisor):
    case = incident()
    client.force_login(supervisor)
    page = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    assert f'hx-get="{reverse("incidents:presence", args=[case.pk])}"' in page
    assert 'hx-trigger="every 15s"' in page


def test_asking_for_a_hand_over_tells_the_owner_once_and_is_audited(
    client, django_capture_on_commit_callbacks
):
    care = team("Care")
    owner, colleague = manager("owner", of=care), manager("colleague", of=care)
    case = incident(state=IncidentState.ASSIGNED, owner=owner, of=care)
    client.force_login(colleague)
    url = reverse("incidents:ask_hand_over", args=[case.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
        client.post(url)  # a double click
    assert "was asked to hand it over" in response.content.decode()
    notifications = Notification.objects.filter(user=owner)
    assert notifications.count() == 1
    assert "colleague asks you to hand over incident" in notifications.get().title
    assert notifications.get().url == reverse("incidents:detail", args=[case.pk])
    assert (
        AuditEvent.objects.filter(verb="incident.hand_over_request", actor=colleague).count() == 2
    )
    case.refresh_from_db()
    assert case.owner == owner  # asking changes nothing until the owner hands it over


def test_asking_for_a_hand_over_of_an_unowned_incident_is_refused():
    care = team("Care")
    case = incident(state=IncidentState.NEW, of=care)
    with pytest.raises(InvalidTransition):
        presence.request_hand_over(actor=manager("cm", of=care), incident=case, now=NOW)
    assert not Notification.objects.exists()


def test_the_owner_cannot_ask_themselves_for_a_hand_over():
    care = team("Care")
    owner = manager("owner", of=care)
    case = incident(state=IncidentState.ASSIGNED, owner=owner, of=care)
    with pytest.raises(InvalidTransition):
        presence.request_hand_over(actor=owner, incident=case, now=NOW)


def test_the_presence_poll_costs_no_query_beyond_sign_in_and_the_incident(client, supervisor):
    case = incident()
    client.force_login(supervisor)
    url = reverse("incidents:presence", args=[case.pk])
    client.get(url, headers={"HX-Request": "true"})
    with CaptureQueriesContext(connection) as queries:
        client.get(url, headers={"HX-Request": "true"})
    tables = [query["sql"].split(" FROM ")[1].split()[0] for query in queries.captured_queries]
    assert '"protocols_crisissuggestion"' not in tables
    assert len(queries) <= 5  # session, user, two permission lookups, the incident
