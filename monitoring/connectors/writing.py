"""Platform writes: replying as the brand, correcting or deleting our replies, moderating mentions.

The public API every caller uses (sending, moderation) is the dispatch functions below; each
forwards to the function of the same name in the platform's connector module (mastodon,
bluesky, reddit, youtube), which does the HTTP. Errors are the connector's:
``base.RateLimited``, ``base.TransientError`` (retry; the write may or may not have happened,
so a retried reply first looks for itself with ``find_own_reply`` unless the platform honours
an idempotency key) and ``base.PermanentError`` (someone must act); ``Unsupported`` (a
``PermanentError``) says what to do by hand where a platform or action cannot be automated.

No ORM here: callers build ``AccountConfig`` and ``Target`` from their models.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

import requests

from monitoring.connectors import base, boundary

# Actions a platform may support.
REPLY = "reply"
EDIT = "edit"
DELETE_OWN = "delete_own"
HIDE = "hide"
UNHIDE = "unhide"
DELETE = "delete"
ACTIONS = (REPLY, EDIT, DELETE_OWN, HIDE, UNHIDE, DELETE)

_CAPABILITIES: dict[str, frozenset[str]] = {
    # Mastodon lets an account edit and delete its own statuses; another person's status can
    # only be reported to the instance's moderators.
    "mastodon": frozenset({REPLY, EDIT, DELETE_OWN}),
    # Bluesky records cannot be edited; another person's post can only be reported.
    "bluesky": frozenset({REPLY, DELETE_OWN}),
    # A subreddit moderator removes (hide) and approves (unhide); nobody deletes another's post.
    "reddit": frozenset({REPLY, EDIT, DELETE_OWN, HIDE, UNHIDE}),
    # The channel owner holds a comment for review (hide), publishes it again (unhide) or
    # rejects it (delete).
    "youtube": frozenset({REPLY, EDIT, DELETE_OWN, HIDE, UNHIDE, DELETE}),
}

# Platforms on which Calma can publish a top-level post as the brand (a crisis statement);
# kept apart from _CAPABILITIES, which are actions on someone else's post or on our replies.
STATUS_PLATFORMS: frozenset[str] = frozenset({"mastodon", "bluesky"})

# Secrets each platform's account needs (names as monitoring.credentials resolves them).
REQUIRED_CREDENTIALS: dict[str, tuple[str, ...]] = {
    "mastodon": ("access_token",),
    "bluesky": ("app_password",),  # "identifier" is optional: the handle is used without it
    "reddit": ("access_token",),
    "youtube": ("access_token",),
}

_PLATFORM_NAMES = {
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "reddit": "Reddit",
    "youtube": "YouTube",
    "feed": "An RSS/Atom feed",
    "webhook": "A pushed (webhook) source",
    "csv": "A CSV import",
}

# What a person does instead, per platform and action (shown in the error).
_BY_HAND: dict[tuple[str, str], str] = {
    ("mastodon", HIDE): "report the status to its instance's moderators from the Mastodon "
    "web interface, then mark the request done by hand",
    ("mastodon", UNHIDE): "nothing was hidden through Calma on Mastodon; ask the instance's "
    "moderators if they acted on a report",
    ("mastodon", DELETE): "report the status to its instance's moderators from the Mastodon "
    "web interface, then mark the request done by hand",
    ("bluesky", EDIT): "delete the post and send a corrected reply, or correct it by hand on "
    "bsky.app",
    ("bluesky", HIDE): "hide the reply from the brand's own thread or report the post on "
    "bsky.app, then mark the request done by hand",
    ("bluesky", UNHIDE): "show the reply again on bsky.app, then mark the request done by hand",
    ("bluesky", DELETE): "report the post on bsky.app (only its author can delete it), then "
    "mark the request done by hand",
    ("reddit", DELETE): "remove it as a moderator (hide) or report it to Reddit; only its "
    "author can delete it",
}
_DEFAULT_BY_HAND = {
    REPLY: "copy the approved reply, post it on the platform by hand and mark it sent with "
    "its link",
    EDIT: "correct it on the platform by hand, or delete it and send a corrected reply",
    DELETE_OWN: "delete it on the platform by hand and record that it was deleted",
    HIDE: "hide it on the platform by hand and mark the request done",
    UNHIDE: "show it again on the platform by hand and mark the request done",
    DELETE: "delete it on the platform by hand and mark the request done",
}

MAX_RESPONSE_BYTES = 4 * 1024 * 1024  # a thread with its replies; far above any write answer
WRITE_TIMEOUT_SECONDS = 20.0
_LEADING_MENTIONS = re.compile(r"^(?:\s*@[\w.\-]+(?:@[\w.\-]+)?[,:]?)+\s*")
_SPACES = re.compile(r"\s+")


# --- values -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AccountConfig:
    """The identity that writes: platform, instance/API root, its handle and resolved secrets.

    ``credentials`` holds ``access_token`` (Mastodon, Reddit, YouTube OAuth) or
    ``identifier`` and ``app_password`` (Bluesky), as ``monitoring.credentials`` resolves them.
    """

    platform: str
    base_url: str
    handle: str
    credentials: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # never print the secrets
        names = ",".join(sorted(self.credentials or {}))
        return (
            f"AccountConfig({self.platform}, {self.base_url!r}, {self.handle!r}, "
            f"credentials=[{names}])"
        )

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class Target:
    """The mention answered or moderated, as stored: ids, link and the raw item it came in."""

    platform: str
    external_id: str
    thread_id: str = ""
    url: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, mention: Any) -> Target:
        """From anything shaped like a mention (the Mention model, a MentionIn)."""
        raw = getattr(mention, "raw", None)
        return cls(
            platform=str(mention.platform),
            external_id=str(mention.external_id),
            thread_id=str(getattr(mention, "thread_id", "") or ""),
            url=str(getattr(mention, "url", "") or ""),
            raw=raw if isinstance(raw, dict) else {},
        )


@dataclass(frozen=True, slots=True)
class Posted:
    """What a platform made of our write: the reply's id there and its public link."""

    external_id: str
    url: str


