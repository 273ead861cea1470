"""The Bluesky connector against recorded real responses and a loopback HTTP server."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitoring.connectors import base, bluesky
from monitoring.platforms import Platform, QueryKind

FIXTURES = Path(__file__).parent / "fixtures" / "bluesky"
SEARCH_PATH = "/xrpc/app.bsky.feed.searchPosts"


def load(name: str):
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def search() -> dict:
    return load("search_posts_redistricting")


@pytest.fixture
def posts(search) -> list:
    return search["posts"]


def source_for(httpserver, kind=QueryKind.SEARCH, query="redistricting", **overrides):
    settings = {
        "platform": Platform.BLUESKY,
        "kind": kind,
        "query": query,
        "base_url": httpserver.url_for("/").rstrip("/"),
        "page_size": 25,
        "timeout_seconds": 5,
    }
    settings.update(overrides)
    return base.SourceConfig(**settings)


# --- parsing real responses ---------------------------------------------------------------
def test_search_posts_gives_one_mention_per_post_in_order(search, posts):
    mentions = bluesky.parse(search)

    assert [m.external_id for m in mentions] == [post["uri"] for post in posts]
    assert len(mentions) == 6
    assert {m.platform for m in mentions} == {"bluesky"}


def test_post_fields_come_from_the_post_view(posts):
    mention = bluesky.parse_item(posts[2])

    assert mention.external_id == (
        "at://did:plc:qvcro2x63rhyll7npfzbulex/app.bsky.feed.post/3kghnlgjhwg2e"
    )
    assert mention.url == "https://bsky.app/profile/jonnypants.bsky.social/post/3kghnlgjhwg2e"
    assert mention.text.startswith("Andrew Cuomo with the state Senate")
    assert mention.published_at == datetime(2023, 12, 13, 23, 54, 19, 978000, tzinfo=UTC)
    assert mention.author.handle == "jonnypants.bsky.social"
    assert mention.author.display_name == ""  # this account never set one
    assert mention.author.followers is None  # ProfileViewBasic carries no count
    assert mention.author.verified is False
    assert mention.author.url == "https://bsky.app/profile/jonnypants.bsky.social"
    assert mention.language == "en"
    assert mention.reply_to_id == (
        "at://did:plc:nvfposmpmhegtyvhbs75s3pw/app.bsky.feed.post/3kghmxiorrw2s"
    )
    assert mention.thread_id == (
        "at://did:plc:nvfposmpmhegtyvhbs75s3pw/app.bsky.feed.post/3kghcv6bmpf23"
    )
    assert mention.engagement == {"likes": 3, "reposts": 0, "replies": 0}
    assert mention.raw is posts[2]


def test_root_post_is_its_own_thread_and_replies_to_nothing(posts):
    mention = bluesky.parse_item(posts[4])

    assert mention.reply_to_id == ""
    assert mention.thread_id == mention.external_id
    assert mention.text.startswith("Dearest NY redistricting")
    assert "😁🇺🇸" in mention.text


def test_author_feed_items_are_mentions_with_the_repost_reason_kept():
    feed = load("author_feed_chriskenny")

    mentions = bluesky.parse(feed)

    assert [m.external_id for m in mentions] == [item["post"]["uri"] for item in feed["feed"]]
    assert mentions[0].author.handle == "hansilowang.bsky.social"  # the reposted author
    assert mentions[0].raw["reason"]["by"]["handle"] == "chriskenny.bsky.social"
    assert mentions[1].reply_to_id == mentions[2].external_id
    assert mentions[2].language == ""  # the record states no langs
    assert mentions[2].published_at == datetime(2023, 10, 3, 2, 49, 12, 980686, tzinfo=UTC)


def test_post_thread_without_replies_is_one_mention():
    (mention,) = bluesky.parse(load("post_thread_soubhikbarari"))

    assert mention.url == "https://bsky.app/profile/soubhikbarari.bsky.social/post/3k7qmjev5lr2s"
    assert mention.author.display_name == "Soubhik Barari"
    assert mention.engagement == {"likes": 4, "reposts": 0, "replies": 0}


def test_thread_is_flattened_parents_first_then_replies_depth_first(posts):
    thread = {
        "thread": {
            "$type": "app.bsky.feed.defs#threadViewPost",
            "post": posts[0],
            "parent": {
                "$type": "app.bsky.feed.defs#threadViewPost",
                "post": posts[1],
                "parent": {
                    "$type": "app.bsky.feed.defs#notFoundPost",
                    "uri": "at://x",
                    "notFound": True,
                },
            },
            "replies": [
                {
                    "$type": "app.bsky.feed.defs#threadViewPost",
                    "post": posts[2],
                    "replies": [{"$type": "app.bsky.feed.defs#threadViewPost", "post": posts[3]}],
                },
                {
                    "$type": "app.bsky.feed.defs#blockedPost",
                    "uri": "at://y",
                    "blocked": True,
                    "author": {"did": "did:plc:y"},
                },
                {"$type": "app.bsky.feed.defs#threadViewPost", "post": posts[4], "replies": []},
            ],
        }
    }

    uris = [m.external_id for m in bluesky.parse(thread)]

    assert uris == [posts[i]["uri"] for i in (1, 0, 2, 3, 4)]


def test_v2_thread_list_gives_its_posts(posts):
    thread = {
        "thread": [
            {
                "uri": posts[0]["uri"],
                "depth": 0,
                "value": {"$type": "app.bsky.unspecced.defs#threadItemPost", "post": posts[0]},
            },
            {
                "uri": "at://gone",
                "depth": 1,
                "value": {"$type": "app.bsky.unspecced.defs#threadItemNotFound"},
            },
        ]
    }

    assert [m.external_id for m in bluesky.parse(thread)] == [posts[0]["uri"]]


def test_single_post_view_is_one_mention(posts):
    assert [m.external_id for m in bluesky.parse(posts[5])] == [posts[5]["uri"]]


def test_notifications_give_only_those_that_are_posts(posts):
    reply = {key: posts[0][key] for key in ("uri", "cid", "author", "record", "indexedAt")}
    like = {
        **reply,
        "uri": "at://did:plc:x/app.bsky.feed.like/1",
        "record": {"$type": "app.bsky.feed.like", "createdAt": "2023-12-14T00:00:00Z"},
    }
    payload = {"notifications": [{**reply, "reason": "reply"}, {**like, "reason": "like"}]}

    assert [m.external_id for m in bluesky.parse(payload)] == [posts[0]["uri"]]


def test_verified_author_and_follower_count_when_present(posts):
    post = copy.deepcopy(posts[1])
    post["author"]["verification"] = {"verifiedStatus": "valid", "trustedVerifierStatus": "none"}
    post["author"]["followersCount"] = 1234

    author = bluesky.parse_item(post).author

    assert author.verified is True
    assert author.followers == 1234


def test_invalid_handle_falls_back_to_the_did(posts):
    post = copy.deepcopy(posts[0])
    post["author"]["handle"] = "handle.invalid"

    mention = bluesky.parse_item(post)

    assert mention.author.handle == "did:plc:xrs7uicyfcp5qbnhnqy7kucb"
    assert mention.url == (
        "https://bsky.app/profile/did:plc:xrs7uicyfcp5qbnhnqy7kucb/post/3kghpycppiw2n"
    )


def test_unreadable_created_at_falls_back_to_indexed_at(posts):
    post = copy.deepcopy(posts[0])
    post["record"]["createdAt"] = "last tuesday"

    assert bluesky.parse_item(post).published_at == datetime(
        2023, 12, 14, 0, 37, 20, 615000, tzinfo=UTC
    )


@pytest.mark.parametrize(("stated", "expected"), [(["pt-BR"], "pt"), (["JA"], "ja"), ([], "")])
def test_language_is_the_first_stated_iso_639_1_code(posts, stated, expected):
    post = copy.deepcopy(posts[0])
    post["record"]["langs"] = stated

    assert bluesky.parse_item(post).language == expected


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda p: p.pop("uri"), "no at:// uri"),
        (lambda p: p.pop("record"), "no record"),
        (lambda p: p.pop("author"), "no author"),
        (lambda p: (p["record"].pop("createdAt"), p.pop("indexedAt")), "no readable createdAt"),
    ],
)
def test_malformed_post_raises_malformed_item_with_reason(posts, damage, reason):
    post = copy.deepcopy(posts[0])
    damage(post)

    with pytest.raises(base.MalformedItem, match=reason):
        bluesky.parse_item(post)


def test_parse_raises_rather_than_dropping_a_malformed_post(search):
    broken = copy.deepcopy(search)
    del broken["posts"][3]["uri"]

    with pytest.raises(base.MalformedItem):
        bluesky.parse(broken)


@pytest.mark.parametrize("payload", [{"error": "InvalidRequest"}, "text", None])
def test_unknown_body_is_a_malformed_payload(payload):
    with pytest.raises(base.MalformedPayload):
        bluesky.split(payload)


# --- fetching over HTTP ---------------------------------------------------------------------
def test_fetch_first_request_of_a_sweep_has_no_cursor(httpserver, search):
    httpserver.expect_request(
        SEARCH_PATH, query_string={"q": "redistricting", "sort": "latest", "limit": "6"}
    ).respond_with_json(search)

    page = bluesky.fetch(source_for(httpserver, page_size=6), {})

    assert len(page.mentions) == 6
    assert page.has_more is True
    assert page.next_cursor == {"page_cursor": "25", "sweep_newest": "2023-12-14T00:37:20.615Z"}


def test_fetch_continues_a_sweep_then_moves_since_up_when_it_ends(httpserver, search):
    httpserver.expect_request(
        SEARCH_PATH,
        query_string={
            "q": "redistricting",
            "sort": "latest",
            "limit": "25",
            "since": "2023-12-01T00:00:00.000Z",
            "cursor": "25",
        },
    ).respond_with_json({"posts": search["posts"][3:]})
    cursor = {
        "since": "2023-12-01T00:00:00.000Z",
        "page_cursor": "25",
        "sweep_newest": "2023-12-14T00:37:20.615Z",
    }

    page = bluesky.fetch(source_for(httpserver), cursor)

    assert len(page.mentions) == 3
    assert page.has_more is False
    assert page.next_cursor == {"since": "2023-12-14T00:37:20.615Z"}


def test_a_short_page_with_a_cursor_does_not_end_the_sweep(httpserver, posts):
    # The AppView drops posts it cannot show after searching: 2 of 25, older ones behind.
    httpserver.expect_request(SEARCH_PATH).respond_with_json({"posts": posts[:2], "cursor": "25"})

    page = bluesky.fetch(source_for(httpserver), {"since": "2023-12-01T00:00:00.000Z"})

    assert page.has_more is True
    assert page.next_cursor == {
        "page_cursor": "25",
        "since": "2023-12-01T00:00:00.000Z",
        "sweep_newest": "2023-12-14T00:37:20.615Z",
    }


def test_an_empty_page_ends_the_sweep_even_with_a_cursor(httpserver):
    httpserver.expect_request(SEARCH_PATH).respond_with_json({"posts": [], "cursor": "50"})
    cursor = {
        "since": "2023-12-01T00:00:00.000Z",
        "page_cursor": "25",
        "sweep_newest": "2023-12-14T00:37:20.615Z",
    }

    page = bluesky.fetch(source_for(httpserver), cursor)

    assert page.has_more is False
    assert page.next_cursor == {"since": "2023-12-14T00:37:20.615Z"}


def test_fetch_keeps_since_during_a_sweep(httpserver, search):
    httpserver.expect_request(SEARCH_PATH).respond_with_json(search)

    page = bluesky.fetch(source_for(httpserver, page_size=6), {"since": "2023-12-13T00:00:00Z"})

    assert page.next_cursor["since"] == "2023-12-13T00:00:00Z"
    assert page.next_cursor["page_cursor"] == "25"


def test_fetch_hashtag_searches_for_the_tag(httpserver):
    httpserver.expect_request(
        SEARCH_PATH, query_string={"q": "#rstats", "sort": "latest", "limit": "25"}
    ).respond_with_json({"posts": []})

    page = bluesky.fetch(source_for(httpserver, QueryKind.HASHTAG, "rstats"), {})

    assert page == base.Page(mentions=[], next_cursor={}, has_more=False)


def test_fetch_newest_is_the_latest_post_whatever_the_order_and_duplicates(httpserver, posts):
    served = [posts[4], posts[1], posts[0], posts[1], posts[3]]
    httpserver.expect_request(SEARCH_PATH).respond_with_json({"posts": served})

    page = bluesky.fetch(source_for(httpserver), {})

    assert page.next_cursor == {"since": "2023-12-14T00:37:20.615Z"}
    assert len(page.mentions) == 5


def test_fetch_never_moves_since_backwards(httpserver, search):
    httpserver.expect_request(SEARCH_PATH).respond_with_json({"posts": search["posts"]})

    page = bluesky.fetch(source_for(httpserver), {"since": "2024-06-01T00:00:00.000Z"})

    assert page.next_cursor == {"since": "2024-06-01T00:00:00.000Z"}


def test_post_dated_in_the_future_cannot_push_since_past_its_indexing(httpserver, posts):
    future = copy.deepcopy(posts[0])
    future["record"]["createdAt"] = "2099-01-01T00:00:00.000Z"
    httpserver.expect_request(SEARCH_PATH).respond_with_json({"posts": [future, posts[1]]})

    page = bluesky.fetch(source_for(httpserver), {})

    assert page.next_cursor == {"since": "2023-12-14T00:37:20.615Z"}


def test_fetch_stops_when_the_server_repeats_the_cursor(httpserver, search):
    httpserver.expect_request(SEARCH_PATH).respond_with_json(search)

    page = bluesky.fetch(source_for(httpserver, page_size=6), {"page_cursor": "25"})

    assert page.has_more is False
    assert "page_cursor" not in page.next_cursor


def test_fetch_sends_the_bearer_token_when_given(httpserver):
    httpserver.expect_request(
        SEARCH_PATH, headers={"Authorization": "Bearer jwt-token"}
    ).respond_with_json({"posts": []})

    bluesky.fetch(source_for(httpserver, credentials={"access_token": "jwt-token"}), {})

    assert httpserver.log[0][1].status_code == 200


def test_fetch_quarantines_only_the_malformed_post(httpserver, search):
    served = copy.deepcopy(search)
    served["posts"][2]["record"] = "gone"
    httpserver.expect_request(SEARCH_PATH).respond_with_json(served)

    page = bluesky.fetch(source_for(httpserver), {})

    assert len(page.mentions) == 5
    assert len(page.quarantined) == 1
    assert "no record" in page.quarantined[0].reason
    assert page.quarantined[0].raw["uri"] == search["posts"][2]["uri"]


def test_rate_limit_reports_the_seconds_to_wait(httpserver):
    httpserver.expect_request(SEARCH_PATH).respond_with_data(
        "", status=429, headers={"Retry-After": "12"}
    )

    with pytest.raises(base.RateLimited) as raised:
        bluesky.fetch(source_for(httpserver), {})

    assert raised.value.retry_after_seconds == 12


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, base.TransientError),
        (502, base.TransientError),
        (401, base.PermanentError),
        (403, base.PermanentError),
    ],
)
def test_http_errors_map_to_connector_errors(httpserver, status, error):
    httpserver.expect_request(SEARCH_PATH).respond_with_json(
        {"error": "AuthMissing", "message": "Authentication Required"}, status=status
    )

    with pytest.raises(error):
        bluesky.fetch(source_for(httpserver), {})


def test_invalid_json_body_is_a_malformed_payload(httpserver):
    httpserver.expect_request(SEARCH_PATH).respond_with_data("{not json", status=200)

    with pytest.raises(base.MalformedPayload):
        bluesky.fetch(source_for(httpserver), {})


def test_source_without_query_is_a_permanent_error(httpserver):
    with pytest.raises(base.PermanentError):
        bluesky.fetch(source_for(httpserver, query="  "), {})
