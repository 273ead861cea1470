"""Simulated posts rendered in the exact response formats of the real platform APIs."""

from __future__ import annotations

import base64
import copy
import email.utils
import hashlib
import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from monitoring.simulator.world import (
    GOOGLE_ALERTS,
    SimAuthor,
    SimPost,
    World,
    bluesky_cid,
    slugify,
    to_base36,
)


@dataclass(frozen=True, slots=True)
class Context:
    """What rendering needs besides the post: the world, the simulated now, where we are served."""

    world: World
    now: datetime
    base_url: str  # e.g. "http://127.0.0.1:8090", no trailing slash

    @property
    def mastodon_root(self) -> str:
        return f"{self.base_url}/mastodon"


def iso_millis(moment: datetime) -> str:
    """2025-03-10T08:30:00.123Z: Mastodon's and Bluesky's timestamps."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_seconds(moment: datetime) -> str:
    """2025-03-10T08:30:00Z: YouTube's and Atom's timestamps."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _stable_number(*parts: object, modulo: int) -> int:
    """A number derived from the parts, stable across runs (unlike hash())."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") % modulo


def _etag(*parts: object) -> str:
    digest = hashlib.sha1("|".join(map(str, parts)).encode()).digest()  # noqa: S324 - an etag
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:27]


def _html_escape(text: str) -> str:
    return html.escape(text).replace("&#x27;", "&#39;")


# --- Mastodon -----------------------------------------------------------------------------
# A hashtag or a mention not glued to a word, a URL path or an HTML entity (&#39;).
_MASTODON_TOKEN = re.compile(r"(?<![\w/#@&])([#@])(\w+)")
BRAND_MASTODON_ACCOUNTS = {
    "brisa": SimAuthor("brisa", "Brisa", 52_300, True, "109318512331094016"),
    "brisatelecom": SimAuthor("BrisaTelecom", "Brisa UK", 31_800, True, "109320177423540224"),
}


def _mastodon_author(ctx: Context, username: str) -> SimAuthor | None:
    return BRAND_MASTODON_ACCOUNTS.get(username.lower()) or ctx.world.author_named(
        "mastodon", username
    )


def mastodon_content(text: str, ctx: Context) -> tuple[str, list[dict], list[dict]]:
    """Status HTML as Mastodon renders it, with its mentions and tags entities."""
    root = ctx.mastodon_root
    mentions: dict[str, dict] = {}
    tags: dict[str, dict] = {}

    def link(match: re.Match[str]) -> str:
        sign, name = match.group(1), match.group(2)
        if sign == "#":
            url = f"{root}/tags/{name.lower()}"
            tags.setdefault(name.lower(), {"name": name.lower(), "url": url})
            return f'<a href="{url}" class="mention hashtag" rel="tag">#<span>{name}</span></a>'
        author = _mastodon_author(ctx, name)
        if author is None:
            return match.group(0)
        url = f"{root}/@{author.handle}"
        mentions.setdefault(
            author.account_id,
            {"id": author.account_id, "username": author.handle, "url": url, "acct": author.handle},
        )
        return (
            f'<span class="h-card" translate="no"><a href="{url}" class="u-url mention">'
            f"@<span>{author.handle}</span></a></span>"
        )

    paragraphs = [
        "<p>" + _MASTODON_TOKEN.sub(link, _html_escape(paragraph)).replace("\n", "<br />") + "</p>"
        for paragraph in re.split(r"\n{2,}", text.strip())
    ]
    return "".join(paragraphs), list(mentions.values()), list(tags.values())


def mastodon_account(author: SimAuthor, ctx: Context) -> dict[str, Any]:
    root = ctx.mastodon_root
    created = author.created_at or ctx.world.start
    fields: list[dict[str, Any]] = []
    if author.verified:
        site = f"{slugify(author.handle, '')}.example"
        fields.append(
            {
                "name": "Web",
                "value": f'<a href="https://{site}" target="_blank" rel="nofollow noopener me" '
                f'translate="no"><span class="invisible">https://</span><span class="">{site}'
                '</span><span class="invisible"></span></a>',
                "verified_at": iso_millis(created + timedelta(days=30)),
            }
        )
    return {
        "id": author.account_id,
        "username": author.handle,
        "acct": author.handle,
        "display_name": author.display_name,
        "locked": False,
        "bot": False,
        "discoverable": True,
        "indexable": True,
        "group": False,
        "created_at": iso_millis(created.replace(hour=0, minute=0, second=0, microsecond=0)),
        "note": "<p></p>",
        "url": f"{root}/@{author.handle}",
        "uri": f"{root}/users/{author.handle}",
        "avatar": f"{root}/avatars/original/missing.png",
        "avatar_static": f"{root}/avatars/original/missing.png",
        "header": f"{root}/headers/original/missing.png",
        "header_static": f"{root}/headers/original/missing.png",
        "followers_count": author.followers,
        "following_count": 20 + _stable_number(author.handle, "following", modulo=900),
        "statuses_count": 40 + _stable_number(author.handle, "statuses", modulo=6000),
        "last_status_at": ctx.now.date().isoformat(),
        "hide_collections": False,
        "emojis": [],
        "fields": fields,
    }


def mastodon_status(post: SimPost, ctx: Context) -> dict[str, Any]:
    root = ctx.mastodon_root
    parent = ctx.world.find(post.platform, post.reply_to) if post.reply_to else None
    content, mentions, tags = mastodon_content(post.text, ctx)
    return {
        "id": post.external_id,
        "created_at": iso_millis(post.published_at),
        "in_reply_to_id": parent.external_id if parent else None,
        "in_reply_to_account_id": parent.author.account_id if parent else None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": post.language,
        "uri": f"{root}/users/{post.author.handle}/statuses/{post.external_id}",
        "url": f"{root}/@{post.author.handle}/{post.external_id}",
        "replies_count": len(ctx.world.replies_to(post, ctx.now)),
        "reblogs_count": post.reposts,
        "favourites_count": post.likes,
        "edited_at": None,
        "content": content,
        "reblog": None,
        "account": mastodon_account(post.author, ctx),
        "media_attachments": [],
        "mentions": mentions,
        "tags": tags,
        "emojis": [],
        "card": None,
        "poll": None,
    }


def mastodon_search(statuses: list[dict]) -> dict[str, Any]:
    return {"accounts": [], "statuses": statuses, "hashtags": []}


# --- Bluesky ------------------------------------------------------------------------------
_BLUESKY_TAG = re.compile(r"(?<![\w#])#(\w+)")
_BLUESKY_MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+)", re.IGNORECASE)


def _byte_slice(text: str, start: int, end: int) -> dict[str, int]:
    return {"byteStart": len(text[:start].encode()), "byteEnd": len(text[:end].encode())}


def bluesky_facets(text: str, ctx: Context) -> list[dict[str, Any]]:
    """Rich-text facets (UTF-8 byte ranges) for mentions and hashtags, as the app writes them."""
    facets: list[tuple[int, dict[str, Any]]] = []
    for match in _BLUESKY_MENTION.finditer(text):
        author = ctx.world.author_named("bluesky", match.group(1))
        if author is not None:
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": author.account_id}
            facets.append(
                (
                    match.start(),
                    {
                        "$type": "app.bsky.richtext.facet",
                        "features": [feature],
                        "index": _byte_slice(text, match.start(), match.end()),
                    },
                )
            )
    for match in _BLUESKY_TAG.finditer(text):
        feature = {"$type": "app.bsky.richtext.facet#tag", "tag": match.group(1)}
        facets.append(
            (
                match.start(),
                {
                    "$type": "app.bsky.richtext.facet",
                    "features": [feature],
                    "index": _byte_slice(text, match.start(), match.end()),
                },
            )
        )
    return [facet for _, facet in sorted(facets, key=lambda pair: pair[0])]


def bluesky_cid_of(post: SimPost) -> str:
    return bluesky_cid(f"{post.external_id}\n{post.text}")


def bluesky_author(author: SimAuthor) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "did": author.account_id,
        "handle": author.handle,
        "displayName": author.display_name,
        "avatar": (
            f"https://cdn.bsky.app/img/avatar/plain/{author.account_id}/"
            f"{bluesky_cid(author.account_id)}@jpeg"
        ),
        "associated": {"chat": {"allowIncoming": "following"}},
        "labels": [],
        "createdAt": iso_millis(author.created_at) if author.created_at else None,
    }
    if author.verified:
        profile["verification"] = {
            "verifications": [
                {
                    "issuer": "did:plc:z72i7hdynmk6r22z27h6tvur",
                    "uri": f"at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.graph.verification/"
                    f"3l{_stable_number(author.handle, modulo=10**10):011d}",
                    "isValid": True,
                    "createdAt": iso_millis(author.created_at) if author.created_at else None,
                }
            ],
            "verifiedStatus": "valid",
            "trustedVerifierStatus": "none",
        }
    return profile


def bluesky_record(post: SimPost, ctx: Context) -> dict[str, Any]:
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "createdAt": iso_millis(post.published_at),
        "langs": [post.language],
        "text": post.text,
    }
    facets = bluesky_facets(post.text, ctx)
    if facets:
        record["facets"] = facets
    if post.reply_to:
        parent = ctx.world.find(post.platform, post.reply_to)
        root = ctx.world.find(post.platform, post.thread_id)
        if parent is not None and root is not None:
            record["reply"] = {
                "parent": {"cid": bluesky_cid_of(parent), "uri": parent.external_id},
                "root": {"cid": bluesky_cid_of(root), "uri": root.external_id},
            }
    if post.quote_of:
        quoted = ctx.world.find(post.platform, post.quote_of)
        if quoted is not None:
            record["embed"] = {
                "$type": "app.bsky.embed.record",
                "record": {"cid": bluesky_cid_of(quoted), "uri": quoted.external_id},
            }
    return record


def _bluesky_indexed_at(post: SimPost) -> str:
    # The AppView indexes a post a moment after its author's clock says it was written.
    delay = timedelta(milliseconds=50 + _stable_number(post.external_id, modulo=1500))
    return iso_millis(post.published_at + delay)


def bluesky_post(post: SimPost, ctx: Context) -> dict[str, Any]:
    view: dict[str, Any] = {
        "uri": post.external_id,
        "cid": bluesky_cid_of(post),
        "author": bluesky_author(post.author),
        "record": bluesky_record(post, ctx),
    }
    quoted = ctx.world.find(post.platform, post.quote_of) if post.quote_of else None
    if quoted is not None:
        view["embed"] = {
            "$type": "app.bsky.embed.record#view",
            "record": {
                "$type": "app.bsky.embed.record#viewRecord",
                "uri": quoted.external_id,
                "cid": bluesky_cid_of(quoted),
                "author": bluesky_author(quoted.author),
                "value": bluesky_record(quoted, ctx),
                "labels": [],
                "likeCount": quoted.likes,
                "replyCount": len(ctx.world.replies_to(quoted, ctx.now)),
                "repostCount": quoted.reposts,
                "quoteCount": len(ctx.world.quotes_of(quoted, ctx.now)),
                "indexedAt": _bluesky_indexed_at(quoted),
                "embeds": [],
            },
        }
    view.update(
        {
            "replyCount": len(ctx.world.replies_to(post, ctx.now)),
            "repostCount": post.reposts,
            "likeCount": post.likes,
            "quoteCount": len(ctx.world.quotes_of(post, ctx.now)),
            "indexedAt": _bluesky_indexed_at(post),
            "labels": [],
        }
    )
    return view


def bluesky_search(posts: list[dict], cursor: str | None, hits_total: int) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if cursor is not None:
        body["cursor"] = cursor
    body["hitsTotal"] = hits_total
    body["posts"] = posts
    return body


# --- Reddit -------------------------------------------------------------------------------
def _reddit_legacy_escape(text: str) -> str:
    """Reddit escapes &, < and > in every string unless the client asks for raw_json=1."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _reddit_markdown_html(text: str, *, submission: bool) -> str:
    paragraphs = "".join(
        f"<p>{html.escape(part, quote=False)}</p>\n" for part in re.split(r"\n{2,}", text)
    )
    body = f'<div class="md">{paragraphs}</div>'
    return f"<!-- SC_OFF -->{body}<!-- SC_ON -->" if submission else body


