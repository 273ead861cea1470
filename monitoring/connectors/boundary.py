"""The one validation boundary: what every connector, the webhook and CSV hand to ingest.

Every item's strings are cleaned before a parser reads them (``clean_strings``), and every
parsed item crosses ``admit(mention, now=...)`` (called by ``base.split_good_and_bad``
and by the CSV row path, so no connector can skip it). It either returns a mention that
every column can hold, or raises ``Refused`` with a human reason, and the caller
quarantines the item with that reason while its neighbours go on. Pure: no database.

What it does, field by field:

- **Strings are cleaned, not rejected**: NUL characters are removed and lone UTF-16
  surrogates become U+FFFD. Postgres cannot store either (text refuses NUL, UTF-8 cannot
  encode a lone surrogate), and both are encoding accidents of a client or relay, never
  part of what the person wrote; refusing the item would lose a real mention over an
  invisible character.
- **Integers must fit their column**: followers in ``0 ≤ n < 2**63``
  (PositiveBigIntegerField), engagement counts in a signed 64-bit range (a Reddit score can
  be negative). A count beyond that is not a count: the item is refused.
- **URLs are http(s) only**: any other scheme (``javascript:``, ``data:``, ``file:``) or a
  URL longer than its column becomes "" and the mention is kept without the link.
- **Ids and handles are bounded without collisions**: one longer than its column keeps a
  prefix and gains ``#sha256:<hex of the whole id>``, so two ids sharing their first 512
  characters stay two mentions, and a reply names its parent by the same bounded id.
- **Text is bounded** (``MAX_TEXT_CHARS``, the rest cut with "…"); names and language
  codes are cut to their columns.
- **Dates must be inside a sane window**: not before the platform existed
  (``monitoring.platforms.PLATFORM_EPOCHS``) and not more than
  ``settings.MONITORING["MAX_FUTURE_SECONDS"]`` ahead of ``now``. An item outside it is
  **quarantined with its reason**, not stored with the time it was received: a mention
  stored under a made-up time would put a lie on the timeline, in the spike detector
  and in every figure; in quarantine a person sees it and can reprocess it. A date that
  no calendar can hold (year 10000 once in UTC, year 0) is refused the same way.
- ``raw`` is made storable by ``storable_json``: strings cleaned, NaN and Infinity become
  null, nesting deeper than ``MAX_RAW_DEPTH`` is replaced by a marker.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings

from monitoring.platforms import Platform, platform_epoch

if TYPE_CHECKING:
    from monitoring.connectors.base import AuthorIn, MentionIn

# Column sizes of monitoring.models (Mention, Author).
MAX_ID_CHARS = 512
MAX_HANDLE_CHARS = 255
MAX_NAME_CHARS = 255
MAX_URL_CHARS = 2000
MAX_LANGUAGE_CHARS = 8
MAX_TEXT_CHARS = 100_000
MAX_ENGAGEMENT_KEY_CHARS = 64
MAX_RAW_DEPTH = 64
FOLLOWERS_RANGE = (0, 2**63 - 1)
ENGAGEMENT_RANGE = (-(2**63), 2**63 - 1)

TOO_DEEP = "…(nested too deep)"
_SURROGATES = re.compile("[\ud800-\udfff]")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*")
_HASH_MARK = "#sha256:"


class Refused(ValueError):
    """The item cannot be stored as it is; the message says why (kept in quarantine)."""


# --- the boundary -------------------------------------------------------------------------
def admit(mention: MentionIn, *, now: datetime) -> MentionIn:
    """The mention cleaned and bounded to what Calma's columns hold, or ``Refused``."""
    platform = clean_text(mention.platform)
    if platform not in Platform.values:
        raise Refused(f"unknown platform {platform[:40]!r}")
    external_id = bounded_identifier(mention.external_id, MAX_ID_CHARS)
    if not external_id.strip():
        raise Refused("missing id")
    where = f"mention {external_id[:80]!r}"
    return replace(
        mention,
        platform=platform,
        external_id=external_id,
        url=http_url_or_empty(mention.url),
        text=bounded_text(mention.text),
        published_at=admitted_date(mention.published_at, platform=platform, now=now, where=where),
        author=_admit_author(mention.author, where),
        language=language_code(mention.language),
        reply_to_id=bounded_identifier(mention.reply_to_id, MAX_ID_CHARS),
        thread_id=bounded_identifier(mention.thread_id, MAX_ID_CHARS),
        engagement=_admit_engagement(mention.engagement, where),
        raw=storable_json(mention.raw),
    )


