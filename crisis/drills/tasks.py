"""Celery tasks of drills: a running drill ticks every few seconds (each tick schedules the
next), and the beat restarts a drill whose ticks stopped (a lost task, a dead worker)."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from crisis.drills import services

TRANSIENT_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


@shared_task(
    name="crisis.drills.tasks.advance_drill",
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=30,
    max_retries=5,  # then the beat's sweep restarts the drill's ticks
)
def advance_drill(drill_id: int) -> int:
    """Play what the scenario clock made due, then schedule the next tick while the drill
    runs (at once when this tick left due rows for it). Returns the rows played."""
    tick = services.advance_drill(drill_id=drill_id, now=timezone.now())
    if tick is None:
        return 0
    if tick.running:
        countdown = 0 if tick.more_due else settings.DRILL_TICK_SECONDS
        services.enqueue_tick(drill_id, countdown=countdown)
    return tick.played


@shared_task(
    name="crisis.drills.tasks.restart_stalled_drills",
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=2,
)
def restart_stalled_drills() -> int:
    """Beat: a running drill whose last tick is long past gets a tick again."""
    stalled = services.stalled_drill_ids(now=timezone.now())
    for drill_id in stalled:
        services.enqueue_tick(drill_id)
    return len(stalled)
