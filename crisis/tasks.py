"""Celery tasks of the case-work app. Tasks take ids, look them up and stay idempotent."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.mail import send_mail


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
)
def send_notification_email(user_id: int, subject: str, body: str) -> bool:
    """E-mail one user (an escalation, an SLA breach, a digest). False if they have no address."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return False
    send_mail(subject, body, None, [user.email])
    return True
