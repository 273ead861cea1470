"""Celery tasks of the plan slice of crisis rooms (registered by crisis/rooms/tasks.py): the
beat sweep that tells the owners of overdue plan tasks."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from crisis.rooms import plan

# What a restart of Postgres or Redis raises; the sweep is idempotent, so it is retried.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


@shared_task(
    name="crisis.rooms.tasks.notify_overdue_tasks",
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=30,
    max_retries=3,  # the next beat tick sweeps again anyway
)
def notify_overdue_tasks() -> int:
    """Beat, every minute: the owner of each open plan task past its due time is told once."""
    return plan.notify_overdue_tasks(now=timezone.now())
