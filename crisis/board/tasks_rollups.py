"""Beat tasks that keep the per-hour rollups right (see crisis.board.rollups)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db.models.functions import TruncHour
from django.utils import timezone

from crisis.board import rollups
from monitoring.models import Mention

logger = logging.getLogger(__name__)

DEFAULT_CORRECTION_HOURS = 48
DEFAULT_INTERVAL_SECONDS = 300
# Mentions are stamped `ingested_at` when their ingest starts but counted once it commits: a
# slow page commits a little after its stamp, so the window of late arrivals starts this much
# before the previous run.
COMMIT_LAG = timedelta(minutes=10)
WATERMARK_KEY = "board:rollups:late-arrivals-since"


def correction_hours() -> int:
    return int(getattr(settings, "BOARD_ROLLUP_CORRECTION_HOURS", DEFAULT_CORRECTION_HOURS))


def correction_interval() -> timedelta:
    """How often the beat runs the correction (settings' board-correct-rollups entry)."""
    entry = getattr(settings, "CELERY_BEAT_SCHEDULE", {}).get("board-correct-rollups", {})
    return timedelta(seconds=float(entry.get("schedule", DEFAULT_INTERVAL_SECONDS)))


def hours_to_correct(*, now: datetime, late_since: datetime) -> set[datetime]:
    """The last `BOARD_ROLLUP_CORRECTION_HOURS` hours up to now's hour, plus the hours of live
    mentions ingested since `late_since` (a mention dated last month that arrives today must
    correct last month's bucket; one query on the ingested_at index)."""
    current = rollups.floor_hour_utc(now)
    recent = {current - timedelta(hours=back) for back in range(correction_hours())}
    late = (
        Mention.objects.filter(ingested_at__gte=late_since, origin=rollups.LIVE)
        .annotate(hour=TruncHour("published_at", tzinfo=UTC))
        .values_list("hour", flat=True)
        .distinct()
        .order_by()
    )
    return recent | {rollups.floor_hour_utc(hour) for hour in late}


def late_arrivals_since(now: datetime) -> datetime:
    """Where the previous run's window of late arrivals ended (kept in the shared cache), less
    the commit lag; without it (first run, cache flushed) the last two intervals."""
    fallback = now - 2 * correction_interval()
    previous = cache.get(WATERMARK_KEY)
    if not isinstance(previous, datetime):
        return fallback - COMMIT_LAG
    return min(previous, fallback) - COMMIT_LAG


def correct_rollups(*, now: datetime) -> int:
    """Recompute the recent hours and the hours of late arrivals, in the mention rollups and,
    when the incident slice is deployed, in the incident rollups; then refresh the current
    day's stored figures (the last 7 days' SLA), which a late answer or a recomputed hour may
    have moved. Idempotent: recomputing is exact, so a repeated or overlapping run only
    repeats work. Returns the hours recomputed."""
    hours = hours_to_correct(now=now, late_since=late_arrivals_since(now))
    rollups.recompute_hours(hours)
    incident_rollups = _incident_rollups()
    if incident_rollups is not None:
        incident_rollups.recompute_hours(hours)
        _refresh_daily_figures(now)
    # Only after the work: a failed run leaves the window where it was, so the next covers it.
    cache.set(WATERMARK_KEY, now, timeout=None)
    return len(hours)


def _refresh_daily_figures(now: datetime) -> None:
    from crisis.board import incident_metrics  # the incident slice of the board

    incident_metrics.refresh_week_sla(now)


def _incident_rollups():
    """crisis.board.incident_rollups if it is there (another slice of the board writes it)."""
    try:
        from crisis.board import incident_rollups
    except ModuleNotFoundError as error:
        if error.name != "crisis.board.incident_rollups":
            raise  # the module is there but broken: say so
        return None
    return incident_rollups


@shared_task(
    name="crisis.board.tasks.correct_recent_rollups",
    ignore_result=True,
    acks_late=True,
    soft_time_limit=240,
    time_limit=270,
)
def correct_recent_rollups() -> int:
    """Beat, every few minutes: recompute recent and late-arriving hours of the rollups."""
    return correct_rollups(now=timezone.now())
