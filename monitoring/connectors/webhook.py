"""Calma's push format: mentions that platforms or relays POST to Calma, signed with HMAC.

The request
    POST with ``Content-Type: application/json``, a body of at most ``MAX_BODY_BYTES``, and
    the header ``X-Calma-Signature: sha256=<hex>``, where ``<hex>`` is the lowercase hex
    HMAC-SHA256 of the raw body bytes keyed with the source's shared secret.

The body
    Either ``{"mentions": [item, ...]}`` or a single item. Each item::

        {
          "platform": "twitter",          # optional: where it was first posted; a platform
                                          #   Calma knows keeps its name, anything else is
                                          #   stored as "webhook" (the name stays in raw)
          "id": "1790001",                # required: stable id on that platform (string or int)
          "url": "https://…",             # required: http(s) link to the post
          "text": "…",                    # required: plain text or HTML (tags are stripped)
          "published_at": "2025-05-14T09:30:00+02:00",   # required: ISO-8601 with offset;
                                                         #   without one it is taken as UTC
          "author": {
            "handle": "@maria",           # required
            "display_name": "María",      # optional
            "followers": 1200,            # optional integer
            "verified": false,            # optional boolean
            "url": "https://…"            # optional
          },
          "language": "es",               # optional ISO 639-1 (longer tags are cut to 2)
          "reply_to_id": "1789990",       # optional
          "thread_id": "1789000",         # optional
          "engagement": {"likes": 3, "reposts": 1, "replies": 0, "views": 250}  # optional ints
        }

    Unknown keys are ignored (and kept in ``raw``). A bad item (malformed, or refused by
    the validation boundary: a date outside the platform's life or ahead of the server
    clock, a count beyond 64 bits) is quarantined with its reason; the others in the same
    body are stored.

The non-standard constants ``NaN``, ``Infinity`` and ``-Infinity`` (which Python's json
accepts) never become numbers: each is read as a ``NonStandardConstant``, which no field
accepts, so the item holding one where a value is needed is quarantined with the reason.

Refused whole with a 4xx (nothing stored): a body over ``MAX_BODY_BYTES``, not UTF-8 JSON,
nested deeper than Python's parser goes, with ``mentions`` not a list, or with more than
``MAX_ITEMS_PER_BODY`` items.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from monitoring.connectors import base, boundary
from monitoring.platforms import Platform
from monitoring.text import html_to_text

MAX_BODY_BYTES = 1_048_576
# Real relays send a few hundred items at most; a flood of tiny junk items is refused whole.
MAX_ITEMS_PER_BODY = 5_000
SIGNATURE_HEADER = "X-Calma-Signature"
SIGNATURE_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header value a sender puts in ``X-Calma-Signature`` for this body."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_PREFIX}{digest}"


def verify_signature(secret: str, body: bytes, header_value: str | None) -> bool:
    """True only when the header carries the body's HMAC-SHA256 under ``secret``."""
    if not secret or not isinstance(header_value, str):
        return False
    value = header_value.strip()
    if not value.lower().startswith(SIGNATURE_PREFIX):
        return False
    given = value[len(SIGNATURE_PREFIX) :].strip().lower()
    expected = sign(secret, body)[len(SIGNATURE_PREFIX) :]
    # compare_digest takes the same time wherever the strings differ: no timing oracle.
    return hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii"))


