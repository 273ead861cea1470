"""Platform writes through the connectors, against the simulator over loopback HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring.connectors import base, bluesky, mastodon, reddit, writing, youtube
from monitoring.connectors.writing import AccountConfig, Target, Unsupported
from monitoring.platforms import QueryKind
from monitoring.simulator.server import SimulatorServer
from monitoring.simulator.world import World

START = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
MASTODON_TOKEN = "mastodon-token-for-the-brand-0001"
REDDIT_TOKEN = "reddit-token-for-the-brand-00001"
YOUTUBE_TOKEN = "ya29.youtube-token-for-the-brand-01"
BLUESKY_PASSWORD = "abcd-efgh-ijkl-mnop"
ACCOUNTS = {
    "mastodon": {MASTODON_TOKEN: "brisa"},
    "reddit": {REDDIT_TOKEN: "BrisaTelecom"},
    "youtube": {YOUTUBE_TOKEN: "@Brisa"},
    "bluesky": {BLUESKY_PASSWORD: "brisa.bsky.social"},
}
YOUTUBE_KEY = "AIzaSyTestKeyForTheSimulator-0000000000"


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
    root = simulator.url(platform)
    values = {
        "mastodon": (root, "brisa", {"access_token": MASTODON_TOKEN}),
        "bluesky": (root, "brisa.bsky.social", {"app_password": BLUESKY_PASSWORD}),
        "reddit": (root, "BrisaTelecom", {"access_token": REDDIT_TOKEN}),
        "youtube": (f"{root}/v3", "@Brisa", {"access_token": YOUTUBE_TOKEN}),
    }[platform]
    base_url, handle, credentials = values
    return AccountConfig(
        platform=platform,
        base_url=overrides.get("base_url", base_url),
        handle=overrides.get("handle", handle),
        credentials=overrides.get("credentials", credentials),
    )


def polled(simulator: SimulatorServer, platform: str, session) -> list[base.MentionIn]:
    """Mentions as Calma's poller reads them (so targets carry the raw item it stores)."""
    root = simulator.url(platform)
    if platform == "mastodon":
        source = base.SourceConfig(platform, QueryKind.HASHTAG, "brisa", root, page_size=40)
        return mastodon.fetch(source, {"min_id": "0"}, session).mentions
    if platform == "bluesky":
        source = base.SourceConfig(platform, QueryKind.SEARCH, "brisa", root, page_size=100)
        return bluesky.fetch(source, {}, session).mentions
    if platform == "reddit":
        mentions: list[base.MentionIn] = []
        for query in ("brisa", "BrisaTelecom"):
            source = base.SourceConfig(platform, QueryKind.SEARCH, query, root, page_size=100)
            mentions += reddit.fetch(source, {}, session).mentions
        source = base.SourceConfig(
            platform, QueryKind.SUBREDDIT, "BrisaTelecom", root, page_size=100
        )
        return mentions + reddit.fetch(source, {}, session).mentions
    source = base.SourceConfig(
        platform,
        QueryKind.CHANNEL,
        simulator.world.channel_id,
        f"{root}/v3",
        credentials={"api_key": YOUTUBE_KEY},
        page_size=100,
    )
    return youtube.fetch(source, {}, session).mentions


def target(simulator, platform, session, keep=lambda mention: True) -> Target:
    for mention in polled(simulator, platform, session):
        if keep(mention):
            return Target.of(mention)
    raise AssertionError(f"no {platform} mention fits")


def is_reply(mention: base.MentionIn) -> bool:
    return bool(mention.reply_to_id)


def is_top(mention: base.MentionIn) -> bool:
    return not mention.reply_to_id


# --- values and dispatch -----------------------------------------------------------------
def test_account_repr_never_shows_secrets() -> None:
    config = AccountConfig("mastodon", "https://m.example", "brisa", {"access_token": "s3cr3t"})
    assert "s3cr3t" not in repr(config)
    assert "s3cr3t" not in str(config)
    assert "access_token" in repr(config)


