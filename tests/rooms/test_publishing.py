"""The publication checklist of the approved statement: by hand with its link, or through the
platform's connector against the simulator over loopback HTTP (Mastodon with its idempotency
key, Bluesky finding its own post), exactly one post even after a retry, failures kept with a
retry, accounts that can no longer post, and the sweep of stuck publications."""

import time
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crisis.models import AuditEvent
from crisis.rooms import publishing
from crisis.rooms import statement as statements
from crisis.rooms.models import CabinetRole, Publication, PublicationState, StatementState
from crisis.rooms.publishing import PublishingError
from crisis.rooms.tasks_statement import PUBLISH_MAX_RETRIES, publish_statement
from monitoring.connectors import bluesky
from monitoring.connectors.base import TransientError
from monitoring.platforms import Platform
from monitoring.simulator.world import World
from tests.incidents.factories import NOW
from tests.replies import sending_factories as make
from tests.rooms.factories import a_crisis, cabinet_member_user, crisis_supervisor, seat

pytestmark = pytest.mark.django_db

START = NOW - timedelta(hours=4)
TEXT = "Brisa: since 9:00 a billing fault charged some customers twice. Refunds by Friday."
LATER = NOW + timedelta(minutes=5)


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


@pytest.fixture
def crisis():
    return a_crisis(level=2, commander=crisis_supervisor("commander-boss"))


@pytest.fixture
def spokesperson(crisis):
    person = cabinet_member_user("spoke")
    seat(crisis, person, "communications", CabinetRole.SPOKESPERSON)
    return person


@pytest.fixture
def version(crisis, spokesperson):
    approver = crisis_supervisor("approver-boss")
    draft = statements.start_statement_version(actor=spokesperson, crisis=crisis, now=NOW)
    draft = statements.save_statement(
        actor=spokesperson,
        version=draft,
        text=TEXT,
        channel_texts={"bluesky": "Billing fault: refunds by Friday."},
        now=NOW,
    )
    statements.submit_statement(actor=spokesperson, version=draft, now=NOW)
    return statements.approve_statement(actor=approver, version=draft, role="supervisor", now=NOW)


def line(version, channel: str) -> Publication:
    return Publication.objects.get(version=version, channel=channel)


def simulator_account(simulator, platform, monkeypatch, *, secret=None):
    name, accepted, handle = make.SIMULATOR_SECRETS[platform]
    account = make.account(platform, base_url=simulator.url(platform), handle=handle)
    monkeypatch.setenv(f"CALMA_SECRET_{account.credentials_ref}_{name.upper()}", secret or accepted)
    return account


def verbs(crisis) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="rooms.crisis", object_id=str(crisis.pk))
        .order_by("pk")
        .values_list("verb", flat=True)
    )


# --- By hand -------------------------------------------------------------------------------------
def test_a_channel_marked_published_by_hand_keeps_its_link(crisis, spokesperson, version):
    blog = line(version, "blog")
    blog = publishing.mark_published(
        actor=spokesperson, publication=blog, url=" https://blog.example/statement ", now=LATER
    )
    assert blog.state == PublicationState.PUBLISHED
    assert blog.url == "https://blog.example/statement"
    assert blog.published_by == spokesperson and blog.published_at == LATER
    event = AuditEvent.objects.filter(verb="crisis.statement_published").get()
    assert event.object_id == str(crisis.pk)
    assert event.after["channel"] == "blog" and event.after["by_hand"] is True


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://blog.example/x", "blog.example", "", "https://"]
)
def test_only_http_links_are_kept(spokesperson, version, url):
    with pytest.raises(ValidationError):
        publishing.mark_published(
            actor=spokesperson, publication=line(version, "blog"), url=url, now=LATER
        )
    assert line(version, "blog").state == PublicationState.PENDING


def test_a_member_of_the_cabinet_marks_it_and_an_executive_cannot(crisis, version, executive):
    member = cabinet_member_user("member")
    seat(crisis, member, "customer_service")
    publishing.mark_published(
        actor=member, publication=line(version, "video"), url="https://video.example/1", now=LATER
    )
    with pytest.raises(PermissionDenied):
        publishing.mark_published(
            actor=executive, publication=line(version, "blog"), url="https://b.example", now=LATER
        )


def test_a_channel_is_marked_once(spokesperson, version):
    blog = line(version, "blog")
    publishing.mark_published(
        actor=spokesperson, publication=blog, url="https://blog.example/1", now=LATER
    )
    with pytest.raises(PublishingError, match="published"):
        publishing.mark_published(
            actor=spokesperson, publication=blog, url="https://blog.example/2", now=LATER
        )


