"""RSS 2.0 and Atom connector (blogs, forums, review sites, Google and Talkwalker Alerts)."""

from __future__ import annotations

import calendar
import hashlib
import io
import time
import xml.sax
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import feedparser
import requests
from django.utils import timezone

from monitoring.connectors import base, boundary
from monitoring.platforms import Platform
from monitoring.text import html_to_text

ACCEPT = (
    "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)

# split() turns each entry into a plain dict and adds the feed-level facts an entry needs
# (title, language, dates) under this key, so parse_item() works on one entry alone.
FEED_KEY = "calmaFeed"

_BOMS = ("\ufeff", "\ufffe")
_HTML_STARTS = (b"<!doctype html", b"<html")
# Hosts and paths of click-tracking redirects whose "url" parameter is the article.
_REDIRECTS = {
    "google.com": "/url",
    "www.google.com": "/url",
    "news.google.com": "/url",
    "www.bing.com": "/news/apiclick.aspx",
    "bing.com": "/news/apiclick.aspx",
}


# --- parsing ------------------------------------------------------------------------------
def split(payload: str | bytes) -> list[dict[str, Any]]:
    """The entries of one feed document, in order, as JSON-serialisable dicts."""
    return _split(payload)


def parse_item(item: Any) -> base.MentionIn:
    """One entry (a dict from split(), or a feedparser entry) to a mention."""
    if not isinstance(item, dict):
        raise base.MalformedItem(f"entry is not an object: {type(item).__name__}")
    entry = _jsonable(item)
    feed = entry.get(FEED_KEY) if isinstance(entry.get(FEED_KEY), dict) else {}

    url = _entry_url(entry)
    title = html_to_text(_str(entry.get("title")))
    body = html_to_text(_entry_body(entry))
    text = f"{title}\n\n{body}" if title and body and title != body else title or body
    if not text:
        if not url:
            raise base.MalformedItem("entry has no title, no content and no link")
        text = url

    external_id = _str(entry.get("id")).strip() or url
    if not external_id:
        digest = hashlib.sha256(f"{title}\n{url}".encode()).hexdigest()
        external_id = f"sha256:{digest}"

    return base.MentionIn(
        platform=Platform.FEED.value,
        external_id=external_id,
        url=url,
        text=text,
        published_at=_published_at(entry, feed),
        author=_author(entry, feed, url),
        language=_language(entry, feed),
        engagement=_engagement(entry),
        raw=entry,
    )


def parse(payload: str | bytes) -> list[base.MentionIn]:
    return [parse_item(item) for item in split(payload)]


def _split(payload: str | bytes, content_type: str = "") -> list[dict[str, Any]]:
    data = _clean(payload)
    if not data:
        raise base.MalformedPayload("empty feed body")
    if data[:15].lower().startswith(_HTML_STARTS):
        raise base.MalformedPayload("body is an HTML page, not a feed")
    headers = {}
    if isinstance(payload, str):
        # The text was already decoded; say so, or feedparser would trust the XML declaration.
        headers["content-type"] = "application/xml; charset=utf-8"
    elif content_type:
        headers["content-type"] = content_type
    # A stream, never a str: feedparser.parse() would fetch a str that looks like a URL.
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
    entries = parsed.get("entries") or []
    feed = parsed.get("feed") or {}
    # A feed, even an empty one, has a version (rss20, atom10…); HTML and junk do not.
    looks_like_feed = parsed.get("version") and not (parsed.get("bozo") and not feed.get("title"))
    if not entries and not looks_like_feed:
        reason = parsed.get("bozo_exception") or "no feed elements"
        raise base.MalformedPayload(f"body is not an RSS or Atom feed ({reason})")
    context = {
        "title": _str(feed.get("title")),
        "link": _str(feed.get("link")),
        "language": _str(feed.get("language")),
        "updated": _jsonable(feed.get("updated_parsed")) or _str(feed.get("updated")),
        "published": _jsonable(feed.get("published_parsed")) or _str(feed.get("published")),
    }
    return [{**_jsonable(entry), FEED_KEY: context} for entry in entries]


def _clean(payload: str | bytes) -> bytes:
    """The document as bytes, without the BOM and blank lines some servers put before <?xml."""
    if isinstance(payload, str):
        text = payload
        while text[:1] in _BOMS or text[:1].isspace():
            text = text.lstrip().lstrip("".join(_BOMS))
        return text.encode("utf-8")
    if isinstance(payload, bytes | bytearray):
        data = bytes(payload)
        while data.startswith(b"\xef\xbb\xbf") or data[:1].isspace():
            data = data.removeprefix(b"\xef\xbb\xbf").lstrip()
        return data
    raise base.MalformedPayload(f"feed body must be text, got {type(payload).__name__}")


def _jsonable(value: Any) -> Any:
    """feedparser's dicts, lists and time.struct_time as plain JSON values (ISO strings)."""
    if isinstance(value, time.struct_time):
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC).isoformat()
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _entry_url(entry: dict[str, Any]) -> str:
    """The first http(s) link of <link>, the alternate Atom hrefs, then an http(s) guid.

    A ``javascript:`` or ``data:`` link is passed over (the boundary would drop it anyway),
    so a safe alternate still makes the entry clickable.
    """
    candidates = [_str(entry.get("link"))]
    for candidate in entry.get("links") or []:
        if isinstance(candidate, dict) and candidate.get("rel", "alternate") == "alternate":
            candidates.append(_str(candidate.get("href")))
    candidates.append(_str(entry.get("id")))
    for link in candidates:
        if boundary.is_http_url(link):
            return unwrap_redirect(link.strip())
    return ""