def test_capabilities_per_platform() -> None:
    assert writing.capabilities("mastodon") == {"reply", "edit", "delete_own"}
    assert writing.capabilities("bluesky") == {"reply", "delete_own"}
    assert writing.capabilities("reddit") == {"reply", "edit", "delete_own", "hide", "unhide"}
    assert writing.capabilities("youtube") == set(writing.ACTIONS)
    for platform in ("feed", "csv", "webhook"):
        assert writing.capabilities(platform) == frozenset()


def test_feeds_cannot_be_answered_and_say_what_to_do() -> None:
    config = AccountConfig("feed", "", "brisa", {})
    with pytest.raises(Unsupported) as raised:
        writing.post_reply(
            config, Target("feed", "https://news.example/a"), "Hola", idempotency_key="k"
        )
    assert isinstance(raised.value, base.PermanentError)
    assert "mark it sent with its link" in str(raised.value)


def test_missing_credentials_refused_before_any_request() -> None:
    config = AccountConfig("reddit", "http://127.0.0.1:9", "BrisaTelecom", {})
    with pytest.raises(base.PermanentError, match="access_token"):
        writing.post_reply(config, Target("reddit", "t3_abc"), "Hola", idempotency_key="k")


def test_empty_reply_refused_before_any_request() -> None:
    config = AccountConfig("mastodon", "http://127.0.0.1:9", "brisa", {"access_token": "x" * 20})
    with pytest.raises(base.PermanentError, match="empty"):
        writing.post_reply(config, Target("mastodon", "1"), " \x00 ", idempotency_key="k")


def test_target_of_another_platform_refused() -> None:
    config = AccountConfig("mastodon", "http://127.0.0.1:9", "brisa", {"access_token": "x" * 20})
    with pytest.raises(base.PermanentError, match="bluesky"):
        writing.post_reply(config, Target("bluesky", "at://x"), "Hola", idempotency_key="k")


def test_text_comparison_ignores_leading_mentions_and_spacing() -> None:
    assert writing.same_text("@ana@mastodon.social  Hola,\n\nya lo vemos", "Hola, ya lo vemos")
    assert not writing.same_text("@ana Hola", "Adiós")
    assert writing.same_handle("brisa", "@brisa@mastodon.example")
    assert not writing.same_handle("brisa@a.example", "brisa@b.example")


# --- Mastodon ----------------------------------------------------------------------------
def test_mastodon_reply_is_posted_on_the_thread_and_found_again(simulator, session) -> None:
    config = account(simulator, "mastodon")
    mention = target(simulator, "mastodon", session)
    text = "Hola, lo estamos revisando. Escríbenos por privado, por favor."

    posted = writing.post_reply(config, mention, text, idempotency_key="reply-1", session=session)

    assert posted.external_id and posted.url.startswith("http")
    [record] = simulator.writes.log("mastodon", "reply")
    assert record["target_id"] == mention.external_id
    assert record["result_id"] == posted.external_id
    assert record["idempotency_key"] == "reply-1"
    author = mention.raw["account"]["acct"]
    assert record["text"] == f"@{author} {text}"  # the person answered is addressed
    found = writing.find_own_reply(config, mention, text=text, session=session)
    assert found == posted
    assert writing.find_own_reply(config, mention, text="Otro texto", session=session) is None


def test_mastodon_same_idempotency_key_posts_once(simulator, session) -> None:
    config = account(simulator, "mastodon")
    mention = target(simulator, "mastodon", session)
    first = writing.post_reply(config, mention, "Hola", idempotency_key="same", session=session)
    again = writing.post_reply(config, mention, "Hola", idempotency_key="same", session=session)
    assert again == first
    [record] = simulator.writes.log("mastodon", "reply")
    assert record["replays"] == 1
    other = writing.post_reply(config, mention, "Hola", idempotency_key="other", session=session)
    assert other.external_id != first.external_id