def _subreddit_id(subreddit: str) -> str:
    return "t5_" + to_base36(36**5 + _stable_number(subreddit.lower(), modulo=36**6))


def reddit_permalink(post: SimPost, ctx: Context) -> str:
    submission = (
        post
        if post.external_id.startswith("t3_")
        else ctx.world.find(post.platform, post.thread_id)
    )
    title = submission.title if submission else ""
    link_id = (submission.external_id if submission else post.thread_id).removeprefix("t3_")
    path = f"/r/{post.community}/comments/{link_id}/{slugify(title, '_', 50)}/"
    if post.external_id.startswith("t1_"):
        path += f"{post.external_id.removeprefix('t1_')}/"
    return path


def reddit_thing(post: SimPost, ctx: Context, *, raw_json: bool) -> dict[str, Any]:
    def text(value: str) -> str:
        return value if raw_json else _reddit_legacy_escape(value)

    created = float(int(post.published_at.timestamp()))
    score = max(1, post.likes)
    permalink = reddit_permalink(post, ctx)
    common: dict[str, Any] = {
        "subreddit_id": _subreddit_id(post.community),
        "approved_at_utc": None,
        "author_is_blocked": False,
        "subreddit": post.community,
        "subreddit_name_prefixed": f"r/{post.community}",
        "subreddit_type": "public",
        "author": post.author.handle,
        "author_fullname": post.author.account_id,
        "author_premium": False,
        "author_flair_text": None,
        "author_flair_type": "text",
        "author_flair_richtext": [],
        "author_patreon_flair": False,
        "id": post.external_id.split("_", 1)[1],
        "name": post.external_id,
        "created": created,
        "created_utc": created,
        "edited": False,
        "score": score,
        "ups": score,
        "downs": 0,
        "likes": None,
        "saved": False,
        "gilded": 0,
        "gildings": {},
        "all_awardings": [],
        "awarders": [],
        "total_awards_received": 0,
        "distinguished": None,
        "stickied": False,
        "locked": False,
        "archived": False,
        "quarantine": False,
        "no_follow": score < 3,
        "can_gild": False,
        "can_mod_post": False,
        "send_replies": True,
        "num_reports": None,
        "mod_reports": [],
        "user_reports": [],
        "treatment_tags": [],
        "permalink": permalink,
    }
    if post.external_id.startswith("t3_"):
        data = common | {
            "title": text(post.title),
            "selftext": text(post.text),
            "selftext_html": text(_reddit_markdown_html(post.text, submission=True)),
            "is_self": True,
            "domain": f"self.{post.community}",
            "url": f"https://www.reddit.com{permalink}",
            "num_comments": len(ctx.world.thread_replies(post, ctx.now)),
            "num_crossposts": 0,
            "upvote_ratio": round(0.75 + _stable_number(post.external_id, modulo=24) / 100, 2),
            "over_18": False,
            "spoiler": False,
            "hidden": False,
            "pinned": False,
            "is_video": False,
            "is_original_content": False,
            "is_reddit_media_domain": False,
            "is_meta": False,
            "is_crosspostable": True,
            "media": None,
            "media_embed": {},
            "secure_media": None,
            "secure_media_embed": {},
            "thumbnail": "self",
            "link_flair_text": None,
            "link_flair_richtext": [],
            "link_flair_type": "text",
            "contest_mode": False,
            "suggested_sort": None,
            "view_count": None,
            "removed_by_category": None,
            "subreddit_subscribers": 1000 + _stable_number(post.community, modulo=900_000),
            "wls": 6,
            "pwls": 6,
        }
        return {"kind": "t3", "data": data}
    submission = ctx.world.find(post.platform, post.thread_id)
    link_url = f"https://www.reddit.com{reddit_permalink(submission, ctx)}" if submission else ""
    data = common | {
        "body": text(post.text),
        "body_html": text(_reddit_markdown_html(post.text, submission=False)),
        "parent_id": post.reply_to,
        "link_id": post.thread_id,
        "link_title": text(submission.title) if submission else "",
        "link_author": submission.author.handle if submission else "[deleted]",
        "link_permalink": link_url,
        "link_url": link_url,
        "num_comments": len(ctx.world.thread_replies(submission, ctx.now)) if submission else 0,
        "over_18": False,
        "is_submitter": bool(submission and submission.author.handle == post.author.handle),
        "replies": "",
        "controversiality": 0,
        "score_hidden": False,
        "collapsed": False,
        "collapsed_reason": None,
        "collapsed_reason_code": None,
        "comment_type": None,
        "unrepliable_reason": None,
    }
    return {"kind": "t1", "data": data}


