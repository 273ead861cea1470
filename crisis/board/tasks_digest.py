"""The daily digest e-mail, sent by beat (see crisis.board.digest)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from crisis.board import digest

# What a restart of Postgres or Redis raises; the run is idempotent, so it is retried.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


@shared_task(
    name="crisis.board.tasks.send_daily_digests",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=3,  # the next beat tick (every ten minutes) sends what is still due anyway
)
def send_daily_digests() -> int:
    """Beat, every ten minutes: from the digest hour on, each supervisor and executive gets
    yesterday's digest once; a mail that failed is sent by a later run."""
    return digest.send_daily_digests(now=timezone.now()).sent
