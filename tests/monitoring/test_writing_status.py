"""Top-level posts as the brand (a crisis statement) through the connectors, against the
simulator over loopback HTTP: Mastodon honours the idempotency key, Bluesky finds its own post
in the account's feed, both stay out of what the pollers read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from monitoring.connectors import base, bluesky, mastodon, writing
from monitoring.connectors.writing import AccountConfig, Unsupported
from monitoring.platforms import QueryKind
from monitoring.simulator.server import SimulatorServer
from monitoring.simulator.world import World

START = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
MASTODON_TOKEN = "mastodon-token-for-the-brand-0001"
BLUESKY_PASSWORD = "abcd-efgh-ijkl-mnop"
ACCOUNTS = {
    "mastodon": {MASTODON_TOKEN: "brisa"},
    "bluesky": {BLUESKY_PASSWORD: "brisa.bsky.social"},
}
STATEMENT = "Brisa: desde las 9:00 un fallo de facturación duplicó cobros. Lo devolvemos hoy."


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(7, START, hours=3, chatter_per_hour=60, crisis_at_minutes=30)


@pytest.fixture
def simulator(world: World):
    with SimulatorServer(
        world, clock=world.crisis_at + timedelta(minutes=60), write_accounts=ACCOUNTS
    ) as server:
        yield server


@pytest.fixture
def session():
    with requests.Session() as http:
        yield http


@pytest.fixture(autouse=True)
def fresh_bluesky_sessions():
    bluesky.forget_sessions()
    yield
    bluesky.forget_sessions()


def account(simulator: SimulatorServer, platform: str, **overrides) -> AccountConfig:
    handle, credentials = {
        "mastodon": ("brisa", {"access_token": MASTODON_TOKEN}),
        "bluesky": ("brisa.bsky.social", {"app_password": BLUESKY_PASSWORD}),
    }[platform]
    return AccountConfig(
        platform=platform,
        base_url=simulator.url(platform),
        handle=handle,
        credentials=overrides.get("credentials", credentials),
    )


def test_status_platforms_are_mastodon_and_bluesky() -> None:
    assert writing.can_post_status("mastodon") and writing.can_post_status("bluesky")
    for platform in ("reddit", "youtube", "feed", "csv", "webhook", ""):
        assert not writing.can_post_status(platform)


@pytest.mark.parametrize("platform", ["reddit", "youtube", "feed"])
def test_status_elsewhere_is_by_hand(platform) -> None:
    config = AccountConfig(platform, "https://example.org", "brisa", {"access_token": "x" * 20})
    with pytest.raises(Unsupported, match="by hand"):
        writing.post_status(config, STATEMENT, idempotency_key="k")


def test_status_without_secret_is_refused_before_any_request(simulator) -> None:
    config = account(simulator, "mastodon", credentials={})
    with pytest.raises(base.PermanentError, match="access_token"):
        writing.post_status(config, STATEMENT, idempotency_key="k")
    assert simulator.writes.log() == []


def test_empty_status_is_refused_before_any_request(simulator) -> None:
    with pytest.raises(base.PermanentError, match="empty"):
        writing.post_status(account(simulator, "mastodon"), " \x00 ", idempotency_key="k")
    assert simulator.writes.log() == []


# --- Mastodon ----------------------------------------------------------------------------------
def test_mastodon_status_is_a_top_level_post(simulator, session) -> None:
    config = account(simulator, "mastodon")

    posted = writing.post_status(config, STATEMENT, idempotency_key="pub-1", session=session)

    assert posted.external_id.isdigit()
    assert posted.url.startswith(simulator.url("mastodon"))
    [record] = simulator.writes.log("mastodon", "status")
    assert record["target_id"] == "" and record["text"] == STATEMENT
    assert record["idempotency_key"] == "pub-1"
    [status] = simulator.writes.statuses("mastodon")
    assert status["in_reply_to"] == "" and status["text"] == STATEMENT
    assert simulator.writes.replies("mastodon") == []
    shown = session.get(
        f"{simulator.url('mastodon')}/api/v1/statuses/{posted.external_id}", timeout=5
    ).json()
    assert shown["in_reply_to_id"] is None and shown["account"]["acct"] == "brisa"


def test_mastodon_same_key_posts_the_status_once(simulator, session) -> None:
    config = account(simulator, "mastodon")
    first = writing.post_status(config, STATEMENT, idempotency_key="same", session=session)
    again = writing.post_status(config, STATEMENT, idempotency_key="same", session=session)
    assert again == first
    [record] = simulator.writes.log("mastodon", "status")
    assert record["replays"] == 1
    assert len(simulator.writes.statuses("mastodon")) == 1
    # Mastodon needs no look-up: the key is the guard.
    assert writing.find_own_status(config, text=STATEMENT, session=session) is None


def test_mastodon_status_survives_a_dropped_answer_without_doubling(simulator, session) -> None:
    config = account(simulator, "mastodon")
    simulator.add_fault("accept-then-drop", "mastodon", count=1)
    with pytest.raises(base.TransientError):
        writing.post_status(config, STATEMENT, idempotency_key="drop", session=session)
    posted = writing.post_status(config, STATEMENT, idempotency_key="drop", session=session)
    [status] = simulator.writes.statuses("mastodon")
    assert status["external_id"] == posted.external_id


def test_mastodon_statuses_stay_out_of_polled_timelines(simulator, session) -> None:
    config = account(simulator, "mastodon")
    posted = writing.post_status(
        config, "#brisa " + STATEMENT, idempotency_key="tag", session=session
    )
    source = base.SourceConfig(
        "mastodon", QueryKind.HASHTAG, "brisa", simulator.url("mastodon"), page_size=40
    )
    page = mastodon.fetch(source, {"min_id": "0"}, session)
    assert posted.external_id not in {mention.external_id for mention in page.mentions}


# --- Bluesky -----------------------------------------------------------------------------------
def test_bluesky_status_is_a_top_level_post_found_in_the_feed(simulator, session) -> None:
    config = account(simulator, "bluesky")

    posted = writing.post_status(config, STATEMENT, idempotency_key="b-1", session=session)

    assert posted.external_id.startswith("at://did:plc:")
    assert posted.url.startswith("https://bsky.app/profile/brisa.bsky.social/post/")
    [record] = simulator.writes.log("bluesky", "status")
    assert record["text"] == STATEMENT and record["result_id"] == posted.external_id
    [status] = simulator.writes.statuses("bluesky")
    assert status["in_reply_to"] == ""
    assert writing.find_own_status(config, text=STATEMENT, session=session) == posted
    assert writing.find_own_status(config, text="Otro texto", session=session) is None


def test_bluesky_feed_look_up_ignores_our_replies(simulator, session) -> None:
    config = account(simulator, "bluesky")
    source = base.SourceConfig(
        "bluesky", QueryKind.SEARCH, "brisa", simulator.url("bluesky"), page_size=50
    )
    mention = bluesky.fetch(source, {}, session).mentions[0]
    target = writing.Target.of(mention)
    writing.post_reply(config, target, STATEMENT, idempotency_key="r", session=session)
    assert writing.find_own_status(config, text=STATEMENT, session=session) is None


def test_bluesky_retry_after_a_dropped_answer_finds_the_post(simulator, session) -> None:
    config = account(simulator, "bluesky")
    writing.find_own_status(config, text=STATEMENT, session=session)  # opens the session
    simulator.add_fault("accept-then-drop", "bluesky", count=1)
    with pytest.raises(base.TransientError):
        writing.post_status(config, STATEMENT, idempotency_key="b-drop", session=session)
    found = writing.find_own_status(config, text=STATEMENT, session=session)
    assert found is not None
    assert [s["external_id"] for s in simulator.writes.statuses("bluesky")] == [found.external_id]


def test_bluesky_statuses_stay_out_of_search(simulator, session) -> None:
    config = account(simulator, "bluesky")
    posted = writing.post_status(config, "brisa " + STATEMENT, idempotency_key="s", session=session)
    source = base.SourceConfig(
        "bluesky", QueryKind.SEARCH, "brisa", simulator.url("bluesky"), page_size=100
    )
    page = bluesky.fetch(source, {}, session)
    assert posted.external_id not in {mention.external_id for mention in page.mentions}


def test_bluesky_author_feed_pages_and_checks_the_token(simulator, session) -> None:
    config = account(simulator, "bluesky")
    made = [
        writing.post_status(config, f"Actualización {n}", idempotency_key=str(n), session=session)
        for n in range(3)
    ]
    did = made[0].external_id.removeprefix("at://").split("/")[0]
    feed = f"{simulator.url('bluesky')}/xrpc/app.bsky.feed.getAuthorFeed"
    first = session.get(feed, params={"actor": did, "limit": 2}, timeout=5).json()
    assert [item["post"]["uri"] for item in first["feed"]] == [
        made[2].external_id,
        made[1].external_id,
    ]
    rest = session.get(
        feed, params={"actor": did, "limit": 2, "cursor": first["cursor"]}, timeout=5
    ).json()
    assert [item["post"]["uri"] for item in rest["feed"]] == [made[0].external_id]
    assert "cursor" not in rest
    refused = session.get(
        feed, params={"actor": did}, headers={"Authorization": "Bearer nope"}, timeout=5
    )
    assert refused.status_code == 401
    assert session.get(feed, timeout=5).status_code == 400


def test_summary_counts_statuses_apart_from_replies(simulator, session) -> None:
    writing.post_status(account(simulator, "mastodon"), STATEMENT, idempotency_key="m")
    writing.post_status(account(simulator, "bluesky"), STATEMENT, idempotency_key="b")
    summary = simulator.writes.summary()
    assert summary["statuses"] == 2 and summary["replies"] == 0
    assert summary["by_platform_action"] == {"mastodon:status": 1, "bluesky:status": 1}
