"""Celery tasks of the sending slice of replies (registered through crisis/replies/tasks.py)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from crisis.replies import sending
from monitoring.connectors.base import ConnectorError

# Platform hiccups (the send hands its claim back first) and database or broker restarts: the
# send is idempotent, so each is retried with backoff.
RETRIED_ERRORS = (ConnectorError, OperationalError, InterfaceError)
SWEEP_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)
SEND_MAX_RETRIES = 6


@shared_task(
    bind=True,
    name="crisis.replies.tasks.send_reply",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=RETRIED_ERRORS,
    retry_backoff=5,
    retry_backoff_max=120,  # below sending.STUCK_AFTER: a waiting retry is not swept
    retry_jitter=True,
    max_retries=SEND_MAX_RETRIES,
)
def send_reply(self, reply_id: int) -> None:
    """Post one approved reply (idempotent; the last retry records a failure instead of
    raising, so the reply ends FAILED with a retry button rather than stuck)."""
    sending.send_reply(
        reply_id=reply_id,
        now=timezone.now(),
        final_attempt=self.request.retries >= self.max_retries,
    )


@shared_task(
    name="crisis.replies.tasks.sweep_stuck_sends",
    acks_late=True,
    ignore_result=True,
    autoretry_for=SWEEP_ERRORS,
    retry_backoff=2,
    retry_backoff_max=30,
    max_retries=3,  # the next beat tick sweeps again anyway
)
def sweep_stuck_sends() -> int:
    """Beat, every minute: queue again the sends a dead worker or a lost message left behind."""
    return sending.sweep_stuck_sends(now=timezone.now())
