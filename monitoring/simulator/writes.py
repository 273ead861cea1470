"""What Calma writes to the simulated platforms: our replies (posted, edited, deleted), the
moderation of mentions (hidden, shown again, deleted), and the log the control API shows.

Writes arrive on the routes of the real APIs, under each platform's prefix, with the real
authentication: a bearer token (Mastodon, Reddit, YouTube OAuth) or a Bluesky session opened
with an app password. Our replies live here, not in the World: they appear in the thread
endpoints (Mastodon status context, Bluesky getPostThread, Reddit comments page, YouTube
comments.list) so Calma can find its own reply, and never in the searches and timelines the
pollers read (Calma would open an incident on its own answer). The same holds for our
top-level posts (a crisis statement, logged as action "status"): they appear in the account's
own feed (Bluesky getAuthorFeed) and by id, never in a search or a tag timeline.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import random
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from monitoring.simulator import wire
from monitoring.simulator.api import Params, Response, json_response, to_json
from monitoring.simulator.world import (
    SimAuthor,
    SimPost,
    World,
    bluesky_cid,
    bluesky_tid,
    mastodon_snowflake,
    to_base36,
)

# Who writes when the server is given no accounts: any well-shaped secret is accepted (as the
# simulated YouTube accepts any well-shaped API key) and acts as the brand's account.
BRAND_HANDLES: dict[str, str] = {
    "mastodon": "brisa",
    "reddit": "BrisaTelecom",
    "youtube": "@Brisa",
    # Bluesky: the session is opened for the identifier given (a handle), e.g. brisa.bsky.social
}
DEMO_ACCESS_TOKEN = "calma-simulator-demo-write-token-0000"  # noqa: S105 - not a secret
DEMO_APP_PASSWORD = "calm-asim-demo-pass"  # noqa: S105 - app-password shaped, not a secret
MODERATED_SUBREDDITS = ("BrisaTelecom",)  # where the brand's Reddit account is a moderator
MAX_BODY_BYTES = 1024 * 1024
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9._~+/=-]{16,}")
_PASSWORD_SHAPE = re.compile(r"\S{8,}")
# Characters a post may have on each platform (Bluesky counts graphemes; close enough here).
TEXT_LIMITS = {"mastodon": 500, "bluesky": 300, "reddit": 10_000, "youtube": 10_000}
ACTIONS = ("reply", "status", "edit", "delete_own", "hide", "unhide", "delete")
_BLUESKY_POST = "app.bsky.feed.post"


@dataclass
class OwnPost:
    """One of our posts (a reply, or a top-level status when ``post.reply_to`` is empty): the
    post as the thread endpoints show it, and what became of it."""

    post: SimPost
    account: str  # handle of the account that wrote it
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    record: dict[str, Any] = field(default_factory=dict)  # Bluesky: the record as sent
    cid: str = ""  # Bluesky


@dataclass
class Moderation:
    """What was done to someone else's post: hidden (reversible) or deleted (final)."""

    platform: str
    external_id: str
    hidden: bool = False
    deleted: bool = False
    history: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Outcome:
    """A handled write request: the answer, and the log entry it made (None: nothing done)."""

    response: Response
    record: dict[str, Any] | None = None