def test_a_superseded_version_is_not_published(crisis, spokesperson, version):
    update = statements.start_statement_version(actor=spokesperson, crisis=crisis, now=LATER)
    update = statements.save_statement(
        actor=spokesperson, version=update, text=TEXT + " Fixed.", channel_texts={}, now=LATER
    )
    statements.submit_statement(actor=spokesperson, version=update, now=LATER)
    statements.approve_statement(
        actor=crisis.commander, version=update, role="supervisor", now=LATER
    )
    with pytest.raises(PublishingError, match="no longer"):
        publishing.mark_published(
            actor=spokesperson,
            publication=line(version, "blog"),
            url="https://b.example",
            now=LATER,
        )


# --- Through the connector -----------------------------------------------------------------------
def test_two_channels_one_by_hand_one_through_the_simulator(
    simulator, monkeypatch, crisis, spokesperson, version
):
    """Acceptance: the blog marked by hand, Mastodon posted by Calma; the simulator records
    exactly one top-level post with the statement."""
    account = simulator_account(simulator, Platform.MASTODON, monkeypatch)
    publishing.mark_published(
        actor=spokesperson, publication=line(version, "blog"), url="https://blog.example/s", now=NOW
    )
    mastodon = publishing.publish_through_connector(
        actor=spokesperson, publication=line(version, "mastodon"), now=NOW
    )
    assert mastodon.account == account and mastodon.state == PublicationState.PENDING

    published = publishing.publish_statement(publication_id=mastodon.pk, now=LATER)

    assert published.state == PublicationState.PUBLISHED
    [status] = simulator.writes.statuses("mastodon")
    assert status["text"] == TEXT and status["in_reply_to"] == ""
    assert published.external_id == status["external_id"]
    assert published.url.startswith(simulator.url("mastodon"))
    assert simulator.writes.replies() == []
    [record] = simulator.writes.log("mastodon", "status")
    assert record["idempotency_key"] == publishing.idempotency_key(published)
    assert verbs(crisis)[-4:] == [
        "crisis.statement_published",
        "crisis.statement_publish_requested",
        "crisis.statement_publish_started",
        "crisis.statement_published",
    ]
    states = dict(Publication.objects.values_list("channel", "state"))
    assert states["blog"] == states["mastodon"] == PublicationState.PUBLISHED


def test_a_dropped_answer_is_retried_and_posts_exactly_once_on_mastodon(
    simulator, monkeypatch, spokesperson, version
):
    simulator_account(simulator, Platform.MASTODON, monkeypatch)
    mastodon = publishing.publish_through_connector(
        actor=spokesperson, publication=line(version, "mastodon"), now=NOW
    )
    simulator.add_fault("accept-then-drop", "mastodon", count=1)

    with pytest.raises(TransientError):
        publishing.publish_statement(publication_id=mastodon.pk, now=NOW)
    mastodon.refresh_from_db()
    assert mastodon.state == PublicationState.PUBLISHING
    assert mastodon.publishing_started_at is None  # handed back, waiting for the retry
    assert mastodon.last_error == publishing.ERROR_RETRYING

    published = publishing.publish_statement(publication_id=mastodon.pk, now=LATER)

    assert published.state == PublicationState.PUBLISHED and published.publish_attempts == 2
    assert len(simulator.writes.statuses("mastodon")) == 1
    [record] = simulator.writes.log("mastodon", "status")
    assert record["dropped"] and record["replays"] == 1
    # A duplicated task message finds it published and does nothing more.
    assert publishing.publish_statement(publication_id=mastodon.pk, now=LATER) is None
    assert len(simulator.writes.statuses("mastodon")) == 1


def test_a_dropped_answer_on_bluesky_finds_its_own_post_instead_of_posting_again(
    simulator, monkeypatch, spokesperson, version
):
    simulator_account(simulator, Platform.BLUESKY, monkeypatch)
    sky = publishing.publish_through_connector(
        actor=spokesperson, publication=line(version, "bluesky"), now=NOW
    )
    simulator.add_fault("accept-then-drop", "bluesky", count=1)
    with pytest.raises(TransientError):
        publishing.publish_statement(publication_id=sky.pk, now=NOW)

    published = publishing.publish_statement(publication_id=sky.pk, now=LATER)

    [status] = simulator.writes.statuses("bluesky")
    assert status["text"] == "Billing fault: refunds by Friday."  # the channel's own text
    assert published.state == PublicationState.PUBLISHED
    assert published.external_id == status["external_id"]
    assert published.url.startswith("https://bsky.app/profile/brisa.bsky.social/post/")
    event = AuditEvent.objects.filter(verb="crisis.statement_published").last()
    assert event.after["how"] == "found"


