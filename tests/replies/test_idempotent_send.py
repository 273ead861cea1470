"""Acceptance 1, idempotent send: the simulator accepts a reply and drops the connection before
answering; the send task retries, and the simulator holds exactly one reply, on Mastodon
(the same Idempotency-Key) and on Bluesky and Reddit (the retry finds its own reply on the
thread first). Plus the other outcomes of a real send over loopback HTTP: permanent and
exhausted failures, corrections edited in place or posted anew, and deletion."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crisis.incidents.models import Incident, IncidentState
from crisis.models import AuditEvent
from crisis.notifications.models import Notification, NotificationKind
from crisis.replies import sending
from crisis.replies.models import Reply, ReplyPurpose, ReplyState
from crisis.replies.tasks_sending import SEND_MAX_RETRIES, send_reply
from monitoring.connectors import bluesky
from monitoring.platforms import Platform
from monitoring.simulator.world import World
from tests.incidents.factories import NOW
from tests.replies import sending_factories as make

START = NOW - timedelta(hours=4)
TEXT = "Hola, sentimos mucho el doble cargo. Te escribimos por privado para devolvértelo hoy."


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(7, START, hours=3, chatter_per_hour=60, crisis_at_minutes=30)


@pytest.fixture
def simulator(world: World):
    with make.brand_simulator(world) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_bluesky_sessions():
    bluesky.forget_sessions()
    yield
    bluesky.forget_sessions()


def verbs(target) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type=target._meta.label_lower, object_id=str(target.pk))
        .order_by("pk")
        .values_list("verb", flat=True)
    )


def approved_on(simulator, platform, monkeypatch, owner, *, queued: bool = True) -> Reply:
    """An approved reply to a mention polled from the simulator; `queued`: its account fixed
    as approval does when Calma can post it."""
    found_by, account = make.simulator_account(simulator, platform, monkeypatch)
    mention = make.polled_mention(simulator, found_by)
    incident = make.case_for(mention, owner=owner)
    return make.approved_reply(incident, by=owner, text=TEXT, account=account if queued else None)


def ours(simulator, platform) -> list[dict]:
    return simulator.writes.replies(platform)


# --- acceptance 1 -------------------------------------------------------------------------------
@pytest.mark.parametrize("platform", [Platform.MASTODON, Platform.BLUESKY, Platform.REDDIT])
def test_accepted_then_dropped_send_is_retried_and_posts_exactly_one_reply(
    simulator, platform, monkeypatch, manager, db
):
    reply = approved_on(simulator, platform, monkeypatch, manager)
    simulator.add_fault("accept-then-drop", platform, count=1)

    # The task as the worker runs it: the first attempt raises the transient error and the
    # task's declared autoretry runs the next attempt (eagerly: no countdown to wait).
    send_reply.apply(args=[reply.pk])

    reply.refresh_from_db()
    [posted] = ours(simulator, platform)
    [written] = simulator.writes.log(platform, "reply")
    assert written["dropped"] is True  # the first answer never reached Calma
    assert posted["in_reply_to"] == reply.in_reply_to.external_id
    assert posted["text"].endswith(TEXT)  # Mastodon addresses the author first
    assert reply.state == ReplyState.SENT
    assert reply.send_attempts == 2
    assert reply.external_id == posted["external_id"]
    assert reply.url.startswith("http")
    assert verbs(reply) == ["reply.send_started", "reply.send_started", "reply.sent"]
    sent = AuditEvent.objects.get(verb="reply.sent")
    assert sent.after["how"] == ("posted" if platform == Platform.MASTODON else "found")
    incident = Incident.objects.get(pk=reply.incident_id)
    assert incident.state == IncidentState.REPLIED
    assert incident.first_response_at is not None


def test_a_real_worker_sends_after_approval_and_retries_a_dropped_answer(
    simulator, monkeypatch, celery_worker, manager
):
    """The whole path on a real worker: approval hands the reply over after its commit, the
    worker's first post is accepted and dropped, the declared retry posts again with the same
    Idempotency-Key, and the incident is replied once."""
    reply = approved_on(simulator, Platform.MASTODON, monkeypatch, manager, queued=False)
    simulator.add_fault("accept-then-drop", Platform.MASTODON, count=1)
    from django.db import transaction

    with transaction.atomic():
        sending.after_approval(reply=reply, now=timezone.now())

    deadline = time.monotonic() + 30
    while Reply.objects.get(pk=reply.pk).state != ReplyState.SENT:
        assert time.monotonic() < deadline, Reply.objects.get(pk=reply.pk).last_error
        time.sleep(0.2)
    reply.refresh_from_db()
    assert len(ours(simulator, Platform.MASTODON)) == 1
    assert len(simulator.writes.log(Platform.MASTODON, "reply")) == 1
    assert reply.send_attempts == 2
    assert Incident.objects.get(pk=reply.incident_id).state == IncidentState.REPLIED


# --- failures -------------------------------------------------------------------------------------
def test_refused_credentials_fail_at_once_and_tell_the_drafter_and_owner(
    simulator, monkeypatch, manager, supervisor, db, django_capture_on_commit_callbacks
):
    found_by, account = make.simulator_account(
        simulator, Platform.MASTODON, monkeypatch, secret="a-token-the-instance-never-issued"
    )
    incident = make.case_for(make.polled_mention(simulator, found_by), owner=manager)
    reply = make.approved_reply(incident, by=supervisor, text=TEXT, account=account)
    with django_capture_on_commit_callbacks(execute=True):
        send_reply.apply(args=[reply.pk])
    reply.refresh_from_db()
    assert reply.state == ReplyState.FAILED
    assert reply.send_attempts == 1  # a permanent error is not retried
    assert reply.last_error == sending.ERROR_CREDENTIALS
    assert "a-token-the-instance-never-issued" not in str(
        AuditEvent.objects.filter(verb="reply.send_failed").values_list("after", flat=True)
    )
    told = set(
        Notification.objects.filter(kind=NotificationKind.REPLY_FAILED).values_list(
            "user__username", flat=True
        )
    )
    assert told == {manager.username, supervisor.username}
    assert ours(simulator, Platform.MASTODON) == []


def test_a_platform_that_keeps_failing_ends_failed_after_the_declared_retries(
    simulator, monkeypatch, manager, db, client
):
    reply = approved_on(simulator, Platform.REDDIT, monkeypatch, manager)
    simulator.add_fault("500", Platform.REDDIT, probability=1.0)
    send_reply.apply(args=[reply.pk])
    reply.refresh_from_db()
    assert reply.state == ReplyState.FAILED
    assert reply.send_attempts == SEND_MAX_RETRIES + 1
    assert reply.last_error == sending.ERROR_UNAVAILABLE
    client.force_login(manager)
    page = client.get(reverse("replies:send_status", args=[reply.pk])).content.decode()
    assert reverse("replies:send_retry", args=[reply.pk]) in page

    # The platform is back: the retry button sends it (looking for it on the thread first).
    simulator.clear_faults()
    sending.retry_send(actor=manager, reply=reply, now=timezone.now())
    send_reply.apply(args=[reply.pk])
    reply.refresh_from_db()
    assert reply.state == ReplyState.SENT
    assert len(ours(simulator, Platform.REDDIT)) == 1
    assert "reply.retry" in verbs(reply)


# --- corrections and deletions ------------------------------------------------------------------
def sent_through_calma(simulator, platform, monkeypatch, owner) -> Reply:
    reply = approved_on(simulator, platform, monkeypatch, owner)
    send_reply.apply(args=[reply.pk])
    reply.refresh_from_db()
    assert reply.state == ReplyState.SENT
    return reply


def approve_correction(correction: Reply) -> None:
    """What approvals does once the correction is approved (drafting and approving are the
    drafts slice's tests)."""
    Reply.objects.filter(pk=correction.pk).update(state=ReplyState.APPROVED, approved_at=NOW)
    correction.refresh_from_db()
    sending.after_approval(reply=correction, now=NOW)


def test_a_correction_edits_the_original_post_in_place_where_the_platform_can(
    simulator, monkeypatch, manager, db
):
    wrong = sent_through_calma(simulator, Platform.MASTODON, monkeypatch, manager)
    correction = sending.correct_sent_reply(
        actor=manager, reply=wrong, text="Hola, corregimos: el reembolso llega mañana.", now=NOW
    )
    approve_correction(correction)
    send_reply.apply(args=[correction.pk])
    correction.refresh_from_db()
    [posted] = ours(simulator, Platform.MASTODON)
    assert posted["text"].endswith("Hola, corregimos: el reembolso llega mañana.")
    assert posted["edited_at"] is not None
    assert correction.state == ReplyState.SENT
    assert correction.external_id == wrong.external_id
    assert (
        AuditEvent.objects.filter(verb="reply.sent").order_by("pk").last().after["how"] == "edited"
    )


def test_a_correction_is_posted_anew_where_the_platform_cannot_edit(
    simulator, monkeypatch, manager, db
):
    wrong = sent_through_calma(simulator, Platform.BLUESKY, monkeypatch, manager)
    correction = sending.correct_sent_reply(
        actor=manager, reply=wrong, text="Corregimos: el reembolso llega mañana.", now=NOW
    )
    assert correction.purpose == ReplyPurpose.CORRECTION
    approve_correction(correction)
    send_reply.apply(args=[correction.pk])
    correction.refresh_from_db()
    assert correction.state == ReplyState.SENT
    assert correction.external_id != wrong.external_id
    assert len(ours(simulator, Platform.BLUESKY)) == 2


def test_deleting_a_sent_reply_on_the_platform_is_justified_and_audited(
    simulator, monkeypatch, manager, db, client
):
    wrong = sent_through_calma(simulator, Platform.MASTODON, monkeypatch, manager)
    client.force_login(manager)
    confirm = client.get(reverse("replies:send_delete", args=[wrong.pk])).content.decode()
    assert "Delete it on the platform" in confirm
    response = client.post(
        reverse("replies:send_delete", args=[wrong.pk]),
        {"justification": "Answered the wrong customer"},
    )
    assert response.status_code == 302
    wrong.refresh_from_db()
    assert wrong.state == ReplyState.DELETED
    [posted] = ours(simulator, Platform.MASTODON)
    assert posted["deleted"] is True
    event = AuditEvent.objects.get(verb="reply.deleted")
    assert event.after["justification"] == "Answered the wrong customer"
    assert event.after["by_hand"] is False


def test_a_retried_correction_never_doubles_a_post_even_with_unchanged_text(
    simulator, monkeypatch, manager, db
):
    wrong = sent_through_calma(simulator, Platform.BLUESKY, monkeypatch, manager)
    correction = sending.correct_sent_reply(actor=manager, reply=wrong, now=NOW)
    assert correction.text == wrong.text
    approve_correction(correction)
    simulator.add_fault("accept-then-drop", Platform.BLUESKY, count=1)
    send_reply.apply(args=[correction.pk])
    correction.refresh_from_db()
    assert correction.state == ReplyState.SENT
    # The original and the correction the platform accepted before dropping the answer; the
    # retry found a post of ours saying exactly this and posted nothing more.
    assert len(ours(simulator, Platform.BLUESKY)) == 2