def test_mastodon_edit_keeps_the_mention_and_delete_removes(simulator, session) -> None:
    config = account(simulator, "mastodon")
    mention = target(simulator, "mastodon", session)
    posted = writing.post_reply(config, mention, "Primera", idempotency_key="e1", session=session)

    edited = writing.edit_reply(config, posted.external_id, "Corregida", session=session)

    assert edited.external_id == posted.external_id
    [reply] = simulator.writes.replies("mastodon")
    assert reply["text"] == f"@{mention.raw['account']['acct']} Corregida"
    assert reply["edited_at"]
    writing.delete_reply(config, posted.external_id, session=session)
    assert simulator.writes.replies("mastodon")[0]["deleted"]
    assert writing.find_own_reply(config, mention, text="Corregida", session=session) is None
    writing.delete_reply(config, posted.external_id, session=session)  # already gone: fine
    assert [r["action"] for r in simulator.writes.log("mastodon")] == [
        "reply",
        "edit",
        "delete_own",
    ]


@pytest.mark.parametrize("action", ["hide_mention", "unhide_mention", "delete_mention"])
def test_mastodon_moderation_of_others_is_by_hand(simulator, session, action) -> None:
    mention = target(simulator, "mastodon", session)
    with pytest.raises(Unsupported, match=r"by hand|moderators"):
        getattr(writing, action)(account(simulator, "mastodon"), mention, session=session)
    assert simulator.writes.log() == []


def test_mastodon_wrong_token_is_permanent(simulator, session) -> None:
    config = account(simulator, "mastodon", credentials={"access_token": "wrong-token-000000000"})
    mention = target(simulator, "mastodon", session)
    with pytest.raises(base.PermanentError, match="401"):
        writing.post_reply(config, mention, "Hola", idempotency_key="k", session=session)
    assert simulator.writes.log() == []


def test_mastodon_unknown_status_is_permanent(simulator, session) -> None:
    with pytest.raises(base.PermanentError, match="404"):
        writing.post_reply(
            account(simulator, "mastodon"),
            Target("mastodon", "123"),
            "Hola",
            idempotency_key="k",
            session=session,
        )


# --- Bluesky -----------------------------------------------------------------------------
def test_bluesky_reply_keeps_the_thread_root_and_is_found(simulator, session) -> None:
    config = account(simulator, "bluesky")
    mention = target(simulator, "bluesky", session, is_reply)
    text = "Hola, ya lo estamos mirando."

    posted = writing.post_reply(config, mention, text, idempotency_key="b1", session=session)

    assert posted.external_id.startswith("at://did:plc:")
    assert posted.url.startswith("https://bsky.app/profile/brisa.bsky.social/post/")
    [record] = simulator.writes.log("bluesky", "reply")
    assert record["target_id"] == mention.external_id
    thread = requests.get(
        f"{simulator.url('bluesky')}/xrpc/app.bsky.feed.getPostThread",
        params={"uri": posted.external_id, "depth": 0},
        timeout=5,
    ).json()["thread"]
    reply = thread["post"]["record"]["reply"]
    assert reply["parent"] == {"uri": mention.external_id, "cid": mention.raw["cid"]}
    assert reply["root"] == mention.raw["record"]["reply"]["root"]
    assert writing.find_own_reply(config, mention, text=text, session=session) == posted


def test_bluesky_reply_to_a_thread_start_uses_it_as_root(simulator, session) -> None:
    config = account(simulator, "bluesky")
    mention = target(simulator, "bluesky", session, is_top)
    posted = writing.post_reply(config, mention, "Gracias", idempotency_key="b2", session=session)
    thread = requests.get(
        f"{simulator.url('bluesky')}/xrpc/app.bsky.feed.getPostThread",
        params={"uri": posted.external_id, "depth": 0},
        timeout=5,
    ).json()["thread"]
    reply = thread["post"]["record"]["reply"]
    assert (
        reply["root"]
        == reply["parent"]
        == {
            "uri": mention.external_id,
            "cid": mention.raw["cid"],
        }
    )


