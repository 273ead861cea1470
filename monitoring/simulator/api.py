"""The simulated platform endpoints: routing, query matching and each API's paging rules."""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlencode

from monitoring.simulator import wire
from monitoring.simulator.world import GOOGLE_ALERTS, TALKWALKER, SimPost, World

# URL prefix -> platform value (monitoring.platforms.Platform).
PREFIXES: dict[str, str] = {
    "mastodon": "mastodon",
    "bluesky": "bluesky",
    "reddit": "reddit",
    "youtube": "youtube",
    "feeds": "feed",
}
GOOGLE_ALERTS_SIZE = 20  # Google Alerts feeds keep only the latest entries
TALKWALKER_SIZE = 25
FEED_QUERY = "brisa"
# Any key shaped like a Google API key is accepted unless the server is given its own list.
_API_KEY_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,}")

Params = Mapping[str, list[str]]


@dataclass
class Page:
    """A list response before serialisation, so faults can corrupt, repeat or shuffle items."""

    items: list[Any]
    carried: list[list[SimPost]]  # posts each item delivers; the first is the item's own
    render: Callable[[list[Any]], bytes]


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    page: Page | None = None
    delivered: list[SimPost] = field(default_factory=list)  # for responses without a page


def to_json(value: Any, *, indent: int | None = None) -> bytes:
    separators = None if indent else (",", ":")
    return json.dumps(value, ensure_ascii=False, indent=indent, separators=separators).encode()


def json_response(status: int, value: Any, **kwargs: Any) -> Response:
    return Response(status, to_json(value), **kwargs)


def _first(params: Params, name: str, default: str | None = None) -> str | None:
    values = params.get(name)
    return values[0] if values else default


def _int(params: Params, name: str, default: int) -> int:
    value = _first(params, name)
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _id(params: Params, name: str) -> int | None:
    """A numeric id parameter; "0" counts (min_id=0 means "from the very beginning")."""
    value = _first(params, name)
    return int(value) if value and value.isdigit() else None


# --- query matching -----------------------------------------------------------------------
def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _terms(query: str) -> list[list[str]]:
    """`a b OR "c d"` -> [["a", "b"], ["c d"]]: groups joined by OR, terms within by AND."""
    groups: list[list[str]] = [[]]
    for quoted, bare in re.findall(r'"([^"]*)"|(\S+)', query):
        if bare == "OR":
            groups.append([])
        elif quoted or bare:
            groups[-1].append(_fold(quoted or bare))
    return [group for group in groups if group]


