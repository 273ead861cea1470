"""The simulator's write side over HTTP: routes, credentials, records, faults, thread reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring.connectors import base, bluesky, mastodon, reddit, youtube
from monitoring.platforms import QueryKind
from monitoring.simulator import FAULT_KINDS, wire
from monitoring.simulator.server import SimulatorServer
from monitoring.simulator.world import World
from monitoring.simulator.writes import (
    BRAND_HANDLES,
    DEMO_ACCESS_TOKEN,
    DEMO_APP_PASSWORD,
    Writes,
)

START = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
TOKEN = "a-well-shaped-token-000000"
YOUTUBE_KEY = "AIzaSyTestKeyForTheSimulator-0000000000"


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(7, START, hours=3, chatter_per_hour=60, crisis_at_minutes=30)


@pytest.fixture
def simulator(world: World):
    with SimulatorServer(world, clock=world.crisis_at + timedelta(minutes=60)) as server:
        yield server


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def visible(simulator: SimulatorServer, platform: str, top: bool | None = None):
    posts = simulator.world.visible_at(simulator.now(), platform)
    if top is not None:
        posts = [post for post in posts if (not post.reply_to) == top]
    return posts


def mastodon_reply(simulator, status_id: str, text: str = "Hola", **headers) -> requests.Response:
    return requests.post(
        f"{simulator.url('mastodon')}/api/v1/statuses",
        json={"status": text, "in_reply_to_id": status_id, "visibility": "public"},
        headers={**bearer(), **headers},
        timeout=5,
    )


def bluesky_session(simulator, identifier="brisa.bsky.social", password=DEMO_APP_PASSWORD):
    return requests.post(
        f"{simulator.url('bluesky')}/xrpc/com.atproto.server.createSession",
        json={"identifier": identifier, "password": password},
        timeout=5,
    )


def bluesky_reply(simulator, post, text="Hola", cid=None) -> requests.Response:
    session = bluesky_session(simulator).json()
    ref = {"uri": post.external_id, "cid": cid or bluesky_cid(simulator, post)}
    return requests.post(
        f"{simulator.url('bluesky')}/xrpc/com.atproto.repo.createRecord",
        json={
            "repo": session["did"],
            "collection": "app.bsky.feed.post",
            "record": {
                "$type": "app.bsky.feed.post",
                "text": text,
                "createdAt": "2025-03-10T09:30:00.000Z",
                "reply": {"root": ref, "parent": ref},
            },
        },
        headers=bearer(session["accessJwt"]),
        timeout=5,
    )


def bluesky_cid(simulator, post) -> str:
    answer = requests.get(
        f"{simulator.url('bluesky')}/xrpc/app.bsky.feed.getPostThread",
        params={"uri": post.external_id, "depth": 0},
        timeout=5,
    )
    return answer.json()["thread"]["post"]["cid"]


def reddit_reply(simulator, thing_id: str, text: str = "Hola") -> requests.Response:
    return requests.post(
        f"{simulator.url('reddit')}/api/comment",
        data={"api_type": "json", "thing_id": thing_id, "text": text},
        headers={"Authorization": f"bearer {TOKEN}"},
        timeout=5,
    )


def youtube_reply(simulator, parent_id: str, text: str = "Hola") -> requests.Response:
    return requests.post(
        f"{simulator.url('youtube')}/v3/comments",
        params={"part": "snippet"},
        json={"snippet": {"parentId": parent_id, "textOriginal": text}},
        headers=bearer(),
        timeout=5,
    )


def control(simulator, path: str, method: str = "GET", **kwargs) -> requests.Response:
    return requests.request(method, f"{simulator.base_url}/_control/{path}", timeout=5, **kwargs)


# --- our replies are seen on threads, never by the pollers -------------------------------
def test_our_replies_stay_out_of_what_the_pollers_read(simulator) -> None:
    mastodon_post = visible(simulator, "mastodon")[-1]
    bluesky_post = visible(simulator, "bluesky")[-1]
    reddit_post = visible(simulator, "reddit", top=True)[-1]
    youtube_post = visible(simulator, "youtube", top=True)[-1]
    text = "Brisa responde: lo estamos revisando #brisa"
    ours = {
        mastodon_reply(simulator, mastodon_post.external_id, text).json()["id"],
        bluesky_reply(simulator, bluesky_post, text).json()["uri"],
        reddit_reply(simulator, reddit_post.external_id, text).json()["json"]["data"]["things"][0][
            "data"
        ]["name"],
        youtube_reply(simulator, youtube_post.external_id, text).json()["id"],
    }
    assert len(ours) == 4

    polled: set[str] = set()
    sources = [
        (mastodon, base.SourceConfig("mastodon", QueryKind.HASHTAG, "brisa", "", page_size=40)),
        (mastodon, base.SourceConfig("mastodon", QueryKind.SEARCH, "Brisa responde")),
        (bluesky, base.SourceConfig("bluesky", QueryKind.SEARCH, "brisa", page_size=100)),
        (reddit, base.SourceConfig("reddit", QueryKind.SEARCH, "brisa", page_size=100)),
        (reddit, base.SourceConfig("reddit", QueryKind.SUBREDDIT, "BrisaTelecom", page_size=100)),
        (
            youtube,
            base.SourceConfig(
                "youtube",
                QueryKind.CHANNEL,
                simulator.world.channel_id,
                credentials={"api_key": YOUTUBE_KEY},
                page_size=100,
            ),
        ),
    ]
    for module, source in sources:
        root = simulator.url(source.platform) + ("/v3" if source.platform == "youtube" else "")
        cursor: dict = {"min_id": "0"} if source.platform == "mastodon" else {}
        for _ in range(30):
            page = module.fetch(base.SourceConfig(**{**_fields(source), "base_url": root}), cursor)
            polled |= {mention.external_id for mention in page.mentions}
            cursor = page.next_cursor
            if not page.has_more:
                break
    assert polled, "the pollers read something"
    assert not polled & ours
    assert not {external_id for _, external_id in simulator.served()} & ours


def _fields(source: base.SourceConfig) -> dict:
    return {name: getattr(source, name) for name in source.__dataclass_fields__}


def test_thread_endpoints_show_our_replies_in_formats_the_parsers_read(simulator) -> None:
    mastodon_post = visible(simulator, "mastodon")[-1]
    bluesky_post = visible(simulator, "bluesky")[-1]
    reddit_post = visible(simulator, "reddit", top=False)[-1]
    youtube_post = visible(simulator, "youtube", top=True)[-1]
    m_id = mastodon_reply(simulator, mastodon_post.external_id).json()["id"]
    b_uri = bluesky_reply(simulator, bluesky_post).json()["uri"]
    r_name = reddit_reply(simulator, reddit_post.external_id).json()["json"]["data"]["things"][0][
        "data"
    ]["name"]
    y_id = youtube_reply(simulator, youtube_post.external_id).json()["id"]

    context = requests.get(
        f"{simulator.url('mastodon')}/api/v1/statuses/{mastodon_post.external_id}/context",
        timeout=5,
    ).json()
    mine = [m for m in mastodon.parse(context) if m.external_id == m_id]
    assert mine and mine[0].author.handle == BRAND_HANDLES["mastodon"]
    assert mine[0].reply_to_id == mastodon_post.external_id

    thread = requests.get(
        f"{simulator.url('bluesky')}/xrpc/app.bsky.feed.getPostThread",
        params={"uri": bluesky_post.external_id},
        timeout=5,
    ).json()
    mine = [m for m in bluesky.parse(thread) if m.external_id == b_uri]
    assert mine and mine[0].reply_to_id == bluesky_post.external_id
    assert mine[0].author.handle == "brisa.bsky.social"

    article = reddit_post.thread_id.removeprefix("t3_")
    page = requests.get(
        f"{simulator.url('reddit')}/comments/{article}",
        params={"comment": reddit_post.external_id.removeprefix("t1_"), "raw_json": 1},
        timeout=5,
    ).json()
    mine = [m for m in reddit.parse(page) if m.external_id == r_name]
    assert mine and mine[0].reply_to_id == reddit_post.external_id
    assert mine[0].author.handle == BRAND_HANDLES["reddit"]
    assert mine[0].thread_id == reddit_post.thread_id

    listing = requests.get(
        f"{simulator.url('youtube')}/v3/comments",
        params={"part": "snippet", "parentId": youtube_post.external_id, "key": YOUTUBE_KEY},
        timeout=5,
    ).json()
    mine = [m for m in youtube.parse(listing) if m.external_id == y_id]
    assert mine and mine[0].reply_to_id == youtube_post.external_id
    assert mine[0].author.handle == BRAND_HANDLES["youtube"]


def test_our_status_is_readable_and_gone_once_deleted(simulator) -> None:
    parent = visible(simulator, "mastodon")[-1]
    status = mastodon_reply(simulator, parent.external_id).json()
    url = f"{simulator.url('mastodon')}/api/v1/statuses/{status['id']}"
    assert requests.get(url, timeout=5).json()["in_reply_to_id"] == parent.external_id
    deleted = requests.delete(url, headers=bearer(), timeout=5)
    assert deleted.status_code == 200 and deleted.json()["text"] == "Hola"
    assert requests.get(url, timeout=5).status_code == 404
    assert requests.delete(url, headers=bearer(), timeout=5).status_code == 404


# --- credentials ---------------------------------------------------------------------------
def test_default_mode_accepts_well_shaped_secrets_as_the_brand(simulator) -> None:
    parent = visible(simulator, "mastodon")[-1]
    assert mastodon_reply(simulator, parent.external_id).status_code == 200
    short = requests.post(
        f"{simulator.url('mastodon')}/api/v1/statuses",
        json={"status": "Hola", "in_reply_to_id": parent.external_id},
        headers=bearer("short"),
        timeout=5,
    )
    assert short.status_code == 401
    assert short.json() == {"error": "The access token is invalid"}
    missing = requests.post(
        f"{simulator.url('mastodon')}/api/v1/statuses",
        json={"status": "Hola", "in_reply_to_id": parent.external_id},
        timeout=5,
    )
    assert missing.status_code == 401
    assert DEMO_ACCESS_TOKEN and len(DEMO_ACCESS_TOKEN) >= 16
    [record] = control(simulator, "writes").json()["writes"]
    assert record["account"] == BRAND_HANDLES["mastodon"]


def test_configured_accounts_are_enforced(world) -> None:
    accounts = {
        "mastodon": {"tok-mastodon-000000001": "brisa"},
        "reddit": {"tok-reddit-00000000001": "BrisaTelecom"},
        "youtube": {"tok-youtube-0000000001": "@Brisa"},
        "bluesky": {"aaaa-bbbb-cccc-dddd": "brisa.bsky.social"},
    }
    with SimulatorServer(world, clock=world.crisis_at, write_accounts=accounts) as server:
        mastodon_parent = visible(server, "mastodon")[-1]
        refused = mastodon_reply(server, mastodon_parent.external_id)  # a well-shaped stranger
        assert refused.status_code == 401
        accepted = requests.post(
            f"{server.url('mastodon')}/api/v1/statuses",
            json={"status": "Hola", "in_reply_to_id": mastodon_parent.external_id},
            headers=bearer("tok-mastodon-000000001"),
            timeout=5,
        )
        assert accepted.status_code == 200
        assert bluesky_session(server).status_code == 401
        wrong_handle = bluesky_session(server, "other.bsky.social", "aaaa-bbbb-cccc-dddd")
        assert wrong_handle.status_code == 401
        assert wrong_handle.json()["error"] == "AuthenticationRequired"
        session = bluesky_session(server, "brisa.bsky.social", "aaaa-bbbb-cccc-dddd").json()
        assert session["handle"] == "brisa.bsky.social" and session["did"].startswith("did:plc:")
        reddit_parent = visible(server, "reddit")[-1]
        assert reddit_reply(server, reddit_parent.external_id).status_code == 401
        youtube_parent = visible(server, "youtube", top=True)[-1]
        refused = youtube_reply(server, youtube_parent.external_id)
        assert refused.status_code == 401
        assert refused.json()["error"]["status"] == "UNAUTHENTICATED"
        assert server.state()["writes"]["accounts"]["bluesky"] == ["brisa.bsky.social"]
        assert "aaaa-bbbb-cccc-dddd" not in str(server.state())


def test_a_bluesky_write_needs_a_session(simulator) -> None:
    post = visible(simulator, "bluesky")[-1]
    answer = requests.post(
        f"{simulator.url('bluesky')}/xrpc/com.atproto.repo.createRecord",
        json={"repo": "brisa.bsky.social", "collection": "app.bsky.feed.post", "record": {}},
        headers=bearer("not-a-session-token-0000"),
        timeout=5,
    )
    assert answer.status_code == 401 and answer.json()["error"] == "InvalidToken"
    wrong_cid = bluesky_reply(simulator, post, cid="bafyreiwrongcid")
    assert wrong_cid.status_code == 400
    assert simulator.writes.log() == []


# --- idempotency and faults ----------------------------------------------------------------
def test_mastodon_idempotency_key_is_per_account(world) -> None:
    accounts = {"mastodon": {"tok-one-0000000000001": "brisa", "tok-two-0000000000002": "ayuda"}}
    with SimulatorServer(world, clock=world.crisis_at, write_accounts=accounts) as server:
        parent = visible(server, "mastodon")[-1].external_id
        url = f"{server.url('mastodon')}/api/v1/statuses"
        body = {"status": "Hola", "in_reply_to_id": parent}

        def post(token: str) -> dict:
            headers = {**bearer(token), "Idempotency-Key": "same-key"}
            return requests.post(url, json=body, headers=headers, timeout=5).json()

        first, again = post("tok-one-0000000000001"), post("tok-one-0000000000001")
        other = post("tok-two-0000000000002")
        assert first["id"] == again["id"] != other["id"]
        assert other["account"]["acct"] == "ayuda"
        assert [r["account"] for r in server.writes.log()] == ["brisa", "ayuda"]


def test_accept_then_drop_over_the_control_api(simulator) -> None:
    parent = visible(simulator, "mastodon")[-1].external_id
    created = control(
        simulator, "faults", "POST", json={"kind": "accept-then-drop", "platform": "mastodon"}
    )
    assert created.status_code == 201 and "accept-then-drop" in FAULT_KINDS
    # Reads do not use up the fault.
    context = f"{simulator.url('mastodon')}/api/v1/statuses/{parent}/context"
    assert requests.get(context, timeout=5).status_code == 200

    with pytest.raises(requests.ConnectionError):
        mastodon_reply(simulator, parent, **{"Idempotency-Key": "k1"})

    writes = control(simulator, "writes").json()
    [record] = writes["writes"]
    assert record["dropped"] is True and record["idempotency_key"] == "k1"
    assert writes["replies"][0]["external_id"] == record["result_id"]
    again = mastodon_reply(simulator, parent, **{"Idempotency-Key": "k1"})
    assert again.json()["id"] == record["result_id"]
    assert len(control(simulator, "writes").json()["writes"]) == 1


def test_a_rejected_write_does_not_use_up_accept_then_drop(simulator) -> None:
    simulator.add_fault("accept_then_drop", "reddit")  # the underscore spelling works too
    assert reddit_reply(simulator, "t1_doesnotexist").json()["json"]["errors"]
    parent = visible(simulator, "reddit")[-1].external_id
    with pytest.raises(requests.ConnectionError):
        reddit_reply(simulator, parent)
    assert len(simulator.writes.log("reddit", "reply")) == 1


def test_a_write_that_times_out_is_not_performed(simulator) -> None:
    parent = visible(simulator, "mastodon")[-1].external_id
    simulator.add_fault("timeout", "mastodon", delay=1.5)
    with pytest.raises(requests.Timeout):
        requests.post(
            f"{simulator.url('mastodon')}/api/v1/statuses",
            json={"status": "Hola", "in_reply_to_id": parent},
            headers=bearer(),
            timeout=0.3,
        )
    assert simulator.writes.log() == []


def test_request_faults_answer_writes_without_performing_them(simulator) -> None:
    parent = visible(simulator, "youtube", top=True)[-1].external_id
    simulator.add_fault("500", "youtube")
    assert youtube_reply(simulator, parent).status_code == 500
    simulator.add_fault("429", "youtube")
    assert youtube_reply(simulator, parent).status_code == 429
    assert youtube_reply(simulator, parent).status_code == 200  # the connection stays usable
    assert len(simulator.writes.log()) == 1


# --- validation like the real APIs ------------------------------------------------------------
def test_unknown_targets_are_refused(simulator) -> None:
    assert mastodon_reply(simulator, "999").status_code == 404
    ghost = visible(simulator, "bluesky")[-1]
    answer = requests.post(
        f"{simulator.url('bluesky')}/xrpc/com.atproto.repo.createRecord",
        json={
            "repo": "brisa.bsky.social",
            "collection": "app.bsky.feed.post",
            "record": {
                "text": "Hola",
                "reply": {
                    "root": {"uri": ghost.external_id + "x", "cid": "b"},
                    "parent": {"uri": ghost.external_id + "x", "cid": "b"},
                },
            },
        },
        headers=bearer(bluesky_session(simulator).json()["accessJwt"]),
        timeout=5,
    )
    assert answer.status_code == 400
    errors = reddit_reply(simulator, "t3_zzzzzz").json()["json"]["errors"]
    assert errors[0][0] == "NO_THING_ID"
    refused = youtube_reply(simulator, "UgxNoSuchComment")
    assert refused.status_code == 404
    reply_id = visible(simulator, "youtube", top=False)[-1].external_id
    assert youtube_reply(simulator, reply_id).status_code == 404  # only top-level comments
    assert simulator.writes.log() == []


def test_text_limits_and_forms(simulator) -> None:
    parent = visible(simulator, "mastodon")[-1].external_id
    too_long = mastodon_reply(simulator, parent, "a" * 501)
    assert too_long.status_code == 422
    assert "character limit" in too_long.json()["error"]
    blank = mastodon_reply(simulator, parent, "   ")
    assert blank.status_code == 422
    form = requests.post(
        f"{simulator.url('mastodon')}/api/v1/statuses",
        data={"status": "Por formulario", "in_reply_to_id": parent},
        headers=bearer(),
        timeout=5,
    )
    assert form.status_code == 200 and "Por formulario" in form.json()["content"]
    huge = requests.post(
        f"{simulator.url('mastodon')}/api/v1/statuses",
        data=b"x" * (1024 * 1024 + 1),
        headers=bearer(),
        timeout=5,
    )
    assert huge.status_code == 413
    not_json = requests.post(
        f"{simulator.url('mastodon')}/api/v1/statuses",
        data=b"{not json",
        headers={**bearer(), "Content-Type": "application/json"},
        timeout=5,
    )
    assert not_json.status_code == 400


def test_others_posts_cannot_be_edited_or_deleted(simulator) -> None:
    world_status = visible(simulator, "mastodon")[-1].external_id
    url = f"{simulator.url('mastodon')}/api/v1/statuses/{world_status}"
    assert requests.put(url, json={"status": "x"}, headers=bearer(), timeout=5).status_code == 404
    assert requests.delete(url, headers=bearer(), timeout=5).status_code == 404
    comment = visible(simulator, "reddit", top=False)[-1].external_id
    edit = requests.post(
        f"{simulator.url('reddit')}/api/editusertext",
        data={"api_type": "json", "thing_id": comment, "text": "x"},
        headers=bearer(),
        timeout=5,
    )
    assert edit.status_code == 403
    youtube_comment = visible(simulator, "youtube", top=True)[-1].external_id
    delete = requests.delete(
        f"{simulator.url('youtube')}/v3/comments",
        params={"id": youtube_comment},
        headers=bearer(),
        timeout=5,
    )
    assert delete.status_code == 403
    assert simulator.writes.log() == []


# --- moderation state and the control API ----------------------------------------------------
def test_moderation_state_is_visible_and_reset_clears_everything(simulator) -> None:
    comment = visible(simulator, "youtube", top=False)[-1].external_id
    url = f"{simulator.url('youtube')}/v3/comments/setModerationStatus"
    held = requests.post(
        url,
        params={"id": comment, "moderationStatus": "heldForReview"},
        headers=bearer(),
        timeout=5,
    )
    assert held.status_code == 204
    [state] = control(simulator, "moderation").json()["posts"]
    assert state == {
        "platform": "youtube",
        "external_id": comment,
        "hidden": True,
        "deleted": False,
        "history": [{"action": "hide", "at": simulator.now().isoformat()}],
    }
    listing = requests.get(
        f"{simulator.url('youtube')}/v3/comments",
        params={"part": "snippet", "id": comment},
        headers=bearer(),
        timeout=5,
    ).json()
    assert listing["items"][0]["snippet"]["moderationStatus"] == "heldForReview"
    only_hides = control(simulator, "writes", params={"platform": "youtube", "action": "hide"})
    assert [w["target_id"] for w in only_hides.json()["writes"]] == [comment]
    assert control(simulator, "writes", params={"action": "reply"}).json()["writes"] == []
    assert simulator.state()["writes"]["by_platform_action"] == {"youtube:hide": 1}

    assert control(simulator, "writes", "DELETE").status_code == 200
    assert control(simulator, "writes").json() == {"writes": [], "replies": [], "moderation": []}
    parent = visible(simulator, "mastodon")[-1].external_id
    mastodon_reply(simulator, parent, **{"Idempotency-Key": "r"})
    control(simulator, "reset", "POST")
    assert simulator.writes.log() == [] and simulator.writes.replies() == []


def test_reddit_removal_only_where_the_brand_moderates(simulator) -> None:
    ours = next(p for p in visible(simulator, "reddit") if p.community == "BrisaTelecom")
    theirs = next(p for p in visible(simulator, "reddit") if p.community != "BrisaTelecom")
    url = f"{simulator.url('reddit')}/api/remove"
    assert (
        requests.post(url, data={"id": theirs.external_id}, headers=bearer(), timeout=5).status_code
        == 403
    )
    assert (
        requests.post(url, data={"id": ours.external_id}, headers=bearer(), timeout=5).json() == {}
    )
    assert simulator.writes.moderation_of("reddit", ours.external_id)["hidden"] is True
    assert simulator.writes.moderation_of("reddit", theirs.external_id) is None


# --- any body, an answer -----------------------------------------------------------------------
WRITE_ROUTES = [
    ("mastodon", "POST", "/api/v1/statuses"),
    ("mastodon", "PUT", "/api/v1/statuses/1"),
    ("mastodon", "DELETE", "/api/v1/statuses/1"),
    ("bluesky", "POST", "/xrpc/com.atproto.server.createSession"),
    ("bluesky", "POST", "/xrpc/com.atproto.repo.createRecord"),
    ("bluesky", "POST", "/xrpc/com.atproto.repo.deleteRecord"),
    ("reddit", "POST", "/api/comment"),
    ("reddit", "POST", "/api/editusertext"),
    ("reddit", "POST", "/api/del"),
    ("reddit", "POST", "/api/remove"),
    ("reddit", "POST", "/api/approve"),
    ("youtube", "POST", "/v3/comments"),
    ("youtube", "PUT", "/v3/comments"),
    ("youtube", "DELETE", "/v3/comments"),
    ("youtube", "POST", "/v3/comments/setModerationStatus"),
]
FIELD_NAMES = st.sampled_from(
    [
        "status", "in_reply_to_id", "visibility", "identifier", "password", "repo",
        "collection", "record", "rkey", "thing_id", "text", "id", "spam", "snippet",
        "parentId", "textOriginal", "reply", "parent", "root", "uri", "cid",
    ]
)  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(FIELD_NAMES | st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    route=st.sampled_from(WRITE_ROUTES),
    fields=st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=6),
    query=st.dictionaries(FIELD_NAMES | st.just("moderationStatus"), st.text(max_size=12)),
    raw=st.one_of(st.none(), st.binary(max_size=40)),
)
def test_any_write_request_gets_an_answer_never_a_crash(world, route, fields, query, raw) -> None:
    writes = Writes(world)
    ctx = wire.Context(world, world.crisis_at + timedelta(minutes=60), "http://127.0.0.1:1")
    session = writes.handle(
        "bluesky",
        "POST",
        "/xrpc/com.atproto.server.createSession",
        {},
        {"Content-Type": "application/json"},
        b'{"identifier": "brisa.bsky.social", "password": "abcdefgh"}',
        ctx,
    )
    token = json.loads(session.response.body)["accessJwt"]
    platform, method, path = route
    body = raw if raw is not None else json.dumps(fields).encode()
    headers = {"Authorization": f"Bearer {token if platform == 'bluesky' else TOKEN}"}
    outcome = writes.handle(
        platform, method, path, {k: [v] for k, v in query.items()}, headers, body, ctx
    )
    assert 200 <= outcome.response.status < 500
    outcome.response.body.decode("utf-8")  # always sendable
