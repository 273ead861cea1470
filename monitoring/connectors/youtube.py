"""YouTube Data API v3 connector: comment threads (top-level comments and their replies)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from monitoring.connectors import base, writing
from monitoring.platforms import Platform, QueryKind
from monitoring.text import html_to_text

DEFAULT_BASE_URL = "https://www.googleapis.com/youtube/v3"
MAX_RESULTS = 100  # the API's ceiling for commentThreads.list
# The daily quota resets at midnight Pacific time; retrying sooner only burns polls.
QUOTA_RETRY_SECONDS = 3600.0

# Reasons in the JSON error body that mean "slow down", not "this request is wrong".
_QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}

# split() flattens a thread into comments; each comment carries its thread's context under
# this key, because replies served by comments.list (and old API versions) lack the videoId.
THREAD_KEY = "calmaThread"


# --- parsing ------------------------------------------------------------------------------
def split(payload: Any) -> list[Any]:
    """The comments of one response, in order: each thread's top-level comment, then its replies.

    Accepts a commentThreads.list or comments.list response, a bare list of their items, or a
    single commentThread or comment. Anything unrecognised inside ``items`` is kept as is so
    that parse_item() rejects it by name rather than it silently vanishing.
    """
    if isinstance(payload, list):
        items = payload
    elif isinstance(payload, dict):
        if "error" in payload and "items" not in payload:
            reasons = ", ".join(sorted(_error_reasons(payload))) or "no reason given"
            raise base.MalformedPayload(f"YouTube error response: {reasons}")
        if "items" in payload:
            items = payload["items"] or []
            if not isinstance(items, list):
                raise base.MalformedPayload("YouTube response 'items' is not a list")
        elif _is_thread(payload) or _is_comment(payload):
            items = [payload]
        elif str(payload.get("kind", "")).endswith("ListResponse"):
            items = []  # a list response with no results omits "items" altogether
        else:
            raise base.MalformedPayload("not a YouTube commentThreads or comments response")
    else:
        raise base.MalformedPayload(f"expected a JSON object, got {type(payload).__name__}")

    comments: list[Any] = []
    for item in items:
        if isinstance(item, dict) and _is_thread(item):
            comments.extend(_flatten_thread(item))
        else:
            comments.append(item)
    return comments


def parse_item(item: Any) -> base.MentionIn:
    """One comment (as produced by split) to a mention; a bare commentThread gives its top level."""
    if not isinstance(item, dict):
        raise base.MalformedItem(f"comment is not an object: {type(item).__name__}")
    if _is_thread(item):
        top = _flatten_thread(item)[0]
        if top is item:
            raise base.MalformedItem(f"commentThread {item.get('id')} has no topLevelComment")
        item = top
    comment_id = item.get("id")
    if not isinstance(comment_id, str) or not comment_id:
        raise base.MalformedItem("comment has no id")
    snippet = item.get("snippet")
    if not isinstance(snippet, dict):
        raise base.MalformedItem(f"comment {comment_id} has no snippet")
    thread = item.get(THREAD_KEY) or {}

    text = snippet.get("textOriginal")
    if not isinstance(text, str) or not text.strip():
        text = html_to_text(snippet.get("textDisplay") or "")
    if not text.strip():
        raise base.MalformedItem(f"comment {comment_id} has no text")

    parent_id = snippet.get("parentId") or ""
    # A thread's id is its top-level comment's id, so a reply's parentId names its thread too.
    thread_id = thread.get("threadId") or parent_id or comment_id
    video_id = snippet.get("videoId") or thread.get("videoId") or ""
    channel_id = snippet.get("channelId") or thread.get("channelId") or ""

    engagement: dict[str, int] = {}
    likes = base.count_or_none(snippet.get("likeCount"))
    if likes is not None:
        engagement["likes"] = likes
    if not parent_id:
        replies = base.count_or_none(thread.get("totalReplyCount"))
        if replies is not None:
            engagement["replies"] = replies

    return base.MentionIn(
        platform=Platform.YOUTUBE.value,
        external_id=comment_id,
        url=_comment_url(comment_id, video_id, channel_id),
        text=text.strip(),
        published_at=base.parse_datetime(snippet.get("publishedAt")),
        author=_author(snippet, comment_id),
        language="",  # the API does not say which language a comment is in
        reply_to_id=str(parent_id),
        thread_id=str(thread_id),
        engagement=engagement,
        raw=item,
    )


def parse(payload: Any) -> list[base.MentionIn]:
    return [parse_item(item) for item in split(payload)]


def _is_thread(item: dict[str, Any]) -> bool:
    snippet = item.get("snippet")
    return item.get("kind") == "youtube#commentThread" or (
        isinstance(snippet, dict) and "topLevelComment" in snippet
    )


def _is_comment(item: dict[str, Any]) -> bool:
    snippet = item.get("snippet")
    return item.get("kind") == "youtube#comment" or (
        isinstance(snippet, dict) and ("textDisplay" in snippet or "textOriginal" in snippet)
    )


def _flatten_thread(thread: dict[str, Any]) -> list[dict[str, Any]]:
    snippet = thread.get("snippet") if isinstance(thread.get("snippet"), dict) else {}
    context = {
        "threadId": thread.get("id") or "",
        "videoId": snippet.get("videoId") or "",
        "channelId": snippet.get("channelId") or "",
        "totalReplyCount": snippet.get("totalReplyCount"),
    }
    top = snippet.get("topLevelComment")
    if not isinstance(top, dict):
        return [thread]  # kept whole, not dropped: parse_item() rejects it with a reason
    comments = [{**top, THREAD_KEY: context}]
    replies = thread.get("replies")
    if isinstance(replies, dict):
        for reply in replies.get("comments") or []:
            comments.append({**reply, THREAD_KEY: context} if isinstance(reply, dict) else reply)
    return comments


def _author(snippet: dict[str, Any], comment_id: str) -> base.AuthorIn:
    display_name = snippet.get("authorDisplayName") or ""
    channel_url = snippet.get("authorChannelUrl") or ""
    channel_id = snippet.get("authorChannelId")
    if isinstance(channel_id, dict):
        channel_id = channel_id.get("value")
    handle = display_name or _handle_from_channel_url(channel_url) or (channel_id or "")
    if not handle:
        raise base.MalformedItem(f"comment {comment_id} has no author")
    if not channel_url and channel_id:
        channel_url = f"https://www.youtube.com/channel/{channel_id}"
    return base.AuthorIn(
        handle=str(handle),
        display_name=str(display_name or handle),
        followers=None,  # commenters' subscriber counts would cost one more call each
        verified=False,
        url=str(channel_url),
    )


def _handle_from_channel_url(channel_url: str) -> str:
    """'http://www.youtube.com/@veritasium' → '@veritasium'; '/channel/UC…' → 'UC…'."""
    path = urlsplit(channel_url).path.strip("/")
    if not path:
        return ""
    return path.split("/")[-1]


def _comment_url(comment_id: str, video_id: str, channel_id: str) -> str:
    if video_id:
        return f"https://www.youtube.com/watch?v={video_id}&lc={comment_id}"
    if channel_id:  # a comment on a channel rather than a video (discussion tab)
        return f"https://www.youtube.com/channel/{channel_id}?lc={comment_id}"
    return f"https://www.youtube.com/comment?lc={comment_id}"


# --- fetching -----------------------------------------------------------------------------
def fetch(
    source: base.SourceConfig, cursor: dict[str, Any], session: requests.Session | None = None
) -> base.Page:
    """One page of a sweep over a video's or channel's comment threads, newest first.

    The API has no "since" filter, so each sweep pages from the newest thread back until it
    reaches threads older than the newest one the previous sweep saw (or runs out of pages).
    """
    api_key = source.credentials.get("api_key", "")
    if not api_key:
        raise base.PermanentError("YouTube source has no api_key credential")
    base_url = (source.base_url or DEFAULT_BASE_URL).rstrip("/")
    params: dict[str, Any] = {
        "part": "snippet,replies",
        "order": "time",
        "maxResults": max(1, min(int(source.page_size), MAX_RESULTS)),
        "textFormat": "plainText",
        "key": api_key,
    }
    if source.kind == QueryKind.VIDEO:
        params["videoId"] = source.query
    elif source.kind == QueryKind.CHANNEL:
        params["allThreadsRelatedToChannelId"] = source.query
    else:
        raise base.PermanentError(f"YouTube cannot poll a {source.kind!r} query")
    if cursor.get("page_token"):
        params["pageToken"] = cursor["page_token"]

    endpoint = f"{base_url}/commentThreads"
    response = _get(endpoint, params, session, source.timeout_seconds)
    payload = _decode(response, endpoint)
    mentions, quarantined = base.split_good_and_bad(split(payload), parse_item)

    newest_seen = _cursor_time(cursor.get("newest_seen"))
    sweep_newest = _latest(_cursor_time(cursor.get("sweep_newest")), _newest(mentions))
    oldest = _oldest(mentions)
    next_token = payload.get("nextPageToken") if isinstance(payload, dict) else None
    caught_up = newest_seen is not None and oldest is not None and oldest < newest_seen

    if next_token and not caught_up:
        next_cursor: dict[str, Any] = {"page_token": next_token}
        if sweep_newest is not None:
            next_cursor["sweep_newest"] = _iso(sweep_newest)
        if newest_seen is not None:
            next_cursor["newest_seen"] = _iso(newest_seen)
        return base.Page(mentions, next_cursor, quarantined, has_more=True)

    newest = _latest(newest_seen, sweep_newest)
    end_cursor = {"newest_seen": _iso(newest)} if newest is not None else {}
    return base.Page(mentions, end_cursor, quarantined, has_more=False)


def _top_level(mentions: list[base.MentionIn]) -> list[base.MentionIn]:
    # order=time sorts threads by their top-level comment; a reply on an old thread can be far
    # newer than everything else on the page, so only top-level comments mark the sweep's
    # position (and a page holding only replies, which should not happen, falls back to all).
    top = [mention for mention in mentions if not mention.reply_to_id]
    return top or mentions


def _newest(mentions: list[base.MentionIn]) -> datetime | None:
    top = _top_level(mentions)
    return max((mention.published_at for mention in top), default=None)


def _oldest(mentions: list[base.MentionIn]) -> datetime | None:
    top = _top_level(mentions)
    return min((mention.published_at for mention in top), default=None)


def _latest(*moments: datetime | None) -> datetime | None:
    return max((moment for moment in moments if moment is not None), default=None)


def _cursor_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return base.parse_datetime(value)
    except base.MalformedItem:
        return None  # a garbled cursor restarts the sweep rather than wedging the source


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _get(
    url: str, params: dict[str, Any], session: requests.Session | None, timeout: float
) -> requests.Response:
    """GET that reads the error body before mapping 4xx (base.get cannot tell quota from 403).

    Messages name the endpoint, never the full URL: the query string carries the API key.
    """
    try:
        response = (session or base.shared_session()).get(
            url, params=params, timeout=(base.CONNECT_TIMEOUT_SECONDS, timeout)
        )
    except (requests.Timeout, requests.ConnectionError) as error:
        raise base.TransientError(f"{type(error).__name__} on {url}") from error
    status = response.status_code
    if status == 429:
        raise base.RateLimited(
            f"429 Too Many Requests from {url}", base.retry_after_seconds(response.headers)
        )
    if status >= 500:
        raise base.TransientError(f"HTTP {status} from {url}")
    if status >= 400:
        reasons = _error_reasons(_json_or_none(response))
        if reasons & _QUOTA_REASONS:
            wait = (
                base.retry_after_seconds(response.headers)
                if response.headers.get("Retry-After")
                else QUOTA_RETRY_SECONDS
            )
            raise base.RateLimited(f"YouTube quota exhausted ({status} from {url})", wait)
        if reasons & _RATE_REASONS:
            raise base.RateLimited(
                f"YouTube rate limit ({status} from {url})",
                base.retry_after_seconds(response.headers),
            )
        detail = ", ".join(sorted(reasons)) or "no reason given"
        raise base.PermanentError(f"HTTP {status} from {url}: {detail}")
    return response


def _decode(response: requests.Response, url: str) -> Any:
    try:
        return response.json()
    except ValueError as error:
        # Not base.decode_json: its message quotes response.url, which holds the API key.
        raise base.MalformedPayload(f"response from {url} is not valid JSON") from error


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_reasons(body: Any) -> set[str]:
    """The ``reason`` values of a Google API error body (both its old and new shapes)."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return set()
    error = body["error"]
    reasons: set[str] = set()
    for entry in error.get("errors") or []:
        if isinstance(entry, dict) and entry.get("reason"):
            reasons.add(str(entry["reason"]))
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("reason"):
            reasons.add(str(detail["reason"]))
    return reasons