class Writes:
    """The write endpoints of every simulated platform and what they stored; thread-safe."""

    def __init__(
        self,
        world: World,
        accounts: Mapping[str, Mapping[str, str]] | None = None,
        *,
        moderated_subreddits: tuple[str, ...] = MODERATED_SUBREDDITS,
    ) -> None:
        """``accounts`` maps a platform to ``{secret: handle}``: an access token (Mastodon,
        Reddit, YouTube) or an app password (Bluesky). A platform left out accepts any
        well-shaped secret as the brand's account (``BRAND_HANDLES``)."""
        self.world = world
        self.accounts = {platform: dict(secrets) for platform, secrets in (accounts or {}).items()}
        self.moderated_subreddits = {name.lower() for name in moderated_subreddits}
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._log: list[dict[str, Any]] = []
            self._own: dict[tuple[str, str], OwnPost] = {}
            self._children: dict[tuple[str, str], list[str]] = defaultdict(list)
            self._moderation: dict[tuple[str, str], Moderation] = {}
            self._idempotency: dict[tuple[str, str], str] = {}
            self._sessions: dict[str, tuple[str, str]] = {}  # accessJwt -> (handle, did)
            self._rng = random.Random(self.world.seed)  # noqa: S311 - ids, not security
            mastodon = [int(p.external_id) for p in self.world.posts_for("mastodon")]
            self._last_mastodon = max(mastodon, default=0)
            comments = [
                int(p.external_id[3:], 36)
                for p in self.world.posts_for("reddit")
                if p.external_id.startswith("t1_")
            ]
            self._next_reddit = max(comments, default=46_000_000_000) + 10_000
            self._tid_clock = 0

    # -- what the control API shows --
    def log(self, platform: str | None = None, action: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                dict(record)
                for record in self._log
                if (platform is None or record["platform"] == platform)
                and (action is None or record["action"] == action)
            ]

    def replies(self, platform: str | None = None) -> list[dict[str, Any]]:
        """Our replies as they stand now (text after edits, deleted or not)."""
        return self._own_posts(platform, top_level=False)

    def statuses(self, platform: str | None = None) -> list[dict[str, Any]]:
        """Our top-level posts (statements) as they stand now."""
        return self._own_posts(platform, top_level=True)

    def _own_posts(self, platform: str | None, *, top_level: bool) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    "platform": own.post.platform,
                    "external_id": own.post.external_id,
                    "in_reply_to": own.post.reply_to,
                    "thread_id": own.post.thread_id,
                    "account": own.account,
                    "text": own.post.text,
                    "published_at": own.post.published_at.isoformat(),
                    "edited_at": own.edited_at.isoformat() if own.edited_at else None,
                    "deleted": own.deleted_at is not None,
                }
                for own in self._own.values()
                if (platform is None or own.post.platform == platform)
                and (not own.post.reply_to) == top_level
            ]

    def moderation(self, platform: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                state.as_dict()
                for state in self._moderation.values()
                if platform is None or state.platform == platform
            ]

    def moderation_of(self, platform: str, external_id: str) -> dict[str, Any] | None:
        with self._lock:
            state = self._moderation.get((platform, external_id))
            return state.as_dict() if state else None

    def summary(self) -> dict[str, Any]:
        with self._lock:
            counts = Counter(f"{r['platform']}:{r['action']}" for r in self._log)
            return {
                "count": len(self._log),
                "by_platform_action": dict(counts),
                "replies": sum(1 for own in self._own.values() if own.post.reply_to),
                "statuses": sum(1 for own in self._own.values() if not own.post.reply_to),
                "moderated": len(self._moderation),
                "accounts": {
                    platform: sorted(set(secrets.values()))
                    for platform, secrets in self.accounts.items()
                },
            }

    def mark_dropped(self, record: dict[str, Any]) -> None:
        with self._lock:
            for entry in self._log:
                if entry["id"] == record["id"]:
                    entry["dropped"] = True

    # -- dispatch --
    def handle(
        self,
        platform: str,
        method: str,
        path: str,
        params: Params,
        headers: Mapping[str, str],
        body: bytes,
        ctx: wire.Context,
    ) -> Outcome:
        """A POST, PUT or DELETE on a platform's routes."""
        try:
            fields = _fields(headers, body)
        except ValueError as error:
            return Outcome(_bad_body(platform, str(error)))
        handler = {
            "mastodon": self._mastodon_write,
            "bluesky": self._bluesky_write,
            "reddit": self._reddit_write,
            "youtube": self._youtube_write,
        }.get(platform)
        if handler is None:
            return Outcome(json_response(405, {"error": f"{platform} takes no writes"}))
        with self._lock:
            return handler(method, path, params, headers, fields, ctx)

    def read(
        self,
        platform: str,
        path: str,
        params: Params,
        headers: Mapping[str, str],
        ctx: wire.Context,
    ) -> Response | None:
        """Thread reads that show our replies; None for every other GET (the Api serves it)."""
        with self._lock:
            if platform == "mastodon":
                return self._mastodon_read(path, headers, ctx)
            if platform == "bluesky" and path == "/xrpc/app.bsky.feed.getPostThread":
                return self._bluesky_thread(params, headers, ctx)
            if platform == "bluesky" and path == "/xrpc/app.bsky.feed.getAuthorFeed":
                return self._bluesky_author_feed(params, headers, ctx)
            if platform == "reddit":
                match = re.fullmatch(
                    r"(?:/r/[A-Za-z0-9_]+)?/comments/([a-z0-9]+)(?:/[^/]*)?/?"
                    r"(?:\.json)?",
                    path.removesuffix(".json"),
                )
                if match:
                    return self._reddit_comments(match.group(1), params, headers, ctx)
            if platform == "youtube" and path == "/v3/comments":
                return self._youtube_comments(params, headers, ctx)
        return None

    # -- shared --
    def _bearer(self, platform: str, headers: Mapping[str, str]) -> str | None:
        """The handle a bearer token stands for, or None when it is missing or not accepted."""
        scheme, _, token = (headers.get("Authorization") or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        if platform in self.accounts:
            return self.accounts[platform].get(token)
        return BRAND_HANDLES[platform] if _TOKEN_SHAPE.fullmatch(token) else None

    def _record(
        self,
        platform: str,
        action: str,
        account: str,
        target_id: str,
        ctx: wire.Context,
        *,
        text: str = "",
        idempotency_key: str = "",
        result_id: str = "",
        result_url: str = "",
        **extra: Any,
    ) -> dict[str, Any]:
        record = {
            "id": len(self._log) + 1,
            "platform": platform,
            "action": action,
            "account": account,
            "target_id": target_id,
            "text": text,
            "idempotency_key": idempotency_key,
            "at": ctx.now.isoformat(),
            "result_id": result_id,
            "result_url": result_url,
            "dropped": False,
            "replays": 0,
            **extra,
        }
        self._log.append(record)
        return record

    def _visible_world(self, platform: str, external_id: str, ctx: wire.Context) -> SimPost | None:
        post = self.world.find(platform, external_id)
        if post is None or post.published_at > ctx.now:
            return None
        return post

    def _live_own(self, platform: str, external_id: str) -> OwnPost | None:
        own = self._own.get((platform, external_id))
        return own if own is not None and own.deleted_at is None else None

    def _post(self, platform: str, external_id: str, ctx: wire.Context) -> SimPost | None:
        """A world post visible now or one of our live replies."""
        own = self._live_own(platform, external_id)
        return own.post if own else self._visible_world(platform, external_id, ctx)

    def _own_children(self, platform: str, parent_id: str) -> list[OwnPost]:
        found = []
        for child_id in self._children.get((platform, parent_id), []):
            own = self._live_own(platform, child_id)
            if own is not None:
                found.append(own)
        return found

    def _children_of(self, post: SimPost, ctx: wire.Context) -> list[SimPost]:
        """Direct replies: the world's visible ones and our live ones, oldest first."""
        world = self.world.replies_to(post, ctx.now) if self._is_world(post) else []
        ours = [own.post for own in self._own_children(post.platform, post.external_id)]
        return sorted([*world, *ours], key=lambda p: (p.published_at, p.external_id))

    def _is_world(self, post: SimPost) -> bool:
        return (post.platform, post.external_id) not in self._own

    def _add_own(self, own: OwnPost) -> None:
        key = (own.post.platform, own.post.external_id)
        self._own[key] = own
        if own.post.reply_to:
            self._children[(own.post.platform, own.post.reply_to)].append(own.post.external_id)

    def _author(self, platform: str, handle: str) -> SimAuthor:
        if platform == "mastodon":
            known = wire.BRAND_MASTODON_ACCOUNTS.get(handle.lower())
            if known is not None:
                return known
            account_id = str(_stable(handle, 10**17) + 10**17)
        elif platform == "bluesky":
            account_id = _did(handle)
        elif platform == "reddit":
            account_id = "t2_" + to_base36(36**7 + _stable(handle, 36**8))
        else:
            account_id = (
                self.world.channel_id
                if handle == BRAND_HANDLES["youtube"]
                else "UC"
                + base64.urlsafe_b64encode(hashlib.sha256(handle.encode()).digest()).decode()[:22]
            )
        return SimAuthor(handle, "Brisa", 50_000, True, account_id, self.world.start)

    def _own_post(
        self,
        platform: str,
        account: str,
        external_id: str,
        parent: SimPost,
        text: str,
        ctx: wire.Context,
        *,
        thread_id: str | None = None,
    ) -> SimPost:
        now = ctx.now.replace(microsecond=ctx.now.microsecond // 1000 * 1000)
        return SimPost(
            platform=platform,
            external_id=external_id,
            published_at=now if platform in ("mastodon", "bluesky") else now.replace(microsecond=0),
            author=self._author(platform, account),
            text=text,
            language=parent.language,
            kind="reply",
            topic="general",
            reply_to=parent.external_id,
            thread_id=thread_id or parent.thread_id or parent.external_id,
            community=parent.community,
        )

    def _own_status(
        self, platform: str, account: str, external_id: str, text: str, ctx: wire.Context
    ) -> SimPost:
        """One of our top-level posts: it replies to nothing and starts its own thread."""
        now = ctx.now.replace(microsecond=ctx.now.microsecond // 1000 * 1000)
        return SimPost(
            platform=platform,
            external_id=external_id,
            published_at=now,
            author=self._author(platform, account),
            text=text,
            language="es",
            kind="post",
            topic="general",
            thread_id=external_id,
        )

    # -- Mastodon --
    def _mastodon_write(
        self,
        method: str,
        path: str,
        params: Params,
        headers: Mapping[str, str],
        fields: dict[str, Any],
        ctx: wire.Context,
    ) -> Outcome:
        account = self._bearer("mastodon", headers)
        if account is None:
            return Outcome(json_response(401, {"error": "The access token is invalid"}))
        fields = {**{k: v[0] for k, v in params.items() if v}, **fields}
        if method == "POST" and path == "/api/v1/statuses":
            return self._mastodon_post(account, headers, fields, ctx)
        match = re.fullmatch(r"/api/v1/statuses/([^/]+)", path)
        if match is None or method not in ("PUT", "DELETE"):
            return Outcome(json_response(404, {"error": "Record not found"}))
        own = self._live_own("mastodon", match.group(1))
        if own is None or own.account != account:  # Mastodon finds among the account's own
            return Outcome(json_response(404, {"error": "Record not found"}))
        if method == "DELETE":
            own.deleted_at = ctx.now
            status = self._mastodon_status(own, ctx)
            status["text"] = own.post.text  # the source, so a client can redraft
            record = self._record(
                "mastodon",
                "delete_own",
                account,
                own.post.external_id,
                ctx,
                result_id=own.post.external_id,
                result_url=status["url"],
            )
            return Outcome(json_response(200, status), record)
        text = _text(fields.get("status"))
        problem = _too_long_or_empty("mastodon", text)
        if problem:
            return Outcome(json_response(422, {"error": f"Validation failed: {problem}"}))
        own.post = dataclasses.replace(own.post, text=text)
        own.edited_at = ctx.now
        status = self._mastodon_status(own, ctx)
        record = self._record(
            "mastodon",
            "edit",
            account,
            own.post.external_id,
            ctx,
            text=text,
            result_id=own.post.external_id,
            result_url=status["url"],
        )
        return Outcome(json_response(200, status), record)

    def _mastodon_post(
        self, account: str, headers: Mapping[str, str], fields: dict[str, Any], ctx: wire.Context
    ) -> Outcome:
        key = (headers.get("Idempotency-Key") or "").strip()
        if key and (account, key) in self._idempotency:
            # The instance remembers the key: the same status again, never a second one.
            own = self._own[("mastodon", self._idempotency[(account, key)])]
            for record in self._log:
                if record["result_id"] == own.post.external_id and record["action"] in (
                    "reply",
                    "status",
                ):
                    record["replays"] += 1
            return Outcome(json_response(200, self._mastodon_status(own, ctx)))
        text = _text(fields.get("status"))
        problem = _too_long_or_empty("mastodon", text)
        if problem:
            return Outcome(json_response(422, {"error": f"Validation failed: {problem}"}))
        parent_id = _text(fields.get("in_reply_to_id"))
        parent = self._post("mastodon", parent_id, ctx) if parent_id else None
        if parent_id and parent is None:
            return Outcome(json_response(404, {"error": "Record not found"}))
        self._last_mastodon = max(self._last_mastodon + 1, mastodon_snowflake(ctx.now, self._rng))
        status_id = str(self._last_mastodon)
        if parent is None:
            # A status that replies to nothing: one of our top-level posts (a statement).
            post = self._own_status("mastodon", account, status_id, text, ctx)
        else:
            post = self._own_post("mastodon", account, status_id, parent, text, ctx)
        own = OwnPost(post, account)
        self._add_own(own)
        if key:
            self._idempotency[(account, key)] = post.external_id
        status = self._mastodon_status(own, ctx, visibility=_text(fields.get("visibility")))
        record = self._record(
            "mastodon",
            "reply" if parent is not None else "status",
            account,
            parent_id,
            ctx,
            text=text,
            idempotency_key=key,
            result_id=post.external_id,
            result_url=status["url"],
        )
        return Outcome(json_response(200, status), record)

    def _mastodon_status(
        self, own: OwnPost, ctx: wire.Context, *, visibility: str = ""
    ) -> dict[str, Any]:
        status = wire.mastodon_status(own.post, ctx)
        parent = self._own.get(("mastodon", own.post.reply_to))
        if parent is not None:
            status["in_reply_to_id"] = parent.post.external_id
            status["in_reply_to_account_id"] = parent.post.author.account_id
        status["replies_count"] = len(self._own_children("mastodon", own.post.external_id))
        status["edited_at"] = wire.iso_millis(own.edited_at) if own.edited_at else None
        if visibility in ("public", "unlisted", "private", "direct"):
            status["visibility"] = visibility
        return status

    def _mastodon_read(
        self, path: str, headers: Mapping[str, str], ctx: wire.Context
    ) -> Response | None:
        match = re.fullmatch(r"/api/v1/statuses/(\d+)(/context)?", path)
        if match is None:
            return None
        own = self._live_own("mastodon", match.group(1))
        if not match.group(2):
            # The world's statuses are the Api's; ours are served here.
            return json_response(200, self._mastodon_status(own, ctx)) if own else None
        post = own.post if own else self._visible_world("mastodon", match.group(1), ctx)
        if post is None:
            return json_response(404, {"error": "Record not found"})
        ancestors: list[SimPost] = []
        current = post
        while current.reply_to and (parent := self._post("mastodon", current.reply_to, ctx)):
            ancestors.insert(0, parent)
            current = parent
        descendants: list[SimPost] = []
        pending = [post]
        while pending:
            children = self._children_of(pending.pop(), ctx)
            descendants.extend(children)
            pending.extend(children)
        descendants.sort(key=lambda p: (p.published_at, p.external_id))
        body = {
            "ancestors": [self._mastodon_render(p, ctx) for p in ancestors],
            "descendants": [self._mastodon_render(p, ctx) for p in descendants],
        }
        delivered = [p for p in (*ancestors, *descendants) if self._is_world(p)]
        return json_response(200, body, delivered=delivered)

    def _mastodon_render(self, post: SimPost, ctx: wire.Context) -> dict[str, Any]:
        own = self._own.get((post.platform, post.external_id))
        return self._mastodon_status(own, ctx) if own else wire.mastodon_status(post, ctx)

    # -- Bluesky --
    def _bluesky_write(
        self,
        method: str,
        path: str,
        params: Params,
        headers: Mapping[str, str],
        fields: dict[str, Any],
        ctx: wire.Context,
    ) -> Outcome:
        method_name = path.removeprefix("/xrpc/")
        if method != "POST":
            return Outcome(_bluesky_error(405, "InvalidRequest", "Method Not Allowed"))
        if method_name == "com.atproto.server.createSession":
            return Outcome(self._bluesky_session(fields))
        if method_name not in ("com.atproto.repo.createRecord", "com.atproto.repo.deleteRecord"):
            return Outcome(
                _bluesky_error(
                    501, "MethodNotImplemented", f"Method Not Implemented: {method_name}"
                )
            )
        session = self._bluesky_session_of(headers)
        if session is None:
            return Outcome(_bluesky_error(401, "InvalidToken", "Token could not be verified"))
        handle, did = session
        if _text(fields.get("repo")) not in (did, handle):
            return Outcome(
                _bluesky_error(400, "InvalidRequest", "Input/repo must be the session's account")
            )
        if _text(fields.get("collection")) != _BLUESKY_POST:
            return Outcome(
                _bluesky_error(400, "InvalidRequest", "Only app.bsky.feed.post is simulated")
            )
        if method_name == "com.atproto.repo.deleteRecord":
            uri = f"at://{did}/{_BLUESKY_POST}/{_text(fields.get('rkey'))}"
            own = self._live_own("bluesky", uri)
            if own is not None:
                own.deleted_at = ctx.now
            record = self._record(
                "bluesky", "delete_own", handle, uri, ctx, result_id=uri, existed=own is not None
            )
            commit = {"cid": bluesky_cid(f"commit:{uri}:delete"), "rev": bluesky_tid(ctx.now, 1)}
            return Outcome(json_response(200, {"commit": commit}), record)
        return self._bluesky_create(handle, did, fields, ctx)

    def _bluesky_session(self, fields: dict[str, Any]) -> Response:
        identifier = _text(fields.get("identifier")).lstrip("@")
        password = _text(fields.get("password"))
        if not identifier or not password:
            return _bluesky_error(400, "InvalidRequest", "Input must have identifier and password")
        if "bluesky" in self.accounts:
            handle = self.accounts["bluesky"].get(password)
            accepted = handle is not None and identifier in (handle, _did(handle))
        else:
            handle = identifier
            accepted = bool(_PASSWORD_SHAPE.fullmatch(password)) and not identifier.startswith(
                "did:"
            )
        if not accepted or handle is None:
            return _bluesky_error(401, "AuthenticationRequired", "Invalid identifier or password")
        did = _did(handle)
        access = f"sim.{base64.urlsafe_b64encode(self._rng.randbytes(24)).decode()}"
        self._sessions[access] = (handle, did)
        return json_response(
            200,
            {
                "did": did,
                "handle": handle,
                "accessJwt": access,
                "refreshJwt": f"sim.refresh.{self._rng.getrandbits(64):x}",
                "active": True,
            },
        )

    def _bluesky_session_of(self, headers: Mapping[str, str]) -> tuple[str, str] | None:
        scheme, _, token = (headers.get("Authorization") or "").strip().partition(" ")
        return self._sessions.get(token.strip()) if scheme.lower() == "bearer" else None

    def _bluesky_create(
        self, handle: str, did: str, fields: dict[str, Any], ctx: wire.Context
    ) -> Outcome:
        record = fields.get("record")
        if not isinstance(record, dict):
            return Outcome(_bluesky_error(400, "InvalidRequest", "Input/record must be an object"))
        text = record.get("text")
        if not isinstance(text, str):
            return Outcome(_bluesky_error(400, "InvalidRecord", "Record/text must be a string"))
        problem = _too_long_or_empty("bluesky", text, allow_empty=True)
        if problem:
            return Outcome(_bluesky_error(400, "InvalidRecord", f"Record/text: {problem}"))
        reply = record.get("reply")
        if reply is None:
            return self._bluesky_create_status(handle, did, record, text, ctx)
        refs = []
        for name in ("parent", "root"):
            ref = reply.get(name) if isinstance(reply, dict) else None
            if not isinstance(ref, dict):
                return Outcome(
                    _bluesky_error(400, "InvalidRecord", f"Record/reply/{name} is missing")
                )
            refs.append((name, _text(ref.get("uri")), _text(ref.get("cid"))))
        for name, uri, cid in refs:
            post = self._post("bluesky", uri, ctx)
            if post is None:
                return Outcome(
                    _bluesky_error(400, "InvalidRequest", f"Could not find {name} {uri}")
                )
            if cid != self._bluesky_cid(post):
                return Outcome(
                    _bluesky_error(400, "InvalidRecord", f"Record/reply/{name}/cid does not match")
                )
        parent = self._post("bluesky", refs[0][1], ctx)
        assert parent is not None  # noqa: S101 - checked above
        self._tid_clock += 1
        uri = f"at://{did}/{_BLUESKY_POST}/{bluesky_tid(ctx.now, self._tid_clock)}"
        post = self._own_post("bluesky", handle, uri, parent, text, ctx, thread_id=refs[1][1])
        cid = bluesky_cid(json.dumps(record, sort_keys=True, ensure_ascii=False))
        own = OwnPost(post, handle, record=record, cid=cid)
        self._add_own(own)
        url = f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}"
        logged = self._record(
            "bluesky",
            "reply",
            handle,
            parent.external_id,
            ctx,
            text=text,
            result_id=uri,
            result_url=url,
        )
        body = {
            "uri": uri,
            "cid": cid,
            "commit": {"cid": bluesky_cid(f"commit:{uri}"), "rev": bluesky_tid(ctx.now, 0)},
            "validationStatus": "valid",
        }
        return Outcome(json_response(200, body), logged)

    def _bluesky_create_status(
        self, handle: str, did: str, record: dict[str, Any], text: str, ctx: wire.Context
    ) -> Outcome:
        """A post that replies to nothing: one of our top-level posts (a statement)."""
        if not text.strip():
            return Outcome(_bluesky_error(400, "InvalidRecord", "Record/text must not be empty"))
        self._tid_clock += 1
        uri = f"at://{did}/{_BLUESKY_POST}/{bluesky_tid(ctx.now, self._tid_clock)}"
        post = self._own_status("bluesky", handle, uri, text, ctx)
        cid = bluesky_cid(json.dumps(record, sort_keys=True, ensure_ascii=False))
        self._add_own(OwnPost(post, handle, record=record, cid=cid))
        url = f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}"
        logged = self._record(
            "bluesky", "status", handle, "", ctx, text=text, result_id=uri, result_url=url
        )
        body = {
            "uri": uri,
            "cid": cid,
            "commit": {"cid": bluesky_cid(f"commit:{uri}"), "rev": bluesky_tid(ctx.now, 0)},
            "validationStatus": "valid",
        }
        return Outcome(json_response(200, body), logged)

    def _bluesky_author_feed(
        self, params: Params, headers: Mapping[str, str], ctx: wire.Context
    ) -> Response:
        """app.bsky.feed.getAuthorFeed for one of our accounts: its live posts, newest first
        (``filter=posts_no_replies`` leaves replies out), paged by an opaque offset cursor. The
        world's authors' feeds are not simulated (an empty feed)."""
        if headers.get("Authorization") and self._bluesky_session_of(headers) is None:
            return _bluesky_error(401, "InvalidToken", "Token could not be verified")
        actor = (_first(params, "actor") or "").strip().lstrip("@")
        if not actor:
            return _bluesky_error(
                400, "InvalidRequest", 'Error: Params must have the property "actor"'
            )
        limit = _bounded_int(_first(params, "limit"), 50, 1, 100)
        offset = _bounded_int(_first(params, "cursor"), 0, 0, 10**6)
        no_replies = _first(params, "filter") == "posts_no_replies"
        posts = sorted(
            (
                own
                for own in self._own.values()
                if own.post.platform == "bluesky"
                and own.deleted_at is None
                and actor in (own.account, own.post.author.account_id)
                and not (no_replies and own.post.reply_to)
            ),
            key=lambda own: (own.post.published_at, own.post.external_id),
            reverse=True,
        )
        page = posts[offset : offset + limit]
        body: dict[str, Any] = {
            "feed": [{"post": self._bluesky_view(own.post, ctx)} for own in page]
        }
        if offset + limit < len(posts):
            body["cursor"] = str(offset + limit)
        return json_response(200, body)

    def _bluesky_cid(self, post: SimPost) -> str:
        own = self._own.get(("bluesky", post.external_id))
        return own.cid if own else wire.bluesky_cid_of(post)

    def _bluesky_view(self, post: SimPost, ctx: wire.Context) -> dict[str, Any]:
        own = self._own.get(("bluesky", post.external_id))
        if own is None:
            return wire.bluesky_post(post, ctx)
        return {
            "uri": post.external_id,
            "cid": own.cid,
            "author": wire.bluesky_author(post.author),
            "record": own.record,
            "replyCount": len(self._own_children("bluesky", post.external_id)),
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": wire.iso_millis(post.published_at),
            "labels": [],
        }

    def _bluesky_thread(
        self, params: Params, headers: Mapping[str, str], ctx: wire.Context
    ) -> Response:
        if headers.get("Authorization") and self._bluesky_session_of(headers) is None:
            return _bluesky_error(401, "InvalidToken", "Token could not be verified")
        uri = _first(params, "uri")
        if not uri:
            return _bluesky_error(
                400, "InvalidRequest", 'Error: Params must have the property "uri"'
            )
        depth = _bounded_int(_first(params, "depth"), 6, 0, 1000)
        height = _bounded_int(_first(params, "parentHeight"), 80, 0, 1000)
        post = self._post("bluesky", uri, ctx)
        if post is None:
            return _bluesky_error(400, "NotFound", f"Post not found: {uri}")
        delivered: list[SimPost] = []

        def node(current: SimPost, level: int) -> dict[str, Any]:
            if self._is_world(current):
                delivered.append(current)
            view: dict[str, Any] = {
                "$type": "app.bsky.feed.defs#threadViewPost",
                "post": self._bluesky_view(current, ctx),
            }
            if level < depth:
                view["replies"] = [node(c, level + 1) for c in self._children_of(current, ctx)]
            return view

        thread = node(post, 0)
        holder, current = thread, post
        for _ in range(height):
            parent = self._post("bluesky", current.reply_to, ctx) if current.reply_to else None
            if parent is None:
                break
            if self._is_world(parent):
                delivered.append(parent)
            holder["parent"] = {
                "$type": "app.bsky.feed.defs#threadViewPost",
                "post": self._bluesky_view(parent, ctx),
            }
            holder, current = holder["parent"], parent
        return json_response(200, {"thread": thread}, delivered=delivered)

    # -- Reddit --
    def _reddit_write(
        self,
        method: str,
        path: str,
        params: Params,
        headers: Mapping[str, str],
        fields: dict[str, Any],
        ctx: wire.Context,
    ) -> Outcome:
        account = self._bearer("reddit", headers)
        if account is None:
            return Outcome(json_response(401, {"message": "Unauthorized", "error": 401}))
        if method != "POST":
            return Outcome(json_response(404, {"message": "Not Found", "error": 404}))
        fields = {**{k: v[0] for k, v in params.items() if v}, **fields}
        path = path.removesuffix("/")
        if path == "/api/comment":
            return self._reddit_comment(account, fields, ctx)
        if path == "/api/editusertext":
            own = self._live_own("reddit", _text(fields.get("thing_id")))
            if own is None or own.account != account:
                return Outcome(json_response(403, {"message": "Forbidden", "error": 403}))
            text = _text(fields.get("text"))
            problem = _reddit_text_problem(text)
            if problem:
                return Outcome(json_response(200, problem))
            own.post = dataclasses.replace(own.post, text=text)
            own.edited_at = ctx.now
            thing = self._reddit_thing(own.post, ctx)
            record = self._record(
                "reddit",
                "edit",
                account,
                own.post.external_id,
                ctx,
                text=text,
                result_id=own.post.external_id,
                result_url=_reddit_url(own.post, ctx),
            )
            return Outcome(json_response(200, _reddit_things([thing])), record)
        if path == "/api/del":
            thing_id = _text(fields.get("id"))
            own = self._live_own("reddit", thing_id)
            if own is not None and own.account == account:
                own.deleted_at = ctx.now
                record = self._record(
                    "reddit", "delete_own", account, thing_id, ctx, result_id=thing_id
                )
                return Outcome(json_response(200, {}), record)
            return Outcome(json_response(200, {}))  # Reddit says nothing about others' things
        if path in ("/api/remove", "/api/approve"):
            thing_id = _text(fields.get("id"))
            post = self._visible_world("reddit", thing_id, ctx)
            if post is None:
                return Outcome(json_response(404, {"message": "Not Found", "error": 404}))
            if post.community.lower() not in self.moderated_subreddits:
                return Outcome(json_response(403, {"message": "Forbidden", "error": 403}))
            hide = path == "/api/remove"
            spam = _text(fields.get("spam")).lower() == "true"
            state = self._moderate("reddit", thing_id, ctx, "hide" if hide else "unhide")
            state.hidden = hide
            record = self._record(
                "reddit", "hide" if hide else "unhide", account, thing_id, ctx, spam=spam
            )
            return Outcome(json_response(200, {}), record)
        return Outcome(json_response(404, {"message": "Not Found", "error": 404}))

    def _reddit_comment(self, account: str, fields: dict[str, Any], ctx: wire.Context) -> Outcome:
        thing_id = _text(fields.get("thing_id"))
        parent = self._post("reddit", thing_id, ctx) if thing_id else None
        if parent is None:
            errors = [["NO_THING_ID", "can't find that thing", "parent"]]
            return Outcome(json_response(200, {"json": {"errors": errors}}))
        text = _text(fields.get("text"))
        problem = _reddit_text_problem(text)
        if problem:
            return Outcome(json_response(200, problem))
        self._next_reddit += self._rng.randint(30, 400)
        name = f"t1_{to_base36(self._next_reddit)}"
        thread = parent.thread_id if parent.external_id.startswith("t1_") else parent.external_id
        post = self._own_post("reddit", account, name, parent, text, ctx, thread_id=thread)
        own = OwnPost(post, account)
        self._add_own(own)
        thing = self._reddit_thing(post, ctx)
        record = self._record(
            "reddit",
            "reply",
            account,
            thing_id,
            ctx,
            text=text,
            result_id=name,
            result_url=_reddit_url(post, ctx),
        )
        return Outcome(json_response(200, _reddit_things([thing])), record)

    def _reddit_thing(self, post: SimPost, ctx: wire.Context, *, raw_json: bool = True) -> dict:
        thing = wire.reddit_thing(post, ctx, raw_json=raw_json)
        own = self._own.get(("reddit", post.external_id))
        if own is not None and own.edited_at:
            thing["data"]["edited"] = float(int(own.edited_at.timestamp()))
        state = self._moderation.get(("reddit", post.external_id))
        if state is not None:
            thing["data"]["removed"] = state.hidden
            thing["data"]["approved"] = not state.hidden
        return thing

    def _reddit_comments(
        self, article: str, params: Params, headers: Mapping[str, str], ctx: wire.Context
    ) -> Response:
        if headers.get("Authorization") and self._bearer("reddit", headers) is None:
            return json_response(401, {"message": "Unauthorized", "error": 401})
        submission = self._visible_world("reddit", f"t3_{article}", ctx)
        if submission is None:
            return json_response(404, {"message": "Not Found", "error": 404})
        raw_json = _first(params, "raw_json") == "1"
        newest_first = (_first(params, "sort") or "") == "new"
        max_depth = _bounded_int(_first(params, "depth"), 10, 1, 10)
        limit = _bounded_int(_first(params, "limit"), 200, 1, 500)
        delivered = [submission]

        def children(post: SimPost) -> list[SimPost]:
            found = self._children_of(post, ctx)
            return list(reversed(found)) if newest_first else found

        def node(post: SimPost, level: int) -> dict[str, Any]:
            if self._is_world(post):
                delivered.append(post)
            thing = self._reddit_thing(post, ctx, raw_json=raw_json)
            kids = children(post) if level + 1 < max_depth else []
            thing["data"]["replies"] = (
                wire.reddit_listing([node(k, level + 1) for k in kids], after=None, before=None)
                if kids
                else ""
            )
            return thing

        focus = _first(params, "comment")
        if focus:
            comment = self._post("reddit", f"t1_{focus}", ctx)
            roots = (
                [comment]
                if comment is not None and comment.thread_id == submission.external_id
                else []
            )
        else:
            roots = children(submission)[:limit]
        post_thing = wire.reddit_thing(submission, ctx, raw_json=raw_json)
        body = [
            wire.reddit_listing([post_thing], after=None, before=None),
            wire.reddit_listing([node(root, 0) for root in roots], after=None, before=None),
        ]
        return Response(200, to_json(body), delivered=delivered)

    # -- YouTube --
    def _youtube_write(
        self,
        method: str,
        path: str,
        params: Params,
        headers: Mapping[str, str],
        fields: dict[str, Any],
        ctx: wire.Context,
    ) -> Outcome:
        account = self._bearer("youtube", headers)
        if account is None:
            return Outcome(
                _google(
                    401,
                    "Request had invalid authentication credentials. "
                    "Expected OAuth 2 access token.",
                    "authError",
                    "UNAUTHENTICATED",
                )
            )
        if path == "/v3/comments/setModerationStatus" and method == "POST":
            return self._youtube_moderate(account, params, ctx)
        if path != "/v3/comments":
            return Outcome(_google(404, "Not Found", "notFound", "NOT_FOUND"))
        if method == "DELETE":
            comment_id = _first(params, "id") or ""
            own = self._live_own("youtube", comment_id)
            if own is None:
                if self._visible_world("youtube", comment_id, ctx) is not None:
                    return Outcome(
                        _google(
                            403,
                            "The comment could not be deleted: it is not yours.",
                            "forbidden",
                            "PERMISSION_DENIED",
                        )
                    )
                return Outcome(_comment_not_found())
            own.deleted_at = ctx.now
            record = self._record(
                "youtube", "delete_own", account, comment_id, ctx, result_id=comment_id
            )
            return Outcome(Response(204, b"", content_type=""), record)
        parts = {p.strip() for p in (_first(params, "part") or "").split(",") if p.strip()}
        if "snippet" not in parts:
            return Outcome(_google(400, "Required parameter: part", "required", "INVALID_ARGUMENT"))
        snippet = fields.get("snippet") if isinstance(fields.get("snippet"), dict) else {}
        text = _text(snippet.get("textOriginal"))
        problem = _too_long_or_empty("youtube", text)
        if problem:
            reason = "commentTextRequired" if not text.strip() else "commentTextTooLong"
            return Outcome(_google(400, problem, reason, "INVALID_ARGUMENT"))
        if method == "PUT":
            comment_id = _text(fields.get("id"))
            own = self._live_own("youtube", comment_id)
            if own is None:
                if self._visible_world("youtube", comment_id, ctx) is not None:
                    return Outcome(
                        _google(
                            403,
                            "The comment could not be updated: it is not yours.",
                            "forbidden",
                            "PERMISSION_DENIED",
                        )
                    )
                return Outcome(_comment_not_found())
            own.post = dataclasses.replace(own.post, text=text)
            own.edited_at = ctx.now
            comment = self._youtube_comment(own.post, ctx)
            record = self._record(
                "youtube",
                "edit",
                account,
                comment_id,
                ctx,
                text=text,
                result_id=comment_id,
                result_url=_youtube_url(own.post),
            )
            return Outcome(json_response(200, comment), record)
        if method != "POST":
            return Outcome(_google(405, "Method not allowed", "notFound", "NOT_FOUND"))
        parent_id = _text(snippet.get("parentId"))
        parent = self._visible_world("youtube", parent_id, ctx) if parent_id else None
        if parent is None or parent.reply_to:
            message = "The comment identified by the parentId parameter could not be found."
            return Outcome(_google(404, message, "parentCommentNotFound", "NOT_FOUND"))
        comment_id = f"{parent_id}.{_random_chars(self._rng, 22)}"
        post = self._own_post("youtube", account, comment_id, parent, text, ctx)
        own = OwnPost(post, account)
        self._add_own(own)
        record = self._record(
            "youtube",
            "reply",
            account,
            parent_id,
            ctx,
            text=text,
            result_id=comment_id,
            result_url=_youtube_url(post),
        )
        return Outcome(json_response(200, self._youtube_comment(post, ctx)), record)

    def _youtube_moderate(self, account: str, params: Params, ctx: wire.Context) -> Outcome:
        status = _first(params, "moderationStatus") or ""
        actions = {"heldForReview": "hide", "published": "unhide", "rejected": "delete"}
        if status not in actions:
            return Outcome(
                _google(
                    400, "Invalid moderationStatus.", "invalidModerationStatus", "INVALID_ARGUMENT"
                )
            )
        ids = [i for i in (_first(params, "id") or "").split(",") if i]
        posts = [self._visible_world("youtube", i, ctx) for i in ids]
        if not ids or any(post is None for post in posts):
            return Outcome(_comment_not_found())
        if any(self._moderation.get(("youtube", i), Moderation("", "")).deleted for i in ids):
            return Outcome(_comment_not_found())  # a rejected comment is gone for good
        record = None
        for comment_id in ids:
            state = self._moderate("youtube", comment_id, ctx, actions[status])
            state.hidden = status == "heldForReview"
            state.deleted = status == "rejected"
            record = self._record(
                "youtube", actions[status], account, comment_id, ctx, moderation_status=status
            )
        return Outcome(Response(204, b"", content_type=""), record)

    def _youtube_comment(self, post: SimPost, ctx: wire.Context) -> dict[str, Any]:
        comment = wire.youtube_comment(post, ctx, text_format="html")
        own = self._own.get(("youtube", post.external_id))
        if own is not None and own.edited_at:
            comment["snippet"]["updatedAt"] = wire.iso_seconds(own.edited_at)
        state = self._moderation.get(("youtube", post.external_id))
        if state is not None:
            comment["snippet"]["moderationStatus"] = (
                "heldForReview" if state.hidden else "rejected" if state.deleted else "published"
            )
        return comment

    def _youtube_comments(
        self, params: Params, headers: Mapping[str, str], ctx: wire.Context
    ) -> Response:
        """comments.list by parentId (a thread's replies) or id; an API key or OAuth bearer."""
        key = _first(params, "key")
        if self._bearer("youtube", headers) is None and not (
            key and re.fullmatch(r"[A-Za-z0-9_-]{20,}", key)
        ):
            return _google(
                401,
                "Request is missing required authentication credential.",
                "authError",
                "UNAUTHENTICATED",
            )
        parts = {p.strip() for p in (_first(params, "part") or "").split(",") if p.strip()}
        if not parts or parts - {"id", "snippet"}:
            return _google(400, "Required parameter: part", "required", "INVALID_ARGUMENT")
        limit = _bounded_int(_first(params, "maxResults"), 20, 1, 100)
        parent_id, ids = _first(params, "parentId"), _first(params, "id")
        if parent_id:
            parent = self._visible_world("youtube", parent_id, ctx)
            if parent is None:
                return _comment_not_found()
            comments = self._children_of(parent, ctx)
        elif ids:
            comments = [p for i in ids.split(",") if (p := self._post("youtube", i, ctx))]
        else:
            message = "No filter selected. Expected one of: id, parentId"
            return _google(400, message, "missingRequiredParameter", "INVALID_ARGUMENT")
        offset = 0
        token = _first(params, "pageToken")
        if token:
            try:
                offset = int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return _google(
                    400,
                    "The request specifies an invalid page token.",
                    "invalidPageToken",
                    "INVALID_ARGUMENT",
                )
        chosen = comments[offset : offset + limit]
        text_format = _first(params, "textFormat") or "html"
        items = []
        for post in chosen:
            comment = self._youtube_comment(post, ctx)
            if text_format == "plainText":
                comment["snippet"]["textDisplay"] = post.text
            if "snippet" not in parts:
                comment.pop("snippet")
            items.append(comment)
        body: dict[str, Any] = {"kind": "youtube#commentListResponse", "etag": "sim"}
        if offset + limit < len(comments):
            body["nextPageToken"] = (
                base64.urlsafe_b64encode(str(offset + limit).encode()).decode().rstrip("=")
            )
        body["pageInfo"] = {"totalResults": len(items), "resultsPerPage": limit}
        body["items"] = items
        return json_response(200, body, delivered=[p for p in chosen if self._is_world(p)])

    # -- moderation --
    def _moderate(
        self, platform: str, external_id: str, ctx: wire.Context, action: str
    ) -> Moderation:
        state = self._moderation.setdefault(
            (platform, external_id), Moderation(platform, external_id)
        )
        state.history.append({"action": action, "at": ctx.now.isoformat()})
        return state


# --- helpers --------------------------------------------------------------------------------
def _fields(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """A JSON object or a form body as a dict (form values: the first of each)."""
    if not body.strip():
        return {}
    content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError("form body is not UTF-8") from error
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
    try:
        value = json.loads(body)
        # A lone surrogate (\ud800) parses but is no text: the real APIs refuse it too.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError) as error:
        raise ValueError(f"body is not JSON text: {error}") from error
    if not isinstance(value, dict):
        raise ValueError("body must be a JSON object")
    return value


def _bad_body(platform: str, message: str) -> Response:
    if platform == "bluesky":
        return _bluesky_error(400, "InvalidRequest", message)
    if platform == "youtube":
        return _google(400, message, "parseError", "INVALID_ARGUMENT")
    if platform == "mastodon":
        return json_response(400, {"error": message})
    return json_response(400, {"message": message, "error": 400})


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _first(params: Params, name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


def _bounded_int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        number = int(value) if value not in (None, "") else default
    except ValueError:
        number = default
    return max(low, min(high, number))


def _too_long_or_empty(platform: str, text: str, *, allow_empty: bool = False) -> str:
    if not text.strip() and not allow_empty:
        return "Text can't be blank"
    if "\x00" in text:
        return "Text contains a NUL character"
    limit = TEXT_LIMITS[platform]
    # Mastodon counts a remote mention by its username only.
    counted = re.sub(r"(@\w+)@[\w.\-]+", r"\1", text) if platform == "mastodon" else text
    if len(counted) > limit:
        return f"Text character limit of {limit} exceeded"
    return ""


def _reddit_text_problem(text: str) -> dict[str, Any] | None:
    if not text.strip():
        return {"json": {"errors": [["NO_TEXT", "we need something here", "text"]]}}
    if len(text) > TEXT_LIMITS["reddit"] or "\x00" in text:
        return {"json": {"errors": [["TOO_LONG", "this is too long (max: 10000)", "text"]]}}
    return None


def _reddit_things(things: list[dict]) -> dict[str, Any]:
    return {"json": {"errors": [], "data": {"things": things}}}


def _bluesky_error(status: int, error: str, message: str) -> Response:
    return json_response(status, {"error": error, "message": message})


def _google(code: int, message: str, reason: str, status: str) -> Response:
    return Response(code, to_json(wire.google_error(code, message, reason, status)))


def _comment_not_found() -> Response:
    message = "The comment identified by the id parameter could not be found."
    return _google(404, message, "commentNotFound", "NOT_FOUND")


def _reddit_url(post: SimPost, ctx: wire.Context) -> str:
    return "https://www.reddit.com" + wire.reddit_permalink(post, ctx)


def _youtube_url(post: SimPost) -> str:
    return f"https://www.youtube.com/watch?v={post.community}&lc={post.external_id}"


def _did(handle: str) -> str:
    digest = hashlib.sha256(f"did:{handle.lower()}".encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]


def _stable(value: str, modulo: int) -> int:
    return int.from_bytes(hashlib.sha256(value.encode()).digest()[:8], "big") % modulo


def _random_chars(rng: random.Random, length: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(rng.choice(alphabet) for _ in range(length))