def test_bluesky_reads_the_cid_when_the_raw_lacks_it(simulator, session) -> None:
    config = account(simulator, "bluesky")
    mention = target(simulator, "bluesky", session)
    bare = Target("bluesky", mention.external_id, mention.thread_id, mention.url, {})
    posted = writing.post_reply(config, bare, "Hola", idempotency_key="b3", session=session)
    assert writing.find_own_reply(config, mention, text="Hola", session=session) == posted


def test_bluesky_delete_own_reply(simulator, session) -> None:
    config = account(simulator, "bluesky")
    mention = target(simulator, "bluesky", session)
    posted = writing.post_reply(config, mention, "Hola", idempotency_key="b4", session=session)
    writing.delete_reply(config, posted.external_id, session=session)
    assert simulator.writes.replies("bluesky")[0]["deleted"]
    assert writing.find_own_reply(config, mention, text="Hola", session=session) is None


@pytest.mark.parametrize("action", ["hide_mention", "unhide_mention", "delete_mention"])
def test_bluesky_moderation_of_others_is_by_hand(simulator, session, action) -> None:
    with pytest.raises(Unsupported, match=r"bsky\.app"):
        getattr(writing, action)(
            account(simulator, "bluesky"), target(simulator, "bluesky", session), session=session
        )


def test_bluesky_cannot_edit(simulator) -> None:
    with pytest.raises(Unsupported, match="corrected reply"):
        writing.edit_reply(account(simulator, "bluesky"), "at://did:plc:x/a/b", "Hola")


def test_bluesky_wrong_app_password_is_permanent(simulator, session) -> None:
    config = account(simulator, "bluesky", credentials={"app_password": "zzzz-zzzz-zzzz-zzzz"})
    with pytest.raises(base.PermanentError, match="app password"):
        writing.post_reply(
            config,
            target(simulator, "bluesky", session),
            "Hola",
            idempotency_key="k",
            session=session,
        )
    assert simulator.writes.log() == []


def test_bluesky_session_is_reused_and_renewed_when_revoked(simulator, session) -> None:
    config = account(simulator, "bluesky")
    mention = target(simulator, "bluesky", session)
    writing.post_reply(config, mention, "Uno", idempotency_key="s1", session=session)
    simulator.writes._sessions.clear()  # the PDS forgot every session (a revoked token)
    writing.post_reply(config, mention, "Dos", idempotency_key="s2", session=session)
    assert [r["text"] for r in simulator.writes.log("bluesky")] == ["Uno", "Dos"]


# --- Reddit ------------------------------------------------------------------------------
@pytest.mark.parametrize("keep", [is_reply, is_top], ids=["comment", "post"])
def test_reddit_reply_edit_delete(simulator, session, keep) -> None:
    config = account(simulator, "reddit")
    mention = target(simulator, "reddit", session, keep)
    text = "Hola, te escribimos por privado."

    posted = writing.post_reply(config, mention, text, idempotency_key="r1", session=session)

    assert posted.external_id.startswith("t1_")
    assert posted.url.startswith("https://www.reddit.com/r/")
    [record] = simulator.writes.log("reddit", "reply")
    assert record["target_id"] == mention.external_id
    assert writing.find_own_reply(config, mention, text=text, session=session) == posted
    edited = writing.edit_reply(config, posted.external_id, "Corregido", session=session)
    assert edited.external_id == posted.external_id
    assert writing.find_own_reply(config, mention, text="Corregido", session=session) == edited
    writing.delete_reply(config, posted.external_id, session=session)
    assert writing.find_own_reply(config, mention, text="Corregido", session=session) is None
    assert [r["action"] for r in simulator.writes.log("reddit")] == ["reply", "edit", "delete_own"]