# --- writing (replies as the brand; see writing.py) -----------------------------------------
MAX_REPLY_PAGES = 10  # comments.list pages read when looking for our own reply


def post_reply(
    account: writing.AccountConfig,
    target: writing.Target,
    text: str,
    *,
    idempotency_key: str,
    session: requests.Session | None = None,
) -> writing.Posted:
    """comments.insert with snippet.parentId: a reply in the mention's thread (YouTube nests
    one level only, so a reply to a reply goes under the thread's top-level comment). No
    idempotency key: a retry calls find_own_reply first."""
    answer = writing.call(
        "POST",
        f"{_write_root(account)}/comments",
        params={"part": "snippet"},
        json_body={"snippet": {"parentId": _thread_of(target), "textOriginal": text}},
        headers=_write_headers(account),
        session=session,
        on_error=_write_error,
    )
    return _posted_comment(answer.body, _video_of(target))


def find_own_reply(
    account: writing.AccountConfig,
    target: writing.Target,
    *,
    text: str,
    session: requests.Session | None = None,
) -> writing.Posted | None:
    """Our reply with this text among comments.list?parentId=<thread> (a few pages at most)."""
    params: dict[str, Any] = {
        "part": "snippet",
        "parentId": _thread_of(target),
        "maxResults": MAX_RESULTS,
        "textFormat": "plainText",
    }
    for _ in range(MAX_REPLY_PAGES):
        answer = writing.call(
            "GET",
            f"{_write_root(account)}/comments",
            params=params,
            headers=_write_headers(account),
            session=session,
            on_error=_write_error,
        )
        body = answer.body if isinstance(answer.body, dict) else {}
        for comment in body.get("items") or []:
            snippet = comment.get("snippet") if isinstance(comment, dict) else None
            if not isinstance(snippet, dict):
                continue
            text_there = base.text_or_empty(snippet.get("textOriginal")) or html_to_text(
                base.text_or_empty(snippet.get("textDisplay"))
            )
            if _is_ours(snippet, account.handle) and writing.same_text(text_there, text):
                return _posted_comment(comment, _video_of(target))
        token = base.text_or_empty(body.get("nextPageToken"))
        if not token:
            return None
        params["pageToken"] = token
    return None


