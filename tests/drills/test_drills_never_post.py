"""A drill never reaches a platform: its replies, statements and moderation are carried out by
hand, even where the source has a working publishing account. Proved against the platform
simulator over real HTTP on loopback: the simulator records no write at all."""

from datetime import timedelta

import pytest
from django.urls import reverse

from crisis.replies import moderation, sending
from crisis.replies.models import ModerationAction, ReplyState
from crisis.rooms import publishing
from crisis.rooms import statement as statements
from crisis.rooms.models import CabinetRole, Publication, PublicationState
from crisis.rooms.publishing import PublishingError
from monitoring.platforms import Platform
from monitoring.simulator.world import World
from tests.incidents.factories import NOW
from tests.replies import sending_factories as make
from tests.rooms.factories import a_crisis, cabinet_member_user, crisis_supervisor, seat

pytestmark = pytest.mark.django_db

DRILL = "drill:41"
LATER = NOW + timedelta(minutes=5)
TEXT = "Brisa: a billing fault charged some customers twice. Refunds by Friday."


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(7, NOW - timedelta(hours=4), hours=3, crisis_at_minutes=30)


@pytest.fixture
def simulator(world: World):
    with make.brand_simulator(world) as server:
        yield server


def brand_account(simulator, monkeypatch, *, sources=()):
    """The brand's Mastodon account on the simulator, with its token: Calma could post."""
    name, secret, handle = make.SIMULATOR_SECRETS[Platform.MASTODON]
    account = make.account(
        Platform.MASTODON,
        base_url=simulator.url(Platform.MASTODON),
        handle=handle,
        sources=sources,
    )
    monkeypatch.setenv(f"CALMA_SECRET_{account.credentials_ref}_{name.upper()}", secret)
    return account


def as_drill(incident):
    incident.origin = DRILL
    incident.save(update_fields=["origin"])
    mention = incident.first_mention
    mention.origin = DRILL
    mention.save(update_fields=["origin"])
    return incident


def simulated_case(simulator, monkeypatch, platform, owner):
    """An incident on a post the simulator serves, whose source has the brand's working
    account: live, Calma would answer it through the platform."""
    found_by, account = make.simulator_account(simulator, platform, monkeypatch)
    return make.case_for(make.polled_mention(simulator, found_by), owner=owner), account


def no_writes(simulator) -> bool:
    return simulator.writes.replies() == [] and simulator.writes.statuses("mastodon") == []


# --- replies -----------------------------------------------------------------------------------
def test_a_drill_reply_is_never_posted_even_with_a_working_account(simulator, monkeypatch, manager):
    incident, account = simulated_case(simulator, monkeypatch, Platform.MASTODON, manager)
    live = make.approved_reply(incident, by=manager)
    assert sending.posting_account(live) == account  # live, Calma would post it
    live.delete()

    reply = make.approved_reply(as_drill(incident), by=manager)
    assert not sending.can_post(reply)
    sending.after_approval(reply=reply, now=NOW)
    reply.refresh_from_db()
    assert reply.account is None and reply.state == ReplyState.APPROVED
    with pytest.raises(sending.SendingError, match="drill"):
        sending.retry_send(actor=manager, reply=reply, now=NOW)
    assert no_writes(simulator)


def test_a_drill_reply_claimed_with_an_account_is_handed_to_a_person_not_posted(
    simulator, monkeypatch, manager
):
    # Defence in depth: even a reply that reached the send task with an account set (a
    # stale queue) is handed over, never posted.
    incident, account = simulated_case(simulator, monkeypatch, Platform.MASTODON, manager)
    reply = make.approved_reply(as_drill(incident), by=manager, account=account)
    sending.send_reply(reply_id=reply.pk, now=LATER)
    reply.refresh_from_db()
    assert reply.state == ReplyState.APPROVED and sending.can_mark_sent(reply)
    assert no_writes(simulator)
    sending.mark_sent_by_hand(actor=manager, reply=reply, url="https://calma.example/d", now=LATER)
    reply.refresh_from_db()
    assert reply.state == ReplyState.SENT and reply.sent_by_hand


def test_the_reply_panel_of_a_drill_says_nothing_is_posted(client, manager):
    incident = as_drill(make.case_on(make.source(Platform.FEED), owner=manager))
    reply = make.approved_reply(incident, by=manager)
    client.force_login(manager)
    page = client.get(reverse("replies:send_status", args=[reply.pk])).content.decode()
    assert "never posts a drill" in page
    assert "mark-sent-form" in page


# --- moderation --------------------------------------------------------------------------------
def test_a_drill_mention_is_never_removed_through_the_platform(simulator, monkeypatch, manager):
    incident, _account = simulated_case(simulator, monkeypatch, Platform.REDDIT, manager)
    mention = incident.first_mention
    assert moderation.platform_write(mention, ModerationAction.HIDE) is not None  # live
    as_drill(incident)
    mention.refresh_from_db()
    assert moderation.platform_write(mention, ModerationAction.HIDE) is None


# --- statements --------------------------------------------------------------------------------
@pytest.fixture
def drill_statement():
    crisis = a_crisis(level=2, commander=crisis_supervisor("drill-commander"))
    crisis.origin = DRILL
    crisis.save(update_fields=["origin"])
    spokesperson = cabinet_member_user("drill-spoke")
    seat(crisis, spokesperson, "communications", CabinetRole.SPOKESPERSON)
    draft = statements.start_statement_version(actor=spokesperson, crisis=crisis, now=NOW)
    draft = statements.save_statement(
        actor=spokesperson, version=draft, text=TEXT, channel_texts={}, now=NOW
    )
    statements.submit_statement(actor=spokesperson, version=draft, now=NOW)
    version = statements.approve_statement(
        actor=crisis_supervisor("drill-approver"), version=draft, role="supervisor", now=NOW
    )
    return crisis, spokesperson, version


def test_a_drill_statement_is_never_published_through_a_platform(
    simulator, monkeypatch, drill_statement
):
    crisis, spokesperson, version = drill_statement
    account = brand_account(simulator, monkeypatch)
    mastodon = Publication.objects.get(version=version, channel="mastodon")
    assert publishing.posting_account(Platform.MASTODON) == account  # live, Calma would post
    lines = publishing.checklist(list(version.publications.all()), crisis, spokesperson)
    assert lines and not any(line.can_publish for line in lines)
    assert all(line.can_mark for line in lines)
    with pytest.raises(PublishingError, match="drill"):
        publishing.publish_through_connector(actor=spokesperson, publication=mastodon, now=NOW)

    # Even a publication that reached the task with an account is handed to a person.
    Publication.objects.filter(pk=mastodon.pk).update(account=account)
    handed = publishing.publish_statement(publication_id=mastodon.pk, now=LATER)
    assert handed.state != PublicationState.PUBLISHED
    assert no_writes(simulator)
    published = publishing.mark_published(
        actor=spokesperson, publication=handed, url="https://calma.example/drill", now=LATER
    )
    assert published.state == PublicationState.PUBLISHED
