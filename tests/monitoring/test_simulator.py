"""The platform simulator: a deterministic Brisa world served over HTTP in each API's format."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
import requests

from monitoring.simulator import texts
from monitoring.simulator.server import SimulatorServer
from monitoring.simulator.world import SIMULATED_PLATFORMS, Kind, World

START = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
CRISIS_MINUTES = 30
YOUTUBE_KEY = "AIzaSyTestKeyForTheSimulator-0000000000"


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(7, START, hours=6, chatter_per_hour=60, crisis_at_minutes=CRISIS_MINUTES)


@pytest.fixture(scope="module")
def quiet() -> World:
    return World.quiet_day(11, START)


@pytest.fixture
def mid_crisis(world: World) -> datetime:
    return world.crisis_at + timedelta(minutes=45)


@pytest.fixture
def simulator(world: World, mid_crisis: datetime):
    with SimulatorServer(world, clock=mid_crisis) as server:
        yield server


def visible_ids(world: World, now: datetime, platform: str, keep=lambda post: True) -> set[str]:
    return {post.external_id for post in world.visible_at(now, platform) if keep(post)}


def surge_per_minute(world: World, start_minute: float, end_minute: float) -> float:
    began = world.crisis_at
    count = sum(
        1
        for post in world.posts
        if post.is_surge
        and began + timedelta(minutes=start_minute)
        <= post.published_at
        < began + timedelta(minutes=end_minute)
    )
    return count / (end_minute - start_minute)


# --- the world ----------------------------------------------------------------------------
def test_same_seed_generates_the_same_world(world: World) -> None:
    again = World.generate(7, START, hours=6, chatter_per_hour=60, crisis_at_minutes=30)
    assert again.posts == world.posts


def test_different_seeds_generate_different_worlds(world: World) -> None:
    other = World.generate(8, START, hours=6, chatter_per_hour=60, crisis_at_minutes=30)
    assert [p.text for p in other.posts[:50]] != [p.text for p in world.posts[:50]]


def test_every_platform_has_spanish_and_english_posts(world: World) -> None:
    for platform in SIMULATED_PLATFORMS:
        languages = Counter(post.language for post in world.posts_for(platform))
        assert languages["es"] > 0 and languages["en"] > 0, platform


def test_every_post_names_the_brand(world: World) -> None:
    for post in world.posts:
        root = world.find(post.platform, post.thread_id)
        assert "brisa" in f"{post.text} {post.title} {root.title if root else ''}".lower()


def test_posts_are_published_inside_the_world_in_time_order(world: World) -> None:
    times = [post.published_at for post in world.posts]
    assert times == sorted(times)
    assert world.start <= times[0] and times[-1] < world.end
    assert all(moment.tzinfo is not None for moment in times)


def test_visible_at_returns_only_posts_already_published(world: World) -> None:
    now = world.start + timedelta(hours=1)
    visible = world.visible_at(now)
    assert visible and all(post.published_at <= now for post in visible)
    assert len(visible) == sum(1 for post in world.posts if post.published_at <= now)
    assert all(post.platform == "reddit" for post in world.visible_at(now, "reddit"))


def test_ids_have_each_platforms_native_format(world: World) -> None:
    mastodon = world.posts_for("mastodon")
    assert all(re.fullmatch(r"\d{17,19}", post.external_id) for post in mastodon)
    assert [int(p.external_id) for p in mastodon] == sorted(int(p.external_id) for p in mastodon)
    assert all(
        re.fullmatch(r"at://did:plc:[a-z2-7]{24}/app\.bsky\.feed\.post/[2-7a-z]{13}", p.external_id)
        for p in world.posts_for("bluesky")
    )
    reddit = world.posts_for("reddit")
    assert all(re.fullmatch(r"t[13]_[0-9a-z]{6,8}", post.external_id) for post in reddit)
    assert {post.external_id[:3] for post in reddit} == {"t1_", "t3_"}
    youtube = world.posts_for("youtube")
    assert all(
        re.fullmatch(r"Ug[wxyz][\w-]{20}4AaABAg(\.[\w-]{22})?", post.external_id)
        for post in youtube
    )
    feeds = world.posts_for("feed")
    assert any(p.external_id.startswith("tag:google.com,2013:googlealerts/feed:") for p in feeds)
    assert any(p.external_id.startswith("https://") for p in feeds)


def test_replies_point_to_an_earlier_post_of_the_same_thread(world: World) -> None:
    replies = [post for post in world.posts if post.reply_to]
    assert len(replies) > 100
    for reply in replies:
        parent = world.find(reply.platform, reply.reply_to)
        assert parent is not None and parent.published_at <= reply.published_at
        assert reply.thread_id == (parent.thread_id or parent.external_id)
    for post in world.posts:
        if not post.reply_to:
            assert post.thread_id == post.external_id


def test_crisis_surge_accelerates_to_more_than_ten_posts_a_minute(world: World) -> None:
    early, peak = surge_per_minute(world, 0, 5), surge_per_minute(world, 15, 20)
    assert early < 4
    assert 10 <= peak <= 30
    assert peak > 4 * early
    first, last = world.surge_window()
    assert first == world.crisis_at
    assert last - first > timedelta(minutes=45)


def test_crisis_starts_with_a_spanish_double_charge_complaint(world: World) -> None:
    origin = next(post for post in world.posts if post.is_surge)
    assert origin.kind == Kind.CRISIS_COMPLAINT
    assert origin.topic == "billing"
    assert origin.language == "es"
    assert "dos veces" in origin.text.lower() or "cobro duplicado" in origin.text.lower()


def test_crisis_brings_an_influencer_authority_mentions_and_trolls(world: World) -> None:
    surge = [post for post in world.posts if post.is_surge]
    kinds = Counter(post.kind for post in surge)
    assert kinds[Kind.INFLUENCER] >= 1
    assert kinds[Kind.AUTHORITY] >= 10
    assert kinds[Kind.TROLL] >= 10
    influencers = [post for post in surge if post.kind == Kind.INFLUENCER]
    assert all(p.author.followers >= 100_000 and p.author.verified for p in influencers)
    authority = " ".join(post.text for post in surge if post.kind == Kind.AUTHORITY).lower()
    assert re.search(r"ocu|oficina de consumo|facua|hoja de reclamaciones|denuncia", authority)
    assert re.search(r"ofcom|trading standards|ombudsman|small claims", authority)
    assert all(post.topic == "billing" for post in surge)


def test_quiet_day_has_no_surge_and_lasts_a_day(quiet: World) -> None:
    assert quiet.surge_window() is None
    assert not any(post.is_surge for post in quiet.posts)
    assert quiet.end - quiet.start == timedelta(hours=24)
    assert len(quiet) > 600
    assert not any(post.kind == Kind.INFLUENCER for post in quiet.posts)


def test_templates_are_numerous_and_texts_varied(world: World) -> None:
    for language in ("es", "en"):
        count = sum(
            len(templates)
            for table in (texts.POSTS, texts.CRISIS_POSTS, texts.REPLIES)
            for (lang, _), templates in table.items()
            if lang == language
        )
        assert count >= 40, language
    complaints = [post.text for post in world.posts if post.kind == Kind.CRISIS_COMPLAINT]
    assert len(set(complaints)) / len(complaints) > 0.8


def test_texts_have_elongated_words_negations_and_emoji(quiet: World, world: World) -> None:
    all_text = " ".join(post.text for post in (*world.posts, *quiet.posts))
    assert re.search(r"([aeiouáéíóú])\1{3,}", all_text, re.IGNORECASE)
    assert re.search(r"\bno me gusta nada\b|\bnunca más\b", all_text, re.IGNORECASE)
    assert re.search(r"\bnot happy at all\b|\bnever again\b", all_text, re.IGNORECASE)
    assert re.search(r"[😡🤬😤🙄😊🙌👍]", all_text)
    assert re.search(r"#\w+", all_text)


# --- serving: clock and visibility --------------------------------------------------------
def test_only_posts_visible_at_the_clock_are_served(simulator, world, mid_crisis) -> None:
    url = f"{simulator.url('mastodon')}/api/v1/timelines/tag/brisa"
    newest = requests.get(url, params={"limit": 40}, timeout=5).json()
    assert datetime.fromisoformat(newest[0]["created_at"]) <= mid_crisis
    assert newest[0]["id"] == max(visible_ids(world, mid_crisis, "mastodon"), key=int)


def test_clock_control_moves_time_and_reveals_new_posts(simulator, world, mid_crisis) -> None:
    base = simulator.base_url
    state = requests.get(f"{base}/_control/state", timeout=5).json()
    before = state["visible"]["bluesky"]
    assert datetime.fromisoformat(state["now"]) == mid_crisis
    moved = requests.post(f"{base}/_control/clock", json={"advance_minutes": 30}, timeout=5)
    assert datetime.fromisoformat(moved.json()["now"]) == mid_crisis + timedelta(minutes=30)
    assert requests.get(f"{base}/_control/state", timeout=5).json()["visible"]["bluesky"] > before
    requests.post(f"{base}/_control/clock", json={"end": True}, timeout=5)
    state = requests.get(f"{base}/_control/state", timeout=5).json()
    assert sum(state["visible"].values()) == len(world)
    at = (world.start + timedelta(minutes=1)).isoformat()
    requests.post(f"{base}/_control/clock", json={"at": at}, timeout=5)
    assert requests.get(f"{base}/_control/state", timeout=5).json()["now"] == at


def test_running_clock_advances_at_its_speed(world: World) -> None:
    with SimulatorServer(world, speed=36_000) as server:  # ten simulated hours per second
        time.sleep(0.05)
        assert server.now() - world.start >= timedelta(minutes=20)


def test_control_rejects_bad_input(simulator) -> None:
    base = simulator.base_url
    assert requests.post(f"{base}/_control/clock", json={}, timeout=5).status_code == 400
    bad = requests.post(f"{base}/_control/faults", json={"kind": "explode"}, timeout=5)
    assert bad.status_code == 400
    not_json = requests.post(f"{base}/_control/clock", data=b"{nope", timeout=5)
    assert not_json.status_code == 400


# --- serving: paging per platform ---------------------------------------------------------
def test_mastodon_min_id_paging_returns_each_post_once(simulator, world, mid_crisis) -> None:
    url = f"{simulator.url('mastodon')}/api/v1/timelines/tag/brisa"
    seen: list[str] = []
    min_id = "0"
    while True:
        page = requests.get(url, params={"min_id": min_id, "limit": 40}, timeout=5).json()
        if not page:
            break
        ids = [status["id"] for status in page]
        assert ids == sorted(ids, key=int, reverse=True)  # newest first within the page
        seen.extend(ids)
        min_id = ids[0]
    assert len(seen) == len(set(seen))
    assert set(seen) == visible_ids(world, mid_crisis, "mastodon")


def test_mastodon_link_header_walks_back_through_history(simulator, world, mid_crisis) -> None:
    url = f"{simulator.url('mastodon')}/api/v1/timelines/tag/brisa?limit=40"
    seen: list[str] = []
    while url:
        response = requests.get(url, timeout=5)
        if not response.json():
            break
        seen.extend(status["id"] for status in response.json())
        url = response.links.get("next", {}).get("url")
    assert len(seen) == len(set(seen))
    assert set(seen) == visible_ids(world, mid_crisis, "mastodon")


def test_mastodon_since_id_returns_the_newest_statuses(simulator, world, mid_crisis) -> None:
    ids = sorted(visible_ids(world, mid_crisis, "mastodon"), key=int)
    url = f"{simulator.url('mastodon')}/api/v1/timelines/tag/brisa"
    page = requests.get(url, params={"since_id": ids[-60], "limit": 5}, timeout=5).json()
    assert [status["id"] for status in page] == list(reversed(ids[-5:]))


def test_mastodon_search_wraps_statuses_in_the_search_envelope(simulator) -> None:
    url = f"{simulator.url('mastodon')}/api/v2/search"
    body = requests.get(url, params={"q": "factura", "type": "statuses"}, timeout=5).json()
    assert set(body) == {"accounts", "statuses", "hashtags"}
    assert body["statuses"]
    assert all("factura" in status["content"].lower() for status in body["statuses"])
    assert len(body["statuses"]) <= 20


def test_mastodon_status_has_the_entity_fields(simulator) -> None:
    url = f"{simulator.url('mastodon')}/api/v1/timelines/tag/brisa"
    status = requests.get(url, params={"limit": 1}, timeout=5).json()[0]
    expected = set(
        "id created_at in_reply_to_id in_reply_to_account_id sensitive spoiler_text visibility "
        "language uri url replies_count reblogs_count favourites_count content account "
        "media_attachments mentions tags reblog".split()
    )
    assert expected <= status.keys()
    assert status["content"].startswith("<p>")
    assert {"name": "brisa", "url": f"{simulator.url('mastodon')}/tags/brisa"} in status["tags"]
    account = status["account"]
    assert isinstance(account["followers_count"], int)
    assert account["fields"] == [] or "verified_at" in account["fields"][0]


def test_bluesky_cursor_paging_returns_each_post_once(simulator, world, mid_crisis) -> None:
    url = f"{simulator.url('bluesky')}/xrpc/app.bsky.feed.searchPosts"
    params = {"q": "brisa", "sort": "latest", "limit": 30}
    seen: list[str] = []
    pages = 0
    while True:
        body = requests.get(url, params=params, timeout=5).json()
        pages += 1
        seen.extend(post["uri"] for post in body["posts"])
        if "cursor" not in body:
            break
        params["cursor"] = body["cursor"]
    assert pages > 2
    assert len(seen) == len(set(seen))
    assert set(seen) == visible_ids(world, mid_crisis, "bluesky")


def test_bluesky_since_keeps_posts_created_at_or_after_it(simulator, world, mid_crisis) -> None:
    since = mid_crisis - timedelta(minutes=10)
    url = f"{simulator.url('bluesky')}/xrpc/app.bsky.feed.searchPosts"
    body = requests.get(
        url, params={"q": "brisa", "since": since.isoformat(), "limit": 100}, timeout=5
    ).json()
    expected = visible_ids(world, mid_crisis, "bluesky", lambda p: p.published_at >= since)
    assert {post["uri"] for post in body["posts"]} == expected
    assert body["hitsTotal"] == len(expected)
    created = [post["record"]["createdAt"] for post in body["posts"]]
    assert created == sorted(created, reverse=True)


def test_bluesky_replies_and_quotes_reference_their_targets(simulator, world) -> None:
    url = f"{simulator.url('bluesky')}/xrpc/app.bsky.feed.searchPosts"
    body = requests.get(url, params={"q": "brisa", "limit": 100}, timeout=5).json()
    replies = [post for post in body["posts"] if "reply" in post["record"]]
    assert replies
    for post in replies:
        parent = world.find("bluesky", post["record"]["reply"]["parent"]["uri"])
        assert parent is not None and post["record"]["reply"]["root"]["cid"].startswith("bafyrei")
    quotes = [post for post in body["posts"] if "embed" in post]
    assert quotes and quotes[0]["embed"]["$type"] == "app.bsky.embed.record#view"


def test_bluesky_requires_a_query(simulator) -> None:
    url = f"{simulator.url('bluesky')}/xrpc/app.bsky.feed.searchPosts"
    response = requests.get(url, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"] == "InvalidRequest"


def test_reddit_after_paging_returns_each_item_once(simulator, world, mid_crisis) -> None:
    url = f"{simulator.url('reddit')}/search.json"
    params = {"q": "brisa", "sort": "new", "limit": 25}
    seen: list[str] = []
    while True:
        listing = requests.get(url, params=params, timeout=5).json()
        assert listing["kind"] == "Listing"
        seen.extend(child["data"]["name"] for child in listing["data"]["children"])
        if not listing["data"]["after"]:
            break
        params["after"] = listing["data"]["after"]
    assert len(seen) == len(set(seen))
    assert set(seen) == visible_ids(world, mid_crisis, "reddit")


def test_reddit_before_returns_only_newer_items_each_once(simulator, world, mid_crisis) -> None:
    url = f"{simulator.url('reddit')}/search.json"
    newest = requests.get(url, params={"q": "brisa", "sort": "new", "limit": 1}, timeout=5)
    anchor = newest.json()["data"]["children"][0]["data"]["name"]
    later = mid_crisis + timedelta(minutes=20)
    simulator.set_clock(later)
    seen: list[str] = []
    while True:
        listing = requests.get(
            url, params={"q": "brisa", "sort": "new", "limit": 10, "before": anchor}, timeout=5
        ).json()["data"]
        names = [child["data"]["name"] for child in listing["children"]]
        seen.extend(names)
        if not listing["before"]:
            break
        anchor = listing["before"]
        assert anchor == names[0]
    expected = visible_ids(world, later, "reddit", lambda p: p.published_at > mid_crisis)
    assert len(seen) == len(set(seen))
    assert set(seen) == expected


def test_reddit_subreddit_new_lists_only_that_subreddit(simulator) -> None:
    listing = requests.get(f"{simulator.url('reddit')}/r/spain/new.json", timeout=5).json()
    children = listing["data"]["children"]
    assert children and {child["data"]["subreddit"] for child in children} == {"spain"}
    assert {child["kind"] for child in children} <= {"t1", "t3"}
    comment = next(child["data"] for child in children if child["kind"] == "t1")
    assert comment["link_id"].startswith("t3_") and comment["parent_id"][:3] in ("t1_", "t3_")


def test_reddit_escapes_html_characters_unless_raw_json(world, mid_crisis) -> None:
    post = next(p for p in world.visible_at(mid_crisis, "reddit") if p.external_id[:3] == "t1_")
    tricky = dataclasses.replace(post, text="Fish & chips <3")
    rigged = World(
        [tricky if p is post else p for p in world.posts],
        seed=world.seed,
        start=world.start,
        end=world.end,
        crisis_at=world.crisis_at,
        channel_id=world.channel_id,
        videos=world.videos,
    )
    with SimulatorServer(rigged, clock=mid_crisis) as server:
        url = f"{server.url('reddit')}/r/{post.community}/comments.json"

        def body_of(**params) -> str:
            listing = requests.get(url, params={"limit": 100, **params}, timeout=5).json()
            children = listing["data"]["children"]
            return next(
                c["data"]["body"] for c in children if c["data"]["name"] == post.external_id
            )

        assert body_of() == "Fish &amp; chips &lt;3"
        assert body_of(raw_json=1) == "Fish & chips <3"


def test_youtube_page_token_paging_returns_each_comment_once(simulator, world, mid_crisis) -> None:
    url = f"{simulator.url('youtube')}/v3/commentThreads"
    params = {
        "part": "snippet,replies",
        "allThreadsRelatedToChannelId": world.channel_id,
        "order": "time",
        "maxResults": 20,
        "key": YOUTUBE_KEY,
    }
    seen: list[str] = []
    while True:
        body = requests.get(url, params=params, timeout=5).json()
        assert body["kind"] == "youtube#commentThreadListResponse"
        for thread in body["items"]:
            seen.append(thread["snippet"]["topLevelComment"]["id"])
            for reply in thread.get("replies", {}).get("comments", []):
                assert reply["snippet"]["parentId"] == thread["id"]
                seen.append(reply["id"])
        if "nextPageToken" not in body:
            break
        params["pageToken"] = body["nextPageToken"]
    assert len(seen) == len(set(seen))
    assert set(seen) == visible_ids(world, mid_crisis, "youtube")


def test_youtube_video_filter_lists_only_that_videos_threads(simulator, world) -> None:
    video = world.videos[-1].video_id
    body = requests.get(
        f"{simulator.url('youtube')}/v3/commentThreads",
        params={"part": "snippet", "videoId": video, "maxResults": 100, "key": YOUTUBE_KEY},
        timeout=5,
    ).json()
    assert body["items"]
    assert {thread["snippet"]["videoId"] for thread in body["items"]} == {video}
    assert all("replies" not in thread for thread in body["items"])


def test_youtube_rejects_a_missing_or_invalid_key_like_google(simulator, world) -> None:
    url = f"{simulator.url('youtube')}/v3/commentThreads"
    params = {"part": "snippet", "allThreadsRelatedToChannelId": world.channel_id}
    missing = requests.get(url, params=params, timeout=5)
    assert missing.status_code == 403
    assert missing.json()["error"]["status"] == "PERMISSION_DENIED"
    invalid = requests.get(url, params={**params, "key": "bad key"}, timeout=5)
    assert invalid.status_code == 400
    error = invalid.json()["error"]
    assert error["code"] == 400 and error["errors"][0]["reason"] == "badRequest"
    assert error["message"] == "API key not valid. Please pass a valid API key."


def test_google_alerts_feed_is_atom_with_redirect_links(simulator, world, mid_crisis) -> None:
    response = requests.get(f"{simulator.url('feed')}/google-alerts.atom", timeout=5)
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.text)
    assert not feed.bozo
    expected = visible_ids(world, mid_crisis, "feed", lambda p: p.community == "google-alerts")
    assert {entry.id for entry in feed.entries} == expected
    entry = feed.entries[0]
    assert entry.id.startswith("tag:google.com,2013:googlealerts/feed:")
    assert entry.link.startswith("https://www.google.com/url?rct=j&sa=t&url=https://")
    assert "<b>" in entry.title.lower() or "<b>" in entry.summary.lower()
    assert entry.published_parsed is not None


def test_talkwalker_feed_is_rss_with_rfc2822_dates(simulator, world, mid_crisis) -> None:
    response = requests.get(f"{simulator.url('feed')}/talkwalker.rss", timeout=5)
    assert response.text.startswith("\n<?xml")  # the leading blank line readers must tolerate
    feed = feedparser.parse(response.text.lstrip())
    expected = visible_ids(world, mid_crisis, "feed", lambda p: p.community == "talkwalker")
    assert {entry.id for entry in feed.entries} == expected
    assert re.search(r"<pubDate>\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT", response.text)


@pytest.mark.parametrize("feed", ["google-alerts.atom", "talkwalker.rss"])
def test_feeds_answer_304_when_nothing_changed(simulator, feed) -> None:
    url = f"{simulator.url('feed')}/{feed}"
    first = requests.get(url, timeout=5)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert requests.get(url, headers={"If-None-Match": etag}, timeout=5).status_code == 304
    since = requests.get(url, headers={"If-Modified-Since": last_modified}, timeout=5)
    assert since.status_code == 304 and since.content == b""
    simulator.advance(24 * 60)  # the crisis brings new articles
    changed = requests.get(url, headers={"If-None-Match": etag}, timeout=5)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


# --- faults -------------------------------------------------------------------------------
def add_fault(simulator, **fault) -> dict:
    response = requests.post(f"{simulator.base_url}/_control/faults", json=fault, timeout=5)
    assert response.status_code == 201, response.text
    return response.json()


def mastodon_page(simulator, timeout: float = 5) -> requests.Response:
    url = f"{simulator.url('mastodon')}/api/v1/timelines/tag/brisa"
    return requests.get(url, params={"limit": 10}, timeout=timeout)


def served(simulator) -> set[tuple[str, str]]:
    items = requests.get(f"{simulator.base_url}/_control/served", timeout=5).json()["items"]
    return {tuple(item) for item in items}


def test_rate_limit_fault_answers_429_with_retry_after_then_recovers(simulator) -> None:
    add_fault(simulator, platform="mastodon", kind="429", count=1, retry_after=3)
    limited = mastodon_page(simulator)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Reset" in limited.headers and "X-RateLimit-Limit" in limited.headers
    assert served(simulator) == set()
    assert mastodon_page(simulator).status_code == 200


def test_server_error_fault_answers_500_with_html(simulator) -> None:
    add_fault(simulator, platform="*", kind="500", count=2)
    for platform_url in (
        simulator.url("reddit") + "/search.json?q=brisa",
        simulator.url("feed") + "/google-alerts.atom",
    ):
        response = requests.get(platform_url, timeout=5)
        assert response.status_code == 500
        assert response.headers["Content-Type"].startswith("text/html")
    assert requests.get(simulator.url("feed") + "/google-alerts.atom", timeout=5).ok


def test_fault_for_one_platform_leaves_the_others_alone(simulator) -> None:
    add_fault(simulator, platform="bluesky", kind="500", count=1)
    assert mastodon_page(simulator).status_code == 200
    url = f"{simulator.url('bluesky')}/xrpc/app.bsky.feed.searchPosts?q=brisa"
    assert requests.get(url, timeout=5).status_code == 500


def test_timeout_fault_outlasts_the_client_and_serves_nothing(simulator) -> None:
    add_fault(simulator, platform="mastodon", kind="timeout", count=1, delay=0.3)
    with pytest.raises(requests.Timeout):
        mastodon_page(simulator, timeout=0.1)
    time.sleep(0.4)  # let the server finish waiting and notice the client left
    assert served(simulator) == set()
    assert mastodon_page(simulator).status_code == 200


def test_timeout_fault_shorter_than_the_client_still_answers(simulator) -> None:
    add_fault(simulator, platform="mastodon", kind="timeout", count=1, delay=0.1)
    started = time.monotonic()
    response = mastodon_page(simulator, timeout=5)
    assert response.status_code == 200 and time.monotonic() - started >= 0.1
    assert {("mastodon", status["id"]) for status in response.json()} == served(simulator)


def test_malformed_json_fault_truncates_the_body(simulator) -> None:
    add_fault(simulator, platform="reddit", kind="malformed_json", count=1)
    response = requests.get(f"{simulator.url('reddit')}/search.json?q=brisa", timeout=5)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert served(simulator) == set()


def test_malformed_item_is_not_counted_as_served(simulator) -> None:
    add_fault(simulator, platform="mastodon", kind="malformed_item", count=1)
    page = mastodon_page(simulator).json()
    broken = [status for status in page if "id" not in status]
    assert len(broken) == 1 and "created_at" not in broken[0]
    intact = {("mastodon", status["id"]) for status in page if "id" in status}
    assert len(intact) == len(page) - 1
    assert served(simulator) == intact


def test_malformed_item_fault_waits_for_a_page_with_items(simulator, world) -> None:
    add_fault(simulator, platform="bluesky", kind="malformed_item", count=1)
    url = f"{simulator.url('bluesky')}/xrpc/app.bsky.feed.searchPosts"
    empty = requests.get(url, params={"q": "no-such-words-anywhere"}, timeout=5).json()
    assert empty["posts"] == []
    posts = requests.get(url, params={"q": "brisa", "limit": 10}, timeout=5).json()["posts"]
    assert sum(1 for post in posts if "uri" not in post) == 1
    assert all("createdAt" not in post["record"] for post in posts if "uri" not in post)


def bluesky_search(simulator, **params) -> list[dict]:
    url = f"{simulator.url('bluesky')}/xrpc/app.bsky.feed.searchPosts"
    return requests.get(url, params={"q": "brisa", **params}, timeout=5).json()["posts"]


def test_malformed_item_fault_spares_posts_already_served_intact(simulator) -> None:
    # A client that lost an answer (a timeout after it was written, a crash before its
    # commit) asks again; the posts it was sent must come back intact, or they are lost.
    first = bluesky_search(simulator, limit=10)
    add_fault(simulator, platform="bluesky", kind="malformed_item", count=1)
    again = bluesky_search(simulator, limit=10)
    assert [post.get("uri") for post in again] == [post["uri"] for post in first]
    assert served(simulator) == {("bluesky", post["uri"]) for post in first}


def test_malformed_item_fault_waits_for_a_post_not_yet_served(simulator) -> None:
    already = {post["uri"] for post in bluesky_search(simulator, limit=10)}
    add_fault(simulator, platform="bluesky", kind="malformed_item", count=1)
    bluesky_search(simulator, limit=10)  # nothing new to spoil: the fault keeps waiting
    wider = bluesky_search(simulator, limit=20)
    broken = [post for post in wider if "uri" not in post]
    assert len(broken) == 1
    assert already <= {post["uri"] for post in wider if "uri" in post}


def test_an_answer_the_client_dropped_does_not_unserve_another_answers_posts(simulator) -> None:
    url = f"{simulator.url('bluesky')}/xrpc/app.bsky.feed.searchPosts?q=brisa&limit=100"
    # A client that asks for a large page and reads nothing: with small socket buffers on
    # both sides (accepted sockets inherit the listener's), the server blocks writing it.
    simulator._httpd.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    stalled.settimeout(5)
    stalled.connect((simulator.host, simulator.port))
    path = url.removeprefix(simulator.base_url)
    stalled.sendall(f"GET {path} HTTP/1.1\r\nHost: sim\r\n\r\n".encode())
    deadline = time.monotonic() + 10
    while not served(simulator) and time.monotonic() < deadline:
        time.sleep(0.05)
    # Meanwhile another client gets the same posts, whole.
    delivered = {("bluesky", post["uri"]) for post in requests.get(url, timeout=5).json()["posts"]}
    # The first client goes away (a reset): its answer fails, the other one's stands.
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    stalled.close()
    while simulator.state()["requests"].get("bluesky", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert simulator.state()["requests"]["bluesky"] == 2
    assert delivered and delivered <= served(simulator)


def test_duplicate_fault_repeats_items_within_the_page(simulator) -> None:
    clean = [status["id"] for status in mastodon_page(simulator).json()]
    add_fault(simulator, platform="mastodon", kind="duplicate", count=1)
    doubled = [status["id"] for status in mastodon_page(simulator).json()]
    assert len(doubled) > len(clean)
    assert set(doubled) == set(clean)


def test_out_of_order_fault_shuffles_the_page(simulator, world) -> None:
    url = f"{simulator.url('youtube')}/v3/commentThreads"
    params = {
        "part": "snippet",
        "allThreadsRelatedToChannelId": world.channel_id,
        "key": YOUTUBE_KEY,
    }
    clean = [item["id"] for item in requests.get(url, params=params, timeout=5).json()["items"]]
    add_fault(simulator, platform="youtube", kind="out_of_order", count=1)
    shuffled = [item["id"] for item in requests.get(url, params=params, timeout=5).json()["items"]]
    assert shuffled != clean and sorted(shuffled) == sorted(clean)


def test_probability_faults_fire_always_or_never(simulator) -> None:
    add_fault(simulator, platform="mastodon", kind="500", probability=1.0)
    assert [mastodon_page(simulator).status_code for _ in range(3)] == [500, 500, 500]
    requests.delete(f"{simulator.base_url}/_control/faults", timeout=5)
    add_fault(simulator, platform="mastodon", kind="500", probability=0.0)
    assert [mastodon_page(simulator).status_code for _ in range(3)] == [200, 200, 200]


def test_deleting_faults_restores_normal_answers(simulator) -> None:
    add_fault(simulator, platform="*", kind="429", count=100)
    assert mastodon_page(simulator).status_code == 429
    requests.delete(f"{simulator.base_url}/_control/faults", timeout=5)
    assert mastodon_page(simulator).status_code == 200
    assert requests.get(f"{simulator.base_url}/_control/state", timeout=5).json()["faults"] == []


def test_served_lists_delivered_items_and_reset_clears_it(simulator, world) -> None:
    youtube = requests.get(
        f"{simulator.url('youtube')}/v3/commentThreads",
        params={
            "part": "snippet,replies",
            "allThreadsRelatedToChannelId": world.channel_id,
            "key": YOUTUBE_KEY,
            "maxResults": 100,
        },
        timeout=5,
    ).json()
    expected = set()
    for thread in youtube["items"]:
        expected.add(("youtube", thread["id"]))
        expected |= {("youtube", r["id"]) for r in thread.get("replies", {}).get("comments", [])}
    assert served(simulator) == expected
    requests.post(f"{simulator.base_url}/_control/reset", timeout=5)
    assert served(simulator) == set()


def test_not_modified_feed_serves_nothing(simulator) -> None:
    url = f"{simulator.url('feed')}/google-alerts.atom"
    etag = requests.get(url, timeout=5).headers["ETag"]
    requests.post(f"{simulator.base_url}/_control/reset", timeout=5)
    assert requests.get(url, headers={"If-None-Match": etag}, timeout=5).status_code == 304
    assert served(simulator) == set()


# --- the management command ---------------------------------------------------------------
def test_simulate_platforms_command_serves_until_terminated() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "simulate_platforms",
            "--port",
            str(port),
            "--hours",
            "1",
            "--start",
            "2025-03-10T08:00:00Z",
            "--speed",
            "0",
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "DEBUG": "true"},
    )
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "Ctrl-C" in line:
                break
        output = "".join(lines)
        assert f"http://127.0.0.1:{port}/mastodon" in output
        assert f"http://127.0.0.1:{port}/feeds" in output
        state = requests.get(f"http://127.0.0.1:{port}/_control/state", timeout=5).json()
        assert state["world"]["start"] == "2025-03-10T08:00:00+00:00"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