def edit_reply(
    account: writing.AccountConfig,
    external_id: str,
    text: str,
    *,
    session: requests.Session | None = None,
) -> writing.Posted:
    """comments.update (PUT) of our comment's textOriginal."""
    answer = writing.call(
        "PUT",
        f"{_write_root(account)}/comments",
        params={"part": "snippet"},
        json_body={"id": external_id, "snippet": {"textOriginal": text}},
        headers=_write_headers(account),
        session=session,
        on_error=_write_error,
    )
    return _posted_comment(answer.body, "")


def delete_reply(
    account: writing.AccountConfig, external_id: str, *, session: requests.Session | None = None
) -> None:
    """comments.delete; a comment already gone (404) counts as deleted."""
    try:
        writing.call(
            "DELETE",
            f"{_write_root(account)}/comments",
            params={"id": external_id},
            headers=_write_headers(account),
            session=session,
            on_error=_write_error,
        )
    except writing.Refused as error:
        if error.status != 404:
            raise


def hide_mention(
    account: writing.AccountConfig,
    target: writing.Target,
    *,
    session: requests.Session | None = None,
) -> None:
    """comments.setModerationStatus heldForReview: out of public view until published again."""
    _set_moderation_status(account, target, "heldForReview", session)


def unhide_mention(
    account: writing.AccountConfig,
    target: writing.Target,
    *,
    session: requests.Session | None = None,
) -> None:
    _set_moderation_status(account, target, "published", session)


