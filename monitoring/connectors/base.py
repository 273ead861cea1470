"""The connector contract: values that cross from connectors into ingest, and shared HTTP.

Each module in this package (mastodon, bluesky, reddit, youtube, feeds, webhook, csv)
exposes:

- ``split(payload) -> list``: the raw items (posts, comments, entries) of one decoded
  response body, in the order served. Pure.
- ``parse_item(item) -> MentionIn``: one raw item to a mention; raises ``MalformedItem``
  with a human reason when the item cannot be used. Pure.
- Every item a fetch, the webhook or CSV keeps crosses the validation boundary
  (``boundary.admit``, through ``split_good_and_bad`` or the CSV row path).
- ``parse(payload) -> list[MentionIn]``: ``[parse_item(i) for i in split(payload)]``:
  one mention per item, never silently fewer (a malformed item raises). Pure.
- ``fetch(source: SourceConfig, cursor: dict, session=None) -> Page`` (polled platforms
  only): one HTTP request from ``cursor``; the only code that does HTTP. Malformed items
  go to ``Page.quarantined`` and never stop the rest of the page.

No module here imports the ORM.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from django.utils import timezone

from monitoring.connectors import boundary

USER_AGENT = "Calma/0.1 (social media monitoring; +https://calma.invalid)"
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 20


@dataclass(frozen=True, slots=True)
class AuthorIn:
    handle: str
    display_name: str = ""
    followers: int | None = None
    verified: bool = False
    url: str = ""


@dataclass(frozen=True, slots=True)
class MentionIn:
    platform: str
    external_id: str
    url: str
    text: str
    published_at: datetime  # aware
    author: AuthorIn
    language: str = ""  # ISO 639-1 when the platform says; detected at ingest otherwise
    reply_to_id: str = ""
    thread_id: str = ""
    engagement: dict[str, int] = field(default_factory=dict)  # likes, reposts, replies, views
    raw: dict[str, Any] = field(default_factory=dict)
    # "live", or "run:<id>" for a replay or drill (set by the replay engine, never a connector).
    origin: str = "live"


@dataclass(frozen=True, slots=True)
class QuarantinedIn:
    """An item that could not be parsed: kept with its reason for review and reprocessing."""

    reason: str
    raw: Any


@dataclass(frozen=True, slots=True)
class Page:
    mentions: list[MentionIn]
    next_cursor: dict[str, Any]  # stored with the page, in the same transaction
    quarantined: list[QuarantinedIn] = field(default_factory=list)
    has_more: bool = False  # another page can be fetched right away


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """What a connector needs to know about a source; built from the model by the poller."""

    platform: str
    kind: str  # monitoring.platforms.QueryKind value
    query: str  # hashtag (no #), search terms, account, subreddit, feed URL, channel/video id
    base_url: str = ""  # instance or API root; empty = the platform's public default
    credentials: dict[str, str] = field(default_factory=dict)  # resolved secrets, never logged
    page_size: int = 40
    timeout_seconds: float = READ_TIMEOUT_SECONDS

    def __repr__(self) -> str:  # never print the secrets
        return f"SourceConfig({self.platform}, {self.kind}, {self.query!r}, {self.base_url!r})"


# --- errors -------------------------------------------------------------------------------
class ConnectorError(Exception):
    """Base class of what fetch() raises; the poller decides retry and health from the type."""


class MalformedItem(ConnectorError):
    """One item of a page cannot become a mention (missing id, bad date, wrong shape)."""


class MalformedPayload(ConnectorError):
    """The whole response body is unusable (not JSON, not XML, not the expected shape)."""


class RateLimited(ConnectorError):
    def __init__(self, message: str, retry_after_seconds: float):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class TransientError(ConnectorError):
    """5xx, timeouts, connection errors: retried with exponential backoff."""


class PermanentError(ConnectorError):
    """401/403/404 and bad configuration: retrying will not help until someone acts."""


# --- shared HTTP --------------------------------------------------------------------------
_session: requests.Session | None = None


def shared_session() -> requests.Session:
    """One pooled session per process (connection reuse across polls)."""
    global _session
    if _session is None:
        _session = requests.Session()
        _session.headers["User-Agent"] = USER_AGENT
    return _session


def get(
    url: str,
    *,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    session: requests.Session | None = None,
    timeout: float = READ_TIMEOUT_SECONDS,
) -> requests.Response:
    """GET with Calma's timeouts; maps failures to the connector error types.

    Returns the response for 2xx and 304; raises RateLimited, TransientError or
    PermanentError otherwise.
    """
    try:
        response = (session or shared_session()).get(
            url, params=params, headers=headers, timeout=(CONNECT_TIMEOUT_SECONDS, timeout)
        )
    except (requests.Timeout, requests.ConnectionError) as error:
        raise TransientError(f"{type(error).__name__} on {url}") from error
    if response.status_code == 429:
        raise RateLimited(
            f"429 Too Many Requests from {url}", retry_after_seconds(response.headers)
        )
    if response.status_code >= 500:
        raise TransientError(f"HTTP {response.status_code} from {url}")
    if response.status_code >= 400:
        raise PermanentError(f"HTTP {response.status_code} from {url}")
    return response


def retry_after_seconds(headers: Any, default: float = 60.0) -> float:
    """Seconds to wait from Retry-After (seconds or HTTP date) or rate-limit reset headers."""
    value = headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value)
            if parsed is not None:
                return max(0.0, parsed.timestamp() - time.time())
    for name in ("X-RateLimit-Reset", "RateLimit-Reset", "X-Ratelimit-Reset"):
        value = headers.get(name)
        if value:
            try:
                number = float(value)
            except ValueError:
                continue
            # Epoch seconds (Mastodon sends an ISO date; Bluesky/others epoch) or a delta.
            return max(0.0, number - time.time()) if number > 1_000_000_000 else number
    reset_iso = headers.get("X-RateLimit-Reset")
    if reset_iso:
        try:
            return max(0.0, parse_datetime(reset_iso).timestamp() - time.time())
        except MalformedItem:
            pass
    return default


def decode_json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError as error:
        # The URL without its query: some platforms take API keys as parameters.
        where = response.url.split("?", 1)[0]
        raise MalformedPayload(f"response from {where} is not valid JSON") from error


def split_good_and_bad(
    items: Iterable[Any],
    parse_item: Callable[[Any], MentionIn],
    *,
    now: datetime | None = None,
) -> tuple[list[MentionIn], list[QuarantinedIn]]:
    """Parse each item and pass it through the validation boundary; a malformed or refused
    one is set aside with its reason, the rest go on.

    ``now`` is the server clock the dates are checked against; a fetch (the outermost
    caller of its page) leaves it out and the moment of the call is used. No exception of
    one item stops the others: any error becomes that item's quarantine reason.
    """
    now = now or timezone.now()
    good: list[MentionIn] = []
    bad: list[QuarantinedIn] = []
    for item in items:
        try:
            good.append(boundary.admit(parse_item(boundary.clean_strings(item)), now=now))
        # Any error of one item (a connector bug included) is that item's reason, never the page's.
        except Exception as error:
            bad.append(QuarantinedIn(reason=quarantine_reason(error), raw=item))
    return good, bad


def quarantine_reason(error: BaseException) -> str:
    """What a person reviewing the quarantine reads about why an item was set aside."""
    if isinstance(error, MalformedItem | boundary.Refused):
        return boundary.clean_text(str(error))
    try:
        detail = str(error)
    except ValueError:  # str() of an int beyond 4300 digits
        detail = ""
    return boundary.clean_text(f"{type(error).__name__}: {detail}")[:2000]


# --- small parsing helpers ----------------------------------------------------------------
def parse_datetime(value: Any) -> datetime:
    """ISO-8601 (with Z or offset), RFC 2822, or epoch seconds → aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise MalformedItem(f"not a date: {value!r}")
    if isinstance(value, int | float):
        # Huge numbers, Infinity and NaN are no moment at all (OverflowError, OSError or
        # ValueError from the C library): say so instead of failing the page.
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError) as error:
            shown = (
                f"a number of {value.bit_length()} bits"
                if isinstance(value, int) and value.bit_length() > 200
                else repr(value)
            )
            raise MalformedItem(f"not a date: {shown}") from error
    if not isinstance(value, str) or not value.strip():
        raise MalformedItem(f"missing or empty date: {value!r}")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, OverflowError) as error:
            raise MalformedItem(f"unreadable date: {value[:80]!r}") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def count_or_none(value: Any) -> int | None:
    """An integer count as platforms send it (int, integral float, digit string), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def followers_or_none(value: Any) -> int | None:
    # Some servers send -1 for a count the account hides; that is "unknown", not a number.
    count = count_or_none(value)
    return count if count is not None and count >= 0 else None


def text_or_empty(value: Any) -> str:
    if value is None or isinstance(value, bool | dict | list):
        return ""
    return str(value)


def iso639_1(value: Any) -> str:
    """ "pt-BR" → "pt"; anything that is not a two-letter code → "" (unknown)."""
    code = text_or_empty(value).strip().lower().replace("_", "-").split("-")[0]
    return code if len(code) == 2 and code.isalpha() else ""


def describe_shape(payload: Any) -> str:
    """A short description of an unexpected body, for error messages (never its content)."""
    if isinstance(payload, dict):
        return "object with keys " + ", ".join(sorted(map(str, payload))[:8])
    return type(payload).__name__


def bearer_headers(source: SourceConfig) -> dict[str, str]:
    token = (source.credentials or {}).get("access_token")
    return {"Authorization": f"Bearer {token}"} if token else {}


def jittered(seconds: float, spread: float = 0.1) -> float:
    return seconds * (1 + random.uniform(-spread, spread))  # noqa: S311 - not cryptographic
