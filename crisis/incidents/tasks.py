"""Celery tasks of incidents: the incident stage after scoring, and routing."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from crisis.incidents import routing, services, sla

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


@shared_task(
    name="crisis.incidents.tasks.route_waiting_incidents",
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=30,
    max_retries=3,  # the next beat tick sweeps again anyway
)
def route_waiting_incidents() -> int:
    """Beat, every minute: the unassigned queue drains to managers as they come on shift (and
    incidents whose routing task was lost or skipped get routed)."""
    return len(routing.route_waiting_incidents(now=timezone.now()))


@shared_task(
    name="crisis.incidents.tasks.sweep_sla",
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=30,
    max_retries=3,  # the next beat tick sweeps again anyway
)
def sweep_sla() -> int:
    """Beat, every minute: warn owners, record breaches, tell supervisors, hand back."""
    result = sla.sweep_sla(now=timezone.now())
    return len(result.warned) + len(result.breached)


@shared_task(
    name="crisis.incidents.tasks.hand_back_at_shift_end",
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=30,
    max_retries=3,
)
def hand_back_at_shift_end() -> int:
    """Beat, every minute: untouched incidents of managers whose shift ended go back to routing."""
    return len(routing.handback_on_shift_end(now=timezone.now()))


@shared_task(
    name="crisis.incidents.tasks.email_escalation_contact",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(*TRANSIENT_ERRORS, OSError),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def email_escalation_contact(incident_id: int, address: str) -> None:
    """Tell a keyword group's escalation contact about an alerted incident (plain e-mail)."""
    routing.email_escalation_contact(incident_id=incident_id, address=address)
