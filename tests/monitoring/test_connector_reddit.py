"""The Reddit connector against recorded real responses and a loopback HTTP server."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from monitoring.connectors import base, reddit
from monitoring.platforms import Platform, QueryKind

FIXTURES = Path(__file__).parent / "fixtures" / "reddit"


def load(name: str):
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def comments_page() -> list:
    return load("comments_page_2gmzqe")


@pytest.fixture
def new_posts() -> dict:
    return load("askreddit_new")


def source_for(httpserver, kind=QueryKind.SUBREDDIT, query="AskReddit", **overrides):
    settings = {
        "platform": Platform.REDDIT,
        "kind": kind,
        "query": query,
        "base_url": httpserver.url_for("/").rstrip("/"),
        "page_size": 100,
        "timeout_seconds": 5,
    }
    settings.update(overrides)
    return base.SourceConfig(**settings)


class RecordingSession:
    """Stands in for requests.Session where the real host must not be contacted."""

    def __init__(self, body):
        self.body = body
        self.calls = []

    def get(self, url, params=None, headers=None, timeout=None):
        self.calls.append({"url": url, "params": params, "headers": headers})
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps(self.body).encode()
        response.url = url
        return response


# --- parsing real responses ---------------------------------------------------------------
def test_comments_page_gives_the_post_then_its_comment_tree(comments_page):
    mentions = reddit.parse(comments_page)

    assert [m.external_id for m in mentions] == ["t3_2gmzqe", "t1_cklfmye", "t1_cklhv0f"]
    assert {m.platform for m in mentions} == {"reddit"}


def test_post_fields_come_from_the_t3(comments_page):
    post = reddit.parse(comments_page)[0]

    assert post.url == (
        "https://www.reddit.com/r/redditdev/comments/2gmzqe/praw_https_enabled_praw_testing_needed/"
    )
    assert post.text.startswith(
        "[PRAW] HTTPS enabled PRAW testing needed\n\nPRAW client developers,"
    )
    assert post.published_at == datetime(2014, 9, 17, 6, 34, 31, tzinfo=UTC)
    assert post.author.handle == "bboe"
    assert post.author.followers is None
    assert post.author.url == "https://www.reddit.com/user/bboe/"
    assert post.language == ""
    assert post.reply_to_id == ""
    assert post.thread_id == "t3_2gmzqe"
    assert post.engagement == {"score": 11, "comments": 2}  # upvote_ratio is not a count


def test_nested_reply_points_at_its_parent_comment_and_the_post(comments_page):
    _, comment, reply = reddit.parse(comments_page)

    assert comment.reply_to_id == "t3_2gmzqe"
    assert reply.reply_to_id == "t1_cklfmye"
    assert reply.thread_id == comment.thread_id == "t3_2gmzqe"
    assert reply.text.startswith("Yes it does. That fix is also in the master branch, we just")
    assert reply.engagement == {"score": 1}
    assert reply.published_at == datetime(2014, 9, 18, 3, 13, 54, tzinfo=UTC)


def test_comment_without_permalink_gets_a_working_url(comments_page):
    comment = reddit.parse(comments_page)[1]

    assert comment.url == "https://www.reddit.com/r/redditdev/comments/2gmzqe/_/cklfmye/"


def test_each_comment_raw_holds_that_comment_only(comments_page):
    comment = reddit.parse(comments_page)[1]

    assert comment.raw["data"]["name"] == "t1_cklfmye"
    assert comment.raw["data"]["replies"] == ""  # the reply is an item of its own
    json.dumps(comment.raw)


def test_more_stubs_are_not_comments(comments_page):
    page = copy.deepcopy(comments_page)
    page[1]["data"]["children"].append(
        {
            "kind": "more",
            "data": {
                "count": 4,
                "parent_id": "t3_2gmzqe",
                "id": "ckm0000",
                "name": "t1_ckm0000",
                "children": ["ckm0000", "ckm0001"],
            },
        }
    )

    assert len(reddit.parse(page)) == 3


def test_deleted_comment_keeps_the_deleted_author():
    (comment,) = reddit.parse(load("info_deleted_comment"))

    assert comment.external_id == "t1_d7ltvl0"
    assert comment.author.handle == "[deleted]"
    assert comment.author.url == ""
    assert comment.text == "[deleted]"
    assert comment.url == "https://www.reddit.com/r/test/comments/52o2fl/_/d7ltvl0/"


def test_new_listing_gives_one_mention_per_post(new_posts):
    mentions = reddit.parse(new_posts)

    assert [m.external_id for m in mentions] == [
        "t3_p7if57",
        "t3_p7if2h",
        "t3_p7iemz",
        "t3_p7ief1",
    ]
    # A self post with an empty selftext is its title alone.
    assert mentions[2].text == new_posts["data"]["children"][2]["data"]["title"]
    assert mentions[2].text.startswith("Window washers/ building painters, what")
    assert mentions[0].author.handle == "DoomedKiblets"
    assert mentions[0].engagement == {"score": 1, "comments": 0}


def test_empty_search_listing_gives_no_mentions():
    assert reddit.parse(load("search_empty")) == []


def test_morechildren_answer_gives_its_comments(comments_page):
    comment = comments_page[1]["data"]["children"][0]
    reply = comment["data"]["replies"]["data"]["children"][0]
    answer = {"json": {"errors": [], "data": {"things": [reply]}}}

    assert [m.external_id for m in reddit.parse(answer)] == ["t1_cklhv0f"]


def test_html_entities_from_a_request_without_raw_json_are_decoded(new_posts):
    post = copy.deepcopy(new_posts["data"]["children"][1])
    post["data"]["title"] = "Q&amp;A: is 1 &lt; 2?"

    assert reddit.parse_item(post).text == "Q&A: is 1 < 2?"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda t: (t["data"].pop("name"), t["data"].pop("id")), "neither name nor id"),
        (lambda t: t["data"].pop("created_utc"), "missing or empty date"),
        (lambda t: t["data"].update(created_utc="soon"), "unreadable date"),
        (lambda t: t.update(kind="t5"), "neither a post nor a comment"),
        (lambda t: t.pop("data"), "no data"),
    ],
)
def test_malformed_thing_raises_malformed_item_with_reason(new_posts, damage, reason):
    thing = copy.deepcopy(new_posts["data"]["children"][0])
    damage(thing)

    with pytest.raises(base.MalformedItem, match=reason):
        reddit.parse_item(thing)


def test_parse_raises_rather_than_dropping_a_malformed_thing(new_posts):
    broken = copy.deepcopy(new_posts)
    del broken["data"]["children"][1]["data"]["created_utc"]

    with pytest.raises(base.MalformedItem):
        reddit.parse(broken)


@pytest.mark.parametrize(
    "payload", [{"message": "Forbidden", "error": 403}, "text", None, {"kind": "Listing"}]
)
def test_unknown_body_is_a_malformed_payload(payload):
    with pytest.raises(base.MalformedPayload):
        reddit.split(payload)


# --- fetching over HTTP ---------------------------------------------------------------------
def test_fetch_subreddit_reads_new_and_remembers_the_newest_post(httpserver, new_posts):
    httpserver.expect_request(
        "/r/AskReddit/new.json", query_string={"limit": "4", "raw_json": "1"}
    ).respond_with_json(new_posts)

    page = reddit.fetch(source_for(httpserver, query="r/AskReddit", page_size=4), {})

    assert len(page.mentions) == 4
    assert page.has_more is True
    assert page.next_cursor == {"before": "t3_p7if57", "before_created_utc": 1629391016.0}


def test_fetch_search_sorts_by_new_after_the_cursor(httpserver):
    httpserver.expect_request(
        "/search.json",
        query_string={
            "q": "calma outage",
            "sort": "new",
            "limit": "100",
            "raw_json": "1",
            "before": "t3_p7if57",
        },
    ).respond_with_json(load("search_empty"))
    cursor = {"before": "t3_p7if57", "before_created_utc": 1629391016.0}

    page = reddit.fetch(source_for(httpserver, QueryKind.SEARCH, "calma outage"), cursor)

    assert page.mentions == []
    assert page.has_more is False
    assert page.next_cursor == {**cursor, "empty_polls": 1}


def test_fetch_cursor_is_the_newest_post_whatever_the_order_and_duplicates(httpserver, new_posts):
    children = new_posts["data"]["children"]
    served = {
        "kind": "Listing",
        "data": {"children": [children[2], children[0], children[3], children[0], children[1]]},
    }
    httpserver.expect_request("/r/AskReddit/new.json").respond_with_json(served)

    page = reddit.fetch(source_for(httpserver), {})

    assert page.next_cursor["before"] == "t3_p7if57"
    assert len(page.mentions) == 5


def test_fetch_never_moves_the_cursor_backwards(httpserver, new_posts):
    httpserver.expect_request("/r/AskReddit/new.json").respond_with_json(new_posts)
    cursor = {"before": "t3_zzzzzz", "before_created_utc": 1700000000.0}

    page = reddit.fetch(source_for(httpserver), cursor)

    assert page.next_cursor == cursor


def test_fetch_starts_over_after_many_empty_polls_on_a_vanished_anchor(httpserver):
    httpserver.expect_request("/r/AskReddit/new.json").respond_with_json(load("search_empty"))
    cursor = {"before": "t3_gone", "before_created_utc": 1.0}
    cursor["empty_polls"] = reddit.MAX_EMPTY_POLLS - 1

    page = reddit.fetch(source_for(httpserver), cursor)

    assert page.next_cursor == {}


def test_fetch_quarantines_only_the_malformed_thing(httpserver, new_posts):
    served = copy.deepcopy(new_posts)
    served["data"]["children"][1]["data"]["created_utc"] = None
    httpserver.expect_request("/r/AskReddit/new.json").respond_with_json(served)

    page = reddit.fetch(source_for(httpserver), {})

    assert [m.external_id for m in page.mentions] == ["t3_p7if57", "t3_p7iemz", "t3_p7ief1"]
    assert len(page.quarantined) == 1
    assert page.quarantined[0].raw["data"]["name"] == "t3_p7if2h"


def test_fetch_with_a_token_sends_it_as_bearer(httpserver):
    httpserver.expect_request(
        "/r/AskReddit/new.json", headers={"Authorization": "bearer oauth-token"}
    ).respond_with_json(load("search_empty"))

    reddit.fetch(source_for(httpserver, credentials={"access_token": "oauth-token"}), {})

    assert httpserver.log[0][1].status_code == 200


def test_token_switches_the_default_host_to_oauth():
    session = RecordingSession(load("search_empty"))
    source = base.SourceConfig(
        platform="reddit",
        kind=QueryKind.SUBREDDIT,
        query="python",
        credentials={"access_token": "t"},
    )

    reddit.fetch(source, {}, session=session)

    assert session.calls[0]["url"] == "https://oauth.reddit.com/r/python/new.json"


def test_without_a_token_the_public_host_is_used():
    session = RecordingSession(load("search_empty"))
    source = base.SourceConfig(platform="reddit", kind=QueryKind.SEARCH, query="calma")

    reddit.fetch(source, {}, session=session)

    assert session.calls[0]["url"] == "https://www.reddit.com/search.json"
    assert session.calls[0]["headers"] == {}


def test_rate_limit_uses_reddits_reset_header(httpserver):
    httpserver.expect_request("/r/AskReddit/new.json").respond_with_data(
        "", status=429, headers={"x-ratelimit-reset": "554", "x-ratelimit-remaining": "0"}
    )

    with pytest.raises(base.RateLimited) as raised:
        reddit.fetch(source_for(httpserver), {})

    assert raised.value.retry_after_seconds == 554


def test_rate_limit_prefers_retry_after(httpserver):
    httpserver.expect_request("/r/AskReddit/new.json").respond_with_data(
        "", status=429, headers={"Retry-After": "7"}
    )

    with pytest.raises(base.RateLimited) as raised:
        reddit.fetch(source_for(httpserver), {})

    assert raised.value.retry_after_seconds == 7


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, base.TransientError),
        (503, base.TransientError),
        (401, base.PermanentError),
        (403, base.PermanentError),
        (404, base.PermanentError),
    ],
)
def test_http_errors_map_to_connector_errors(httpserver, status, error):
    httpserver.expect_request("/r/AskReddit/new.json").respond_with_json(
        {"message": "Forbidden", "error": status}, status=status
    )

    with pytest.raises(error):
        reddit.fetch(source_for(httpserver), {})


def test_invalid_json_body_is_a_malformed_payload(httpserver):
    httpserver.expect_request("/r/AskReddit/new.json").respond_with_data(
        "<html>whoa there, pardner!</html>", content_type="text/html"
    )

    with pytest.raises(base.MalformedPayload):
        reddit.fetch(source_for(httpserver), {})


def test_unsupported_kind_is_a_permanent_error(httpserver):
    with pytest.raises(base.PermanentError):
        reddit.fetch(source_for(httpserver, QueryKind.HASHTAG, "calma"), {})