def test_the_tasks_last_retry_records_the_failure_instead_of_raising(
    simulator, monkeypatch, spokesperson, version
):
    simulator_account(simulator, Platform.MASTODON, monkeypatch)
    mastodon = publishing.publish_through_connector(
        actor=spokesperson, publication=line(version, "mastodon"), now=NOW
    )
    simulator.add_fault("500", "mastodon", count=PUBLISH_MAX_RETRIES + 1)
    # The worker's last retry: the failure is recorded instead of raised.
    publish_statement.apply(args=[mastodon.pk], retries=PUBLISH_MAX_RETRIES, throw=True)
    mastodon.refresh_from_db()
    assert mastodon.state == PublicationState.FAILED
    assert mastodon.last_error == publishing.ERROR_UNAVAILABLE
    assert simulator.writes.statuses() == []


def test_a_refused_token_fails_at_once_and_can_be_tried_again(
    simulator, monkeypatch, spokesperson, version
):
    account = simulator_account(
        simulator, Platform.MASTODON, monkeypatch, secret="not-the-brands-token-000000"
    )
    mastodon = publishing.publish_through_connector(
        actor=spokesperson, publication=line(version, "mastodon"), now=NOW
    )
    failed = publishing.publish_statement(publication_id=mastodon.pk, now=NOW)
    assert failed.state == PublicationState.FAILED
    assert failed.last_error == publishing.ERROR_CREDENTIALS
    event = AuditEvent.objects.filter(verb="crisis.statement_publish_failed").get()
    assert event.after["detail"].endswith("HTTP 401")
    # An admin fixes the secret; the person tries again.
    name, accepted, _handle = make.SIMULATOR_SECRETS[Platform.MASTODON]
    monkeypatch.setenv(f"CALMA_SECRET_{account.credentials_ref}_{name.upper()}", accepted)
    publishing.publish_through_connector(actor=spokesperson, publication=failed, now=LATER)
    published = publishing.publish_statement(publication_id=failed.pk, now=LATER)
    assert published.state == PublicationState.PUBLISHED
    assert len(simulator.writes.statuses("mastodon")) == 1


def test_an_account_disabled_before_the_post_hands_the_line_back_to_a_person(
    simulator, monkeypatch, spokesperson, version
):
    account = simulator_account(simulator, Platform.MASTODON, monkeypatch)
    mastodon = publishing.publish_through_connector(
        actor=spokesperson, publication=line(version, "mastodon"), now=NOW
    )
    account.enabled = False
    account.save()
    back = publishing.publish_statement(publication_id=mastodon.pk, now=NOW)
    back.refresh_from_db()
    assert back.state == PublicationState.PENDING and back.account is None
    assert back.last_error == publishing.ERROR_CANNOT_POST
    assert simulator.writes.log() == []


def test_channels_without_a_platform_or_an_account_are_published_by_hand(
    monkeypatch, spokesperson, version
):
    with pytest.raises(PublishingError, match="by hand"):
        publishing.publish_through_connector(
            actor=spokesperson, publication=line(version, "blog"), now=NOW
        )
    with pytest.raises(PublishingError, match="by hand"):  # no Mastodon account at all
        publishing.publish_through_connector(
            actor=spokesperson, publication=line(version, "mastodon"), now=NOW
        )
    account = make.account(Platform.MASTODON)  # an account whose secret is not set
    assert publishing.posting_account(Platform.MASTODON) is None
    make.secrets(monkeypatch, account)
    assert publishing.posting_account(Platform.MASTODON) == account
    # Reddit is a channel with a platform, but Calma posts no statement there.
    reddit = make.account(Platform.REDDIT)
    make.secrets(monkeypatch, reddit)
    with pytest.raises(PublishingError, match="by hand"):
        publishing.publish_through_connector(
            actor=spokesperson, publication=line(version, "reddit"), now=NOW
        )


def test_a_queued_line_is_not_queued_twice(monkeypatch, spokesperson, version):
    account = make.account(Platform.MASTODON)
    make.secrets(monkeypatch, account)
    publishing.publish_through_connector(
        actor=spokesperson, publication=line(version, "mastodon"), now=NOW
    )
    with pytest.raises(PublishingError, match="already"):
        publishing.publish_through_connector(
            actor=spokesperson, publication=line(version, "mastodon"), now=NOW
        )