def reddit_listing(
    children: list[dict], *, after: str | None, before: str | None, search: bool = False
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "after": after,
        "dist": len(children),
        "modhash": "",
        "geo_filter": "" if not search else None,
        "children": children,
        "before": before,
    }
    if search:
        data["facets"] = {}
    return {"kind": "Listing", "data": data}


# --- YouTube ------------------------------------------------------------------------------
def _youtube_html(text: str) -> str:
    escaped = _html_escape(text).replace("\n", "<br>")
    return re.sub(r"(https?://\S+)", r'<a href="\1">\1</a>', escaped)


def youtube_comment(post: SimPost, ctx: Context, *, text_format: str) -> dict[str, Any]:
    snippet: dict[str, Any] = {
        "channelId": ctx.world.channel_id,
        "videoId": post.community,
        "textDisplay": post.text if text_format == "plainText" else _youtube_html(post.text),
        "textOriginal": post.text,
    }
    if post.reply_to:
        snippet["parentId"] = post.reply_to
    snippet.update(
        {
            "authorDisplayName": post.author.handle,
            "authorProfileImageUrl": (
                f"https://yt3.ggpht.com/ytc/{_etag(post.author.account_id)}"
                "=s48-c-k-c0x00ffffff-no-rj"
            ),
            "authorChannelUrl": f"http://www.youtube.com/{post.author.handle}",
            "authorChannelId": {"value": post.author.account_id},
            "canRate": True,
            "viewerRating": "none",
            "likeCount": post.likes,
            "publishedAt": iso_seconds(post.published_at),
            "updatedAt": iso_seconds(post.published_at),
        }
    )
    return {
        "kind": "youtube#comment",
        "etag": _etag(post.external_id, "comment"),
        "id": post.external_id,
        "snippet": snippet,
    }


