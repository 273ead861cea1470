"""Celery tasks of the private slice of replies (registered through crisis/replies/tasks.py):
the beat sweeps that tell owners of overdue follow-ups and erase expired contact details."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from crisis.replies import private

# What a restart of Postgres or Redis raises; both sweeps are idempotent, so they are retried.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


@shared_task(
    name="crisis.replies.tasks.notify_overdue_follow_ups",
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=30,
    max_retries=3,  # the next beat tick sweeps again anyway
)
def notify_overdue_follow_ups() -> int:
    """Beat, every minute: the owner of each open follow-up past its due time is told once."""
    return private.notify_overdue_follow_ups(now=timezone.now())


@shared_task(
    name="crisis.replies.tasks.erase_expired_contacts",
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=30,
    max_retries=3,
)
def erase_expired_contacts() -> int:
    """Beat: e-mail addresses and phone numbers past the retention period are blanked."""
    return private.erase_expired_contacts(now=timezone.now())