def delete_mention(
    account: writing.AccountConfig,
    target: writing.Target,
    *,
    session: requests.Session | None = None,
) -> None:
    """comments.setModerationStatus rejected: the channel owner's delete of another's comment."""
    _set_moderation_status(account, target, "rejected", session)


def _set_moderation_status(
    account: writing.AccountConfig,
    target: writing.Target,
    status: str,
    session: requests.Session | None,
) -> None:
    writing.call(
        "POST",
        f"{_write_root(account)}/comments/setModerationStatus",
        params={"id": target.external_id, "moderationStatus": status},
        headers=_write_headers(account),
        session=session,
        on_error=_write_error,
    )


def _write_error(status: int, body: Any, headers: Any, where: str) -> base.ConnectorError | None:
    """Quota and rate limits come as 403 with a reason in the body, not as 429."""
    reasons = _error_reasons(body)
    if reasons & _QUOTA_REASONS:
        wait = (
            base.retry_after_seconds(headers) if headers.get("Retry-After") else QUOTA_RETRY_SECONDS
        )
        return base.RateLimited(f"YouTube quota exhausted ({status} from {where})", wait)
    if reasons & _RATE_REASONS:
        return base.RateLimited(
            f"YouTube rate limit ({status} from {where})", base.retry_after_seconds(headers)
        )
    return None


