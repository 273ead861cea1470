"""Celery tasks of the moderation slice of replies (registered through crisis/replies/tasks.py)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from crisis.replies import moderation
from monitoring.connectors.base import RateLimited, TransientError, jittered

# What a restart of Postgres or Redis raises; the task is idempotent, so it is retried.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)
PLATFORM_RETRIES = 5


@shared_task(
    bind=True,
    name="crisis.replies.tasks.carry_out_moderation",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=PLATFORM_RETRIES,
)
def carry_out_moderation(self, request_id: int) -> str:
    """Hide, show again or delete one approved mention on its platform. A transient platform
    error (or a rate limit) is retried with backoff; the last attempt marks it failed."""
    final = self.request.retries >= PLATFORM_RETRIES
    try:
        return moderation.carry_out_moderation(
            request_id=request_id, now=timezone.now(), final_attempt=final
        )
    except RateLimited as limited:
        raise self.retry(exc=limited, countdown=max(1.0, limited.retry_after_seconds)) from None
    except TransientError as error:
        countdown = jittered(min(120, 2 ** (self.request.retries + 1)), spread=0.2)
        raise self.retry(exc=error, countdown=countdown) from None


@shared_task(
    name="crisis.replies.tasks.sweep_approved_moderation",
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=30,
    max_retries=3,  # the next beat tick sweeps again anyway
)
def sweep_approved_moderation() -> int:
    """Beat, every minute: approved requests whose hand-off was lost are queued again."""
    return moderation.sweep_approved_moderation(now=timezone.now())