def unwrap_redirect(url: str) -> str:
    """Google Alerts links go through https://www.google.com/url?…&url=<article>; undo that."""
    parts = urlsplit(url)
    if parts.hostname and _REDIRECTS.get(parts.hostname.lower()) == parts.path.lower():
        query = parse_qs(parts.query)
        for key in ("url", "q"):
            target = (query.get(key) or [""])[0]
            if target.startswith(("http://", "https://")):
                return target
    return url


def _entry_body(entry: dict[str, Any]) -> str:
    # content:encoded / Atom content is the full text; summary/description is often a teaser.
    for content in entry.get("content") or []:
        if isinstance(content, dict) and _str(content.get("value")).strip():
            return content["value"]
    return _str(entry.get("summary"))


def _published_at(entry: dict[str, Any], feed: dict[str, Any]) -> datetime:
    candidates = (
        entry.get("published_parsed"),
        entry.get("published"),
        entry.get("updated_parsed"),
        entry.get("updated"),
        entry.get("created_parsed"),
        feed.get("updated"),
        feed.get("published"),
    )
    for value in candidates:
        if not value:
            continue
        try:
            return base.parse_datetime(value).astimezone(UTC)
        except (base.MalformedItem, ValueError, OverflowError):
            continue
    # An undated entry still happened; "when we saw it" beats dropping it.
    return timezone.now()


def _author(entry: dict[str, Any], feed: dict[str, Any], url: str) -> base.AuthorIn:
    detail = entry.get("author_detail") if isinstance(entry.get("author_detail"), dict) else {}
    name = (_str(detail.get("name")) or _str(entry.get("author"))).strip()
    if name:
        return base.AuthorIn(handle=name, display_name=name, url=_str(detail.get("href")))
    # No byline (Google Alerts, most news sites): the site that published it is the author.
    source = entry.get("source") if isinstance(entry.get("source"), dict) else {}
    site_link = url or _str(feed.get("link"))
    if _is_aggregator(site_link) and _domain(_str(source.get("href"))):
        # Google News links stay on news.google.com; its <source url> names the publisher.
        site_link = _str(source.get("href"))
    site = _domain(site_link)
    display_name = _str(source.get("title")).strip() or _str(feed.get("title")).strip() or site
    site_url = ""
    if site:
        parts = urlsplit(site_link)
        site_url = f"{parts.scheme}://{parts.netloc}"
    return base.AuthorIn(
        handle=site or display_name or "unknown", display_name=display_name, url=site_url
    )