def _posted_comment(comment: Any, video_id: str) -> writing.Posted:
    if not isinstance(comment, dict):
        raise base.TransientError("YouTube accepted the comment but answered no comment")
    snippet = comment.get("snippet") if isinstance(comment.get("snippet"), dict) else {}
    comment_id = base.text_or_empty(comment.get("id"))
    video = base.text_or_empty(snippet.get("videoId")) or video_id
    channel = base.text_or_empty(snippet.get("channelId"))
    return writing.posted(
        comment_id, _comment_url(comment_id, video, channel) if comment_id else ""
    )


def _is_ours(snippet: dict, handle: str) -> bool:
    channel_id = snippet.get("authorChannelId")
    if isinstance(channel_id, dict):
        channel_id = channel_id.get("value")
    candidates = (
        base.text_or_empty(snippet.get("authorDisplayName")),
        _handle_from_channel_url(base.text_or_empty(snippet.get("authorChannelUrl"))),
        base.text_or_empty(channel_id),
    )
    return any(writing.same_handle(candidate, handle) for candidate in candidates if candidate)


def _thread_of(target: writing.Target) -> str:
    """The top-level comment a reply goes under (replies can only answer those)."""
    snippet = target.raw.get("snippet") if isinstance(target.raw.get("snippet"), dict) else {}
    thread = target.raw.get(THREAD_KEY) if isinstance(target.raw.get(THREAD_KEY), dict) else {}
    return (
        base.text_or_empty(snippet.get("parentId"))
        or base.text_or_empty(thread.get("threadId"))
        or target.thread_id
        or target.external_id.split(".", 1)[0]
    )


def _video_of(target: writing.Target) -> str:
    snippet = target.raw.get("snippet") if isinstance(target.raw.get("snippet"), dict) else {}
    thread = target.raw.get(THREAD_KEY) if isinstance(target.raw.get(THREAD_KEY), dict) else {}
    video = base.text_or_empty(snippet.get("videoId")) or base.text_or_empty(thread.get("videoId"))
    if not video and target.url:
        video = (parse_qs(urlsplit(target.url).query).get("v") or [""])[0]
    return video


def _write_root(account: writing.AccountConfig) -> str:
    return (account.base_url or DEFAULT_BASE_URL).strip().rstrip("/")


def _write_headers(account: writing.AccountConfig) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.credentials.get('access_token', '')}"}
