"""Idempotent ingest: upsert authors and mentions on their natural keys, in bulk.

Callers hold the transaction (the poller commits a page and its cursor together). The
ids of mentions that did not exist before are returned for the hand-off to scoring.
On Postgres a batch is COPYed into temporary tables and merged with one
INSERT … ON CONFLICT per table (see `_postgres_copy_upsert`); elsewhere (the embedded
SQLite default) Django's bulk upserts do the same work more slowly.
"""

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import ngettext

from monitoring.connectors import boundary
from monitoring.connectors.base import AuthorIn, MentionIn, QuarantinedIn
from monitoring.fingerprints import quarantine_fingerprint
from monitoring.models import (
    LIVE_ORIGIN,
    AlertKind,
    Author,
    Mention,
    QuarantinedItem,
    QuarantineStatus,
    Source,
    SourceAlert,
)
from monitoring.signals import mentions_stored
from monitoring.text import detect_languages

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000


@dataclass(frozen=True, slots=True)
class IngestResult:
    new_mention_ids: list[int]
    seen: int  # distinct mentions in the batch (new + already stored)


def ingest_mentions(mentions: Sequence[MentionIn], *, source_id: int | None) -> IngestResult:
    unique = _dedupe(mentions)
    if not unique:
        return IngestResult(new_mention_ids=[], seen=0)
    languages = _languages(unique)
    writer = _postgres_copy_upsert if connection.vendor == "postgresql" else _orm_upsert
    new_ids: list[int] = []
    stored_ids: list[int] = []
    with transaction.atomic():
        for start in range(0, len(unique), BATCH_SIZE):
            chunk = unique[start : start + BATCH_SIZE]
            new, stored = writer(chunk, languages[start : start + BATCH_SIZE], source_id)
            new_ids += new
            stored_ids += stored
        # After the caller's outermost commit (never for a rolled-back page).
        transaction.on_commit(partial(_announce_stored, stored_ids))
    return IngestResult(new_mention_ids=new_ids, seen=len(unique))


def _announce_stored(mention_ids: list[int]) -> None:
    """Tell later stages (the board's rollups) which mentions were stored or updated, without
    importing them; a receiver's failure is logged by Django and never fails the ingest."""
    mentions_stored.send_robust(sender=Mention, mention_ids=mention_ids)


@dataclass(frozen=True, slots=True)
class QuarantineResult:
    kept: int  # new items waiting for review
    already_quarantined: int  # the same item is waiting already (a re-poll, a re-push)
    dropped: int  # beyond the source's cap


def quarantine(
    items: Sequence[QuarantinedIn],
    *,
    platform: str,
    source_id: int | None,
    now: datetime | None = None,
) -> QuarantineResult:
    """Keep items for review, each once, up to the per-source cap of pending items.

    An item whose fingerprint (``monitoring.fingerprints``) is already waiting for review
    from the same source is counted as already quarantined and adds nothing; a unique
    constraint, not this check, is what stops doubles between concurrent deliveries.
    Beyond ``MONITORING["QUARANTINE_CAP_PER_SOURCE"]`` pending items, the rest are counted,
    dropped and reported in the source's quarantine-full alert (so a flood of junk cannot
    fill the database). Raw payloads are made storable (``boundary.storable_json``).
    """
    if not items:
        return QuarantineResult(kept=0, already_quarantined=0, dropped=0)
    now = now or timezone.now()
    cap = int(settings.MONITORING["QUARANTINE_CAP_PER_SOURCE"])
    rows = _distinct_rows(items, platform=platform, source_id=source_id, now=now)
    with transaction.atomic():
        if source_id is not None:
            # Serialises concurrent deliveries to one source, so together they keep the cap.
            list(Source.objects.select_for_update().filter(pk=source_id).values_list("pk"))
        waiting = _pending_fingerprints(source_id, [row.fingerprint for row in rows])
        fresh = [row for row in rows if row.fingerprint not in waiting]
        kept = fresh[: max(0, cap - pending_count(source_id, cap=cap))]
        QuarantinedItem.objects.bulk_create(kept, ignore_conflicts=True)
        dropped = len(fresh) - len(kept)
        if dropped:
            _alert_quarantine_full(source_id, dropped=dropped, cap=cap, now=now)
    return QuarantineResult(
        kept=len(kept), already_quarantined=len(items) - len(fresh), dropped=dropped
    )