def test_reddit_hide_and_unhide_as_moderator(simulator, session) -> None:
    config = account(simulator, "reddit")
    mention = target(
        simulator, "reddit", session, lambda m: m.raw["data"]["subreddit"] == "BrisaTelecom"
    )
    writing.hide_mention(config, mention, session=session)
    state = simulator.writes.moderation_of("reddit", mention.external_id)
    assert state["hidden"] is True
    writing.unhide_mention(config, mention, session=session)
    state = simulator.writes.moderation_of("reddit", mention.external_id)
    assert state["hidden"] is False and not state["deleted"]
    assert [h["action"] for h in state["history"]] == ["hide", "unhide"]


def test_reddit_hide_elsewhere_needs_the_subreddits_moderators(simulator, session) -> None:
    mention = target(
        simulator, "reddit", session, lambda m: m.raw["data"]["subreddit"] != "BrisaTelecom"
    )
    with pytest.raises(Unsupported, match="not a moderator"):
        writing.hide_mention(account(simulator, "reddit"), mention, session=session)
    assert simulator.writes.moderation() == []


def test_reddit_cannot_delete_others(simulator, session) -> None:
    with pytest.raises(Unsupported, match="only its author"):
        writing.delete_mention(
            account(simulator, "reddit"), target(simulator, "reddit", session), session=session
        )


def test_reddit_wrong_token_is_permanent(simulator, session) -> None:
    config = account(simulator, "reddit", credentials={"access_token": "not-the-token-00000"})
    with pytest.raises(base.PermanentError, match="401"):
        writing.post_reply(
            config,
            target(simulator, "reddit", session),
            "Hola",
            idempotency_key="k",
            session=session,
        )


# --- YouTube -----------------------------------------------------------------------------
@pytest.mark.parametrize("keep", [is_top, is_reply], ids=["top-level", "reply"])
def test_youtube_reply_goes_under_the_thread(simulator, session, keep) -> None:
    config = account(simulator, "youtube")
    mention = target(simulator, "youtube", session, keep)
    text = "Hola, ya lo estamos revisando."

    posted = writing.post_reply(config, mention, text, idempotency_key="y1", session=session)

    thread = mention.external_id.split(".")[0]
    assert posted.external_id.startswith(f"{thread}.")
    assert posted.url.startswith("https://www.youtube.com/watch?v=")
    [record] = simulator.writes.log("youtube", "reply")
    assert record["target_id"] == thread
    assert writing.find_own_reply(config, mention, text=text, session=session) == posted


def test_youtube_edit_and_delete_own_reply(simulator, session) -> None:
    config = account(simulator, "youtube")
    mention = target(simulator, "youtube", session, is_top)
    posted = writing.post_reply(config, mention, "Hola", idempotency_key="y2", session=session)
    edited = writing.edit_reply(config, posted.external_id, "Hola de nuevo", session=session)
    assert edited.external_id == posted.external_id
    assert writing.find_own_reply(config, mention, text="Hola de nuevo", session=session)
    writing.delete_reply(config, posted.external_id, session=session)
    assert writing.find_own_reply(config, mention, text="Hola de nuevo", session=session) is None
    writing.delete_reply(config, posted.external_id, session=session)  # already gone: fine


def test_youtube_hide_unhide_and_delete_others(simulator, session) -> None:
    config = account(simulator, "youtube")
    mention = target(simulator, "youtube", session)
    writing.hide_mention(config, mention, session=session)
    assert simulator.writes.moderation_of("youtube", mention.external_id)["hidden"] is True
    writing.unhide_mention(config, mention, session=session)
    assert simulator.writes.moderation_of("youtube", mention.external_id)["hidden"] is False
    writing.delete_mention(config, mention, session=session)
    state = simulator.writes.moderation_of("youtube", mention.external_id)
    assert state["deleted"] is True
    assert [r["action"] for r in simulator.writes.log("youtube")] == ["hide", "unhide", "delete"]
    with pytest.raises(base.PermanentError, match="404"):  # deleted is final
        writing.unhide_mention(config, mention, session=session)


