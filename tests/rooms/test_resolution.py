"""Resolution criteria computed from the data (met and not met, with their figures) and who
resolves: only the commander or a supervisor; unmet criteria do not stop them but are kept
in the audit event."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from crisis.incidents.models import IncidentState
from crisis.models import AuditEvent
from crisis.rooms import resolution
from crisis.rooms.crises import CrisisError
from crisis.rooms.models import CabinetRole, CrisisStatus, TaskStatus
from tests.incidents.factories import NOW
from tests.rooms.factories import a_crisis, cabinet_member_user, crisis_supervisor, link, seat
from tests.rooms.postmortem_fixtures import (
    commitment,
    incident_on,
    on_topics,
    statement_version,
)

pytestmark = pytest.mark.django_db

DECLARED = NOW
LATER = NOW + timedelta(hours=6)


def by_key(criteria):
    return {item.key: item for item in criteria}


@pytest.fixture
def crisis():
    return a_crisis(topics=("billing",), declared_at=DECLARED)


def usual_week(first_serious):
    """14 mentions in the 7 days before the first serious one: 1/12 an hour, rounded up 1."""
    for day in range(7):
        for hour in (3, 15):
            on_topics(at=first_serious - timedelta(days=day, hours=hour), severity="low")


# --- Volume back to baseline -------------------------------------------------------------------


def test_volume_is_back_when_the_last_hour_is_at_the_usual_rate(crisis):
    first = on_topics(at=DECLARED - timedelta(hours=1), severity="high")
    usual_week(first.published_at)
    on_topics(at=LATER - timedelta(minutes=10), severity="low")
    criterion = resolution.volume_criterion(crisis, now=LATER)
    assert criterion.met is True
    assert criterion.figures["last_hour"] == 1
    assert criterion.figures["usual_per_hour"] == round(14 / 168, 2)
    assert criterion.figures["baseline_before"] == first.published_at.isoformat()


def test_volume_is_not_back_while_the_last_hour_is_above_it(crisis):
    first = on_topics(at=DECLARED - timedelta(hours=1), severity="high")
    usual_week(first.published_at)
    for minutes in (5, 20, 40):
        on_topics(at=LATER - timedelta(minutes=minutes), severity="medium")
    criterion = resolution.volume_criterion(crisis, now=LATER)
    assert criterion.met is False
    assert criterion.figures["last_hour"] == 3
    assert "3 mentions in the last hour" in criterion.detail


def test_volume_counts_a_mention_once_and_ignores_drills_and_other_topics(crisis):
    crisis.topics = ["billing", "cobros"]
    crisis.save()
    on_topics(("billing", "cobros"), at=LATER - timedelta(minutes=5))
    on_topics(at=LATER - timedelta(minutes=5), origin="run:1")
    on_topics(("shipping",), at=LATER - timedelta(minutes=5))
    criterion = resolution.volume_criterion(crisis, now=LATER)
    assert criterion.figures["last_hour"] == 1
    assert criterion.figures["usual_per_hour"] == 0
    assert criterion.met is False  # nothing usual: one mention is still above it


def test_a_crisis_without_topics_has_no_volume_to_measure(crisis):
    crisis.topics = []
    crisis.save()
    assert resolution.volume_criterion(crisis, now=LATER).met is None


# --- Incidents answered ------------------------------------------------------------------------


def test_incidents_are_answered_when_each_had_a_response_or_was_closed(crisis):
    answered = on_topics(at=DECLARED)
    link(crisis, incident_on(answered, first_response_at=DECLARED + timedelta(minutes=5)))
    link(crisis, incident_on(on_topics(at=DECLARED), state=IncidentState.RESOLVED))
    link(crisis, incident_on(on_topics(at=DECLARED), state=IncidentState.CLOSED))
    criterion = resolution.incidents_criterion(crisis)
    assert criterion.met is True
    assert criterion.figures == {"incidents": 3, "unanswered": 0, "unanswered_ids": []}


def test_an_incident_still_awaiting_its_first_response_is_not_answered(crisis):
    link(crisis, incident_on(on_topics(at=DECLARED), first_response_at=DECLARED))
    waiting = incident_on(on_topics(at=DECLARED), state=IncidentState.ASSIGNED)
    link(crisis, waiting)
    criterion = resolution.incidents_criterion(crisis)
    assert criterion.met is False
    assert criterion.figures["unanswered_ids"] == [waiting.pk]
    assert f"#{waiting.pk}" in criterion.detail


# --- Statement published -----------------------------------------------------------------------


def test_the_statement_is_published_when_every_channel_of_the_approved_version_is(crisis):
    statement_version(
        crisis,
        by=crisis.commander,
        approved_at=DECLARED,
        channels={"blog": True, "bluesky": True},
    )
    criterion = resolution.statement_criterion(crisis)
    assert criterion.met is True
    assert criterion.figures == {"approved": 1, "channels": 2, "published": 2}


def test_a_channel_still_to_publish_leaves_the_statement_unpublished(crisis):
    statement_version(
        crisis,
        by=crisis.commander,
        approved_at=DECLARED,
        channels={"blog": True, "bluesky": False},
    )
    criterion = resolution.statement_criterion(crisis)
    assert criterion.met is False
    assert criterion.figures["published"] == 1


def test_no_approved_statement_is_not_published(crisis):
    statement_version(crisis, by=crisis.commander, approved_at=None)
    assert resolution.statement_criterion(crisis).met is False


# --- Commitments -------------------------------------------------------------------------------


def test_commitments_met_or_redated_pass_and_an_overdue_one_does_not(crisis):
    version = statement_version(crisis, by=crisis.commander, approved_at=DECLARED)
    boss = crisis.commander
    commitment(version, by=boss, due_at=DECLARED + timedelta(hours=1), status=TaskStatus.DONE)
    commitment(
        version,
        by=boss,
        due_at=DECLARED + timedelta(hours=1),
        task_due_at=LATER + timedelta(days=2),  # re-dated
    )
    criterion = resolution.commitments_criterion(crisis, now=LATER)
    assert criterion.met is True
    assert criterion.figures == {"commitments": 2, "met": 1, "redated": 1, "overdue": 0}

    commitment(version, by=boss, due_at=DECLARED + timedelta(hours=2))  # due 12:00, now 16:00
    criterion = resolution.commitments_criterion(crisis, now=LATER)
    assert criterion.met is False
    assert criterion.figures["overdue"] == 1


def test_all_four_criteria_are_computed_in_order(crisis):
    keys = [item.key for item in resolution.resolution_criteria(crisis, now=LATER)]
    assert keys == ["volume", "incidents", "statement", "commitments"]


# --- Resolving ---------------------------------------------------------------------------------


def test_the_commander_resolves_with_unmet_criteria_recorded(crisis):
    link(crisis, incident_on(on_topics(at=DECLARED), state=IncidentState.ASSIGNED))
    on_topics(at=LATER - timedelta(minutes=3))  # still above its (empty) usual rate
    resolved = resolution.resolve_crisis(
        actor=crisis.commander, crisis=crisis, note="Refunds are out.", now=LATER
    )
    assert resolved.status == CrisisStatus.RESOLVED
    assert resolved.resolved_at == LATER
    assert resolved.resolved_by == crisis.commander
    event = AuditEvent.objects.get(verb="crisis.resolve", object_id=str(crisis.pk))
    assert event.object_type == "rooms.crisis"
    assert event.after["note"] == "Refunds are out."
    assert set(event.after["unmet"]) == {"volume", "incidents", "statement"}
    assert event.after["criteria"]["incidents"]["unanswered"] == 1
    assert event.before == {"status": "active"}


def test_a_supervisor_who_is_not_the_commander_resolves_a_contained_crisis(crisis):
    crisis.status = CrisisStatus.CONTAINED
    crisis.save()
    other = crisis_supervisor("other-boss")
    resolved = resolution.resolve_crisis(actor=other, crisis=crisis, now=LATER)
    assert resolved.status == CrisisStatus.RESOLVED
    assert resolved.resolved_by == other


@pytest.mark.parametrize("who", ["spokesperson", "member", "executive", "manager"])
def test_only_the_commander_or_a_supervisor_resolves(crisis, who, executive, manager):
    person = {"executive": executive, "manager": manager}.get(who)
    if person is None:
        person = cabinet_member_user(f"seat-{who}")
        seat(
            crisis, person, "legal", CabinetRole.SPOKESPERSON if who == "spokesperson" else "member"
        )
    with pytest.raises(PermissionDenied):
        resolution.resolve_crisis(actor=person, crisis=crisis, now=LATER)
    crisis.refresh_from_db()
    assert crisis.status == CrisisStatus.ACTIVE
    assert not AuditEvent.objects.filter(verb="crisis.resolve").exists()


def test_a_resolved_crisis_is_not_resolved_twice(crisis):
    resolution.resolve_crisis(actor=crisis.commander, crisis=crisis, now=LATER)
    with pytest.raises(CrisisError):
        resolution.resolve_crisis(actor=crisis.commander, crisis=crisis, now=LATER)
    assert AuditEvent.objects.filter(verb="crisis.resolve").count() == 1


def test_the_note_is_cleaned_and_bounded(crisis):
    resolution.resolve_crisis(
        actor=crisis.commander, crisis=crisis, note="  ok\x00" + "x" * 5000, now=LATER
    )
    event = AuditEvent.objects.get(verb="crisis.resolve")
    assert event.after["note"].startswith("okx")
    assert len(event.after["note"]) == resolution.NOTE_MAX_LENGTH
