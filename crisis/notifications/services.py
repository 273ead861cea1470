"""Writes of notifications: notify users (in-app row, e-mail and webhook deliveries on commit,
each as the user chose) and mark them read."""

import zoneinfo
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext

from crisis.notifications import deliveries, preferences
from crisis.notifications.models import (
    LIVE_ORIGIN,
    Notification,
    NotificationChannel,
    NotificationKind,
)
from crisis.people.selectors import preferences_for
from protocols.models import Run, run_id_of

# A message as callers give it: a lazy translation, or a msgid (marked with gettext_noop so
# makemessages finds it) and its parameters, e.g.
# (gettext_noop("Incident #%(id)s assigned to you"), {"id": 12}).
Message = str | Promise | tuple[str, Mapping[str, Any]]

TITLE_MAX_LENGTH = Notification._meta.get_field("title").max_length
URL_MAX_LENGTH = Notification._meta.get_field("url").max_length
DEDUPE_KEY_MAX_LENGTH = Notification._meta.get_field("dedupe_key").max_length
BODY_MAX_LENGTH = 5000  # a notification points at the case; the case holds the detail


def notify(
    *,
    users: Iterable[AbstractBaseUser],
    kind: NotificationKind | str,
    title: Message,
    body: Message = "",
    url: str = "",
    dedupe_key: str = "",
    now: datetime,
    origin: str = LIVE_ORIGIN,
) -> list[Notification]:
    """Tell each active user once, by the channels they chose for this kind: a row for the
    bell, an e-mail after the commit, and a delivery to each enabled webhook endpoint that
    receives the kind.

    The row is always stored (it is the record and the dedupe anchor); with the in-app channel
    off it is born read and left out of the bell and the list. E-mail goes out only with the
    e-mail channel on, webhook deliveries only with the webhook channel on (written in the
    same transaction, sent at least once). The users' choices are read in one query.

    Title and body are rendered in each user's language and time zone. With a dedupe_key a
    repeated call (a retried task) returns the existing rows and sends nothing new. A run's
    notifications (origin other than "live") are never e-mailed nor sent to webhooks: they
    reach the bell of the run's participants (a drill's), and are stored born read, for the
    record, for anyone else.
    """
    kind = NotificationKind(kind)
    _check_url(url)
    if len(dedupe_key) > DEDUPE_KEY_MAX_LENGTH:
        raise ValueError(f"dedupe_key longer than {DEDUPE_KEY_MAX_LENGTH} characters")
    recipients = _distinct_active(users)
    if not recipients:
        return []
    live = origin == LIVE_ORIGIN
    channels = preferences.channels_for(recipients, kind)
    rows = [
        _notification_for(
            user, kind, title, body, url, dedupe_key, now, origin, channels.get(user.pk)
        )
        for user in recipients
    ]
    if not live:
        _in_app_to_participants_only(rows, origin=origin, now=now)
    with transaction.atomic():
        notifications = _store(rows, dedupe_key)
        if live:
            _email_after_commit(notifications)
            by_webhook = [
                notification
                for notification in notifications
                if channels.get(notification.user_id, {}).get(NotificationChannel.WEBHOOK)
            ]
            deliveries.create_deliveries(notifications=by_webhook, kind=kind, now=now)
    return notifications


