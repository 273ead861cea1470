"""YouTube connector: real commentThreads/comments responses, and the paging sweep over HTTP."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from monitoring.connectors import base, youtube
from monitoring.platforms import Platform, QueryKind

FIXTURES = Path(__file__).parent / "fixtures" / "youtube"
API_PATH = "/youtube/v3/commentThreads"
API_KEY = "test-key-not-real"


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def video_source(httpserver, **overrides) -> base.SourceConfig:
    settings = {
        "platform": Platform.YOUTUBE,
        "kind": QueryKind.VIDEO,
        "query": "F1UP7wRCPH8",
        "base_url": httpserver.url_for("/youtube/v3"),
        "credentials": {"api_key": API_KEY},
        "page_size": 20,
        "timeout_seconds": 3,
    }
    settings.update(overrides)
    return base.SourceConfig(**settings)


def expected_query(**extra) -> dict[str, str]:
    query = {
        "part": "snippet,replies",
        "order": "time",
        "maxResults": "20",
        "textFormat": "plainText",
        "key": API_KEY,
        "videoId": "F1UP7wRCPH8",
    }
    query.update(extra)
    return query


# --- parsing ------------------------------------------------------------------------------
def test_threads_with_replies_give_one_mention_per_comment():
    mentions = youtube.parse(load("comment_threads_with_replies_es.json"))

    assert len(mentions) == 7 + 12
    assert [m.external_id for m in mentions[:3]] == [
        "Ugw7wxRhMwV-_M188-h4AaABAg",
        "Ugw7wxRhMwV-_M188-h4AaABAg.98iE9uXvdxx98iFGBxpuvL",
        "UgyX41JBUK_sDKAu-J94AaABAg",
    ]
    assert all(m.platform == Platform.YOUTUBE for m in mentions)


def test_threads_without_embedded_replies_give_one_mention_each():
    assert len(youtube.parse(load("comment_threads_by_video_paged_2.json"))) == 5


def test_reply_links_to_its_parent_and_keeps_spanish_text():
    mentions = youtube.parse(load("comment_threads_with_replies_es.json"))
    reply = next(m for m in mentions if m.external_id.endswith(".98g_Oz0oHv398iFMoIHMDl"))

    assert reply.reply_to_id == "UgyX41JBUK_sDKAu-J94AaABAg"
    assert reply.thread_id == "UgyX41JBUK_sDKAu-J94AaABAg"
    assert reply.text == (
        "@next signer Linux hace que los equipos duren más, "
        "y con Ubuntu el manejo es bien sencillo."
    )
    assert reply.url == (
        "https://www.youtube.com/watch?v=aJMu-btOpDs&lc=UgyX41JBUK_sDKAu-J94AaABAg.98g_Oz0oHv398iFMoIHMDl"
    )
    assert reply.author.handle == "Carlos Azaustre"
    assert reply.author.url == "http://www.youtube.com/channel/UCJgGc8pQO1lv04VXrBxA_Hg"
    assert reply.author.followers is None
    assert reply.published_at == datetime(2020, 5, 16, 10, 49, 7, tzinfo=UTC)


def test_top_level_comment_counts_likes_and_replies():
    mentions = youtube.parse(load("comment_threads_with_replies_es.json"))
    top = next(m for m in mentions if m.external_id == "UgyX41JBUK_sDKAu-J94AaABAg")

    assert top.reply_to_id == ""
    assert top.thread_id == "UgyX41JBUK_sDKAu-J94AaABAg"
    assert top.engagement == {"likes": 0, "replies": 5}
    assert "8 años" in top.text
    assert top.published_at.tzinfo is not None
    assert top.published_at.utcoffset().total_seconds() == 0


def test_emoji_survive_parsing():
    mentions = youtube.parse(load("comment_threads_with_replies_es.json"))

    assert any(m.text == "Nunca me entere del directo Carlos !! 😕" for m in mentions)


def test_comments_list_response_is_accepted():
    mentions = youtube.parse(load("comments_by_parent_paged_1.json"))

    assert [m.external_id for m in mentions] == [
        "Ugw5zYU6n9pmIgAZWvN4AaABAg.91zT3cYb5B291za6voUoRh",
        "Ugw5zYU6n9pmIgAZWvN4AaABAg.91zT3cYb5B291za5eJxzs1",
    ]
    assert {m.reply_to_id for m in mentions} == {"Ugw5zYU6n9pmIgAZWvN4AaABAg"}
    assert {m.thread_id for m in mentions} == {"Ugw5zYU6n9pmIgAZWvN4AaABAg"}
    assert mentions[0].published_at == datetime(2019, 12, 1, 4, 46, 31, tzinfo=UTC)
    assert all(m.url.startswith("https://www.youtube.com/") for m in mentions)


def test_single_comment_thread_is_accepted():
    thread = load("comment_threads_with_replies_es.json")["items"][1]

    assert len(youtube.parse(thread)) == 1 + 5


def test_single_comment_is_accepted():
    comment = load("comments_by_parent_paged_1.json")["items"][0]

    [mention] = youtube.parse(comment)
    assert mention.text == "this is the third reply!"


def test_text_falls_back_to_display_text_without_html():
    payload = load("comment_threads_by_video_paged_2.json")
    snippet = payload["items"][4]["snippet"]["topLevelComment"]["snippet"]
    del snippet["textOriginal"]

    text = youtube.parse(payload)[4].text

    assert text.startswith("Lot's of good light coming in from here #ChromeDevSummit the web")
    assert "<a" not in text
    assert "&#39;" not in text


def test_handle_comes_from_channel_url_when_name_is_missing():
    comment = copy.deepcopy(load("comments_by_parent_paged_1.json")["items"][0])
    del comment["snippet"]["authorDisplayName"]
    comment["snippet"]["authorChannelUrl"] = "http://www.youtube.com/@veritasium"

    [mention] = youtube.parse(comment)

    assert mention.author.handle == "@veritasium"
    assert mention.author.url == "http://www.youtube.com/@veritasium"


def test_comment_without_date_is_malformed():
    comment = copy.deepcopy(load("comments_by_parent_paged_1.json")["items"][0])
    del comment["snippet"]["publishedAt"]

    with pytest.raises(base.MalformedItem):
        youtube.parse_item(comment)
    with pytest.raises(base.MalformedItem):
        youtube.parse({"kind": "youtube#commentListResponse", "items": [comment]})


def test_thread_without_top_level_comment_is_malformed_not_dropped():
    payload = {"items": [{"kind": "youtube#commentThread", "id": "Ugx1", "snippet": {}}]}

    assert len(youtube.split(payload)) == 1
    with pytest.raises(base.MalformedItem, match="topLevelComment"):
        youtube.parse(payload)


def test_raw_is_json_serialisable():
    for mention in youtube.parse(load("comment_threads_with_replies_es.json")):
        json.dumps(mention.raw)


def test_list_response_without_items_is_empty():
    assert youtube.parse({"kind": "youtube#commentThreadListResponse", "pageInfo": {}}) == []


def test_error_body_is_not_a_comment_response():
    with pytest.raises(base.MalformedPayload):
        youtube.parse(load("error_quota_exceeded.json"))


# --- fetching -----------------------------------------------------------------------------
def test_fetch_asks_for_the_video_threads_newest_first(httpserver):
    payload = load("comment_threads_by_video_paged_2.json")
    httpserver.expect_request(API_PATH, query_string=expected_query()).respond_with_json(payload)

    page = youtube.fetch(video_source(httpserver), {})

    assert len(page.mentions) == 5
    assert page.quarantined == []
    assert page.has_more is True
    assert page.next_cursor == {
        "page_token": payload["nextPageToken"],
        "sweep_newest": "2019-11-26T15:51:44+00:00",
    }


def test_fetch_channel_uses_all_threads_and_caps_page_size(httpserver):
    query = expected_query(maxResults="100")
    del query["videoId"]
    query["allThreadsRelatedToChannelId"] = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
    httpserver.expect_request(API_PATH, query_string=query).respond_with_json(
        {"kind": "youtube#commentThreadListResponse", "items": []}
    )
    source = video_source(
        httpserver, kind=QueryKind.CHANNEL, query="UC_x5XG1OV2P6uZZ5FSM9Ttw", page_size=500
    )

    page = youtube.fetch(source, {})

    assert page.mentions == []
    assert page.has_more is False
    assert page.next_cursor == {}


def test_sweep_pages_back_to_newest_seen_then_moves_it(httpserver):
    first = load("comment_threads_by_video_paged_2.json")
    older = copy.deepcopy(first["items"][0])
    older["id"] = older["snippet"]["topLevelComment"]["id"] = "UgyOlderThread"
    older["snippet"]["topLevelComment"]["snippet"]["publishedAt"] = "2019-10-01T08:00:00Z"
    last = {"kind": "youtube#commentThreadListResponse", "items": [older]}
    token = first["nextPageToken"]
    httpserver.expect_ordered_request(API_PATH, query_string=expected_query()).respond_with_json(
        first
    )
    httpserver.expect_ordered_request(
        API_PATH, query_string=expected_query(pageToken=token)
    ).respond_with_json(last)
    source = video_source(httpserver)

    page_one = youtube.fetch(source, {"newest_seen": "2019-11-01T00:00:00+00:00"})
    page_two = youtube.fetch(source, page_one.next_cursor)

    assert page_one.has_more is True
    assert page_one.next_cursor == {
        "page_token": token,
        "sweep_newest": "2019-11-26T15:51:44+00:00",
        "newest_seen": "2019-11-01T00:00:00+00:00",
    }
    assert [m.external_id for m in page_two.mentions] == ["UgyOlderThread"]
    assert page_two.has_more is False
    assert page_two.next_cursor == {"newest_seen": "2019-11-26T15:51:44+00:00"}


def test_sweep_stops_at_a_page_older_than_newest_seen_even_with_a_token(httpserver):
    payload = load("comment_threads_by_video_paged_2.json")
    httpserver.expect_request(API_PATH, query_string=expected_query()).respond_with_json(payload)

    page = youtube.fetch(video_source(httpserver), {"newest_seen": "2019-11-20T00:00:00+00:00"})

    assert page.has_more is False
    assert page.next_cursor == {"newest_seen": "2019-11-26T15:51:44+00:00"}


def test_newest_seen_never_moves_back(httpserver):
    payload = load("comment_threads_by_video_paged_2.json")
    del payload["nextPageToken"]
    httpserver.expect_request(API_PATH, query_string=expected_query()).respond_with_json(payload)

    page = youtube.fetch(video_source(httpserver), {"newest_seen": "2024-01-01T00:00:00+00:00"})

    assert page.next_cursor == {"newest_seen": "2024-01-01T00:00:00+00:00"}


def test_sweep_position_uses_dates_not_order(httpserver):
    payload = load("comment_threads_by_video_paged_2.json")
    # Out of order and duplicated: the newest thread sits last, twice.
    payload["items"] = [*reversed(payload["items"]), payload["items"][0]]
    httpserver.expect_request(API_PATH, query_string=expected_query()).respond_with_json(payload)

    page = youtube.fetch(video_source(httpserver), {})

    assert page.next_cursor["sweep_newest"] == "2019-11-26T15:51:44+00:00"


def test_malformed_comment_is_quarantined_and_the_page_goes_on(httpserver):
    payload = load("comment_threads_by_video_paged_2.json")
    del payload["items"][2]["snippet"]["topLevelComment"]["snippet"]["publishedAt"]
    httpserver.expect_request(API_PATH, query_string=expected_query()).respond_with_json(payload)

    page = youtube.fetch(video_source(httpserver), {})

    assert len(page.mentions) == 4
    assert len(page.quarantined) == 1
    assert "date" in page.quarantined[0].reason
    assert page.quarantined[0].raw["id"] == "UgysQP-vp089eFP0Stl4AaABAg"


def test_quota_exhausted_waits_an_hour(httpserver):
    httpserver.expect_request(API_PATH).respond_with_data(
        (FIXTURES / "error_quota_exceeded.json").read_bytes(),
        status=403,
        content_type="application/json",
    )

    with pytest.raises(base.RateLimited) as caught:
        youtube.fetch(video_source(httpserver), {})

    assert caught.value.retry_after_seconds == youtube.QUOTA_RETRY_SECONDS
    assert API_KEY not in str(caught.value)


def test_quota_exhausted_honours_retry_after(httpserver):
    httpserver.expect_request(API_PATH).respond_with_data(
        (FIXTURES / "error_quota_exceeded.json").read_bytes(),
        status=403,
        content_type="application/json",
        headers={"Retry-After": "600"},
    )

    with pytest.raises(base.RateLimited) as caught:
        youtube.fetch(video_source(httpserver), {})

    assert caught.value.retry_after_seconds == 600


def test_rate_limit_exceeded_is_rate_limited(httpserver):
    body = {"error": {"code": 403, "errors": [{"reason": "rateLimitExceeded"}]}}
    httpserver.expect_request(API_PATH).respond_with_json(
        body, status=403, headers={"Retry-After": "30"}
    )

    with pytest.raises(base.RateLimited) as caught:
        youtube.fetch(video_source(httpserver), {})

    assert caught.value.retry_after_seconds == 30


def test_too_many_requests_honours_retry_after(httpserver):
    httpserver.expect_request(API_PATH).respond_with_data(
        "slow down", status=429, headers={"Retry-After": "120"}
    )

    with pytest.raises(base.RateLimited) as caught:
        youtube.fetch(video_source(httpserver), {})

    assert caught.value.retry_after_seconds == 120


def test_forbidden_for_another_reason_is_permanent(httpserver):
    httpserver.expect_request(API_PATH).respond_with_data(
        (FIXTURES / "error_permission_resp.json").read_bytes(),
        status=403,
        content_type="application/json",
    )

    with pytest.raises(base.PermanentError) as caught:
        youtube.fetch(video_source(httpserver), {})

    assert "SERVICE_UNAVAILABLE" in str(caught.value)
    assert API_KEY not in str(caught.value)


def test_bad_request_is_permanent(httpserver):
    body = {"error": {"code": 400, "errors": [{"reason": "invalidPageToken"}]}}
    httpserver.expect_request(API_PATH).respond_with_json(body, status=400)

    with pytest.raises(base.PermanentError, match="invalidPageToken"):
        youtube.fetch(video_source(httpserver), {"page_token": "stale"})


def test_server_error_is_transient(httpserver):
    httpserver.expect_request(API_PATH).respond_with_data("oops", status=500)

    with pytest.raises(base.TransientError):
        youtube.fetch(video_source(httpserver), {})


def test_body_that_is_not_json_is_malformed_and_hides_the_key(httpserver):
    httpserver.expect_request(API_PATH).respond_with_data("<html>captive portal</html>")

    with pytest.raises(base.MalformedPayload) as caught:
        youtube.fetch(video_source(httpserver), {})

    assert API_KEY not in str(caught.value)


def test_source_without_api_key_is_permanent(httpserver):
    with pytest.raises(base.PermanentError, match="api_key"):
        youtube.fetch(video_source(httpserver, credentials={}), {})


def test_fetch_uses_the_source_timeout(httpserver):
    class RecordingSession(requests.Session):
        timeouts: list = []

        def get(self, url, **kwargs):
            self.timeouts.append(kwargs.get("timeout"))
            return super().get(url, **kwargs)

    httpserver.expect_request(API_PATH).respond_with_json({"items": []})
    session = RecordingSession()

    youtube.fetch(video_source(httpserver, timeout_seconds=7), {}, session=session)

    assert session.timeouts == [(base.CONNECT_TIMEOUT_SECONDS, 7)]
