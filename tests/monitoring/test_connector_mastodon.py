"""The Mastodon connector against recorded real responses and a loopback HTTP server."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitoring.connectors import base, mastodon
from monitoring.platforms import Platform, QueryKind

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"


def load(name: str):
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def timeline() -> list:
    return load("tag_timeline_rstats")


def source_for(httpserver, kind=QueryKind.HASHTAG, query="rstats", **overrides):
    settings = {
        "platform": Platform.MASTODON,
        "kind": kind,
        "query": query,
        "base_url": httpserver.url_for("/").rstrip("/"),
        "page_size": 40,
        "timeout_seconds": 5,
    }
    settings.update(overrides)
    return base.SourceConfig(**settings)


# --- parsing real responses ---------------------------------------------------------------
def test_tag_timeline_gives_one_mention_per_status_in_order(timeline):
    mentions = mastodon.parse(timeline)

    assert [m.external_id for m in mentions] == [status["id"] for status in timeline]
    assert len(mentions) == 5
    assert {m.platform for m in mentions} == {"mastodon"}


def test_status_fields_come_from_the_status_and_its_account(timeline):
    mention = mastodon.parse(timeline)[0]

    assert mention.url == "https://rstats.me/@simonpcouch/114870142137562212"
    assert mention.published_at == datetime(2025, 7, 17, 19, 7, 48, tzinfo=UTC)
    assert mention.published_at.utcoffset().total_seconds() == 0
    assert mention.author.handle == "simonpcouch@rstats.me"
    assert mention.author.display_name == "Simon P. Couch"
    assert mention.author.followers == 656
    assert mention.author.url == "https://rstats.me/@simonpcouch"
    assert mention.language == "en"
    assert mention.reply_to_id == ""
    assert mention.thread_id == mention.external_id
    assert mention.engagement == {"likes": 1, "reposts": 0, "replies": 0}
    assert mention.raw is timeline[0]


def test_html_content_becomes_plain_text_with_links_and_tags_kept(timeline):
    mentions = mastodon.parse(timeline)

    assert mentions[0].text == (
        "After a month or so of not using Claude Code much to write R code, I recently "
        "returned to using the tool most days. Giving coding assistants the ability to peruse "
        "#rstats package documentation via MCP is so, so helpful: "
        "https://www.simonpcouch.com/blog/2025-07-17-claude-code-2/"
    )
    assert mentions[2].text.startswith("Fun thing that @snystrom and I found today")
    assert all("<" not in m.text and "&quot;" not in m.text for m in mentions)


def test_author_with_a_verified_profile_link_is_verified(timeline):
    by_handle = {m.author.handle: m.author for m in mastodon.parse(timeline)}

    assert by_handle["zkamvar@hachyderm.io"].verified is True
    assert by_handle["simonpcouch@rstats.me"].verified is False


def test_documentation_example_single_status_is_one_mention_with_entities_decoded():
    (mention,) = mastodon.parse(load("status_docs_example"))

    assert mention.external_id == "103270115826048975"
    assert mention.text.startswith('"I lost my inheritance with one wrong digit on my sort code"')
    assert mention.author.handle == "Gargron"
    assert mention.author.followers == 322930
    assert mention.author.verified is True  # the Homepage field has verified_at
    assert mention.engagement == {"likes": 11, "reposts": 6, "replies": 5}
    assert mention.published_at == datetime(2019, 12, 8, 3, 48, 33, 901000, tzinfo=UTC)


def test_reblog_becomes_one_mention_with_original_text():
    boost = load("reblog_status")

    (mention,) = mastodon.parse(boost)

    assert mention.external_id == "109440142482846015"  # the boosted status, not the boost
    assert mention.url == "http://localhost:3000/@mastodonpy_test/109440142482846015"
    assert mention.text == "Toot!"
    assert mention.language == "ja"  # the boost itself has language null
    assert mention.engagement == {"likes": 0, "reposts": 1, "replies": 0}
    assert mention.published_at == datetime(2022, 12, 1, 19, 47, 29, 116000, tzinfo=UTC)
    assert mention.raw["id"] == "109440142486581428"  # who boosted stays in raw


def test_search_result_yields_only_its_statuses():
    assert mastodon.parse(load("search_v2_accounts_only")) == []


def test_search_result_with_statuses_is_one_mention_per_status(timeline):
    result = {"accounts": [], "statuses": timeline[:3], "hashtags": []}

    assert [m.external_id for m in mastodon.parse(result)] == [s["id"] for s in timeline[:3]]


def test_context_gives_ancestors_then_descendants(timeline):
    context = {"ancestors": [timeline[4]], "descendants": [timeline[1], timeline[0]]}

    ids = [m.external_id for m in mastodon.parse(context)]

    assert ids == [timeline[4]["id"], timeline[1]["id"], timeline[0]["id"]]


def test_notifications_yield_their_statuses_and_skip_follows(timeline):
    account = timeline[0]["account"]
    notifications = [
        {
            "id": "9",
            "type": "mention",
            "created_at": "2025-07-17T19:08:00.000Z",
            "account": account,
            "status": timeline[0],
        },
        {"id": "8", "type": "follow", "created_at": "2025-07-17T19:00:00.000Z", "account": account},
    ]

    assert [m.external_id for m in mastodon.parse(notifications)] == [timeline[0]["id"]]


def test_spoiler_text_comes_before_the_content(timeline):
    status = copy.deepcopy(timeline[3])
    status["spoiler_text"] = "R packages"

    mention = mastodon.parse_item(status)

    assert mention.text.startswith("R packages\n\nWas looking for an #rstats package")


def test_deleted_status_uses_its_plain_source_text():
    status = copy.deepcopy(load("reblog_status")["reblog"])
    del status["content"]
    status["text"] = "Toot!"

    assert mastodon.parse_item(status).text == "Toot!"


def test_reply_keeps_the_status_it_answers_and_has_no_known_thread_root(timeline):
    status = copy.deepcopy(timeline[1])
    status["in_reply_to_id"] = "114869000000000000"

    mention = mastodon.parse_item(status)

    assert mention.reply_to_id == "114869000000000000"
    assert mention.thread_id == ""


@pytest.mark.parametrize(
    ("stated", "expected"), [("pt-BR", "pt"), ("EN", "en"), (None, ""), ("ast", ""), ("", "")]
)
def test_language_is_iso_639_1_or_empty(timeline, stated, expected):
    status = copy.deepcopy(timeline[0])
    status["language"] = stated

    assert mastodon.parse_item(status).language == expected


@pytest.mark.parametrize(
    "damage", [lambda a: a.pop("followers_count"), lambda a: a.update(followers_count=-1)]
)
def test_account_without_a_usable_followers_count_has_unknown_followers(timeline, damage):
    status = copy.deepcopy(timeline[0])
    damage(status["account"])

    assert mastodon.parse_item(status).author.followers is None


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda s: s.pop("id"), "no id"),
        (lambda s: s.update(created_at="yesterday-ish"), "unreadable date"),
        (lambda s: s.pop("created_at"), "missing or empty date"),
        (lambda s: s.update(account=None), "no account"),
        (lambda s: s.update(url=None, uri=None), "neither url nor uri"),
    ],
)
def test_malformed_status_raises_malformed_item_with_reason(timeline, damage, reason):
    status = copy.deepcopy(timeline[0])
    damage(status)

    with pytest.raises(base.MalformedItem, match=reason):
        mastodon.parse_item(status)


def test_parse_raises_rather_than_dropping_a_malformed_status(timeline):
    broken = copy.deepcopy(timeline)
    del broken[2]["id"]

    with pytest.raises(base.MalformedItem):
        mastodon.parse(broken)


def test_non_object_in_a_timeline_is_a_malformed_item(timeline):
    assert len(mastodon.split([timeline[0], "oops"])) == 2
    with pytest.raises(base.MalformedItem, match="not a JSON object"):
        mastodon.parse_item("oops")


@pytest.mark.parametrize("payload", [{"error": "Record not found"}, "text", None, 42])
def test_unknown_body_is_a_malformed_payload(payload):
    with pytest.raises(base.MalformedPayload):
        mastodon.split(payload)


# --- fetching over HTTP ---------------------------------------------------------------------
def test_fetch_hashtag_reads_the_tag_timeline_after_min_id(httpserver, timeline):
    httpserver.expect_request(
        "/api/v1/timelines/tag/rstats", query_string={"limit": "40", "min_id": "114869000000000000"}
    ).respond_with_json(timeline)

    page = mastodon.fetch(source_for(httpserver, query="#rstats"), {"min_id": "114869000000000000"})

    assert len(page.mentions) == 5
    assert page.quarantined == []
    assert page.next_cursor == {"min_id": "114870142263126875"}
    assert page.has_more is False


def test_fetch_first_poll_sends_no_min_id_and_quotes_the_tag(httpserver, timeline):
    httpserver.expect_request(
        "/api/v1/timelines/tag/qualitätskatzen", query_string={"limit": "40"}
    ).respond_with_json(timeline[:1])

    page = mastodon.fetch(source_for(httpserver, query="qualitätskatzen"), {})

    assert page.next_cursor == {"min_id": timeline[0]["id"]}


def test_fetch_cursor_is_the_highest_id_whatever_the_order_and_duplicates(httpserver, timeline):
    served = [timeline[3], timeline[0], timeline[4], timeline[0], timeline[1]]
    httpserver.expect_request("/api/v1/timelines/tag/rstats").respond_with_json(served)

    page = mastodon.fetch(source_for(httpserver), {"min_id": "1"})

    assert page.next_cursor["min_id"] == "114870142263126875"
    assert len(page.mentions) == 5  # duplicates are ingest's to merge, not dropped here


def test_fetch_compares_ids_as_numbers_not_text(httpserver, timeline):
    short, long_ = copy.deepcopy(timeline[0]), copy.deepcopy(timeline[1])
    short["id"], long_["id"] = "99", "100"
    httpserver.expect_request("/api/v1/timelines/tag/rstats").respond_with_json([short, long_])

    page = mastodon.fetch(source_for(httpserver), {})

    assert page.next_cursor["min_id"] == "100"


def test_fetch_never_moves_the_cursor_backwards(httpserver, timeline):
    httpserver.expect_request("/api/v1/timelines/tag/rstats").respond_with_json(timeline)

    page = mastodon.fetch(source_for(httpserver), {"min_id": "999999999999999999"})

    assert page.next_cursor == {"min_id": "999999999999999999"}


def test_fetch_empty_page_keeps_the_cursor(httpserver):
    httpserver.expect_request("/api/v1/timelines/tag/rstats").respond_with_json([])

    page = mastodon.fetch(source_for(httpserver), {"min_id": "5"})

    assert page == base.Page(mentions=[], next_cursor={"min_id": "5"}, has_more=False)


def test_fetch_full_page_has_more(httpserver, timeline):
    httpserver.expect_request(
        "/api/v1/timelines/tag/rstats", query_string={"limit": "2"}
    ).respond_with_json(timeline[:2])

    page = mastodon.fetch(source_for(httpserver, page_size=2), {})

    assert page.has_more is True


def test_fetch_caps_the_page_size_at_forty(httpserver):
    httpserver.expect_request(
        "/api/v1/timelines/tag/rstats", query_string={"limit": "40"}
    ).respond_with_json([])

    mastodon.fetch(source_for(httpserver, page_size=500), {})


def test_fetch_boost_moves_the_cursor_by_its_own_id(httpserver):
    boost = load("reblog_status")
    httpserver.expect_request("/api/v1/timelines/tag/rstats").respond_with_json([boost])

    page = mastodon.fetch(source_for(httpserver), {})

    assert page.mentions[0].external_id == "109440142482846015"
    assert page.next_cursor == {"min_id": "109440142486581428"}


def test_fetch_search_uses_v2_search_for_statuses(httpserver, timeline):
    httpserver.expect_request(
        "/api/v2/search",
        query_string={"q": "calma crisis", "type": "statuses", "resolve": "false", "limit": "40"},
    ).respond_with_json({"accounts": [], "statuses": timeline, "hashtags": []})

    page = mastodon.fetch(source_for(httpserver, QueryKind.SEARCH, "calma crisis"), {})

    assert len(page.mentions) == 5


def test_fetch_account_looks_up_the_id_once_then_reads_its_statuses(httpserver, timeline):
    httpserver.expect_request(
        "/api/v1/accounts/lookup", query_string={"acct": "Gargron@mastodon.social"}
    ).respond_with_json(load("status_docs_example")["account"])
    httpserver.expect_request(
        "/api/v1/accounts/1/statuses", query_string={"limit": "40"}
    ).respond_with_json(timeline)
    source = source_for(httpserver, QueryKind.ACCOUNT, "@Gargron@mastodon.social")

    first = mastodon.fetch(source, {})
    second = mastodon.fetch(source, first.next_cursor)

    assert first.mentions == []
    assert first.has_more is True
    assert first.next_cursor == {"account_id": "1", "acct": "Gargron@mastodon.social"}
    assert len(second.mentions) == 5
    assert second.next_cursor["account_id"] == "1"
    assert second.next_cursor["min_id"] == "114870142263126875"
    assert len(httpserver.log) == 2


def test_fetch_sends_the_bearer_token_when_given(httpserver):
    httpserver.expect_request(
        "/api/v1/timelines/tag/rstats", headers={"Authorization": "Bearer s3cret"}
    ).respond_with_json([])

    mastodon.fetch(source_for(httpserver, credentials={"access_token": "s3cret"}), {})

    assert len(httpserver.log) == 1
    assert httpserver.log[0][1].status_code == 200


def test_fetch_sends_no_authorization_without_a_token(httpserver):
    httpserver.expect_request("/api/v1/timelines/tag/rstats").respond_with_json([])

    mastodon.fetch(source_for(httpserver), {})

    assert "Authorization" not in httpserver.log[0][0].headers


def test_fetch_quarantines_only_the_malformed_status(httpserver, timeline):
    served = copy.deepcopy(timeline)
    served[1]["created_at"] = "not a date"
    httpserver.expect_request("/api/v1/timelines/tag/rstats").respond_with_json(served)

    page = mastodon.fetch(source_for(httpserver), {})

    assert [m.external_id for m in page.mentions] == [
        s["id"] for s in timeline if s["id"] != timeline[1]["id"]
    ]
    assert len(page.quarantined) == 1
    assert "unreadable date" in page.quarantined[0].reason
    assert page.quarantined[0].raw["id"] == timeline[1]["id"]
    assert page.next_cursor["min_id"] == "114870142263126875"


def test_rate_limit_reports_the_seconds_to_wait(httpserver):
    httpserver.expect_request("/api/v1/timelines/tag/rstats").respond_with_data(
        "", status=429, headers={"Retry-After": "30"}
    )

    with pytest.raises(base.RateLimited) as raised:
        mastodon.fetch(source_for(httpserver), {})

    assert raised.value.retry_after_seconds == 30


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, base.TransientError),
        (503, base.TransientError),
        (401, base.PermanentError),
        (404, base.PermanentError),
    ],
)
def test_http_errors_map_to_connector_errors(httpserver, status, error):
    httpserver.expect_request("/api/v1/timelines/tag/rstats").respond_with_json(
        {"error": "nope"}, status=status
    )

    with pytest.raises(error):
        mastodon.fetch(source_for(httpserver), {})


def test_invalid_json_body_is_a_malformed_payload(httpserver):
    httpserver.expect_request("/api/v1/timelines/tag/rstats").respond_with_data(
        "<html>maintenance</html>", content_type="text/html"
    )

    with pytest.raises(base.MalformedPayload):
        mastodon.fetch(source_for(httpserver), {})


def test_source_without_instance_is_a_permanent_error():
    source = base.SourceConfig(platform="mastodon", kind=QueryKind.HASHTAG, query="rstats")

    with pytest.raises(base.PermanentError, match="instance"):
        mastodon.fetch(source, {})
