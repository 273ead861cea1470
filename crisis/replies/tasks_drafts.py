"""Celery tasks of the drafts slice of replies (registered through crisis/replies/tasks.py)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from crisis.replies import approvals

# What a restart of Postgres or Redis raises; the sweep claims each reply with a conditional
# update, so running it again escalates nothing twice.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


@shared_task(
    name="crisis.replies.tasks.escalate_waiting_approvals",
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=30,
    retry_jitter=True,
    max_retries=3,  # the next beat tick sweeps again anyway
)
def escalate_waiting_approvals() -> int:
    """Beat, every minute: drafts waiting for approval longer than their protocol allows go
    to every supervisor and the severity's escalation contacts (once per revision)."""
    return approvals.escalate_waiting_approvals(now=timezone.now())
