"""Celery tasks of protocols: score new mentions, sweep unscored and unseen ones, rescore,
backtest."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from monitoring.models import Mention
from protocols import backtest, pipeline, sweeper
from protocols.models import BacktestRun, BacktestStatus, ProtocolVersion
from protocols.services import active_version

logger = logging.getLogger(__name__)
RESCORE_CHUNK = settings.SCORING["CHUNK"]
# What a restart of Postgres or Redis raises; scoring is idempotent, so it is retried.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,  # about five minutes of outage; after that the sweeper takes over
    soft_time_limit=settings.SCORING["CHUNK_SOFT_TIME_LIMIT"],
    time_limit=settings.SCORING["CHUNK_TIME_LIMIT"],
)
def score_new_mentions(mention_ids: list[int]) -> int:
    """The monitoring hand-off: score newly stored mentions with the active protocol."""
    return len(pipeline.score_and_store(mention_ids, version=active_version(), now=timezone.now()))


@shared_task(ignore_result=True, expires=50)
def sweep_unscored_mentions() -> int:
    """Beat, every minute: enqueue scoring for stored mentions that never got a score."""
    return sweeper.sweep_unscored_mentions(now=timezone.now())


@shared_task(ignore_result=True, expires=50)
def sweep_scores_not_handed_off() -> int:
    """Beat, every minute: re-send scored mentions the incident stage has not seen."""
    return sweeper.sweep_scores_not_handed_off(now=timezone.now())


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=settings.SCORING["LONG_TASK_SOFT_TIME_LIMIT"],
    time_limit=settings.SCORING["LONG_TASK_TIME_LIMIT"],
)
def rescore_recent_mentions(version_id: int, days: int) -> int:
    version = ProtocolVersion.objects.get(pk=version_id)
    now = timezone.now()
    ids = list(
        Mention.objects.filter(published_at__gte=now - timedelta(days=days))
        .order_by("published_at")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(ids), RESCORE_CHUNK):
        # Each score keeps the velocity it was first scored with (never today's).
        pipeline.score_and_store(
            ids[start : start + RESCORE_CHUNK], version=version, observe_spikes=False, now=now
        )
    return len(ids)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=settings.SCORING["LONG_TASK_SOFT_TIME_LIMIT"],
    time_limit=settings.SCORING["LONG_TASK_TIME_LIMIT"],
)
def run_backtest(run_id: int) -> str:
    run = BacktestRun.objects.select_related("draft", "baseline").get(pk=run_id)
    if run.status == BacktestStatus.DONE:
        return run.status  # delivered twice: the result is already there
    try:
        backtest.run_backtest(run)
    except Exception as error:
        logger.exception("backtest %s failed", run_id)
        BacktestRun.objects.filter(pk=run_id).update(
            status=BacktestStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    return BacktestStatus.DONE