def pending_count(source_id: int | None, *, cap: int) -> int:
    """Pending items of a source, counted up to ``cap`` (the count stays cheap in a flood)."""
    return (
        QuarantinedItem.objects.filter(source_id=source_id, status=QuarantineStatus.PENDING)
        .values("pk")[:cap]
        .count()
    )


def _distinct_rows(
    items: Sequence[QuarantinedIn], *, platform: str, source_id: int | None, now: datetime
) -> list[QuarantinedItem]:
    """One unsaved row per fingerprint, the first copy in the batch winning."""
    rows: dict[str, QuarantinedItem] = {}
    for item in items:
        raw = boundary.storable_json(item.raw)
        fingerprint = quarantine_fingerprint(platform, raw)
        if fingerprint not in rows:
            rows[fingerprint] = QuarantinedItem(
                source_id=source_id,
                platform=platform,
                reason=boundary.clean_text(item.reason)[:2000],
                raw=raw,
                received_at=now,
                fingerprint=fingerprint,
            )
    return list(rows.values())


def _pending_fingerprints(source_id: int | None, fingerprints: list[str]) -> set[str]:
    waiting: set[str] = set()
    # In slices: SQLite bounds the parameters of one statement.
    for start in range(0, len(fingerprints), 500):
        waiting.update(
            QuarantinedItem.objects.filter(
                source_id=source_id,
                status=QuarantineStatus.PENDING,
                fingerprint__in=fingerprints[start : start + 500],
            ).values_list("fingerprint", flat=True)
        )
    return waiting


def _alert_quarantine_full(source_id: int | None, *, dropped: int, cap: int, now) -> None:
    """Raise the source's quarantine-full alert, or add to its running count of drops.
    The caller holds the source's row lock, so read-then-write is safe here."""
    logger.warning(
        "source %s: quarantine full (%s pending); %s items dropped", source_id, cap, dropped
    )
    if source_id is None:
        return
    alert = SourceAlert.objects.filter(
        source_id=source_id, kind=AlertKind.QUARANTINE_FULL, resolved_at=None
    ).first() or SourceAlert(source_id=source_id, kind=AlertKind.QUARANTINE_FULL, raised_at=now)
    alert.dropped_count += dropped
    alert.message = ngettext(
        "Quarantine full: %(cap)s items are waiting for review, the most kept per source. "
        "%(dropped)s more item was dropped since; review or discard the quarantine, "
        "and check the sender.",
        "Quarantine full: %(cap)s items are waiting for review, the most kept per source. "
        "%(dropped)s more items were dropped since; review or discard the quarantine, "
        "and check the sender.",
        alert.dropped_count,
    ) % {"cap": cap, "dropped": alert.dropped_count}
    alert.save()


def _dedupe(mentions: Sequence[MentionIn]) -> list[MentionIn]:
    """One row per (platform, external_id), the last served copy winning; sorted so that
    concurrent transactions lock rows in the same order (no deadlocks).

    Ids are bounded first (as the boundary does: a long id keeps a prefix and a hash of it
    all), so two ids that would be equal once cut to the column stay two rows.
    """
    by_key = {}
    for mention in mentions:
        external_id = boundary.bounded_identifier(mention.external_id, boundary.MAX_ID_CHARS)
        by_key[(mention.platform, external_id)] = replace(mention, external_id=external_id)
    return [by_key[key] for key in sorted(by_key)]


def _languages(mentions: list[MentionIn]) -> list[str]:
    missing = [index for index, mention in enumerate(mentions) if not mention.language]
    languages = [mention.language[:8].lower() for mention in mentions]
    if missing:
        detected = detect_languages([mentions[index].text for index in missing])
        for index, language in zip(missing, detected, strict=True):
            languages[index] = language
    return languages


def _orm_upsert(
    mentions: list[MentionIn], languages: list[str], source_id: int | None
) -> tuple[list[int], list[int]]:
    """Portable path (the embedded SQLite default): Django's bulk upserts. Returns the ids of
    the new mentions and of every mention stored or updated."""
    authors = _orm_upsert_authors(mentions)
    return _orm_upsert_mentions(mentions, languages, authors, source_id)


