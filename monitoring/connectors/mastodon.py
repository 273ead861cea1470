"""Mastodon connector: statuses from any Mastodon-API instance to mentions, and polling them."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import requests

from monitoring.connectors import base, boundary, writing
from monitoring.platforms import Platform, QueryKind
from monitoring.text import html_to_text

PLATFORM = Platform.MASTODON.value
MAX_LIMIT = 40  # the API caps every timeline and search page at 40


# --- parsing ------------------------------------------------------------------------------
def split(payload: Any) -> list:
    """The statuses of one decoded body, in the order served.

    Reads a list of Status (tag, public, home, list and account timelines), a v2 search
    result (only its ``statuses``; accounts and hashtags are not posts), a context
    (``ancestors`` then ``descendants``), a single Status, notifications and conversations
    (their ``status`` / ``last_status``). A notification or conversation without a status
    (a follow, a favourite of nothing we can see) carries no post and is left out.
    """
    if isinstance(payload, list):
        items: list = []
        for element in payload:
            items.extend(_statuses_in_element(element))
        return items
    if isinstance(payload, dict):
        if isinstance(payload.get("statuses"), list):  # v1/v2 search, grouped notifications
            return list(payload["statuses"])
        if "ancestors" in payload or "descendants" in payload:
            return list(payload.get("ancestors") or []) + list(payload.get("descendants") or [])
        if _looks_like_status(payload):
            return [payload]
        if {"status", "last_status", "type"} & payload.keys():  # one notification/conversation
            return _statuses_in_element(payload)
    raise base.MalformedPayload(
        f"not a Mastodon status list, search or context: {base.describe_shape(payload)}"
    )


def parse_item(item: Any) -> base.MentionIn:
    """One Status to a mention; a boost becomes the boosted post (who boosted stays in raw).

    A boost (``reblog`` set) is recorded under the boosted status's id, text, author and
    counts, so the same post boosted by many people, or seen both boosted and directly,
    is one mention; the booster remains visible in ``raw``.
    """
    if not isinstance(item, dict):
        raise base.MalformedItem(f"status is not a JSON object but {type(item).__name__}")
    status = item["reblog"] if isinstance(item.get("reblog"), dict) else item
    status_id = base.text_or_empty(status.get("id"))
    if not status_id:
        raise base.MalformedItem("status has no id")
    links = [base.text_or_empty(status.get("url")), base.text_or_empty(status.get("uri"))]
    if not any(links):
        raise base.MalformedItem(f"status {status_id} has neither url nor uri")
    # A javascript: or data: url is passed over for an http(s) uri; with neither the status
    # is kept without a link.
    url = next((link for link in links if boundary.is_http_url(link)), "")
    published_at = base.parse_datetime(status.get("created_at"))
    account = status.get("account")
    if not isinstance(account, dict):
        raise base.MalformedItem(f"status {status_id} has no account")
    handle = base.text_or_empty(account.get("acct")) or base.text_or_empty(account.get("username"))
    if not handle:
        raise base.MalformedItem(f"status {status_id} has an account without acct or username")
    reply_to_id = base.text_or_empty(status.get("in_reply_to_id"))
    return base.MentionIn(
        platform=PLATFORM,
        external_id=status_id,
        url=url,
        text=_status_text(status),
        published_at=published_at,
        author=base.AuthorIn(
            handle=handle,
            display_name=base.text_or_empty(account.get("display_name")),
            followers=base.followers_or_none(account.get("followers_count")),
            # Mastodon has no blue tick; a link the server verified (rel=me) is the
            # closest thing to an identity check it offers.
            verified=any(
                isinstance(field, dict) and field.get("verified_at")
                for field in account.get("fields") or []
            ),
            url=base.text_or_empty(account.get("url")),
        ),
        language=base.iso639_1(status.get("language")),
        reply_to_id=reply_to_id,
        # The API names no thread root; a post that replies to nothing is its own root.
        thread_id="" if reply_to_id else status_id,
        engagement=_engagement(status),
        raw=item,
    )


def parse(payload: Any) -> list[base.MentionIn]:
    return [parse_item(item) for item in split(payload)]


# --- fetching -----------------------------------------------------------------------------
def fetch(
    source: base.SourceConfig, cursor: dict, session: requests.Session | None = None
) -> base.Page:
    """One GET: the page of statuses just newer than ``cursor["min_id"]``.

    An account source first resolves the handle to an id (one GET, stored in the cursor,
    ``has_more`` so the poller asks again at once) and reads that account's statuses after.
    """
    cursor = dict(cursor or {})
    root = _instance_root(source.base_url)
    query = (source.query or "").strip()
    if not query:
        raise base.PermanentError("a Mastodon source needs a query")
    headers = base.bearer_headers(source)
    limit = max(1, min(source.page_size or MAX_LIMIT, MAX_LIMIT))
    params: dict[str, Any] = {"limit": limit}
    if cursor.get("min_id"):
        params["min_id"] = cursor["min_id"]

    if source.kind == QueryKind.HASHTAG:
        url = f"{root}/api/v1/timelines/tag/{quote(query.lstrip('#'), safe='')}"
    elif source.kind == QueryKind.SEARCH:
        url = f"{root}/api/v2/search"
        params.update({"q": query, "type": "statuses", "resolve": "false"})
    elif source.kind == QueryKind.ACCOUNT:
        acct = query.lstrip("@")
        if not cursor.get("account_id") or cursor.get("acct") != acct:
            return _look_up_account(root, acct, cursor, headers, source, session)
        url = f"{root}/api/v1/accounts/{quote(str(cursor['account_id']), safe='')}/statuses"
    else:
        raise base.PermanentError(f"Mastodon cannot poll a {source.kind!r} source")

    response = base.get(
        url, params=params, headers=headers, session=session, timeout=source.timeout_seconds
    )
    items = split(base.decode_json(response))
    mentions, quarantined = base.split_good_and_bad(items, parse_item)
    newest = cursor.get("min_id")
    for item in items:
        # The position in the timeline is the id of what was served (a boost's own id),
        # not the boosted status's, which may be years older.
        item_id = base.text_or_empty(item.get("id")) if isinstance(item, dict) else ""
        if item_id and (not newest or _is_newer(item_id, str(newest))):
            newest = item_id
    if newest:
        cursor["min_id"] = newest
    return base.Page(
        mentions=mentions,
        next_cursor=cursor,
        quarantined=quarantined,
        has_more=len(items) >= limit,
    )


def _look_up_account(
    root: str,
    acct: str,
    cursor: dict,
    headers: dict[str, str],
    source: base.SourceConfig,
    session: requests.Session | None,
) -> base.Page:
    response = base.get(
        f"{root}/api/v1/accounts/lookup",
        params={"acct": acct},
        headers=headers,
        session=session,
        timeout=source.timeout_seconds,
    )
    account = base.decode_json(response)
    account_id = base.text_or_empty(account.get("id")) if isinstance(account, dict) else ""
    if not account_id:
        raise base.MalformedPayload(f"account lookup for {acct!r} returned no id")
    # A new account means the old position no longer applies.
    cursor.pop("min_id", None)
    cursor.update({"account_id": account_id, "acct": acct})
    return base.Page(mentions=[], next_cursor=cursor, has_more=True)


# --- helpers ------------------------------------------------------------------------------
def _statuses_in_element(element: Any) -> list:
    if isinstance(element, dict) and not _looks_like_status(element):
        if "status" in element or ("type" in element and "account" in element):
            # A notification; a follow or an admin notice has no status at all.
            status = element.get("status")
            return [status] if status is not None else []
        if "last_status" in element:  # a conversation
            status = element["last_status"]
            return [status] if status is not None else []
    # Anything else is kept so that parse_item can say what is wrong with it.
    return [element]


def _looks_like_status(value: dict) -> bool:
    return "id" in value and ("content" in value or "uri" in value or "reblog" in value)


def _status_text(status: dict) -> str:
    # A deleted status comes back with its plain source in "text" instead of "content".
    body = html_to_text(status.get("content")) or base.text_or_empty(status.get("text"))
    spoiler = base.text_or_empty(status.get("spoiler_text")).strip()
    return f"{spoiler}\n\n{body}" if spoiler and body else spoiler or body


def _engagement(status: dict) -> dict[str, int]:
    counts = {
        "likes": base.count_or_none(status.get("favourites_count")),
        "reposts": base.count_or_none(status.get("reblogs_count")),
        "replies": base.count_or_none(status.get("replies_count")),
        "quotes": base.count_or_none(status.get("quotes_count")),
    }
    return {name: value for name, value in counts.items() if value is not None}


def _is_newer(candidate: str, current: str) -> bool:
    # Mastodon ids are integers as strings (compare as numbers, "99" < "100"); other
    # servers of the API use sortable strings (ULIDs, flake ids) of a fixed length.
    if candidate.isdigit() and current.isdigit():
        return int(candidate) > int(current)
    return (len(candidate), candidate) > (len(current), current)


def _instance_root(base_url: str) -> str:
    root = (base_url or "").strip().rstrip("/")
    if not root:
        raise base.PermanentError("a Mastodon source needs the instance URL (base_url)")
    return root if "://" in root else f"https://{root}"


# --- writing (replies as the brand; see writing.py) -----------------------------------------
def post_reply(
    account: writing.AccountConfig,
    target: writing.Target,
    text: str,
    *,
    idempotency_key: str,
    session: requests.Session | None = None,
) -> writing.Posted:
    """POST /api/v1/statuses in reply to the mention, public, with an Idempotency-Key: the
    instance answers a repeated key with the status it already made, never a second one.

    The reply starts by mentioning the author (as Mastodon's own clients do) unless the text
    already does, so the person answered is notified.
    """
    acct = _mentioned_acct(target)
    if acct and not re.search(rf"(?<![\w@])@{re.escape(acct)}(?![\w@.])", text, re.IGNORECASE):
        text = f"@{acct} {text}"
    answer = writing.call(
        "POST",
        f"{_instance_root(account.base_url)}/api/v1/statuses",
        json_body={"status": text, "in_reply_to_id": target.external_id, "visibility": "public"},
        headers={**_write_headers(account), "Idempotency-Key": idempotency_key[:255]},
        session=session,
    )
    return _posted_status(answer.body)


def post_status(
    account: writing.AccountConfig,
    text: str,
    *,
    idempotency_key: str,
    session: requests.Session | None = None,
) -> writing.Posted:
    """POST /api/v1/statuses without in_reply_to_id: a public top-level status of the account
    (a crisis statement), with an Idempotency-Key so a retry answers the same status."""
    answer = writing.call(
        "POST",
        f"{_instance_root(account.base_url)}/api/v1/statuses",
        json_body={"status": text, "visibility": "public"},
        headers={**_write_headers(account), "Idempotency-Key": idempotency_key[:255]},
        session=session,
    )
    return _posted_status(answer.body)


def find_own_reply(
    account: writing.AccountConfig,
    target: writing.Target,
    *,
    text: str,
    session: requests.Session | None = None,
) -> writing.Posted | None:
    """Our direct reply to the mention with this text, from GET /api/v1/statuses/:id/context."""
    answer = writing.call(
        "GET",
        f"{_instance_root(account.base_url)}/api/v1/statuses/"
        f"{quote(target.external_id, safe='')}/context",
        headers=_write_headers(account),
        session=session,
    )
    body = answer.body if isinstance(answer.body, dict) else {}
    for status in body.get("descendants") or []:
        if not isinstance(status, dict):
            continue
        if base.text_or_empty(status.get("in_reply_to_id")) != target.external_id:
            continue
        author = status.get("account") if isinstance(status.get("account"), dict) else {}
        if not writing.same_handle(base.text_or_empty(author.get("acct")), account.handle):
            continue
        if writing.same_text(_status_text(status), text):
            return _posted_status(status)
    return None


def edit_reply(
    account: writing.AccountConfig,
    external_id: str,
    text: str,
    *,
    session: requests.Session | None = None,
) -> writing.Posted:
    """PUT /api/v1/statuses/:id, keeping the mentions the reply opened with (an edit re-reads
    mentions, and the person answered should stay addressed)."""
    root = _instance_root(account.base_url)
    url = f"{root}/api/v1/statuses/{quote(external_id, safe='')}"
    current = writing.call("GET", url, headers=_write_headers(account), session=session).body
    opening = writing.leading_mentions(_status_text(current) if isinstance(current, dict) else "")
    if opening and not writing.leading_mentions(text):
        text = f"{opening} {text}"
    answer = writing.call(
        "PUT", url, json_body={"status": text}, headers=_write_headers(account), session=session
    )
    return _posted_status(answer.body)


def delete_reply(
    account: writing.AccountConfig, external_id: str, *, session: requests.Session | None = None
) -> None:
    """DELETE /api/v1/statuses/:id; a status already gone (404) counts as deleted."""
    try:
        writing.call(
            "DELETE",
            f"{_instance_root(account.base_url)}/api/v1/statuses/{quote(external_id, safe='')}",
            headers=_write_headers(account),
            session=session,
        )
    except writing.Refused as error:
        if error.status != 404:
            raise


def _write_headers(account: writing.AccountConfig) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.credentials.get('access_token', '')}"}


def _mentioned_acct(target: writing.Target) -> str:
    raw = target.raw if isinstance(target.raw, dict) else {}
    status = raw["reblog"] if isinstance(raw.get("reblog"), dict) else raw
    author = status.get("account") if isinstance(status.get("account"), dict) else {}
    acct = base.text_or_empty(author.get("acct")) or base.text_or_empty(author.get("username"))
    acct = boundary.clean_text(acct).strip().lstrip("@")
    return acct if re.fullmatch(r"[\w.\-]+(@[\w.\-]+)?", acct) else ""


def _posted_status(status: Any) -> writing.Posted:
    if not isinstance(status, dict):
        raise base.TransientError("Mastodon accepted the status but answered no status")
    links = [base.text_or_empty(status.get("url")), base.text_or_empty(status.get("uri"))]
    url = next((link for link in links if boundary.is_http_url(link)), "")
    return writing.posted(status.get("id"), url)
