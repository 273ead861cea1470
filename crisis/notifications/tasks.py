"""Celery tasks of notifications: e-mail one notification; beat re-sends what was missed."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from crisis.notifications import selectors, services

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
