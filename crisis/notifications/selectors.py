"""Reads of notifications: the bell's unread count, the notifications page, and the webhook
endpoints with their delivery logs."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q

from crisis.notifications.models import (
    LIVE_ORIGIN,
    DeliveryState,
    Notification,
    WebhookDelivery,
    WebhookEndpoint,
)

NOTIFICATIONS_PER_PAGE = 25


def unread_count(user: AbstractBaseUser) -> int:
    """One COUNT on the partial index of unread notifications. A drill's notifications
    count too for its participants (the only ones whose rows are born unread)."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_page(user: AbstractBaseUser, page_number: str | int | None) -> Page:
    """One page of the user's notifications, newest first (a count and a page query): the
    live ones and those of the drills they take part in."""
    # Rows of a kind the user turned off in Calma are kept for the record, not listed; so are
    # a run's rows for anyone but its participants.
    notifications = Notification.objects.filter(user=user, in_app=True).order_by(
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
            by_email=True,
            user__is_active=True,
            created_at__lte=now - timedelta(seconds=config["EMAIL_SWEEP_AFTER_SECONDS"]),
            created_at__gte=now - timedelta(hours=config["EMAIL_SWEEP_LOOKBACK_HOURS"]),
        )
        .exclude(user__email="")
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[: config["EMAIL_SWEEP_BATCH"]]
    )


# --- Outgoing webhooks -----------------------------------------------------------------------

ENDPOINTS_PER_PAGE = 25
DELIVERY_LOG_LENGTH = 50


def endpoints_page(page_number: str | int | None) -> Page:
    """Webhook endpoints by name, each with its pending and failed deliveries counted."""
    endpoints = WebhookEndpoint.objects.annotate(
        pending_count=Count("deliveries", filter=Q(deliveries__state=DeliveryState.PENDING)),
        failed_count=Count("deliveries", filter=Q(deliveries__state=DeliveryState.FAILED)),
    ).order_by("name", "id")
    return Paginator(endpoints, ENDPOINTS_PER_PAGE).get_page(page_number)


def delivery_log(endpoint: WebhookEndpoint) -> list[WebhookDelivery]:
    """The endpoint's last DELIVERY_LOG_LENGTH deliveries, newest first (one query)."""
    return list(
        WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-id")[
            :DELIVERY_LOG_LENGTH
        ]
    )