def test_youtube_wrong_token_is_permanent(simulator, session) -> None:
    config = account(simulator, "youtube", credentials={"access_token": "ya29.wrong-token-0000"})
    with pytest.raises(base.PermanentError, match="401"):
        writing.hide_mention(config, target(simulator, "youtube", session), session=session)
    assert simulator.writes.moderation() == []


# --- failures and hostile text -----------------------------------------------------------
def test_accept_then_drop_records_one_write_and_the_client_sees_a_transient_error(
    simulator, session
) -> None:
    config = account(simulator, "mastodon")
    mention = target(simulator, "mastodon", session)
    simulator.add_fault("accept-then-drop", "mastodon")

    with pytest.raises(base.TransientError):
        writing.post_reply(config, mention, "Hola", idempotency_key="once", session=session)

    [record] = simulator.writes.log("mastodon", "reply")
    assert record["dropped"] is True
    again = writing.post_reply(config, mention, "Hola", idempotency_key="once", session=session)
    assert again.external_id == record["result_id"]
    assert len(simulator.writes.log("mastodon", "reply")) == 1


def test_accept_then_drop_then_the_retry_finds_the_reply(simulator, session) -> None:
    config = account(simulator, "reddit")
    mention = target(simulator, "reddit", session)
    simulator.add_fault("accept-then-drop", "reddit")
    with pytest.raises(base.TransientError):
        writing.post_reply(config, mention, "Hola", idempotency_key="k", session=session)
    found = writing.find_own_reply(config, mention, text="Hola", session=session)
    assert found is not None
    [record] = simulator.writes.log("reddit", "reply")
    assert found.external_id == record["result_id"]


def test_server_errors_are_transient_and_rate_limits_say_when(simulator, session) -> None:
    config = account(simulator, "youtube")
    mention = target(simulator, "youtube", session)
    simulator.add_fault("500", "youtube")
    with pytest.raises(base.TransientError):
        writing.post_reply(config, mention, "Hola", idempotency_key="k", session=session)
    simulator.add_fault("429", "youtube", retry_after=7)
    with pytest.raises(base.RateLimited) as limited:
        writing.post_reply(config, mention, "Hola", idempotency_key="k", session=session)
    assert limited.value.retry_after_seconds == pytest.approx(7, abs=1)
    assert simulator.writes.log() == []


def test_hostile_text_is_cleaned_before_it_leaves(simulator, session) -> None:
    config = account(simulator, "reddit")
    mention = target(simulator, "reddit", session)
    writing.post_reply(
        config, mention, "Hola\x00 equipo \ud800fin", idempotency_key="k", session=session
    )
    [record] = simulator.writes.log("reddit", "reply")
    assert record["text"] == "Hola equipo \ufffdfin"


def test_an_oversized_answer_is_not_read_whole(simulator, session, monkeypatch) -> None:
    monkeypatch.setattr(writing, "MAX_RESPONSE_BYTES", 200)
    config = account(simulator, "mastodon")
    with pytest.raises(base.TransientError, match=r"too large|larger"):
        writing.post_reply(
            config,
            target(simulator, "mastodon", session),
            "Hola",
            idempotency_key="big",
            session=session,
        )


@settings(max_examples=300, deadline=None)
@given(text=st.text(), other=st.text())
def test_outgoing_text_is_clean_or_refused(text: str, other: str) -> None:
    try:
        cleaned = writing.outgoing_text(text)
    except base.PermanentError:
        assert not text.replace("\x00", "").strip()  # only an empty reply is refused
        return
    assert "\x00" not in cleaned
    cleaned.encode("utf-8")  # no lone surrogate survives
    assert writing.same_text(cleaned, cleaned)
    writing.same_text(other, cleaned)  # never raises
    writing.same_handle(other, text)