def decode_body(body: bytes) -> Any:
    """The request body as JSON, refusing oversized, undecodable or non-standard bodies."""
    if len(body) > MAX_BODY_BYTES:
        raise base.MalformedPayload(f"body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise base.MalformedPayload("body is not UTF-8") from error
    try:
        return json.loads(text, parse_constant=NonStandardConstant)
    except RecursionError as error:
        raise base.MalformedPayload("body is nested too deeply to be read") from error
    except ValueError as error:
        raise base.MalformedPayload(f"body is not valid JSON: {error}") from error


class NonStandardConstant:
    """``NaN``, ``Infinity`` or ``-Infinity`` in a body: not JSON, and not a value of any field."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return self.name


def split(payload: Any) -> list[Any]:
    """The items of one pushed body: ``{"mentions": [...]}``, a single item, or a bare list."""
    if isinstance(payload, dict):
        if "mentions" in payload:
            items = payload["mentions"]
            if not isinstance(items, list):
                raise base.MalformedPayload("'mentions' must be a list")
            return _bounded(items)
        return [payload]
    if isinstance(payload, list):
        return _bounded(payload)
    raise base.MalformedPayload(f"expected a JSON object, got {type(payload).__name__}")


class TooManyItems(base.MalformedPayload):
    """More items in one body than MAX_ITEMS_PER_BODY."""


def _bounded(items: list) -> list:
    if len(items) > MAX_ITEMS_PER_BODY:
        raise TooManyItems(f"{len(items)} items in one body; the limit is {MAX_ITEMS_PER_BODY}")
    return items


def parse_item(item: Any) -> base.MentionIn:
    if not isinstance(item, dict):
        raise base.MalformedItem(f"mention is not an object: {type(item).__name__}")
    external_id = _identifier(item.get("id"))
    if not external_id:
        raise base.MalformedItem("missing 'id'")
    where = f"mention {external_id!r}"

    url = item.get("url")
    if not boundary.is_http_url(url):
        raise base.MalformedItem(f"{where}: 'url' must be an http(s) URL")
    raw_text = item.get("text")
    if not isinstance(raw_text, str):
        raise base.MalformedItem(f"{where}: missing 'text'")
    text = html_to_text(raw_text)
    if not text:
        raise base.MalformedItem(f"{where}: 'text' is empty")
    if "published_at" not in item:
        raise base.MalformedItem(f"{where}: missing 'published_at'")
    try:
        published_at = base.parse_datetime(item["published_at"])
    except base.MalformedItem as error:
        raise base.MalformedItem(f"{where}: 'published_at': {error}") from error

    return base.MentionIn(
        platform=_platform(item.get("platform")),
        external_id=external_id,
        url=url.strip(),
        text=text,
        published_at=published_at,
        author=_author(item.get("author"), where),
        language=_language(item.get("language")),
        reply_to_id=_identifier(item.get("reply_to_id")),
        thread_id=_identifier(item.get("thread_id")),
        engagement=_engagement(item.get("engagement"), where),
        raw=item,
    )


def parse(payload: Any) -> list[base.MentionIn]:
    return [parse_item(item) for item in split(payload)]


def _identifier(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | str):
        return str(value).strip()
    return ""


def _platform(value: Any) -> str:
    name = value.strip().lower() if isinstance(value, str) else ""
    return name if name in Platform.values else Platform.WEBHOOK.value


def _author(value: Any, where: str) -> base.AuthorIn:
    if not isinstance(value, dict):
        raise base.MalformedItem(f"{where}: missing 'author'")
    handle = value.get("handle")
    if not isinstance(handle, str) or not handle.strip():
        raise base.MalformedItem(f"{where}: missing 'author.handle'")
    followers = value.get("followers")
    if followers is not None:
        followers = _count(followers)
        if followers is None:
            raise base.MalformedItem(f"{where}: 'author.followers' must be a whole number")
    display_name = value.get("display_name")
    author_url = value.get("url")
    return base.AuthorIn(
        handle=handle.strip(),
        display_name=display_name.strip() if isinstance(display_name, str) else "",
        followers=followers,
        verified=value.get("verified") is True,
        url=author_url.strip() if isinstance(author_url, str) else "",
    )


def _language(value: Any) -> str:
    code = value.strip()[:2].lower() if isinstance(value, str) else ""
    return code if len(code) == 2 and code.isalpha() else ""


def _engagement(value: Any, where: str) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise base.MalformedItem(f"{where}: 'engagement' must be an object of counts")
    counts: dict[str, int] = {}
    for name, raw_count in value.items():
        count = _count(raw_count)
        if count is None:
            raise base.MalformedItem(f"{where}: 'engagement.{name}' must be a whole number")
        counts[str(name)] = count
    return counts


def _count(value: Any) -> int | None:
    """A non-negative whole number from an int, an integral float, or a string of digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