def youtube_thread(
    top: SimPost, ctx: Context, *, with_replies: bool, text_format: str
) -> tuple[dict[str, Any], list[SimPost]]:
    """One commentThread resource and the replies it carries (oldest first, as YouTube lists)."""
    replies = ctx.world.replies_to(top, ctx.now)
    thread: dict[str, Any] = {
        "kind": "youtube#commentThread",
        "etag": _etag(top.external_id, len(replies)),
        "id": top.external_id,
        "snippet": {
            "channelId": ctx.world.channel_id,
            "videoId": top.community,
            "topLevelComment": youtube_comment(top, ctx, text_format=text_format),
            "canReply": True,
            "totalReplyCount": len(replies),
            "isPublic": True,
        },
    }
    if with_replies and replies:
        thread["replies"] = {
            "comments": [youtube_comment(r, ctx, text_format=text_format) for r in replies]
        }
        return thread, replies
    return thread, []


def youtube_list(
    items: list[dict], *, next_page_token: str | None, per_page: int
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "youtube#commentThreadListResponse",
        "etag": _etag(*(item.get("id", "") for item in items), next_page_token),
    }
    if next_page_token:
        body["nextPageToken"] = next_page_token
    # YouTube reports the size of this page here, not the total (a known quirk).
    body["pageInfo"] = {"totalResults": len(items), "resultsPerPage": per_page}
    body["items"] = items
    return body


