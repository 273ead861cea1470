"""Incident services tell people after the commit: the new owner, the supervisors, nobody for
a run's incident; an opened live incident is handed to routing by task name."""

import json
from datetime import timedelta

import pytest

from crisis.incidents import services
from crisis.incidents.models import IncidentState
from crisis.notifications.models import Notification
from tests.incidents.factories import NOW, incident, manager, scored_mention

pytestmark = pytest.mark.django_db

LATER = NOW + timedelta(minutes=5)


def test_assigning_tells_the_new_owner_after_the_commit(
    supervisor, django_capture_on_commit_callbacks
):
    owner = manager("owner")
    case = incident(state=IncidentState.NEW)
    with django_capture_on_commit_callbacks(execute=True):
        services.assign_incident(actor=supervisor, incident=case, to_user=owner, now=LATER)
    note = Notification.objects.get(user=owner)
    assert (note.kind, note.title) == ("assigned", f"Incident #{case.pk} assigned to you")


def test_taking_an_incident_tells_nobody(django_capture_on_commit_callbacks):
    taker = manager("taker")
    with django_capture_on_commit_callbacks(execute=True):
        services.take_incident(actor=taker, incident=incident(), now=LATER)
    assert not Notification.objects.exists()


def test_escalating_tells_every_supervisor_but_the_one_escalating(
    supervisor, django_capture_on_commit_callbacks
):
    owner = manager("owner")
    case = incident(state=IncidentState.ASSIGNED, owner=owner)
    with django_capture_on_commit_callbacks(execute=True):
        services.escalate_incident(actor=owner, incident=case, note="lawyer", now=LATER)
    assert list(Notification.objects.values_list("user__username", "kind")) == [
        ("boss", "escalation")
    ]


def test_a_runs_incident_never_reaches_anyones_bell(supervisor, django_capture_on_commit_callbacks):
    owner = manager("owner")
    case = incident(state=IncidentState.NEW)
    case.origin = "run:3"
    case.save(update_fields=["origin"])
    with django_capture_on_commit_callbacks(execute=True):
        services.assign_incident(actor=supervisor, incident=case, to_user=owner, now=LATER)
    assert list(Notification.objects.values_list("origin", "emailed_at")) == [("run:3", None)]


def test_a_live_incident_is_handed_to_routing_after_the_commit(
    redis_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.handle_scored_mentions(mention_ids=[scored_mention().pk], now=NOW)
    # Routing, crisis rooms (an opened incident joins the open crises on its topic), and the
    # board's incident hours (crisis.board.incident_rollups).
    assert len(callbacks) == 3
    queued = sorted(
        json.loads(message)["headers"]["task"] for message in redis_client.lrange("celery", 0, -1)
    )
    assert queued == ["crisis.incidents.tasks.route_incident", "crisis.rooms.tasks.link_incident"]


def test_a_runs_incident_is_not_routed(redis_client, django_capture_on_commit_callbacks):
    drill = scored_mention(origin="run:3")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.handle_scored_mentions(mention_ids=[drill.pk], now=NOW)
    assert callbacks == []