class Api:
    """The endpoints of every simulated platform, reading one world."""

    def __init__(self, world: World, *, youtube_api_keys: frozenset[str] | None = None) -> None:
        self.world = world
        self.youtube_api_keys = youtube_api_keys
        self._haystacks: dict[tuple[str, str], tuple[str, frozenset[str]]] = {}

    # -- matching --
    def _haystack(self, post: SimPost) -> tuple[str, frozenset[str]]:
        key = (post.platform, post.external_id)
        if key not in self._haystacks:
            parts = [post.text, post.title, post.author.handle, post.author.display_name]
            if post.platform == "reddit" and post.thread_id != post.external_id:
                root = self.world.find(post.platform, post.thread_id)
                parts.append(root.title if root else "")
            text = _fold(" ".join(parts))
            tags = frozenset(re.findall(r"(?<![\w&])#(\w+)", _fold(post.text)))
            self._haystacks[key] = (text, tags)
        return self._haystacks[key]

    def matches(self, post: SimPost, query: str) -> bool:
        text, tags = self._haystack(post)

        def term_matches(term: str) -> bool:
            if term.startswith("#") and len(term) > 1:
                return term[1:] in tags
            return term.lstrip("@") in text

        return any(all(term_matches(term) for term in group) for group in _terms(query))

    def has_tag(self, post: SimPost, tag: str) -> bool:
        return _fold(tag) in self._haystack(post)[1]

    # -- dispatch --
    def handle(
        self,
        platform: str,
        path: str,
        params: Params,
        headers: Mapping[str, str],
        ctx: wire.Context,
    ) -> Response:
        handler = {
            "mastodon": self._mastodon,
            "bluesky": self._bluesky,
            "reddit": self._reddit,
            "youtube": self._youtube,
            "feed": self._feeds,
        }[platform]
        return handler(path, params, headers, ctx)

    # -- Mastodon --
    def _mastodon(
        self, path: str, params: Params, headers: Mapping[str, str], ctx: wire.Context
    ) -> Response:
        visible = ctx.world.visible_at(ctx.now, "mastodon")
        if match := re.fullmatch(r"/api/v1/timelines/tag/([^/]+)", path):
            tag = unquote(match.group(1))
            posts = [post for post in visible if self.has_tag(post, tag)]
            return self._mastodon_list(posts, params, ctx, f"/api/v1/timelines/tag/{tag}")
        if path == "/api/v2/search":
            query = _first(params, "q", "") or ""
            kind = _first(params, "type")
            if not query.strip():
                return json_response(400, {"error": "Validation failed: q can't be blank"})
            posts = [] if kind not in (None, "", "statuses") else visible
            posts = [post for post in posts if self.matches(post, query)]
            return self._mastodon_list(posts, params, ctx, None)
        if path == "/api/v1/accounts/lookup":
            acct = (_first(params, "acct", "") or "").lstrip("@").split("@")[0]
            author = wire._mastodon_author(ctx, acct)
            if author is None:
                return json_response(404, {"error": "Record not found"})
            return json_response(200, wire.mastodon_account(author, ctx))
        if match := re.fullmatch(r"/api/v1/accounts/(\d+)/statuses", path):
            posts = [post for post in visible if post.author.account_id == match.group(1)]
            return self._mastodon_list(posts, params, ctx, path)
        if match := re.fullmatch(r"/api/v1/statuses/(\d+)(/context)?", path):
            post = ctx.world.find("mastodon", match.group(1))
            if post is None or post.published_at > ctx.now:
                return json_response(404, {"error": "Record not found"})
            if not match.group(2):
                return json_response(200, wire.mastodon_status(post, ctx), delivered=[post])
            ancestors, current = [], post
            while current.reply_to and (parent := ctx.world.find("mastodon", current.reply_to)):
                ancestors.insert(0, parent)
                current = parent
            descendants = ctx.world.thread_replies(post, ctx.now)
            body = {
                "ancestors": [wire.mastodon_status(p, ctx) for p in ancestors],
                "descendants": [wire.mastodon_status(p, ctx) for p in descendants],
            }
            return json_response(200, body, delivered=ancestors + descendants)
        return json_response(404, {"error": "Record not found"})

    def _mastodon_list(
        self, posts: list[SimPost], params: Params, ctx: wire.Context, link_path: str | None
    ) -> Response:
        """Mastodon's id paging: max_id (older than), since_id (newest newer than), min_id
        (the oldest newer than, for gap-free catching up); always returned newest first."""
        limit = min(max(_int(params, "limit", 20), 1), 40)
        max_id, since_id, min_id = (_id(params, name) for name in ("max_id", "since_id", "min_id"))
        candidates = [
            post
            for post in posts
            if (max_id is None or int(post.external_id) < max_id)
            and (since_id is None or int(post.external_id) > since_id)
            and (min_id is None or int(post.external_id) > min_id)
        ]
        if min_id is not None:
            chosen = list(reversed(candidates[:limit]))
        else:
            offset = max(_int(params, "offset", 0), 0) if link_path is None else 0
            newest_first = list(reversed(candidates))
            chosen = newest_first[offset : offset + limit]
        headers: dict[str, str] = {}
        if chosen and link_path is not None:
            kept = {k: v for k, v in params.items() if k not in ("max_id", "min_id", "since_id")}
            base = f"{ctx.mastodon_root}{link_path}"

            def link(anchor: str, value: str) -> str:
                query = urlencode(
                    [*((k, v) for k, vs in kept.items() for v in vs), (anchor, value)]
                )
                return f"{base}?{query}"

            headers["Link"] = (
                f'<{link("max_id", chosen[-1].external_id)}>; rel="next", '
                f'<{link("min_id", chosen[0].external_id)}>; rel="prev"'
            )
        if link_path is None:

            def render(items: list[Any]) -> bytes:
                return to_json(wire.mastodon_search(items))
        else:

            def render(items: list[Any]) -> bytes:
                return to_json(items)

        page = Page(
            items=[wire.mastodon_status(post, ctx) for post in chosen],
            carried=[[post] for post in chosen],
            render=render,
        )
        return Response(200, headers=headers, page=page)

    # -- Bluesky --
    def _bluesky(
        self, path: str, params: Params, headers: Mapping[str, str], ctx: wire.Context
    ) -> Response:
        if path != "/xrpc/app.bsky.feed.searchPosts":
            method = path.removeprefix("/xrpc/")
            return json_response(
                501,
                {"error": "MethodNotImplemented", "message": f"Method Not Implemented: {method}"},
            )
        query = _first(params, "q")
        if not query:
            return _bluesky_invalid('Error: Params must have the property "q"')
        limit = _int(params, "limit", 25)
        if not 1 <= limit <= 100:
            return _bluesky_invalid(
                "Error: limit can not be greater than 100"
                if limit > 100
                else "Error: limit can not be less than 1"
            )
        bounds = []
        for name in ("since", "until"):
            value = _first(params, name)
            try:
                bounds.append(_parse_when(value) if value else None)
            except ValueError:
                return _bluesky_invalid(f"Error: {name} must be a valid datetime")
        since, until = bounds
        posts = [
            post
            for post in ctx.world.visible_at(ctx.now, "bluesky")
            if self.matches(post, query)
            and (since is None or post.published_at >= since)
            and (until is None or post.published_at < until)
            and self._bluesky_filters(post, params)
        ]
        cursor = _first(params, "cursor")
        if (_first(params, "sort", "latest") or "latest") == "top":
            ranked = sorted(posts, key=lambda p: (-p.likes, -ctx.world.position(p)))
            offset = int(cursor) if cursor and cursor.isdigit() else 0
            chosen = ranked[offset : offset + limit]
            more = offset + limit < len(ranked)
            next_cursor = str(offset + limit) if more else None
        else:
            newest_first = list(reversed(posts))
            if cursor:
                try:
                    anchor = _decode_position(cursor)
                except ValueError:
                    return _bluesky_invalid("Error: malformed cursor")
                newest_first = [p for p in newest_first if ctx.world.position(p) < anchor]
            chosen = newest_first[:limit]
            more = len(newest_first) > limit
            next_cursor = _encode_position(ctx.world.position(chosen[-1])) if more else None

        def render(items: list[Any]) -> bytes:
            return to_json(wire.bluesky_search(items, next_cursor, len(posts)))

        page = Page(
            items=[wire.bluesky_post(post, ctx) for post in chosen],
            carried=[[post] for post in chosen],
            render=render,
        )
        return Response(200, page=page)

    def _bluesky_filters(self, post: SimPost, params: Params) -> bool:
        author = _first(params, "author")
        if author and author.lstrip("@") not in (post.author.handle, post.author.account_id):
            return False
        lang = _first(params, "lang")
        if lang and post.language != lang:
            return False
        return all(self.has_tag(post, tag.lstrip("#")) for tag in params.get("tag", []))

    # -- Reddit --
    def _reddit(
        self, path: str, params: Params, headers: Mapping[str, str], ctx: wire.Context
    ) -> Response:
        path = path.removesuffix("/")
        visible = ctx.world.visible_at(ctx.now, "reddit")
        subreddit = None
        if match := re.fullmatch(r"/r/([A-Za-z0-9_]+)(/.*)", path):
            subreddit, path = match.group(1), match.group(2)
            visible = [post for post in visible if post.community.lower() == subreddit.lower()]
        kinds = ("t3_", "t1_")
        if path == "/search.json":
            query = _first(params, "q", "") or ""
            restrict = (_first(params, "restrict_sr", "") or "").lower() in ("1", "on", "true")
            if subreddit and not restrict:
                visible = ctx.world.visible_at(ctx.now, "reddit")
            wanted = (_first(params, "type", "") or "").split(",")
            if "link" in wanted and "comment" not in wanted:
                kinds = ("t3_",)
            elif "comment" in wanted and "link" not in wanted:
                kinds = ("t1_",)
            posts = [post for post in visible if self.matches(post, query)] if query else []
            search = True
        elif subreddit and path == "/new.json":
            posts, search = visible, False
        elif subreddit and path == "/comments.json":
            posts, search, kinds = visible, False, ("t1_",)
        else:
            return json_response(404, {"message": "Not Found", "error": 404})
        posts = [post for post in posts if post.external_id.startswith(kinds)]
        return self._reddit_listing(posts, params, ctx, search=search)

    def _reddit_listing(
        self, posts: list[SimPost], params: Params, ctx: wire.Context, *, search: bool
    ) -> Response:
        """Reddit's fullname paging: after=X pages to older items, before=X to newer ones."""
        limit = min(max(_int(params, "limit", 25), 1), 100)
        raw_json = _first(params, "raw_json") == "1"
        newest_first = list(reversed(posts))
        after, before = _first(params, "after"), _first(params, "before")
        anchor_name = before or after
        if anchor_name:
            anchor = ctx.world.find("reddit", anchor_name)
            if anchor is None:
                newest_first = []
            elif before:
                newer = [
                    p for p in newest_first if ctx.world.position(p) > ctx.world.position(anchor)
                ]
                newest_first = newer
            else:
                older = [
                    p for p in newest_first if ctx.world.position(p) < ctx.world.position(anchor)
                ]
                newest_first = older
        chosen = newest_first[-limit:] if before else newest_first[:limit]
        if chosen:
            first, last = newest_first.index(chosen[0]), newest_first.index(chosen[-1])
            newer_exists = first > 0 or (before is None and after is not None)
            older_exists = last < len(newest_first) - 1 or before is not None
        else:
            newer_exists = older_exists = False
        next_after = chosen[-1].external_id if chosen and older_exists else None
        next_before = chosen[0].external_id if chosen and newer_exists else None

        def render(items: list[Any]) -> bytes:
            body = wire.reddit_listing(items, after=next_after, before=next_before, search=search)
            return to_json(body)

        page = Page(
            items=[wire.reddit_thing(post, ctx, raw_json=raw_json) for post in chosen],
            carried=[[post] for post in chosen],
            render=render,
        )
        return Response(200, page=page)

    # -- YouTube --
    def _youtube(
        self, path: str, params: Params, headers: Mapping[str, str], ctx: wire.Context
    ) -> Response:
        pretty = (_first(params, "prettyPrint", "true") or "true").lower() != "false"
        indent = 2 if pretty else None

        def error(code: int, message: str, reason: str, status: str, **kwargs: Any) -> Response:
            body = wire.google_error(code, message, reason, status, **kwargs)
            return Response(code, to_json(body, indent=indent))

        key = _first(params, "key")
        if not key:
            return error(
                403,
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.",
                "forbidden",
                "PERMISSION_DENIED",
            )
        valid = (
            key in self.youtube_api_keys if self.youtube_api_keys else _API_KEY_SHAPE.fullmatch(key)
        )
        if not valid:
            return error(
                400,
                "API key not valid. Please pass a valid API key.",
                "badRequest",
                "INVALID_ARGUMENT",
                info_reason="API_KEY_INVALID",
            )
        if path != "/v3/commentThreads":
            return error(404, "Not Found", "notFound", "NOT_FOUND")
        parts = {part.strip() for part in (_first(params, "part", "") or "").split(",") if part}
        if not parts:
            return error(400, "Required parameter: part", "required", "INVALID_ARGUMENT")
        if parts - {"id", "snippet", "replies"}:
            unknown = sorted(parts - {"id", "snippet", "replies"})[0]
            return error(400, f"'{unknown}'", "unknownPart", "INVALID_ARGUMENT")
        limit = _int(params, "maxResults", 20)
        if not 1 <= limit <= 100:
            message = "Invalid value for maxResults. Must be between 1 and 100."
            return error(400, message, "invalidParameter", "INVALID_ARGUMENT")
        tops = [post for post in ctx.world.visible_at(ctx.now, "youtube") if not post.reply_to]
        video_id = _first(params, "videoId")
        channel_id = _first(params, "allThreadsRelatedToChannelId")
        thread_ids = _first(params, "id")
        if sum(bool(value) for value in (video_id, channel_id, thread_ids)) != 1:
            message = (
                "No filter selected. Expected one of: allThreadsRelatedToChannelId, id, videoId"
            )
            return error(400, message, "missingRequiredParameter", "INVALID_ARGUMENT")
        if video_id:
            if video_id not in {video.video_id for video in ctx.world.videos}:
                message = (
                    'The video identified by the <code><a href="/youtube/v3/docs/'
                    'commentThreads/list#videoId">videoId</a></code> parameter could not be found.'
                )
                return error(404, message, "videoNotFound", "NOT_FOUND")
            tops = [post for post in tops if post.community == video_id]
        elif channel_id:
            if channel_id != ctx.world.channel_id:
                message = (
                    "The channel identified by the <code>allThreadsRelatedToChannelId</code> "
                    "parameter could not be found."
                )
                return error(404, message, "channelNotFound", "NOT_FOUND")
        else:
            wanted = set((thread_ids or "").split(","))
            tops = [post for post in tops if post.external_id in wanted]
        terms = _first(params, "searchTerms")
        if terms:
            tops = [post for post in tops if self.matches(post, terms)]
        newest_first = list(reversed(tops))
        token = _first(params, "pageToken")
        if token:
            try:
                anchor = _decode_position(token)
            except ValueError:
                return error(
                    400,
                    "The request specifies an invalid page token.",
                    "invalidPageToken",
                    "INVALID_ARGUMENT",
                )
            newest_first = [p for p in newest_first if ctx.world.position(p) < anchor]
        chosen = newest_first[:limit]
        more = len(newest_first) > limit
        next_token = _encode_position(ctx.world.position(chosen[-1]), token=True) if more else None
        text_format = _first(params, "textFormat", "html") or "html"
        items, carried = [], []
        for top in chosen:
            thread, replies = wire.youtube_thread(
                top, ctx, with_replies="replies" in parts, text_format=text_format
            )
            if "snippet" not in parts:
                thread.pop("snippet")
            items.append(thread)
            carried.append([top, *replies])

        def render(items: list[Any]) -> bytes:
            body = wire.youtube_list(items, next_page_token=next_token, per_page=limit)
            return to_json(body, indent=indent)

        return Response(200, page=Page(items=items, carried=carried, render=render))

    # -- feeds --
    def _feeds(
        self, path: str, params: Params, headers: Mapping[str, str], ctx: wire.Context
    ) -> Response:
        if path == "/google-alerts.atom":
            name, size, content_type = GOOGLE_ALERTS, GOOGLE_ALERTS_SIZE, "application/atom+xml"
        elif path == "/talkwalker.rss":
            name, size, content_type = TALKWALKER, TALKWALKER_SIZE, "application/rss+xml"
        else:
            return Response(404, b"Not Found", content_type="text/plain; charset=utf-8")
        posts = [p for p in ctx.world.visible_at(ctx.now, "feed") if p.community == name]
        chosen = list(reversed(posts))[:size]
        latest = chosen[0].published_at if chosen else ctx.world.start
        etag = (
            '"'
            + hashlib.sha256("|".join(p.external_id for p in chosen).encode()).hexdigest()[:20]
            + '"'
        )
        last_modified = email.utils.format_datetime(latest, usegmt=True)
        validators = {"ETag": etag, "Last-Modified": last_modified}
        if _not_modified(headers, etag, latest):
            return Response(304, headers=validators, content_type="")
        query = FEED_QUERY
        self_url = f"{ctx.base_url}/feeds{path}"

        def render(items: list[Any]) -> bytes:
            if name == GOOGLE_ALERTS:
                return wire.render_atom(
                    items, ctx, query=query, updated=wire.iso_seconds(latest)
                ).encode()
            return wire.render_rss(
                items, ctx, query=query, self_url=self_url, built=last_modified
            ).encode()

        page = Page(
            items=[wire.feed_entry(post, ctx) for post in chosen],
            carried=[[post] for post in chosen],
            render=render,
        )
        return Response(
            200, headers=validators, content_type=f"{content_type}; charset=utf-8", page=page
        )


def _not_modified(headers: Mapping[str, str], etag: str, latest: datetime) -> bool:
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since:
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        return latest.replace(microsecond=0) <= since
    return False


def _bluesky_invalid(message: str) -> Response:
    return json_response(400, {"error": "InvalidRequest", "message": message})


def _parse_when(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _encode_position(position: int, *, token: bool = False) -> str:
    """Opaque cursors that name the last item served, so pages stay stable as posts arrive."""
    raw = f"{'pt' if token else 'c'}:{position}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_position(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(raw.split(":", 1)[1])
    except (binascii.Error, UnicodeDecodeError, IndexError, ValueError) as error:
        raise ValueError(f"bad cursor {cursor!r}") from error