def _orm_upsert_authors(mentions: list[MentionIn]) -> dict[tuple[str, str], int]:
    now = timezone.now()
    latest = _latest_authors(mentions)
    known_followers = {
        (platform, handle): followers
        for platform, handle, followers in Author.objects.filter(_keys_filter(latest, "handle"))
        .exclude(followers=None)
        .values_list("platform", "handle", "followers")
    }
    rows = [
        Author(
            platform=platform,
            handle=handle,
            display_name=author.display_name[:255],
            # A page that does not state the follower count must not erase a known one.
            followers=author.followers
            if author.followers is not None
            else known_followers.get((platform, handle)),
            verified=author.verified,
            url=author.url[:2000],
            first_seen_at=now,
            last_seen_at=now,
        )
        for (platform, handle), author in latest.items()
    ]
    refreshed = _refreshing_authors(mentions)
    Author.objects.bulk_create(
        [row for row in rows if (row.platform, row.handle) in refreshed],
        update_conflicts=True,
        unique_fields=["platform", "handle"],
        update_fields=["display_name", "followers", "verified", "url", "last_seen_at"],
    )
    Author.objects.bulk_create(
        [row for row in rows if (row.platform, row.handle) not in refreshed],
        ignore_conflicts=True,
    )
    return {
        (platform, handle): pk
        for platform, handle, pk in Author.objects.filter(
            _keys_filter(latest, "handle")
        ).values_list("platform", "handle", "pk")
    }


def _refreshing_authors(mentions: list[MentionIn]) -> set[tuple[str, str]]:
    """The authors a batch may describe anew: those with a live mention in it. A replay's or
    drill's rows (real history, perhaps years old) add an author Calma has never seen but
    never overwrite a known one's name or follower count."""
    return {
        (mention.platform, mention.author.handle[:255])
        for mention in mentions
        if mention.origin == LIVE_ORIGIN
    }


def _orm_upsert_mentions(
    mentions: list[MentionIn],
    languages: list[str],
    author_ids: dict[tuple[str, str], int],
    source_id: int | None,
) -> tuple[list[int], list[int]]:
    keys = {(mention.platform, mention.external_id) for mention in mentions}
    existing = set(
        Mention.objects.filter(_keys_filter(keys, "external_id")).values_list(
            "platform", "external_id"
        )
    )
    now = timezone.now()
    rows = [
        Mention(
            platform=mention.platform,
            external_id=mention.external_id[:512],
            source_id=source_id,
            author_id=author_ids[(mention.platform, mention.author.handle[:255])],
            url=mention.url[:2000],
            text=_clean_text(mention.text),
            language=language,
            published_at=_aware(mention.published_at),
            ingested_at=now,
            reply_to_id=mention.reply_to_id[:512],
            thread_id=mention.thread_id[:512],
            engagement=mention.engagement,
            raw=mention.raw,
            origin=mention.origin[:40],
        )
        for mention, language in zip(mentions, languages, strict=True)
    ]
    stored = Mention.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["platform", "external_id"],
        # Re-polls refresh what changes on a platform (edits, counts), never who/when/where.
        update_fields=["text", "engagement", "raw"],
    )
    new_ids = [
        mention.pk for mention in stored if (mention.platform, mention.external_id) not in existing
    ]
    return new_ids, [mention.pk for mention in stored]


def _keys_filter(keys, field: str) -> Q:
    """(platform, value) pairs → one OR-ed filter, grouped by platform (index friendly)."""
    by_platform: dict[str, list[str]] = {}
    for platform, value in keys:
        by_platform.setdefault(platform, []).append(value)
    query = Q(pk__in=[])
    for platform, values in by_platform.items():
        query |= Q(platform=platform, **{f"{field}__in": values})
    return query


def _aware(value: datetime) -> datetime:
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


