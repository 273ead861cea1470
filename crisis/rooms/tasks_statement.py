"""Celery tasks of the statement slice of crisis rooms (registered by crisis/rooms/tasks.py):
posting a line of the publication checklist through its account, the sweep of stuck
publications, and the reminder that a statement update is due."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from crisis.rooms import publishing, statement
from monitoring.connectors.base import ConnectorError

# Platform hiccups (the post hands its claim back first) and database or broker restarts: the
# post is idempotent, so each is retried with backoff.
RETRIED_ERRORS = (ConnectorError, OperationalError, InterfaceError)
SWEEP_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)
PUBLISH_MAX_RETRIES = 6


@shared_task(
    bind=True,
    name="crisis.rooms.tasks.publish_statement",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=RETRIED_ERRORS,
    retry_backoff=5,
    retry_backoff_max=120,  # below publishing.STUCK_AFTER: a waiting retry is not swept
    retry_jitter=True,
    max_retries=PUBLISH_MAX_RETRIES,
)
def publish_statement(self, publication_id: int) -> None:
    """Post one checklist line (idempotent; the last retry records a failure instead of
    raising, so the line ends FAILED with a retry button rather than stuck)."""
    publishing.publish_statement(
        publication_id=publication_id,
        now=timezone.now(),
        final_attempt=self.request.retries >= self.max_retries,
    )


@shared_task(
    name="crisis.rooms.tasks.sweep_stuck_publications",
    acks_late=True,
    ignore_result=True,
    autoretry_for=SWEEP_ERRORS,
    retry_backoff=2,
    retry_backoff_max=30,
    max_retries=3,  # the next beat tick sweeps again anyway
)
def sweep_stuck_publications() -> int:
    """Beat: queue again the posts a dead worker or a lost message left behind."""
    return publishing.sweep_stuck_publications(now=timezone.now())


@shared_task(
    name="crisis.rooms.tasks.notify_statement_updates_due",
    acks_late=True,
    ignore_result=True,
    autoretry_for=SWEEP_ERRORS,
    retry_backoff=2,
    retry_backoff_max=30,
    max_retries=3,
)
def notify_statement_updates_due() -> int:
    """Beat: tell spokespeople (or commanders) that their crisis's statement update is due,
    once per due time."""
    return statement.notify_statement_updates_due(now=timezone.now())