class Unsupported(base.PermanentError):
    """The platform (or this account) cannot do this action through its API; do it by hand."""

    def __init__(self, platform: str, action: str, message: str | None = None):
        self.platform = platform
        self.action = action
        super().__init__(message or unsupported_message(platform, action))


class Refused(base.PermanentError):
    """The platform answered a 4xx (other than 429): ``status`` and its error ``code``."""

    def __init__(self, message: str, *, status: int, code: str = ""):
        super().__init__(message)
        self.status = status
        self.code = code


# --- what each platform can do ------------------------------------------------------------
def capabilities(platform: str) -> frozenset[str]:
    """The actions Calma can carry out on ``platform`` through its API (empty for feeds, CSV…)."""
    return _CAPABILITIES.get(str(platform), frozenset())


def can(platform: str, action: str) -> bool:
    return action in capabilities(platform)


def credentials_missing(account: AccountConfig) -> list[str]:
    """Names of the secrets the account still lacks to write (empty when it can write)."""
    needed = REQUIRED_CREDENTIALS.get(str(account.platform), ())
    missing = [name for name in needed if not (account.credentials or {}).get(name)]
    if account.platform == "mastodon" and not (account.base_url or "").strip():
        missing.append("base_url")
    return missing


def unsupported_message(platform: str, action: str) -> str:
    name = _PLATFORM_NAMES.get(str(platform), str(platform) or "This source")
    what = {
        REPLY: "cannot be answered through Calma",
        EDIT: "does not let a published reply be edited",
        DELETE_OWN: "does not let Calma delete its reply",
        HIDE: "does not let Calma hide another person's post",
        UNHIDE: "does not let Calma show a hidden post again",
        DELETE: "does not let Calma delete another person's post",
    }.get(action, f"does not support {action!r}")
    by_hand = _BY_HAND.get((str(platform), action), _DEFAULT_BY_HAND.get(action, "do it by hand"))
    return f"{name} {what}: {by_hand}."


# --- dispatch -----------------------------------------------------------------------------
def post_reply(
    account: AccountConfig,
    target: Target,
    text: str,
    *,
    idempotency_key: str,
    session: requests.Session | None = None,
) -> Posted:
    """Publish ``text`` as a reply to ``target``; the same ``idempotency_key`` on a retry never
    posts twice where the platform honours one (Mastodon). Elsewhere call ``find_own_reply``
    before retrying a send whose outcome is unknown."""
    module = _module_for(account, target, REPLY)
    return module.post_reply(
        account, target, outgoing_text(text), idempotency_key=idempotency_key, session=session
    )


def can_post_status(platform: str) -> bool:
    """Whether Calma can publish a top-level post (a statement) on ``platform``."""
    return str(platform) in STATUS_PLATFORMS


def post_status(
    account: AccountConfig,
    text: str,
    *,
    idempotency_key: str,
    session: requests.Session | None = None,
) -> Posted:
    """Publish ``text`` as a top-level public post of the account (a crisis statement, not a
    reply). Mastodon honours ``idempotency_key`` (a retry never posts twice); elsewhere call
    ``find_own_status`` before retrying a post whose outcome is unknown."""
    module = _status_module(account)
    return module.post_status(
        account, outgoing_text(text), idempotency_key=idempotency_key, session=session
    )


def find_own_status(
    account: AccountConfig, *, text: str, session: requests.Session | None = None
) -> Posted | None:
    """A recent top-level post of the account with this text (whitespace aside), or None.
    Platforms that honour an idempotency key (Mastodon) need no look-up and answer None."""
    module = _status_module(account)
    finder = getattr(module, "find_own_status", None)
    if finder is None:
        return None
    return finder(account, text=outgoing_text(text), session=session)