def test_the_idempotency_key_is_stable_per_line(version):
    blog, video = line(version, "blog"), line(version, "video")
    assert publishing.idempotency_key(blog) == publishing.idempotency_key(line(version, "blog"))
    assert publishing.idempotency_key(blog) != publishing.idempotency_key(video)


# --- The sweep -----------------------------------------------------------------------------------
def test_the_sweep_requeues_what_a_dead_worker_or_a_lost_message_left(
    monkeypatch, spokesperson, version, redis_client
):
    account = make.account(Platform.MASTODON)
    make.secrets(monkeypatch, account)
    old = NOW - timedelta(minutes=10)
    Publication.objects.filter(version=version, channel="mastodon").update(
        state=PublicationState.PUBLISHING,
        account=account,
        publishing_started_at=old,
        publish_attempts=1,
        queued_at=old,
    )  # dead worker
    Publication.objects.filter(version=version, channel="bluesky").update(
        account=make.account(Platform.BLUESKY), queued_at=old
    )  # queued, never claimed
    Publication.objects.filter(version=version, channel="reddit").update(
        state=PublicationState.PUBLISHING,
        account=account,
        publishing_started_at=NOW - timedelta(minutes=1),
        publish_attempts=1,
        queued_at=NOW - timedelta(minutes=1),
    )  # in flight: left alone
    assert publishing.sweep_stuck_publications(now=NOW) == 2
    assert len(redis_client.lrange("celery", 0, -1)) == 2
    assert line(version, "mastodon").queued_at == NOW
    assert publishing.sweep_stuck_publications(now=NOW + timedelta(minutes=1)) == 0


def test_the_sweep_gives_up_after_too_many_attempts(monkeypatch, spokesperson, version):
    account = make.account(Platform.MASTODON)
    make.secrets(monkeypatch, account)
    old = NOW - timedelta(hours=1)
    Publication.objects.filter(version=version, channel="mastodon").update(
        state=PublicationState.PUBLISHING,
        account=account,
        publishing_started_at=old,
        publish_attempts=publishing.MAX_ATTEMPTS,
        queued_at=old,
    )
    publishing.sweep_stuck_publications(now=NOW)
    stuck = line(version, "mastodon")
    assert stuck.state == PublicationState.FAILED
    assert stuck.last_error == publishing.ERROR_UNAVAILABLE


def test_a_stuck_claim_is_taken_over_after_the_timeout(
    simulator, monkeypatch, spokesperson, version
):
    simulator_account(simulator, Platform.MASTODON, monkeypatch)
    mastodon = publishing.publish_through_connector(
        actor=spokesperson, publication=line(version, "mastodon"), now=NOW
    )
    Publication.objects.filter(pk=mastodon.pk).update(
        state=PublicationState.PUBLISHING, publishing_started_at=NOW, publish_attempts=1
    )
    assert publishing.publish_statement(publication_id=mastodon.pk, now=NOW) is None  # in flight
    later = NOW + publishing.STUCK_AFTER + timedelta(seconds=1)
    published = publishing.publish_statement(publication_id=mastodon.pk, now=later)
    assert published.state == PublicationState.PUBLISHED and published.publish_attempts == 2


# --- A real worker -------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_publishes_the_queued_line(
    simulator, monkeypatch, celery_worker, transactional_db
):
    commander = crisis_supervisor("worker-boss")
    crisis = a_crisis(commander=commander)
    approver = crisis_supervisor("worker-approver")
    draft = statements.start_statement_version(actor=commander, crisis=crisis, now=NOW)
    draft = statements.save_statement(
        actor=commander, version=draft, text=TEXT, channel_texts={}, now=NOW
    )
    statements.submit_statement(actor=commander, version=draft, now=NOW)
    version = statements.approve_statement(
        actor=approver, version=draft, role="supervisor", now=NOW
    )
    assert version.state == StatementState.APPROVED
    simulator_account(simulator, Platform.MASTODON, monkeypatch)
    publishing.publish_through_connector(
        actor=commander, publication=line(version, "mastodon"), now=NOW
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if line(version, "mastodon").state == PublicationState.PUBLISHED:
            break
        time.sleep(0.1)
    assert line(version, "mastodon").state == PublicationState.PUBLISHED
    assert len(simulator.writes.statuses("mastodon")) == 1