def google_error(
    code: int, message: str, reason: str, status: str, *, info_reason: str | None = None
) -> dict[str, Any]:
    """Google's JSON error envelope (both the legacy `errors` list and the rpc `status`)."""
    error: dict[str, Any] = {
        "code": code,
        "message": message,
        "errors": [{"message": message, "domain": "global", "reason": reason}],
        "status": status,
    }
    if info_reason:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": info_reason,
                "domain": "googleapis.com",
                "metadata": {"service": "youtube.googleapis.com"},
            }
        ]
    return {"error": error}


# --- Feeds (Google Alerts Atom, Talkwalker RSS) -------------------------------------------
def _bold_brand(text: str) -> str:
    """Alert services bold the matched keyword in titles and snippets."""
    return re.sub(r"(?i)\b(brisa)\b", r"<b>\1</b>", html.escape(text, quote=False))


def feed_entry(post: SimPost, ctx: Context) -> dict[str, str]:
    """One feed entry as plain fields; render_atom/render_rss turn them into XML."""
    site = post.author.display_name
    if post.community == GOOGLE_ALERTS:
        usg = _etag(post.external_id, "usg")[:24]
        cd = base64.b64encode(f"{post.external_id[-16:]}:com:{post.language}:ES".encode())
        return {
            "id": post.external_id,
            "title": f"{_bold_brand(post.title)} - {html.escape(site, quote=False)}",
            "link": (
                f"https://www.google.com/url?rct=j&sa=t&url={post.url}&ct=ga"
                f"&cd={cd.decode().rstrip('=')}&usg=AOvVaw{usg}"
            ),
            "published": iso_seconds(post.published_at),
            "updated": iso_seconds(post.published_at),
            "content": _bold_brand(post.text).rstrip(".") + "&nbsp;...",
        }
    return {
        "guid": post.external_id,
        "title": post.title,
        "link": post.url,
        "pubDate": email.utils.format_datetime(post.published_at, usegmt=True),
        "description": f"<p>{_bold_brand(post.text)}</p>",
        "source": site,
        "source_url": "https://www." + post.url.split("/")[2].removeprefix("www."),
    }


