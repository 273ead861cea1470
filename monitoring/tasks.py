"""Celery tasks of monitoring: the beat-driven dispatcher and the per-source poll."""

from celery import shared_task

from monitoring import polling


@shared_task(ignore_result=True)
def dispatch_due_polls() -> int:
    return len(polling.dispatch_due_polls())


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def poll_source(source_id: int) -> str:
    """Safe to run twice: a second copy finds the lease taken, and ingest is an upsert."""
    return polling.poll(source_id).status