def _status_module(account: AccountConfig) -> Any:
    platform = str(account.platform)
    if not can_post_status(platform):
        raise Unsupported(
            platform,
            "status",
            f"{_PLATFORM_NAMES.get(platform, platform or 'This source')} cannot publish a "
            "statement through Calma: publish it there by hand and mark it published with "
            "its link.",
        )
    missing = credentials_missing(account)
    if missing:
        raise base.PermanentError(
            f"the {_PLATFORM_NAMES.get(platform, platform)} publishing account "
            f"{account.handle!r} lacks {', '.join(missing)}: set it in the server environment"
        )
    return import_module(_MODULES[platform])


def find_own_reply(
    account: AccountConfig,
    target: Target,
    *,
    text: str,
    session: requests.Session | None = None,
) -> Posted | None:
    """Our reply to ``target`` with this text (whitespace and leading @mentions aside), if the
    platform shows one in the thread; None when there is none."""
    module = _module_for(account, target, REPLY)
    return module.find_own_reply(account, target, text=outgoing_text(text), session=session)


def edit_reply(
    account: AccountConfig,
    external_id: str,
    text: str,
    *,
    session: requests.Session | None = None,
) -> Posted:
    module = _module_for(account, None, EDIT)
    return module.edit_reply(
        account, _identifier(external_id), outgoing_text(text), session=session
    )


def delete_reply(
    account: AccountConfig, external_id: str, *, session: requests.Session | None = None
) -> None:
    """Delete our own reply; an already deleted one counts as deleted."""
    module = _module_for(account, None, DELETE_OWN)
    module.delete_reply(account, _identifier(external_id), session=session)


def hide_mention(
    account: AccountConfig, target: Target, *, session: requests.Session | None = None
) -> None:
    _module_for(account, target, HIDE).hide_mention(account, target, session=session)


def unhide_mention(
    account: AccountConfig, target: Target, *, session: requests.Session | None = None
) -> None:
    _module_for(account, target, UNHIDE).unhide_mention(account, target, session=session)


def delete_mention(
    account: AccountConfig, target: Target, *, session: requests.Session | None = None
) -> None:
    _module_for(account, target, DELETE).delete_mention(account, target, session=session)


_MODULES = {
    "mastodon": "monitoring.connectors.mastodon",
    "bluesky": "monitoring.connectors.bluesky",
    "reddit": "monitoring.connectors.reddit",
    "youtube": "monitoring.connectors.youtube",
}


def _module_for(account: AccountConfig, target: Target | None, action: str) -> Any:
    platform = str(account.platform)
    if target is not None and str(target.platform) != platform:
        raise base.PermanentError(
            f"a {target.platform} mention cannot be handled by a {platform} account"
        )
    if action not in capabilities(platform):
        raise Unsupported(platform, action)
    missing = credentials_missing(account)
    if missing:
        raise base.PermanentError(
            f"the {_PLATFORM_NAMES.get(platform, platform)} publishing account "
            f"{account.handle!r} lacks {', '.join(missing)}: set it in the server environment"
        )
    if target is not None and not target.external_id:
        raise base.PermanentError("the mention has no platform id to act on")
    return import_module(_MODULES[platform])


def _identifier(external_id: str) -> str:
    identifier = boundary.clean_text(external_id).strip()
    if not identifier:
        raise base.PermanentError("no platform id given for the reply")
    return identifier


# --- text ---------------------------------------------------------------------------------
def outgoing_text(text: str) -> str:
    """Our own text, still without NUL or lone surrogates (a platform or a JSON encoder would
    refuse them); an empty reply is refused before any request."""
    cleaned = boundary.clean_text(text if isinstance(text, str) else "")
    cleaned = unicodedata.normalize("NFC", cleaned).strip()
    if not cleaned:
        raise base.PermanentError("the reply is empty")
    return cleaned


def comparable(text: str) -> str:
    """Text as two versions of the same reply compare: leading @mentions, case of nothing else,
    and whitespace differences aside (platforms add a mention, turn newlines into HTML)."""
    value = unicodedata.normalize("NFC", boundary.clean_text(text or ""))
    value = _LEADING_MENTIONS.sub("", value)
    return _SPACES.sub(" ", value).strip()


def leading_mentions(text: str) -> str:
    """The @mentions a text opens with ("@ana @luis"), or ""."""
    match = _LEADING_MENTIONS.match(text or "")
    return match.group(0).strip() if match else ""


def same_text(published: str, ours: str) -> bool:
    return bool(comparable(ours)) and comparable(published) == comparable(ours)


