"""Celery tasks of incidents: the incident stage after scoring, and routing."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from crisis.incidents import routing, services

# What a restart of Postgres or Redis raises; both tasks are idempotent, so they are retried.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


@shared_task(
    name="crisis.incidents.tasks.handle_scored_mentions",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,  # about five minutes of outage; after that the hand-off sweeper re-sends
)
def handle_scored_mentions(mention_ids: list[int]) -> int:
    """Scoring's hand-off (by task name): attach, reopen or open incidents for the mentions."""
    outcomes = services.handle_scored_mentions(mention_ids=mention_ids, now=timezone.now())
    return len(outcomes)


@shared_task(
    name="crisis.incidents.tasks.route_incident",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
)
def route_incident(incident_id: int) -> None:
    """Give a newly opened (or handed back) incident to a manager, or leave it unassigned."""
    routing.route_incident(incident_id=incident_id, now=timezone.now())
