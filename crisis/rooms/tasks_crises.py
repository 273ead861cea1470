"""Celery tasks of the crises slice of crisis rooms (registered by crisis/rooms/tasks.py): an
opened incident, handed over by the incident stage by task name, joins the open crises on its
topic."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from crisis.rooms import crises

# What a restart of Postgres raises; linking is idempotent (the unique pair), so it is retried.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    name="crisis.rooms.tasks.link_incident",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
)
def link_incident(incident_id: int) -> list[int]:
    """Link an opened incident to every open crisis whose topics include its topic; returns
    the crises it newly joined (none the second time)."""
    return crises.link_by_topic(incident_id=incident_id, now=timezone.now())