# --- Postgres: COPY into temporary tables, then one merge per table ------------------------
_CREATE_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS ingest_author_stage (
    platform text, handle text, display_name text, followers bigint, verified boolean, url text,
    refresh boolean
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_mention_stage (
    platform text, external_id text, author_handle text, url text, text text, language text,
    published_at timestamptz, reply_to_id text, thread_id text, engagement jsonb, raw jsonb,
    origin text
) ON COMMIT DELETE ROWS;
TRUNCATE ingest_author_stage, ingest_mention_stage;
"""
_INSERT_STAGED_AUTHORS = """
INSERT INTO monitoring_author
    (platform, handle, display_name, followers, verified, url, flags, first_seen_at, last_seen_at)
SELECT platform, handle, display_name, followers, verified, url, '[]'::jsonb, %(now)s, %(now)s
FROM ingest_author_stage WHERE refresh = %(refresh)s ORDER BY platform, handle
"""
# Authors with a live mention in the batch are described anew; the others (a replay's) are
# only added when unknown (see _refreshing_authors).
_ADD_AUTHORS = _INSERT_STAGED_AUTHORS + "ON CONFLICT (platform, handle) DO NOTHING"
_MERGE_AUTHORS = (
    _INSERT_STAGED_AUTHORS
    + """ON CONFLICT (platform, handle) DO UPDATE SET
    display_name = EXCLUDED.display_name,
    -- a page that does not state the follower count must not erase a known one
    followers = COALESCE(EXCLUDED.followers, monitoring_author.followers),
    verified = EXCLUDED.verified,
    url = EXCLUDED.url,
    last_seen_at = EXCLUDED.last_seen_at
"""
)
_MERGE_MENTIONS = """
INSERT INTO monitoring_mention
    (platform, external_id, source_id, author_id, url, text, language, published_at,
     ingested_at, reply_to_id, thread_id, engagement, raw, origin)
SELECT m.platform, m.external_id, %(source_id)s, a.id, m.url, m.text, m.language,
       m.published_at, %(now)s, m.reply_to_id, m.thread_id, m.engagement, m.raw, m.origin
FROM ingest_mention_stage m
JOIN monitoring_author a ON a.platform = m.platform AND a.handle = m.author_handle
ORDER BY m.platform, m.external_id
ON CONFLICT (platform, external_id) DO UPDATE SET
    -- re-polls refresh what changes on a platform (edits, counts), never who/when/where
    text = EXCLUDED.text, engagement = EXCLUDED.engagement, raw = EXCLUDED.raw
RETURNING id, (xmax = 0) AS inserted
"""


def _postgres_copy_upsert(
    mentions: list[MentionIn], languages: list[str], source_id: int | None
) -> tuple[list[int], list[int]]:
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_CREATE_STAGING)
        raw_cursor = cursor.cursor  # psycopg's own cursor, for COPY
        with raw_cursor.copy(
            "COPY ingest_author_stage"
            " (platform, handle, display_name, followers, verified, url, refresh) FROM STDIN"
        ) as copy:
            refreshed = _refreshing_authors(mentions)
            for (platform, handle), author in _latest_authors(mentions).items():
                copy.write_row(
                    (
                        platform,
                        handle,
                        _clean_text(author.display_name[:255]),
                        author.followers,
                        author.verified,
                        author.url[:2000],
                        (platform, handle) in refreshed,
                    )
                )
        with raw_cursor.copy(
            "COPY ingest_mention_stage (platform, external_id, author_handle, url, text,"
            " language, published_at, reply_to_id, thread_id, engagement, raw, origin)"
            " FROM STDIN"
        ) as copy:
            for mention, language in zip(mentions, languages, strict=True):
                copy.write_row(
                    (
                        mention.platform,
                        mention.external_id[:512],
                        mention.author.handle[:255],
                        mention.url[:2000],
                        _clean_text(mention.text),
                        language,
                        _aware(mention.published_at),
                        mention.reply_to_id[:512],
                        mention.thread_id[:512],
                        _json(mention.engagement),
                        _json(mention.raw),
                        mention.origin[:40],
                    )
                )
        cursor.execute(_MERGE_AUTHORS, {"now": now, "refresh": True})
        cursor.execute(_ADD_AUTHORS, {"now": now, "refresh": False})
        cursor.execute(_MERGE_MENTIONS, {"now": now, "source_id": source_id})
        rows = cursor.fetchall()
        return [mention_id for mention_id, inserted in rows if inserted], [row[0] for row in rows]


def _latest_authors(mentions: list[MentionIn]) -> dict[tuple[str, str], AuthorIn]:
    """Each author once, as described by their most recent mention in the batch; a follower
    count that the latest mention does not state comes from an earlier one that does."""
    latest: dict[tuple[str, str], MentionIn] = {}
    followers: dict[tuple[str, str], tuple] = {}
    for mention in mentions:
        key = (mention.platform, mention.author.handle[:255])
        if key not in latest or mention.published_at >= latest[key].published_at:
            latest[key] = mention
        count = mention.author.followers
        if count is not None and (
            key not in followers or mention.published_at >= followers[key][0]
        ):
            followers[key] = (mention.published_at, count)
    authors = {}
    for key in sorted(latest):
        author = latest[key].author
        if author.followers is None and key in followers:
            author = replace(author, followers=followers[key][1])
        authors[key] = author
    return authors


def _clean_text(value: str) -> str:
    # Postgres text cannot hold NUL or lone surrogates; the boundary cleaned them already,
    # this keeps ingest safe for any other caller.
    return boundary.clean_text(value)


def _json(value) -> str:
    # jsonb refuses \u0000, NaN and lone surrogates for the same reason.
    return json.dumps(boundary.storable_json(value), ensure_ascii=False, default=str)
