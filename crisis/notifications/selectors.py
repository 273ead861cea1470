"""Reads of notifications: the bell's unread count and the notifications page."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.paginator import Page, Paginator

from crisis.notifications.models import LIVE_ORIGIN, Notification

NOTIFICATIONS_PER_PAGE = 25


def unread_count(user: AbstractBaseUser) -> int:
    """One COUNT on the partial index of unread live notifications."""
    return Notification.objects.filter(user=user, origin=LIVE_ORIGIN, read_at__isnull=True).count()


def notifications_page(user: AbstractBaseUser, page_number: str | int | None) -> Page:
    """One page of the user's live notifications, newest first (a count and a page query)."""
    notifications = Notification.objects.filter(user=user, origin=LIVE_ORIGIN).order_by(
        "-created_at", "-id"
    )
    return Paginator(notifications, NOTIFICATIONS_PER_PAGE).get_page(page_number)


def unsent_email_ids(*, now: datetime) -> list[int]:
    """Live notifications whose e-mail never went out (the broker was down at the commit,
    the retries ran out): old enough that their own task had its chance, recent enough to
    still matter, oldest first, at most a batch."""
    config = settings.NOTIFICATIONS
    return list(
        Notification.objects.filter(
            origin=LIVE_ORIGIN,
            emailed_at__isnull=True,
            user__is_active=True,
            created_at__lte=now - timedelta(seconds=config["EMAIL_SWEEP_AFTER_SECONDS"]),
            created_at__gte=now - timedelta(hours=config["EMAIL_SWEEP_LOOKBACK_HOURS"]),
        )
        .exclude(user__email="")
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[: config["EMAIL_SWEEP_BATCH"]]
    )