def _is_aggregator(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == "google.com" or host.endswith((".google.com", ".bing.com")) or host == "bing.com"


def _domain(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _language(entry: dict[str, Any], feed: dict[str, Any]) -> str:
    stated = [
        _str(entry.get("language")),
        *(_str(detail.get("language")) for detail in _details(entry)),
        _str(feed.get("language")),
    ]
    for value in stated:
        code = value.strip()[:2].lower()
        if len(code) == 2 and code.isalpha():
            return code
    return ""


def _details(entry: dict[str, Any]) -> list[dict[str, Any]]:
    details = [entry.get("title_detail"), entry.get("summary_detail")]
    details.extend(entry.get("content") or [])
    return [detail for detail in details if isinstance(detail, dict)]


def _engagement(entry: dict[str, Any]) -> dict[str, int]:
    comments = _str(entry.get("slash_comments")).strip()  # WordPress <slash:comments>
    return {"replies": int(comments)} if comments.isdigit() else {}


# --- fetching -----------------------------------------------------------------------------
# An undefined entity (&nbsp; in a title, common on real sites) is an XML error too, but
# feedparser's lenient pass still reads the whole document, so it is not a reason to refuse.
_TOLERATED_XML_ERRORS = ("undefined entity",)


def refuse_broken_xml(payload: bytes, content_type: str = "") -> None:
    """MalformedPayload when the body is not well-formed XML (cut short, tags that do not
    match). feedparser would still return the entries before the break, one of them perhaps
    under a made-up id, and keeping the body's ETag would mean the rest is never fetched."""
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(io.BytesIO(_clean(payload)), response_headers=headers)
    error = parsed.get("bozo_exception")
    if not parsed.get("bozo") or not isinstance(error, xml.sax.SAXParseException):
        return  # well-formed, or only an encoding remark (CharacterEncodingOverride)
    if error.getMessage() in _TOLERATED_XML_ERRORS:
        return
    raise base.MalformedPayload(
        f"feed is not well-formed XML: {error.getMessage()} "
        f"(line {error.getLineNumber()}, column {error.getColumnNumber()})"
    )


def fetch(
    source: base.SourceConfig, cursor: dict[str, Any], session: requests.Session | None = None
) -> base.Page:
    """Fetch the feed once, conditionally: an unchanged feed answers 304 and costs nothing."""
    url = source.query.strip()
    if not url.startswith(("http://", "https://")):
        raise base.PermanentError(f"feed URL must be http(s): {url!r}")
    headers = {"Accept": ACCEPT}
    if cursor.get("etag"):
        headers["If-None-Match"] = str(cursor["etag"])
    if cursor.get("modified"):
        headers["If-Modified-Since"] = str(cursor["modified"])
    response = base.get(url, headers=headers, session=session, timeout=source.timeout_seconds)
    if response.status_code == 304:
        return base.Page([], dict(cursor))
    content_type = response.headers.get("Content-Type", "")
    items = _split(response.content, content_type)
    # Refused whole, and the cursor (ETag, Last-Modified) stays as it was: the next poll
    # fetches the whole feed again.
    refuse_broken_xml(response.content, content_type)
    mentions, quarantined = base.split_good_and_bad(items, parse_item)
    next_cursor: dict[str, Any] = {}
    if response.headers.get("ETag"):
        next_cursor["etag"] = response.headers["ETag"]
    if response.headers.get("Last-Modified"):
        next_cursor["modified"] = response.headers["Last-Modified"]
    return base.Page(mentions, next_cursor, quarantined, has_more=False)