def _admit_author(author: AuthorIn, where: str) -> AuthorIn:
    handle = bounded_identifier(author.handle, MAX_HANDLE_CHARS)
    if not handle.strip():
        raise Refused(f"{where}: the author has no handle")
    followers = author.followers
    if followers is not None and not _int_within(followers, FOLLOWERS_RANGE):
        raise Refused(f"{where}: author followers {_short(followers)} is not a possible count")
    return replace(
        author,
        handle=handle,
        display_name=clean_text(author.display_name)[:MAX_NAME_CHARS],
        followers=followers,
        verified=author.verified is True,
        url=http_url_or_empty(author.url),
    )


def _admit_engagement(engagement: Any, where: str) -> dict[str, int]:
    if not isinstance(engagement, dict):
        raise Refused(f"{where}: engagement is not a set of counts")
    counts: dict[str, int] = {}
    for name, count in engagement.items():
        key = clean_text(str(name))[:MAX_ENGAGEMENT_KEY_CHARS]
        if not _int_within(count, ENGAGEMENT_RANGE):
            raise Refused(f"{where}: engagement {key!r} {_short(count)} is not a possible count")
        counts[key] = count
    return counts


def admitted_date(value: Any, *, platform: str, now: datetime, where: str = "item") -> datetime:
    """``value`` in UTC when inside [platform epoch, now + MAX_FUTURE_SECONDS]; else Refused."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise Refused(f"{where}: published_at is not a date with a time zone: {_short(value)}")
    try:
        in_utc = value.astimezone(UTC)
    except OverflowError as error:
        raise Refused(
            f"{where}: published_at {value.isoformat()} is outside the calendar"
        ) from error
    earliest = platform_epoch(platform)
    if in_utc < earliest:
        raise Refused(
            f"{where}: published_at {in_utc.isoformat()} is before {platform} existed"
            f" ({earliest.date().isoformat()})"
        )
    latest = now + timedelta(seconds=max_future_seconds())
    if in_utc > latest:
        ahead = (in_utc - now).total_seconds()
        raise Refused(
            f"{where}: published_at {in_utc.isoformat()} is {ahead:.0f} s ahead of the server"
            f" clock (at most {max_future_seconds()} s is believed)"
        )
    return in_utc


def max_future_seconds() -> int:
    return int(settings.MONITORING["MAX_FUTURE_SECONDS"])


def display_window(now: datetime) -> tuple[datetime, datetime]:
    """Dates a mention may carry to be shown: what ``admit`` would accept on any platform."""
    return platform_epoch(""), now + timedelta(seconds=max_future_seconds())


# --- values -------------------------------------------------------------------------------
def clean_text(value: Any) -> str:
    """A string without NUL and with each lone surrogate replaced by U+FFFD."""
    if not isinstance(value, str):
        return ""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = _SURROGATES.sub("\ufffd", value)
    return value


def bounded_text(value: Any) -> str:
    text = clean_text(value)
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"


def bounded_identifier(value: Any, limit: int) -> str:
    """An id or handle within ``limit`` characters; a longer one ends in a hash of it all."""
    identifier = clean_text(value)
    if len(identifier) <= limit:
        return identifier
    digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()
    suffix = f"{_HASH_MARK}{digest}"
    return identifier[: limit - len(suffix)] + suffix


def http_url_or_empty(value: Any) -> str:
    """The URL when it is http(s) with a host and fits its column; "" otherwise."""
    url = clean_text(value).strip()
    if not url or len(url) > MAX_URL_CHARS:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return ""
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


def is_http_url(value: Any) -> bool:
    return bool(http_url_or_empty(value))


def language_code(value: Any) -> str:
    code = clean_text(value).strip().lower().replace("_", "-")[:MAX_LANGUAGE_CHARS]
    return code if _LANGUAGE.fullmatch(code) else ""


def clean_strings(value: Any, depth: int = 0) -> Any:
    """``value`` with every string (and key) cleaned, before a parser reads it.

    Parsers hand text to libraries (nh3, lingua) that fail on a lone surrogate, so an item
    is cleaned on the way in, not only on the way to the database. Other values are left
    as they are (deeper than ``MAX_RAW_DEPTH`` too, which no parser reads).
    """
    if isinstance(value, str):
        return clean_text(value)
    if depth >= MAX_RAW_DEPTH:
        return value
    if isinstance(value, dict):
        return {
            clean_text(key) if isinstance(key, str) else key: clean_strings(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [clean_strings(item, depth + 1) for item in value]
    return value


def storable_json(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON that jsonb stores: clean strings, no NaN/Infinity, bounded depth."""
    if isinstance(value, str):
        return clean_text(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth >= MAX_RAW_DEPTH:
        return TOO_DEEP
    if isinstance(value, dict):
        return {clean_text(str(key)): storable_json(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(item, depth + 1) for item in value]
    return clean_text(str(value))


def _int_within(value: Any, bounds: tuple[int, int]) -> bool:
    return (
        isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]
    )


def _short(value: Any) -> str:
    if isinstance(value, int) and value.bit_length() > 200:
        return f"a number of {value.bit_length()} bits"  # repr() refuses > 4300 digits
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"
