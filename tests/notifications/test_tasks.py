"""E-mail of notifications: sent by a real worker, once, in the reader's language and zone."""

import time
from datetime import UTC, datetime

import django
import pytest
from django.core import mail
from django.utils.translation import gettext_noop

from crisis.notifications import services
from crisis.notifications.models import Notification
from crisis.notifications.tasks import email_notification

NOW = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)
SIGNED_IN_AGAIN = gettext_noop("%(username)s can sign in again.")


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.mark.celery_worker
def test_worker_emails_a_committed_notification_once(celery_worker, spanish_reader):
    [notification] = services.notify(
        users=[spanish_reader],
        kind="assigned",
        title=(SIGNED_IN_AGAIN, {"username": "ana"}),
        url="/inbox/",
        dedupe_key="incident:12:assigned",
        now=NOW,
    )
    wait_for(lambda: Notification.objects.filter(emailed_at__isnull=False).exists())
    # The same event notified again (a retried incident task) and the e-mail task delivered
    # twice (acks_late after a lost acknowledgement): still one mail.
    services.notify(
        users=[spanish_reader],
        kind="assigned",
        title=(SIGNED_IN_AGAIN, {"username": "ana"}),
        dedupe_key="incident:12:assigned",
        now=NOW,
    )
    email_notification.delay(notification.pk)
    email_notification.apply(args=[notification.pk])
    time.sleep(1)  # give a wrongly enqueued second mail the time to arrive
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["lucia@example.org"]
    assert mail.outbox[0].subject == "[Calma] ana puede volver a iniciar sesión."


def test_email_is_written_in_the_readers_language_and_time_zone(spanish_reader):
    [notification] = services.notify(
        users=[spanish_reader],
        kind="critical",
        title=(SIGNED_IN_AGAIN, {"username": "ana"}),
        url="/inbox/",
        now=NOW,
    )
    assert email_notification(notification.pk) is True
    [message] = mail.outbox
    assert "ana puede volver a iniciar sesión." in message.body
    assert "http://localhost:8000/inbox/" in message.body
    assert "07:05" in message.body  # 13:05 UTC in Mexico City


def test_email_task_marks_the_notification_emailed(english_reader):
    [notification] = services.notify(users=[english_reader], kind="critical", title="x", now=NOW)
    email_notification(notification.pk)
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_email_task_skips_a_user_who_lost_their_address(english_reader):
    [notification] = services.notify(users=[english_reader], kind="critical", title="x", now=NOW)
    english_reader.email = ""
    english_reader.save(update_fields=["email"])
    assert email_notification(notification.pk) is False
    assert mail.outbox == []


def test_email_task_never_sends_a_drill_notification(english_reader):
    [notification] = services.notify(
        users=[english_reader], kind="critical", title="x", now=NOW, origin="run:3"
    )
    assert email_notification(notification.pk) is False
    assert mail.outbox == []


def test_failed_send_leaves_the_notification_unsent_for_the_retry(english_reader, settings):
    [notification] = services.notify(users=[english_reader], kind="critical", title="x", now=NOW)
    # An SMTP server that refuses the connection (nothing listens on port 1 of loopback).
    smtp = "django.core.mail.backends.smtp.EmailBackend"
    if django.VERSION >= (6, 1):
        options = {"host": "127.0.0.1", "port": 1, "use_tls": False, "timeout": 5}
        settings.MAILERS = {"default": {"BACKEND": smtp, "OPTIONS": options}}
    else:
        settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT = smtp, "127.0.0.1", 1
        settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 5
    with pytest.raises(OSError):
        services.send_notification_email(notification_id=notification.pk, now=NOW)
    notification.refresh_from_db()
    assert notification.emailed_at is None