def render_atom(entries: list[dict[str, str]], ctx: Context, *, query: str, updated: str) -> str:
    user = 10**19 + _stable_number(ctx.world.seed, "user", modulo=9 * 10**19)
    alert = 10**18 + _stable_number(ctx.world.seed, query, modulo=9 * 10**18)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:idx="urn:atom-extension:indexing">',
        f"<id>tag:google.com,2005:reader/user/{user}/state/com.google/alerts/{alert}</id>",
        f"<title>Google Alert - {xml_escape(query)}</title>",
        f'<link href="https://www.google.com/alerts/feeds/{user}/{alert}" rel="self"></link>',
        f"<updated>{updated}</updated>",
    ]
    for entry in entries:
        parts.append("<entry>")
        if "id" in entry:
            parts.append(f"<id>{xml_escape(entry['id'])}</id>")
        parts.append(f'<title type="html">{xml_escape(entry["title"])}</title>')
        if "link" in entry:
            parts.append(f"<link href={quoteattr(entry['link'])}></link>")
        for name in ("published", "updated"):
            if name in entry:
                parts.append(f"<{name}>{entry[name]}</{name}>")
        parts.append(f'<content type="html">{xml_escape(entry["content"])}</content>')
        parts.append("<author><name></name></author>")
        parts.append("</entry>")
    parts.append("</feed>")
    return "".join(parts)


def render_rss(
    items: list[dict[str, str]], ctx: Context, *, query: str, self_url: str, built: str
) -> str:
    parts = [
        # Talkwalker's feed starts with a blank line before the XML declaration; readers
        # must tolerate it, so the simulator keeps it.
        "\n",
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>',
        f"<title>Talkwalker Alerts: {xml_escape(query)}</title>",
        "<link>https://www.talkwalker.com/alerts</link>",
        f"<description>Talkwalker Alerts for {xml_escape(query)}</description>",
        f"<lastBuildDate>{built}</lastBuildDate>",
        f'<atom:link href={quoteattr(self_url)} rel="self" type="application/rss+xml"/>',
    ]
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{xml_escape(item['title'])}</title>")
        if "link" in item:
            parts.append(f"<link>{xml_escape(item['link'])}</link>")
        if "guid" in item:
            parts.append(f'<guid isPermaLink="true">{xml_escape(item["guid"])}</guid>')
        if "pubDate" in item:
            parts.append(f"<pubDate>{item['pubDate']}</pubDate>")
        parts.append(f"<description>{xml_escape(item['description'])}</description>")
        parts.append(
            f"<source url={quoteattr(item['source_url'])}>{xml_escape(item['source'])}</source>"
        )
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts)


# --- deliberate corruption (the malformed_item fault) -------------------------------------
def corrupt(platform: str, item: Any) -> Any:
    """A copy of one rendered item without its identifier and its dates."""
    broken = copy.deepcopy(item)
    if platform == "mastodon":
        for key in ("id", "created_at", "uri", "url"):
            broken.pop(key, None)
    elif platform == "bluesky":
        for key in ("uri", "cid", "indexedAt"):
            broken.pop(key, None)
        broken.get("record", {}).pop("createdAt", None)
    elif platform == "reddit":
        for key in ("name", "id", "created", "created_utc", "permalink", "url"):
            broken["data"].pop(key, None)
    elif platform == "youtube":
        broken.pop("id", None)
        top = broken["snippet"]["topLevelComment"]
        top.pop("id", None)
        for key in ("publishedAt", "updatedAt"):
            top["snippet"].pop(key, None)
    elif platform == "feed":
        for key in ("id", "guid", "link", "published", "updated", "pubDate"):
            broken.pop(key, None)
    return broken
