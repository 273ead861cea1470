"""Reads of notifications: the bell's unread count and the notifications page."""

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
