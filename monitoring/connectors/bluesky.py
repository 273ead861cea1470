"""Bluesky connector: app.bsky post views to mentions, and polling searchPosts in sweeps."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime
from typing import Any

import requests

from monitoring.connectors import base, boundary, writing
from monitoring.platforms import Platform, QueryKind

PLATFORM = Platform.BLUESKY.value
DEFAULT_BASE_URL = "https://public.api.bsky.app"
MAX_LIMIT = 100  # searchPosts accepts 1..100
WEB_ROOT = "https://bsky.app"
_POST_RECORD = "app.bsky.feed.post"


# --- parsing ------------------------------------------------------------------------------
def split(payload: Any) -> list:
    """The posts of one decoded body, in the order served.

    Reads ``{"posts": [PostView]}`` (searchPosts, getPosts, getQuotes), ``{"feed":
    [FeedViewPost]}`` (getAuthorFeed, getTimeline, getFeed, getListFeed: the feed items
    themselves, so a repost's ``reason`` stays in raw), getPostThread's ``{"thread": ...}``
    (parents from the root down, the post, then replies depth first; notFound and blocked
    entries carry no post and are left out), the v2 thread list, listNotifications (only
    the notifications whose record is a post: replies, mentions, quotes) and a bare PostView.
    """
    if isinstance(payload, list):
        return list(payload)
    if isinstance(payload, dict):
        if isinstance(payload.get("posts"), list):
            return list(payload["posts"])
        if isinstance(payload.get("feed"), list):
            return list(payload["feed"])
        if "thread" in payload:
            return _thread_posts(payload["thread"])
        if isinstance(payload.get("notifications"), list):
            return [
                notification
                for notification in payload["notifications"]
                if not isinstance(notification, dict)
                or _record_type(notification.get("record")) in ("", _POST_RECORD)
            ]
        if "uri" in payload and ("record" in payload or "author" in payload):
            return [payload]
    raise base.MalformedPayload(
        f"not a Bluesky posts, feed or thread body: {base.describe_shape(payload)}"
    )


def parse_item(item: Any) -> base.MentionIn:
    """One PostView (or a feed item wrapping one) to a mention."""
    post = _post_view(item)
    uri = base.text_or_empty(post.get("uri"))
    if not uri.startswith("at://"):
        raise base.MalformedItem(f"post has no at:// uri: {uri!r}")
    record = post.get("record") if isinstance(post.get("record"), dict) else post.get("value")
    if not isinstance(record, dict):
        raise base.MalformedItem(f"post {uri} has no record")
    author = post.get("author")
    if not isinstance(author, dict):
        raise base.MalformedItem(f"post {uri} has no author")
    did = base.text_or_empty(author.get("did")) or uri.removeprefix("at://").split("/", 1)[0]
    handle = base.text_or_empty(author.get("handle"))
    if not handle or handle == "handle.invalid":
        # An account whose handle no longer resolves is still reachable by its DID.
        handle = did
    if not handle:
        raise base.MalformedItem(f"post {uri} has an author without handle or did")
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    reply_to_id = _ref_uri(reply.get("parent"))
    verification = author.get("verification")
    return base.MentionIn(
        platform=PLATFORM,
        external_id=uri,
        url=f"{WEB_ROOT}/profile/{handle}/post/{uri.rstrip('/').rsplit('/', 1)[-1]}",
        text=base.text_or_empty(record.get("text")),
        published_at=_published_at(record, post, uri),
        author=base.AuthorIn(
            handle=handle,
            display_name=base.text_or_empty(author.get("displayName")),
            followers=base.followers_or_none(author.get("followersCount")),
            verified=isinstance(verification, dict)
            and verification.get("verifiedStatus") == "valid",
            url=f"{WEB_ROOT}/profile/{handle}",
        ),
        language=base.iso639_1(
            (record.get("langs") or [""])[0] if isinstance(record.get("langs"), list) else ""
        ),
        reply_to_id=reply_to_id,
        # A post that replies to nothing is the root of its own thread.
        thread_id=_ref_uri(reply.get("root")) or ("" if reply_to_id else uri),
        engagement=_engagement(post),
        raw=item,
    )


def parse(payload: Any) -> list[base.MentionIn]:
    return [parse_item(item) for item in split(payload)]


# --- fetching -----------------------------------------------------------------------------
def fetch(
    source: base.SourceConfig, cursor: dict, session: requests.Session | None = None
) -> base.Page:
    """One searchPosts GET, as part of a sweep from the newest posts down to ``since``.

    A sweep starts without ``page_cursor`` and pages down with the server's cursor for as
    long as it hands out a new one with posts; ``since`` stays put meanwhile and
    ``sweep_newest`` remembers the newest post seen. When the sweep ends, ``since`` moves up
    to that newest post. Since is inclusive, so the newest post comes back once more on the
    next sweep (ingest dedups). A page shorter than ``limit`` does not end the sweep: the
    AppView drops posts it cannot show (taken down, blocked, deleted) after the search, so a
    short page can have older posts behind it, and ``since`` moving up would skip them.
    """
    cursor = dict(cursor or {})
    query = (source.query or "").strip()
    if not query:
        raise base.PermanentError("a Bluesky source needs a query")
    if source.kind == QueryKind.HASHTAG:
        query = "#" + query.lstrip("#")
    elif source.kind != QueryKind.SEARCH:
        raise base.PermanentError(f"Bluesky cannot poll a {source.kind!r} source")
    limit = max(1, min(source.page_size or MAX_LIMIT, MAX_LIMIT))
    since = _parse_instant(cursor.get("since"))
    page_cursor = cursor.get("page_cursor")
    params: dict[str, Any] = {"q": query, "sort": "latest", "limit": limit}
    if cursor.get("since"):
        params["since"] = cursor["since"]
    if page_cursor:
        params["cursor"] = page_cursor

    root = (source.base_url or DEFAULT_BASE_URL).strip().rstrip("/")
    response = base.get(
        f"{root}/xrpc/app.bsky.feed.searchPosts",
        params=params,
        headers=base.bearer_headers(source),
        session=session,
        timeout=source.timeout_seconds,
    )
    payload = base.decode_json(response)
    items = split(payload)
    mentions, quarantined = base.split_good_and_bad(items, parse_item)

    newest = _parse_instant(cursor.get("sweep_newest")) if page_cursor else None
    for item in items:
        instant = _sort_instant(item)
        if instant and (newest is None or instant > newest):
            newest = instant
    next_page = payload.get("cursor") if isinstance(payload, dict) else None
    # A server that hands back the cursor it was given, or hands out cursors to empty pages,
    # would page forever.
    if next_page and items and next_page != page_cursor:
        next_cursor: dict[str, Any] = {"page_cursor": next_page}
        if cursor.get("since"):
            next_cursor["since"] = cursor["since"]
        if newest:
            next_cursor["sweep_newest"] = _format_instant(newest)
        return base.Page(mentions, next_cursor, quarantined, has_more=True)

    high_water = max((instant for instant in (since, newest) if instant), default=None)
    next_cursor = {"since": _format_instant(high_water)} if high_water else {}
    return base.Page(mentions, next_cursor, quarantined, has_more=False)


# --- helpers ------------------------------------------------------------------------------
def _thread_posts(thread: Any) -> list:
    if isinstance(thread, list):  # app.bsky.unspecced.getPostThreadV2: flat, in order
        posts = []
        for entry in thread:
            value = entry.get("value") if isinstance(entry, dict) else None
            if isinstance(value, dict) and isinstance(value.get("post"), dict):
                posts.append(value["post"])
        return posts
    if not isinstance(thread, dict):
        raise base.MalformedPayload("thread is neither an object nor a list")
    ancestors = []
    parent = thread.get("parent")
    while isinstance(parent, dict):
        if _is_post_node(parent):
            ancestors.append(parent["post"])
        parent = parent.get("parent")
    posts = list(reversed(ancestors))
    stack = [thread]
    while stack:  # depth first, replies in the order served
        node = stack.pop()
        if not _is_post_node(node):
            continue
        posts.append(node["post"])
        replies = node.get("replies")
        if isinstance(replies, list):
            stack.extend(reversed(replies))
    return posts


def _is_post_node(node: Any) -> bool:
    if not isinstance(node, dict) or node.get("notFound") or node.get("blocked"):
        return False
    node_type = base.text_or_empty(node.get("$type"))
    if node_type.endswith(("#notFoundPost", "#blockedPost")):
        return False
    return isinstance(node.get("post"), dict)


def _post_view(item: Any) -> dict:
    if not isinstance(item, dict):
        raise base.MalformedItem(f"post is not a JSON object but {type(item).__name__}")
    if isinstance(item.get("post"), dict) and "record" not in item:  # a feed item
        return item["post"]
    return item


def _published_at(record: dict, post: dict, uri: str) -> datetime:
    for value in (record.get("createdAt"), post.get("indexedAt")):
        if value:
            try:
                return base.parse_datetime(value)
            except base.MalformedItem:
                continue  # a client wrote a bad createdAt; the server's indexedAt is sound
    raise base.MalformedItem(f"post {uri} has no readable createdAt or indexedAt")


def _sort_instant(item: Any) -> datetime | None:
    """When search sorts and filters this post: the earlier of createdAt and indexedAt.

    That is Bluesky's own sortAt, so a post dated in the future by its client cannot push
    ``since`` past posts still to come.
    """
    try:
        post = _post_view(item)
    except base.MalformedItem:
        return None
    record = post.get("record") if isinstance(post.get("record"), dict) else {}
    instants = [
        instant
        for instant in (
            _parse_instant(record.get("createdAt")),
            _parse_instant(post.get("indexedAt")),
        )
        if instant
    ]
    return min(instants, default=None)


def _parse_instant(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return base.parse_datetime(value).astimezone(UTC)
    except (base.MalformedItem, ValueError, OverflowError):
        return None


def _format_instant(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ref_uri(ref: Any) -> str:
    return base.text_or_empty(ref.get("uri")) if isinstance(ref, dict) else ""


def _record_type(record: Any) -> str:
    return base.text_or_empty(record.get("$type")) if isinstance(record, dict) else ""


def _engagement(post: dict) -> dict[str, int]:
    counts = {
        "likes": base.count_or_none(post.get("likeCount")),
        "reposts": base.count_or_none(post.get("repostCount")),
        "replies": base.count_or_none(post.get("replyCount")),
        "quotes": base.count_or_none(post.get("quoteCount")),
        "bookmarks": base.count_or_none(post.get("bookmarkCount")),
    }
    return {name: value for name, value in counts.items() if value is not None}


# --- writing (replies as the brand; see writing.py) -----------------------------------------
# Writes go to the account's PDS (bsky.social for most); it also proxies the AppView reads.
DEFAULT_PDS_URL = "https://bsky.social"
# A session (accessJwt) lives about two hours; createSession is rate-limited (30 per 5 min),
# so one is kept per process for a while, keyed by a hash of where, who and which secret.
SESSION_SECONDS = 15 * 60
_sessions: dict[str, tuple[float, str, str]] = {}  # key -> (expires, accessJwt, did)
_sessions_lock = threading.Lock()


def post_reply(
    account: writing.AccountConfig,
    target: writing.Target,
    text: str,
    *,
    idempotency_key: str,
    session: requests.Session | None = None,
) -> writing.Posted:
    """com.atproto.repo.createRecord of an app.bsky.feed.post replying to the mention (its
    thread root kept). Bluesky has no idempotency key: a retry calls find_own_reply first."""
    parent, root = _reply_refs(account, target, session)
    record: dict[str, Any] = {
        "$type": _POST_RECORD,
        "text": text,
        "createdAt": _format_instant(datetime.now(UTC)),
        "reply": {"root": root, "parent": parent},
    }
    language = _mention_language(target)
    if language:
        record["langs"] = [language]

    def create(token: str, did: str) -> Any:
        return writing.call(
            "POST",
            f"{_pds_root(account)}/xrpc/com.atproto.repo.createRecord",
            json_body={"repo": did, "collection": _POST_RECORD, "record": record},
            headers={"Authorization": f"Bearer {token}"},
            session=session,
        ).body

    body = _with_session(account, session, create)
    uri = base.text_or_empty(body.get("uri")) if isinstance(body, dict) else ""
    return writing.posted(uri, _web_url(account.handle, uri))


def find_own_reply(
    account: writing.AccountConfig,
    target: writing.Target,
    *,
    text: str,
    session: requests.Session | None = None,
) -> writing.Posted | None:
    """Our direct reply to the mention with this text, from app.bsky.feed.getPostThread."""

    def read(token: str, did: str) -> tuple[Any, str]:
        answer = writing.call(
            "GET",
            f"{_pds_root(account)}/xrpc/app.bsky.feed.getPostThread",
            params={"uri": target.external_id, "depth": 1, "parentHeight": 0},
            headers={"Authorization": f"Bearer {token}"},
            session=session,
        )
        return answer.body, did

    body, did = _with_session(account, session, read)
    thread = body.get("thread") if isinstance(body, dict) else None
    replies = thread.get("replies") if isinstance(thread, dict) else None
    for node in replies if isinstance(replies, list) else []:
        if not _is_post_node(node):
            continue
        post = node["post"]
        author = post.get("author") if isinstance(post.get("author"), dict) else {}
        ours = base.text_or_empty(author.get("did")) == did or writing.same_handle(
            base.text_or_empty(author.get("handle")), account.handle
        )
        record = post.get("record") if isinstance(post.get("record"), dict) else {}
        reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
        if (
            ours
            and _ref_uri(reply.get("parent")) == target.external_id
            and writing.same_text(base.text_or_empty(record.get("text")), text)
        ):
            uri = base.text_or_empty(post.get("uri"))
            return writing.posted(uri, _web_url(account.handle, uri))
    return None


# How far back a retried statement looks for itself among the account's own posts.
OWN_FEED_LIMIT = 30


def post_status(
    account: writing.AccountConfig,
    text: str,
    *,
    idempotency_key: str,
    session: requests.Session | None = None,
) -> writing.Posted:
    """com.atproto.repo.createRecord of an app.bsky.feed.post that replies to nothing: a
    top-level post of the account (a crisis statement). Bluesky has no idempotency key: a
    retry calls find_own_status first."""
    record: dict[str, Any] = {
        "$type": _POST_RECORD,
        "text": text,
        "createdAt": _format_instant(datetime.now(UTC)),
    }

    def create(token: str, did: str) -> Any:
        return writing.call(
            "POST",
            f"{_pds_root(account)}/xrpc/com.atproto.repo.createRecord",
            json_body={"repo": did, "collection": _POST_RECORD, "record": record},
            headers={"Authorization": f"Bearer {token}"},
            session=session,
        ).body

    body = _with_session(account, session, create)
    uri = base.text_or_empty(body.get("uri")) if isinstance(body, dict) else ""
    return writing.posted(uri, _web_url(account.handle, uri))


def find_own_status(
    account: writing.AccountConfig, *, text: str, session: requests.Session | None = None
) -> writing.Posted | None:
    """Our recent top-level post with this text, from app.bsky.feed.getAuthorFeed (the
    account's own posts, replies left out)."""

    def read(token: str, did: str) -> tuple[Any, str]:
        answer = writing.call(
            "GET",
            f"{_pds_root(account)}/xrpc/app.bsky.feed.getAuthorFeed",
            params={"actor": did, "limit": OWN_FEED_LIMIT, "filter": "posts_no_replies"},
            headers={"Authorization": f"Bearer {token}"},
            session=session,
        )
        return answer.body, did

    body, did = _with_session(account, session, read)
    feed = body.get("feed") if isinstance(body, dict) else None
    for item in feed if isinstance(feed, list) else []:
        post = item.get("post") if isinstance(item, dict) else None
        if not isinstance(post, dict) or item.get("reason"):  # a repost is not our post
            continue
        author = post.get("author") if isinstance(post.get("author"), dict) else {}
        ours = base.text_or_empty(author.get("did")) == did or writing.same_handle(
            base.text_or_empty(author.get("handle")), account.handle
        )
        record = post.get("record") if isinstance(post.get("record"), dict) else {}
        if (
            ours
            and not record.get("reply")
            and writing.same_text(base.text_or_empty(record.get("text")), text)
        ):
            uri = base.text_or_empty(post.get("uri"))
            return writing.posted(uri, _web_url(account.handle, uri))
    return None


def delete_reply(
    account: writing.AccountConfig, external_id: str, *, session: requests.Session | None = None
) -> None:
    """com.atproto.repo.deleteRecord of our post (deleting a missing record succeeds)."""
    repo, collection, rkey = _split_uri(external_id)

    def delete(token: str, did: str) -> None:
        if repo not in (did, account.handle):
            raise base.PermanentError(f"{external_id} is not a post of {account.handle}")
        writing.call(
            "POST",
            f"{_pds_root(account)}/xrpc/com.atproto.repo.deleteRecord",
            json_body={"repo": did, "collection": collection, "rkey": rkey},
            headers={"Authorization": f"Bearer {token}"},
            session=session,
        )

    _with_session(account, session, delete)


def forget_sessions() -> None:
    """Drop every cached session (tests; a rotated app password)."""
    with _sessions_lock:
        _sessions.clear()


def _with_session(
    account: writing.AccountConfig, session: requests.Session | None, act: Any
) -> Any:
    """Run ``act(accessJwt, did)``; an expired or revoked session is renewed once."""
    token, did = _access(account, session)
    try:
        return act(token, did)
    except writing.Refused as error:
        if error.code not in ("ExpiredToken", "InvalidToken") and error.status != 401:
            raise
    token, did = _access(account, session, renew=True)
    return act(token, did)


def _access(
    account: writing.AccountConfig, session: requests.Session | None, *, renew: bool = False
) -> tuple[str, str]:
    identifier = account.credentials.get("identifier") or account.handle.lstrip("@")
    password = account.credentials.get("app_password", "")
    root = _pds_root(account)
    key = hashlib.sha256(f"{root}\n{identifier}\n{password}".encode()).hexdigest()
    now = time.monotonic()
    with _sessions_lock:
        cached = _sessions.get(key)
        if renew or (cached and cached[0] <= now):
            _sessions.pop(key, None)
            cached = None
    if cached:
        return cached[1], cached[2]
    try:
        body = writing.call(
            "POST",
            f"{root}/xrpc/com.atproto.server.createSession",
            json_body={"identifier": identifier, "password": password},
            session=session,
        ).body
    except writing.Refused as error:
        raise writing.Refused(
            f"Bluesky refused the app password of {identifier!r} ({error})",
            status=error.status,
            code=error.code,
        ) from error
    token = base.text_or_empty(body.get("accessJwt")) if isinstance(body, dict) else ""
    did = base.text_or_empty(body.get("did")) if isinstance(body, dict) else ""
    if not token or not did:
        raise base.TransientError("Bluesky createSession answered without accessJwt or did")
    with _sessions_lock:
        _sessions[key] = (now + SESSION_SECONDS, token, did)
    return token, did


def _reply_refs(
    account: writing.AccountConfig, target: writing.Target, session: requests.Session | None
) -> tuple[dict[str, str], dict[str, str]]:
    """Strong refs (uri + cid) of the post answered and of its thread's root, from the
    mention's raw item; read from the thread when the raw lacks them."""
    post = target.raw.get("post") if isinstance(target.raw.get("post"), dict) else target.raw
    if not isinstance(post, dict) or base.text_or_empty(post.get("uri")) != target.external_id:
        post = {}
    if not base.text_or_empty(post.get("cid")):
        post = _read_post(account, target, session)
    parent = {"uri": target.external_id, "cid": base.text_or_empty(post.get("cid"))}
    record = post.get("record") if isinstance(post.get("record"), dict) else {}
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    root_ref = reply.get("root") if isinstance(reply.get("root"), dict) else {}
    root = {
        "uri": base.text_or_empty(root_ref.get("uri")),
        "cid": base.text_or_empty(root_ref.get("cid")),
    }
    if not root["uri"] or not root["cid"]:
        root = parent  # the mention starts its own thread
    return parent, root


def _read_post(
    account: writing.AccountConfig, target: writing.Target, session: requests.Session | None
) -> dict:
    def read(token: str, did: str) -> Any:
        return writing.call(
            "GET",
            f"{_pds_root(account)}/xrpc/app.bsky.feed.getPostThread",
            params={"uri": target.external_id, "depth": 0, "parentHeight": 0},
            headers={"Authorization": f"Bearer {token}"},
            session=session,
        ).body

    body = _with_session(account, session, read)
    thread = body.get("thread") if isinstance(body, dict) else None
    post = thread.get("post") if _is_post_node(thread) else None
    if not isinstance(post, dict) or not base.text_or_empty(post.get("cid")):
        raise base.PermanentError(f"Bluesky does not show the post {target.external_id}")
    return post


def _mention_language(target: writing.Target) -> str:
    post = target.raw.get("post") if isinstance(target.raw.get("post"), dict) else target.raw
    record = post.get("record") if isinstance(post, dict) else None
    langs = record.get("langs") if isinstance(record, dict) else None
    return boundary.language_code(langs[0]) if isinstance(langs, list) and langs else ""


def _split_uri(uri: str) -> tuple[str, str, str]:
    parts = uri.removeprefix("at://").split("/")
    if not uri.startswith("at://") or len(parts) != 3 or not all(parts):
        raise base.PermanentError(f"not a Bluesky record uri: {uri[:200]!r}")
    return parts[0], parts[1], parts[2]


def _web_url(handle: str, uri: str) -> str:
    rkey = uri.rstrip("/").rsplit("/", 1)[-1]
    return f"{WEB_ROOT}/profile/{handle.lstrip('@')}/post/{rkey}" if rkey and handle else ""


def _pds_root(account: writing.AccountConfig) -> str:
    root = (account.base_url or DEFAULT_PDS_URL).strip().rstrip("/")
    return root if "://" in root else f"https://{root}"
