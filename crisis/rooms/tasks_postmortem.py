"""Celery tasks of the post-mortem slice of crisis rooms (registered by crisis/rooms/tasks.py):
the crisis backtest of a post-mortem's protocol draft, when too large to run in the request."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from crisis.rooms import backtest


@shared_task(
    name="crisis.rooms.tasks.run_crisis_backtest",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=settings.SCORING["LONG_TASK_SOFT_TIME_LIMIT"],
    time_limit=settings.SCORING["LONG_TASK_TIME_LIMIT"],
)
def run_crisis_backtest(post_mortem_id: int) -> str:
    """Run a queued crisis backtest (idempotent: a second delivery finds it claimed or done)."""
    return backtest.run_queued_backtest(post_mortem_id, now=timezone.now())