def same_handle(candidate: str, handle: str) -> bool:
    """Whether an author on the platform is our account: ``@brisa`` = ``brisa`` =
    ``brisa@instance`` (a local account's acct has no domain), case-insensitive."""
    left = (candidate or "").strip().lstrip("@").removeprefix("u/").casefold()
    right = (handle or "").strip().lstrip("@").removeprefix("u/").casefold()
    if not left or not right:
        return False
    if left == right:
        return True
    if "@" in left and "@" in right:
        return False  # two different instances
    return left.split("@")[0] == right.split("@")[0]


def posted(external_id: Any, url: Any) -> Posted:
    """A Posted within the columns it is stored in (the answer is still a platform's)."""
    identifier = boundary.bounded_identifier(base.text_or_empty(external_id), boundary.MAX_ID_CHARS)
    if not identifier:
        # The write went through (2xx) but we cannot tell what it made: retry finds it.
        raise base.TransientError("the platform accepted the write but named no id")
    return Posted(external_id=identifier, url=boundary.http_url_or_empty(url))


# --- HTTP ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: Any  # decoded JSON, or None for an empty body


ErrorHook = Callable[[int, Any, Mapping[str, str], str], base.ConnectorError | None]


def call(
    method: str,
    url: str,
    *,
    params: dict[str, Any] | None = None,
    json_body: Any = None,
    form: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    session: requests.Session | None = None,
    timeout: float = WRITE_TIMEOUT_SECONDS,
    on_error: ErrorHook | None = None,
) -> Answer:
    """One request with Calma's timeouts and a bounded answer; failures mapped like reads:
    429 → RateLimited, 5xx and connection errors → TransientError, other 4xx → Refused
    (``on_error`` may name a better error from the body). Messages never carry the query
    string or the headers (secrets)."""
    where = f"{method} {url.split('?', 1)[0]}"
    try:
        response = (session or base.shared_session()).request(
            method,
            url,
            params=params,
            json=json_body,
            data=form,
            headers=headers,
            timeout=(base.CONNECT_TIMEOUT_SECONDS, timeout),
            stream=True,
            allow_redirects=False,  # a redirect would resend the bearer to another host
        )
    except (requests.Timeout, requests.ConnectionError) as error:
        raise base.TransientError(f"{type(error).__name__} on {where}") from error
    except requests.RequestException as error:
        raise base.PermanentError(f"{type(error).__name__} on {where}") from error
    with response:
        raw = _bounded_body(response, where)
    status = response.status_code
    body = _decode(raw)
    if status == 429:
        raise base.RateLimited(
            f"429 Too Many Requests from {where}", base.retry_after_seconds(response.headers)
        )
    if status >= 500:
        raise base.TransientError(f"HTTP {status} from {where}")
    if status >= 300:
        if on_error is not None:
            error = on_error(status, body, response.headers, where)
            if error is not None:
                raise error
        code, detail = error_detail(body)
        message = f"HTTP {status} from {where}" + (f": {detail}" if detail else "")
        raise Refused(message, status=status, code=code)
    if raw.strip() and body is _UNREADABLE:
        # 2xx: the write happened, but we cannot read what it made; a retry looks for it.
        raise base.TransientError(f"unreadable answer from {where}")
    return Answer(status, response.headers, None if body is _UNREADABLE else body)


_UNREADABLE = object()


def _bounded_body(response: requests.Response, where: str) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise base.TransientError(f"answer from {where} too large ({declared} bytes)")
    chunks: list[bytes] = []
    size = 0
    started = time.monotonic()
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise base.TransientError(f"answer from {where} larger than {MAX_RESPONSE_BYTES}")
            if time.monotonic() - started > 4 * WRITE_TIMEOUT_SECONDS:
                raise base.TransientError(f"answer from {where} too slow to arrive")
            chunks.append(chunk)
    except (requests.RequestException, OSError) as error:
        raise base.TransientError(f"{type(error).__name__} reading {where}") from error
    return b"".join(chunks)


def _decode(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return _UNREADABLE


def error_detail(body: Any) -> tuple[str, str]:
    """(code, message) of a platform's JSON error body, cleaned and short."""
    if not isinstance(body, dict):
        return "", ""
    code, message = "", ""
    error = body.get("error")
    if isinstance(error, dict):  # Google
        message = base.text_or_empty(error.get("message"))
        reasons = [
            base.text_or_empty(entry.get("reason"))
            for entry in error.get("errors") or []
            if isinstance(entry, dict)
        ]
        code = next(
            (reason for reason in reasons if reason), base.text_or_empty(error.get("status"))
        )
    else:  # Mastodon {"error": "..."}, Bluesky {"error": code, "message": ...}, Reddit
        code = base.text_or_empty(error)
        message = base.text_or_empty(body.get("message") or body.get("error_description"))
        if not message:
            code, message = "", code
    return boundary.clean_text(code)[:80], boundary.clean_text(message)[:200]
