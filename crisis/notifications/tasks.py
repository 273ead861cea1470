"""Celery tasks of notifications: e-mail one notification, deliver one webhook event; beat
re-sends what was missed."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from crisis.notifications import deliveries, selectors, services

# A mail server or database that is down for a while; the send is idempotent, so retry.
TRANSIENT_ERRORS = (OSError, OperationalError, InterfaceError)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def email_notification(notification_id: int) -> bool:
    """E-mail one notification to its user (at most once; no address, no mail)."""
    return services.send_notification_email(notification_id=notification_id, now=timezone.now())


@shared_task(ignore_result=True, expires=50)
def sweep_unsent_emails() -> int:
    """Beat: enqueue again the e-mails of notifications that never went out."""
    ids = selectors.unsent_email_ids(now=timezone.now())
    for notification_id in ids:
        email_notification.delay(notification_id)
    return len(ids)


@shared_task(
    name="crisis.notifications.tasks.deliver_webhook",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # The database briefly away: the attempt is safe to repeat (a lease guards the POST).
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def deliver_webhook(self, delivery_id: int) -> str:
    """POST one webhook event; on a 5xx, 429, timeout or dropped connection retry it after an
    exponential, jittered back-off (WEBHOOK_MAX_RETRIES times; then the sweeper carries on)."""
    outcome = deliveries.send_delivery(delivery_id=delivery_id, now=timezone.now())
    if outcome.retry_in is None:
        return outcome.state
    limit = settings.NOTIFICATIONS["WEBHOOK_MAX_RETRIES"]
    if self.request.retries >= limit:
        return outcome.state  # still pending: the sweeper hands it over again later
    raise self.retry(countdown=outcome.retry_in, max_retries=limit)


@shared_task(name="crisis.notifications.tasks.sweep_webhook_deliveries", ignore_result=True)
def sweep_webhook_deliveries() -> int:
    """Beat: give up on deliveries pending too long; hand over again those whose hand-off was
    lost or whose retries ran out."""
    result = deliveries.sweep_deliveries(now=timezone.now())
    return result.handed_over
