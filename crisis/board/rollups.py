"""Maintaining the per-hour mention rollups (MentionHour, its platform-and-language slices
MentionSliceHour, AuthorHour) from the raw tables.

A bucket is never incremented: an hour is recomputed from scratch (delete its rows, then one
INSERT … SELECT … GROUP BY per table; the slices are summed from the MentionHour rows just
written) inside one transaction, so a recompute is exact whatever
happened before, and running it twice changes nothing. The hours of mentions just stored or
scored are recomputed by the receivers below (after the commit that wrote them); the beat
(`crisis.board.tasks_rollups`) recomputes recent hours and those of late arrivals, so a missed
signal or a failed receiver is corrected within minutes.

Race safety: two workers recomputing the same hour must not leave the older result. On
Postgres each transaction takes `pg_advisory_xact_lock` on every hour it recomputes, in
ascending order (no deadlocks), BEFORE reading; under READ COMMITTED each later statement then
sees everything committed before the lock was granted, so the last recompute to get the lock
has read the newest data. On SQLite (the embedded default) a transaction's first statement is
the DELETE, which takes the database's single write lock before anything is read.

Only live mentions (origin "live") are counted; replays and drills never reach the board.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models.functions import TruncHour
from django.utils import timezone

from crisis.board.models import ALL_TOPICS, AuthorHour, MentionHour, MentionSliceHour
from monitoring.models import LIVE_ORIGIN, Author, Mention
from protocols.evaluation import NEGATIVE_BELOW, POSITIVE_ABOVE
from protocols.models import MentionScore, MentionTopic
from protocols.scoring.types import OVERALL_TOPIC, Severity

logger = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
LIVE = LIVE_ORIGIN
HOURS_PER_STATEMENT = 24  # one transaction and one INSERT per table for up to a day of hours
# A rebuild reads whole weeks per statement: the score table is joined by hash (one scan per
# statement), so fewer, larger statements are faster; a week of hours is still one short lock.
REBUILD_HOURS_PER_STATEMENT = 24 * 7
SERIOUS = (Severity.HIGH.value, Severity.CRITICAL.value)
NEGATIVE_POLARITY = "negative"  # MentionHour.polarity of a negative mention
# First key of the two-key advisory locks on mention-rollup hours (the second is the hour
# number since the epoch); other rollups use other first keys, so they never wait on these.
MENTION_ROLLUP_LOCK = 12_001
# SQLite binds at most 32766 parameters per statement (999 before 3.32); ids go in slices.
SQLITE_IDS_PER_QUERY = 900


def floor_hour_utc(value: datetime) -> datetime:
    """The UTC start of the hour holding `value` (a naive value is taken as UTC)."""
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def recompute_hours(hours: Iterable[datetime]) -> None:
    """Recompute the MentionHour, MentionSliceHour and AuthorHour rows of these hours from the
    raw tables.

    Exact and idempotent: each batch of up to HOURS_PER_STATEMENT hours is one transaction
    (lock, delete, one INSERT … SELECT per table). Safe to call concurrently for the same
    hours (see the module docstring)."""
    _recompute_in_batches(hours, HOURS_PER_STATEMENT)


def _recompute_in_batches(hours: Iterable[datetime], batch_size: int) -> None:
    ordered = sorted({floor_hour_utc(hour) for hour in hours})
    for start in range(0, len(ordered), batch_size):
        _recompute_batch(ordered[start : start + batch_size])


def rebuild_range(start: datetime, end: datetime) -> int:
    """Recompute every hour in [start, end) (a demo data generator, a migration, a repair):
    a week of hours per statement. Returns the number of hours recomputed."""
    hours = list(_hours_between(floor_hour_utc(start), end))
    _recompute_in_batches(hours, REBUILD_HOURS_PER_STATEMENT)
    return len(hours)


def resum_slices(start: datetime, end: datetime) -> None:
    """Re-sum the MentionSliceHour rows of [start, end) from the MentionHour rows there, for
    MentionHour rows written by other means than a recompute (a test's fixture, a repair).
    A recompute keeps the slices itself."""
    ranges = [(floor_hour_utc(start), end)]
    with transaction.atomic():
        _lock_hours(list(_hours_between(floor_hour_utc(start), end)))
        _delete_rows(MentionSliceHour._meta.db_table, ranges)
        _insert_slice_hours(ranges)


def hours_of_mentions(mention_ids: Iterable[int]) -> set[datetime]:
    """The UTC hours the live ones among these mentions were published in (one query, in
    slices on SQLite)."""
    hours: set[datetime] = set()
    for ids in _id_slices(list(mention_ids)):
        hours.update(
            Mention.objects.filter(pk__in=ids, origin=LIVE)
            .annotate(hour=TruncHour("published_at", tzinfo=UTC))
            .values_list("hour", flat=True)
            .distinct()
            .order_by()
        )
    return {floor_hour_utc(hour) for hour in hours}


def refresh_rollups_of_mentions(sender=None, mention_ids: Sequence[int] = (), **kwargs) -> None:
    """Receiver of monitoring's `mentions_stored` and protocols' `mentions_scored` (sent after
    their commit): recompute the hours of those mentions.

    Never raises into ingest or scoring: their work is committed, and the beat recomputes
    recent hours and late arrivals anyway, so a failure here costs one log line and a few
    minutes of a stale bucket. An ingest upsert never moves a mention (it refreshes text and
    counts, never who, when or where), so only the mentions' current hours need recomputing.
    """
    if not mention_ids:
        return
    try:
        recompute_hours(hours_of_mentions(mention_ids))
    except Exception as error:  # any failure: the beat corrects it
        logger.warning(
            "board rollups: recomputing the hours of %d mentions failed (%s: %s); left to the beat",
            len(mention_ids),
            type(error).__name__,
            str(error).splitlines()[0] if str(error) else "",
        )


# --- one batch ----------------------------------------------------------------------------
def _recompute_batch(hours: list[datetime]) -> None:
    ranges = _contiguous_ranges(hours)
    with transaction.atomic():
        _lock_hours(hours)
        _delete_rows(MentionHour._meta.db_table, ranges)
        _delete_rows(MentionSliceHour._meta.db_table, ranges)
        _delete_rows(AuthorHour._meta.db_table, ranges)
        _insert_mention_hours(ranges)
        _insert_slice_hours(ranges)
        _insert_author_hours(ranges)


def _lock_hours(hours: list[datetime]) -> None:
    """Postgres: one advisory lock per hour, ascending (the list is sorted), held until the
    transaction ends. SQLite needs none: its write lock is taken by the first DELETE."""
    if connection.vendor != "postgresql":
        return
    keys = [int(hour.timestamp()) // 3600 for hour in hours]
    with connection.cursor() as cursor:
        # unnest yields the array in order, so the locks are taken in ascending order.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, key) FROM unnest(%s::int[]) AS key",
            [MENTION_ROLLUP_LOCK, keys],
        )


def _delete_rows(table: str, ranges: list[tuple[datetime, datetime]]) -> None:
    condition, params = _range_condition("hour", ranges)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_quote(table)} WHERE {condition}", params)  # noqa: S608


def _insert_mention_hours(ranges: list[tuple[datetime, datetime]]) -> None:
    """One row per (hour, topic, platform, language, severity, class, polarity, complaint):
    topic "" counts each mention once; each stored topic but the overall one (which would
    repeat the "" row for scored mentions only) counts the mentions on it.

    The hours' live mentions are read once (`counted`, with their score and author's
    followers); their topics are fetched by mention id through the topic table's index
    (on Postgres with `= ANY(ARRAY(…))`, which the planner cannot turn into a scan of the
    whole topic table)."""
    condition, range_params = _range_condition("m.published_at", ranges)
    mention, author = _quote(Mention._meta.db_table), _quote(Author._meta.db_table)
    score, topic = _quote(MentionScore._meta.db_table), _quote(MentionTopic._meta.db_table)
    if connection.vendor == "postgresql":
        topics_of_counted = "mt.mention_id = ANY(ARRAY(SELECT id FROM counted))"
    else:
        topics_of_counted = "mt.mention_id IN (SELECT id FROM counted)"
    cell = "hour, platform, language, severity, triage_class, polarity, is_complaint, followers"
    sql = f"""
        INSERT INTO {_quote(MentionHour._meta.db_table)}
            (hour, topic, platform, language, severity, triage_class, polarity, is_complaint,
             mentions, reach)
        WITH counted AS (
            SELECT m.id, {_hour_expression("m.published_at")} AS hour, m.platform, m.language,
                   COALESCE(s.severity, '') AS severity,
                   COALESCE(s.triage_class, '') AS triage_class,
                   CASE WHEN s.id IS NULL THEN ''
                        WHEN s.sentiment <= %s THEN 'negative'
                        WHEN s.sentiment >= %s THEN 'positive'
                        ELSE 'neutral' END AS polarity,
                   COALESCE(s.is_complaint, FALSE) AS is_complaint,
                   COALESCE(a.followers, 0) AS followers
            FROM {mention} m
            JOIN {author} a ON a.id = m.author_id
            LEFT JOIN {score} s ON s.mention_id = m.id
            WHERE m.origin = %s AND ({condition})
        )
        SELECT hour, topic, platform, language, severity, triage_class, polarity, is_complaint,
               COUNT(*), SUM(followers)
        FROM (
            SELECT '' AS topic, {cell} FROM counted
            UNION ALL
            SELECT mt.topic, {", ".join(f"c.{name.strip()}" for name in cell.split(","))}
            FROM {topic} mt JOIN counted c ON c.id = mt.mention_id
            WHERE {topics_of_counted} AND mt.topic <> %s
        ) cells
        GROUP BY hour, topic, platform, language, severity, triage_class, polarity, is_complaint
    """  # noqa: S608 (only table names and fixed expressions are interpolated)
    params = [NEGATIVE_BELOW, POSITIVE_ABOVE, LIVE, *range_params, OVERALL_TOPIC]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _insert_slice_hours(ranges: list[tuple[datetime, datetime]]) -> None:
    """One row per (hour, platform, language): the MentionHour rows of topic "" just written,
    summed over severity, class, polarity and complaint (a few hundred rows an hour, read
    where the raw tables were: the same transaction, under the same locks)."""
    condition, range_params = _range_condition("hour", ranges)
    sql = f"""
        INSERT INTO {_quote(MentionSliceHour._meta.db_table)}
            (hour, platform, language, mentions, scored, negative, complaints, serious, reach)
        SELECT hour, platform, language, SUM(mentions),
               SUM(CASE WHEN polarity <> '' THEN mentions ELSE 0 END),
               SUM(CASE WHEN polarity = %s THEN mentions ELSE 0 END),
               SUM(CASE WHEN is_complaint THEN mentions ELSE 0 END),
               SUM(CASE WHEN severity IN (%s, %s) THEN mentions ELSE 0 END),
               SUM(reach)
        FROM {_quote(MentionHour._meta.db_table)}
        WHERE topic = %s AND ({condition})
        GROUP BY hour, platform, language
    """  # noqa: S608 (only table names are interpolated)
    params = [NEGATIVE_POLARITY, *SERIOUS, ALL_TOPICS, *range_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _insert_author_hours(ranges: list[tuple[datetime, datetime]]) -> None:
    """One row per (hour, author, language) with at least one negative mention; `serious`
    counts those negative mentions that are high or critical."""
    condition, range_params = _range_condition("m.published_at", ranges)
    sql = f"""
        INSERT INTO {_quote(AuthorHour._meta.db_table)}
            (hour, author_id, platform, language, negative, serious)
        SELECT {_hour_expression("m.published_at")}, m.author_id, MIN(m.platform), m.language,
               COUNT(*), SUM(CASE WHEN s.severity IN (%s, %s) THEN 1 ELSE 0 END)
        FROM {_quote(Mention._meta.db_table)} m
        JOIN {_quote(MentionScore._meta.db_table)} s ON s.mention_id = m.id
        WHERE m.origin = %s AND ({condition}) AND s.sentiment <= %s
        GROUP BY 1, m.author_id, m.language
    """  # noqa: S608 (only table names and fixed expressions are interpolated)
    params = [*SERIOUS, LIVE, *range_params, NEGATIVE_BELOW]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- portable SQL pieces --------------------------------------------------------------------
def _hour_expression(column: str) -> str:
    """The UTC hour start of a timestamp column, as the database stores a DateTimeField."""
    if connection.vendor == "postgresql":
        return f"date_trunc('hour', {column}, 'UTC')"
    # SQLite keeps datetimes as UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]' (Django's format);
    # `%%` because the statement has parameters.
    return f"strftime('%%Y-%%m-%%d %%H:00:00', {column})"


def _range_condition(column: str, ranges: list[tuple[datetime, datetime]]) -> tuple[str, list]:
    """`(column >= a AND column < b) OR …`, index friendly, with the bounds as parameters."""
    adapt = connection.ops.adapt_datetimefield_value
    condition = " OR ".join(f"({column} >= %s AND {column} < %s)" for _ in ranges)
    params = [adapt(bound) for start, end in ranges for bound in (start, end)]
    return condition, params


def _contiguous_ranges(hours: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Sorted distinct hours as [start, end) ranges of consecutive hours."""
    ranges: list[tuple[datetime, datetime]] = []
    for hour in hours:
        if ranges and ranges[-1][1] == hour:
            ranges[-1] = (ranges[-1][0], hour + HOUR)
        else:
            ranges.append((hour, hour + HOUR))
    return ranges


def _hours_between(start: datetime, end: datetime) -> Iterator[datetime]:
    hour = start
    while hour < end:
        yield hour
        hour += HOUR


def _id_slices(ids: list[int]) -> Iterator[list[int]]:
    if connection.vendor == "postgresql":
        if ids:
            yield ids
        return
    for start in range(0, len(ids), SQLITE_IDS_PER_QUERY):
        yield ids[start : start + SQLITE_IDS_PER_QUERY]


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)