def mark_read(*, user: AbstractBaseUser, notification_id: int, now: datetime) -> Notification:
    """Mark one of the user's own notifications read (another user's raises DoesNotExist).

    No audit event: reading one's own notifications changes nothing anyone else sees."""
    notification = Notification.objects.get(pk=notification_id, user=user, in_app=True)
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def mark_all_read(*, user: AbstractBaseUser, now: datetime) -> int:
    """Mark every unread notification of the user read; returns how many were unread."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=now)


# --- Rendering -------------------------------------------------------------------------------


def render_message(message: Message, *, language: str, time_zone: str) -> str:
    """The message as the reader sees it: their language, datetimes in their time zone."""
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(time_zone)):
        if isinstance(message, tuple):
            msgid, params = message
            return gettext(msgid) % {key: _readable(value) for key, value in params.items()}
        return str(message)


def _readable(value: Any) -> Any:
    # Runs inside the reader's language and zone overrides; lazy labels become their text.
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if isinstance(value, Promise):
        return str(value)
    return value


def _clean(text: str, limit: int) -> str:
    # Parameters may carry platform text: Postgres refuses NUL, and a column has a length.
    text = text.replace("\x00", "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _notification_for(
    user: AbstractBaseUser,
    kind: NotificationKind,
    title: Message,
    body: Message,
    url: str,
    dedupe_key: str,
    now: datetime,
    origin: str,
    channels: preferences.Channels | None,
) -> Notification:
    language, time_zone = preferences_for(user)
    rendered_title = render_message(title, language=language, time_zone=time_zone)
    rendered_body = render_message(body, language=language, time_zone=time_zone)
    channels = channels or preferences.defaults()
    in_app = channels[NotificationChannel.IN_APP]
    return Notification(
        user=user,
        kind=kind,
        title=_clean(rendered_title, TITLE_MAX_LENGTH),
        body=_clean(rendered_body, BODY_MAX_LENGTH),
        url=url,
        dedupe_key=dedupe_key,
        created_at=now,
        origin=origin,
        in_app=in_app,
        # Kept for the record but never counted by the bell: born read.
        read_at=None if in_app else now,
        by_email=channels[NotificationChannel.EMAIL],
    )


def _in_app_to_participants_only(rows: list[Notification], *, origin: str, now: datetime) -> None:
    participants = set(
        Run.participants.through.objects.filter(run_id=run_id_of(origin)).values_list(
            "user_id", flat=True
        )
    )
    for row in rows:
        row.by_email = False
        row.in_app = row.in_app and row.user_id in participants
        row.read_at = None if row.in_app else now


# --- Storing and sending ---------------------------------------------------------------------


def _check_url(url: str) -> None:
    # The bell renders it as a link and the e-mail appends it to Calma's address: only a
    # path of Calma itself, never a scheme (javascript:) nor another host (//evil.example).
    if url and (not url.startswith("/") or url.startswith("//") or "\\" in url):
        raise ValueError("A notification links to a path inside Calma, e.g. /incidents/12/")
    if len(url) > URL_MAX_LENGTH:
        raise ValueError(f"url longer than {URL_MAX_LENGTH} characters")


def _distinct_active(users: Iterable[AbstractBaseUser]) -> list[AbstractBaseUser]:
    seen: set[int] = set()
    recipients = []
    for user in users:
        if user is None or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        recipients.append(user)
    return recipients


def _store(rows: list[Notification], dedupe_key: str) -> list[Notification]:
    if not dedupe_key:
        return Notification.objects.bulk_create(rows)
    # The partial unique constraint, not a check-then-insert, keeps a retry from doubling;
    # ignore_conflicts returns no ids, so read back what is there (new or from the first try).
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        Notification.objects.filter(
            user_id__in=[row.user_id for row in rows], dedupe_key=dedupe_key
        ).select_related("user")
    )


def _email_after_commit(notifications: list[Notification]) -> None:
    from crisis.notifications.tasks import email_notification

    for notification in notifications:
        # Users without an address get the bell only. A row from an earlier try that was
        # e-mailed is skipped; one that was not is enqueued again (the task sends it once).
        if notification.by_email and notification.emailed_at is None and notification.user.email:
            transaction.on_commit(
                lambda pk=notification.pk: email_notification.delay(pk), robust=True
            )


def send_notification_email(*, notification_id: int, now: datetime) -> bool:
    """E-mail one notification in its user's language and time zone, once.

    The row is locked while the mail goes out, so a second delivery of the task waits and
    then finds it sent. A failure rolls back and the task retries; a worker killed between
    the SMTP answer and the commit sends again (at least once, never silently lost).
    Returns whether a mail was sent now."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=notification_id, origin=LIVE_ORIGIN, emailed_at__isnull=True, by_email=True)
            .first()
        )
        if notification is None or not notification.user.is_active or not notification.user.email:
            return False
        language, time_zone = preferences_for(notification.user)
        _email(notification, language=language, time_zone=time_zone)
        notification.emailed_at = now
        notification.save(update_fields=["emailed_at"])
    return True


def _email(notification: Notification, *, language: str, time_zone: str) -> None:
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(time_zone)):
        context = {"notification": notification, "link": absolute_link(notification.url)}
        subject = render_to_string("notifications/email_subject.txt", context)
        message = render_to_string("notifications/email_body.txt", context)
    send_mail(" ".join(subject.split()), message, None, [notification.user.email])


def absolute_link(path: str) -> str:
    """Calma's public address (settings.NOTIFICATIONS["BASE_URL"]) followed by the path."""
    if not path:
        return ""
    base_url = settings.NOTIFICATIONS["BASE_URL"].rstrip("/")
    return f"{base_url}{path}"
