"""Reddit connector: listings of posts (t3) and comments (t1) to mentions, and polling them."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

import requests

from monitoring.connectors import base, writing
from monitoring.platforms import Platform, QueryKind

PLATFORM = Platform.REDDIT.value
PUBLIC_BASE_URL = "https://www.reddit.com"
OAUTH_BASE_URL = "https://oauth.reddit.com"
WEB_ROOT = "https://www.reddit.com"
MAX_LIMIT = 100  # listings cap limit at 100
# After this many empty polls in a row with a `before`, assume that post was deleted:
# Reddit answers "nothing newer" for a vanished anchor forever, so start over from the top.
MAX_EMPTY_POLLS = 12
_POST_KINDS = ("t3", "t1")


# --- parsing ------------------------------------------------------------------------------
def split(payload: Any) -> list:
    """The posts and comments of one decoded body, in the order served.

    Reads a Listing, a list of Listings (a comments page: the post, then its comment
    tree, flattened depth first through each comment's ``replies``), a morechildren answer
    (``{"json": {"data": {"things": [...]}}}``) and a single thing. ``more`` stubs (links
    to comments not sent) and non-post things (accounts, subreddits, messages) are left
    out. Each comment is emitted without its nested replies, which are items of their own.
    """
    items: list = []
    _collect(payload, items, top=True)
    return items


def parse_item(item: Any) -> base.MentionIn:
    """One t3 (post) or t1 (comment) thing to a mention."""
    kind, data = _kind_and_data(item)
    name = base.text_or_empty(data.get("name"))
    if not name and base.text_or_empty(data.get("id")):
        name = f"{kind}_{data['id']}"
    if not name:
        raise base.MalformedItem(f"{kind} has neither name nor id")
    # Only created_utc: the older "created" is shifted by the server's zone (8 h in 2014).
    published_at = base.parse_datetime(data.get("created_utc"))
    author = base.text_or_empty(data.get("author")) or "[deleted]"
    if kind == "t3":
        title = html.unescape(base.text_or_empty(data.get("title")))
        selftext = html.unescape(base.text_or_empty(data.get("selftext")))
        text = f"{title}\n\n{selftext}" if selftext.strip() else title
        reply_to_id, thread_id = "", name
        engagement = {
            "score": base.count_or_none(data.get("score")),
            "comments": base.count_or_none(data.get("num_comments")),
        }
    else:
        text = html.unescape(base.text_or_empty(data.get("body")))
        reply_to_id = base.text_or_empty(data.get("parent_id"))
        thread_id = base.text_or_empty(data.get("link_id"))
        engagement = {"score": base.count_or_none(data.get("score"))}
    return base.MentionIn(
        platform=PLATFORM,
        external_id=name,
        url=_web_url(kind, name, data),
        text=text,
        published_at=published_at,
        author=base.AuthorIn(
            handle=author,
            followers=None,  # listings do not say; it would cost a request per author
            url="" if author in ("[deleted]", "[removed]") else f"{WEB_ROOT}/user/{author}/",
        ),
        language="",  # Reddit does not state one; ingest detects it
        reply_to_id=reply_to_id,
        thread_id=thread_id,
        engagement={key: value for key, value in engagement.items() if value is not None},
        raw=item,
    )


def parse(payload: Any) -> list[base.MentionIn]:
    return [parse_item(item) for item in split(payload)]


# --- fetching -----------------------------------------------------------------------------
def fetch(
    source: base.SourceConfig, cursor: dict, session: requests.Session | None = None
) -> base.Page:
    """One GET: the newest posts of a search or subreddit, newer than ``cursor["before"]``."""
    cursor = dict(cursor or {})
    query = (source.query or "").strip()
    if not query:
        raise base.PermanentError("a Reddit source needs a query")
    token = (source.credentials or {}).get("access_token")
    root = (source.base_url or (OAUTH_BASE_URL if token else PUBLIC_BASE_URL)).strip().rstrip("/")
    limit = max(1, min(source.page_size or MAX_LIMIT, MAX_LIMIT))
    params: dict[str, Any] = {"limit": limit, "raw_json": 1}
    if source.kind == QueryKind.SEARCH:
        url = f"{root}/search.json"
        params.update({"q": query, "sort": "new"})
    elif source.kind == QueryKind.SUBREDDIT:
        subreddit = query.strip("/").removeprefix("r/").strip("/")
        url = f"{root}/r/{quote(subreddit, safe='')}/new.json"
    else:
        raise base.PermanentError(f"Reddit cannot poll a {source.kind!r} source")
    if cursor.get("before"):
        params["before"] = cursor["before"]
    headers = {"Authorization": f"bearer {token}"} if token else {}

    response = base.get(
        url, params=params, headers=headers, session=session, timeout=source.timeout_seconds
    )
    items = split(base.decode_json(response))
    mentions, quarantined = base.split_good_and_bad(items, parse_item)

    newest = _position(cursor.get("before"), cursor.get("before_created_utc"))
    for item in items:
        try:
            kind, data = _kind_and_data(item)
        except base.MalformedItem:
            continue
        position = _position(
            base.text_or_empty(data.get("name")) or f"{kind}_{base.text_or_empty(data.get('id'))}",
            data.get("created_utc"),
        )
        if position and (newest is None or position[0] > newest[0]):
            newest = position
    if newest:
        cursor["before"], cursor["before_created_utc"] = newest[1], newest[0][0]
    if items:
        cursor.pop("empty_polls", None)
    elif cursor.get("before"):
        cursor["empty_polls"] = int(cursor.get("empty_polls") or 0) + 1
        if cursor["empty_polls"] >= MAX_EMPTY_POLLS:
            for key in ("before", "before_created_utc", "empty_polls"):
                cursor.pop(key, None)
    return base.Page(
        mentions=mentions,
        next_cursor=cursor,
        quarantined=quarantined,
        has_more=len(items) >= limit,
    )


# --- helpers ------------------------------------------------------------------------------
def _collect(node: Any, items: list, top: bool = False) -> None:
    if isinstance(node, list):
        for element in node:
            _collect(element, items)
        return
    if not isinstance(node, dict):
        if top:
            raise base.MalformedPayload(f"not a Reddit listing: {type(node).__name__}")
        items.append(node)  # parse_item will say what is wrong with it
        return
    kind = node.get("kind")
    data = node.get("data")
    if kind == "Listing":
        if not isinstance(data, dict) or not isinstance(data.get("children") or [], list):
            raise base.MalformedPayload("a Reddit listing without a list of children")
        for child in data.get("children") or []:
            _collect(child, items)
        return
    if isinstance(node.get("json"), dict):  # /api/morechildren
        things = (node["json"].get("data") or {}).get("things")
        _collect(things if isinstance(things, list) else [], items)
        return
    if kind in _POST_KINDS and isinstance(data, dict):
        replies = data.get("replies")
        if isinstance(replies, dict | list) and replies:
            items.append({**node, "data": {**data, "replies": ""}})
            _collect(replies, items)
        else:
            items.append(node)
        return
    if isinstance(kind, str) and kind and kind not in _POST_KINDS:
        return  # "more" stubs, accounts (t2), messages (t4), subreddits (t5), awards (t6)
    if top:
        raise base.MalformedPayload("not a Reddit listing, comments page or thing")
    items.append(node)


def _kind_and_data(item: Any) -> tuple[str, dict]:
    if not isinstance(item, dict):
        raise base.MalformedItem(f"thing is not a JSON object but {type(item).__name__}")
    data = item.get("data") if isinstance(item.get("data"), dict) else None
    kind = base.text_or_empty(item.get("kind"))
    if data is None and ("name" in item or "created_utc" in item):
        data = item  # a bare thing's data, as some clients store it
    if data is None:
        raise base.MalformedItem("thing has no data")
    if not kind:
        kind = base.text_or_empty(data.get("name"))[:2]
    if kind not in _POST_KINDS:
        raise base.MalformedItem(f"thing of kind {kind!r} is neither a post nor a comment")
    return kind, data


def _web_url(kind: str, name: str, data: dict) -> str:
    permalink = base.text_or_empty(data.get("permalink"))
    if permalink.startswith("http"):
        return permalink
    if permalink:
        return WEB_ROOT + "/" + permalink.lstrip("/")
    # Comments served before 2016 carry no permalink; Reddit resolves this form.
    subreddit = base.text_or_empty(data.get("subreddit"))
    prefix = f"{WEB_ROOT}/r/{subreddit}" if subreddit else WEB_ROOT
    if kind == "t1":
        link = base.text_or_empty(data.get("link_id")).removeprefix("t3_")
        return f"{prefix}/comments/{link}/_/{name.removeprefix('t1_')}/"
    return f"{prefix}/comments/{name.removeprefix('t3_')}/"


def _position(name: Any, created_utc: Any) -> tuple[tuple[float, int], str] | None:
    """Sort key (creation time, then base-36 id) and fullname of a thing, if both are known."""
    name = base.text_or_empty(name)
    if not name or "_" not in name or isinstance(created_utc, bool):
        return None
    try:
        created = float(created_utc)
        sequence = int(name.split("_", 1)[1], 36)
    except (TypeError, ValueError):
        return None
    return (created, sequence), name


# --- writing (replies as the brand; see writing.py) -----------------------------------------
def post_reply(
    account: writing.AccountConfig,
    target: writing.Target,
    text: str,
    *,
    idempotency_key: str,
    session: requests.Session | None = None,
) -> writing.Posted:
    """POST /api/comment under the post (t3) or comment (t1); Reddit has no idempotency key,
    so a retry calls find_own_reply first."""
    body = _write(
        account,
        "/api/comment",
        {"api_type": "json", "thing_id": _fullname(target), "text": text},
        session,
    )
    return _posted_thing(body)


def find_own_reply(
    account: writing.AccountConfig,
    target: writing.Target,
    *,
    text: str,
    session: requests.Session | None = None,
) -> writing.Posted | None:
    """Our direct reply with this text, from GET /comments/<article>?comment=<id> (newest first)."""
    fullname = _fullname(target)
    article = _article(target)
    params: dict[str, Any] = {"raw_json": 1, "sort": "new", "limit": 500}
    if fullname.startswith("t1_"):
        params.update({"comment": fullname.removeprefix("t1_"), "depth": 2})
    else:
        params["depth"] = 1
    answer = writing.call(
        "GET",
        f"{_write_root(account)}/comments/{quote(article, safe='')}",
        params=params,
        headers=_write_headers(account),
        session=session,
    )
    try:
        items = split(answer.body)
    except base.MalformedPayload as error:
        raise base.TransientError(f"unreadable Reddit comments page: {error}") from error
    for item in items:
        if not isinstance(item, dict) or item.get("kind") != "t1":
            continue
        data = item.get("data") if isinstance(item.get("data"), dict) else {}
        if (
            base.text_or_empty(data.get("parent_id")) == fullname
            and writing.same_handle(base.text_or_empty(data.get("author")), account.handle)
            and writing.same_text(html.unescape(base.text_or_empty(data.get("body"))), text)
        ):
            return _posted_thing({"json": {"errors": [], "data": {"things": [item]}}})
    return None


def edit_reply(
    account: writing.AccountConfig,
    external_id: str,
    text: str,
    *,
    session: requests.Session | None = None,
) -> writing.Posted:
    """POST /api/editusertext."""
    body = _write(
        account,
        "/api/editusertext",
        {"api_type": "json", "thing_id": external_id, "text": text},
        session,
    )
    return _posted_thing(body)


def delete_reply(
    account: writing.AccountConfig, external_id: str, *, session: requests.Session | None = None
) -> None:
    """POST /api/del (Reddit answers {} whether or not it was there)."""
    _write(account, "/api/del", {"id": external_id}, session)


def hide_mention(
    account: writing.AccountConfig,
    target: writing.Target,
    *,
    session: requests.Session | None = None,
) -> None:
    """POST /api/remove as a moderator of the mention's subreddit (not spam: reversible)."""
    _moderate(account, target, "/api/remove", {"id": _fullname(target), "spam": "false"}, session)


def unhide_mention(
    account: writing.AccountConfig,
    target: writing.Target,
    *,
    session: requests.Session | None = None,
) -> None:
    """POST /api/approve: the removed post or comment shows again."""
    _moderate(account, target, "/api/approve", {"id": _fullname(target)}, session)


def _moderate(
    account: writing.AccountConfig,
    target: writing.Target,
    path: str,
    form: dict[str, str],
    session: requests.Session | None,
) -> None:
    try:
        _write(account, path, form, session)
    except writing.Refused as error:
        if error.status != 403:
            raise
        data = target.raw.get("data") if isinstance(target.raw.get("data"), dict) else {}
        subreddit = base.text_or_empty(data.get("subreddit")) or "its subreddit"
        raise writing.Unsupported(
            PLATFORM,
            writing.HIDE if path == "/api/remove" else writing.UNHIDE,
            f"Reddit refused: {account.handle} is not a moderator of r/{subreddit}; ask its "
            "moderators (or report the post) and mark the request done by hand.",
        ) from error


def _write(
    account: writing.AccountConfig,
    path: str,
    form: dict[str, Any],
    session: requests.Session | None,
) -> Any:
    body = writing.call(
        "POST",
        f"{_write_root(account)}{path}",
        form=form,
        headers=_write_headers(account),
        session=session,
    ).body
    errors = body.get("json", {}).get("errors") if isinstance(body, dict) else None
    if isinstance(body, dict) and isinstance(body.get("json"), dict) and errors:
        _raise_api_errors(errors, path)
    return body


def _raise_api_errors(errors: list, path: str) -> None:
    """Reddit answers 200 with {"json": {"errors": [[code, message, field], ...]}}."""
    described = []
    for entry in errors:
        parts = [base.text_or_empty(part) for part in entry] if isinstance(entry, list) else []
        code = parts[0] if parts else ""
        message = parts[1] if len(parts) > 1 else ""
        if code == "RATELIMIT":
            raise base.RateLimited(f"Reddit: {message[:200]}", _ratelimit_seconds(message))
        described.append(f"{code}: {message}"[:200])
    raise writing.Refused(
        f"Reddit refused {path}: {'; '.join(described) or 'unknown error'}",
        status=200,
        code=described[0].split(":", 1)[0] if described else "",
    )


def _ratelimit_seconds(message: str) -> float:
    """ "you are doing that too much. try again in 3 minutes." → 180."""
    match = re.search(r"(\d+)\s*(second|minute|hour)", message)
    if not match:
        return 60.0
    return float(match.group(1)) * {"second": 1, "minute": 60, "hour": 3600}[match.group(2)]


def _posted_thing(body: Any) -> writing.Posted:
    things = []
    if isinstance(body, dict) and isinstance(body.get("json"), dict):
        things = (body["json"].get("data") or {}).get("things") or []
    thing = things[0] if things and isinstance(things[0], dict) else {}
    data = thing.get("data") if isinstance(thing.get("data"), dict) else {}
    name = base.text_or_empty(data.get("name")) or (
        f"t1_{data['id']}" if base.text_or_empty(data.get("id")) else ""
    )
    if not name:
        raise base.TransientError("Reddit accepted the comment but answered no thing")
    return writing.posted(name, _web_url("t1", name, data))


def _fullname(target: writing.Target) -> str:
    """The thing_id of the mention: its fullname (t3_… post, t1_… comment)."""
    if target.external_id.startswith(("t1_", "t3_")):
        return target.external_id
    data = target.raw.get("data") if isinstance(target.raw.get("data"), dict) else {}
    name = base.text_or_empty(data.get("name"))
    if name.startswith(("t1_", "t3_")):
        return name
    raise base.PermanentError(f"not a Reddit post or comment id: {target.external_id[:100]!r}")


def _article(target: writing.Target) -> str:
    fullname = _fullname(target)
    if fullname.startswith("t3_"):
        return fullname.removeprefix("t3_")
    data = target.raw.get("data") if isinstance(target.raw.get("data"), dict) else {}
    link = target.thread_id or base.text_or_empty(data.get("link_id"))
    if not link.startswith("t3_"):
        raise base.PermanentError(f"the Reddit comment {fullname} names no post it belongs to")
    return link.removeprefix("t3_")


def _write_root(account: writing.AccountConfig) -> str:
    return (account.base_url or OAUTH_BASE_URL).strip().rstrip("/")


def _write_headers(account: writing.AccountConfig) -> dict[str, str]:
    return {"Authorization": f"bearer {account.credentials.get('access_token', '')}"}
