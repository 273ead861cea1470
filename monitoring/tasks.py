"""Celery tasks of monitoring: the beat-driven dispatcher and the per-source poll."""

from celery import shared_task
from django.conf import settings

from monitoring import polling


@shared_task(ignore_result=True)
def dispatch_due_polls() -> int:
    return len(polling.dispatch_due_polls())


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # Bounded, so the broker's visibility timeout (set above the limit) fits the longest poll.
    soft_time_limit=settings.POLL_SOFT_TIME_LIMIT,
    time_limit=settings.POLL_TIME_LIMIT,
)
def poll_source(source_id: int) -> str:
    """Safe to run twice: a second copy finds the lease taken, and ingest is an upsert."""
    return polling.poll(source_id).status
