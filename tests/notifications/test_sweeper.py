"""The beat sweeper sends again the e-mails whose hand-off to the broker was lost."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from crisis.notifications import selectors
from crisis.notifications.models import Notification
from crisis.notifications.tasks import sweep_unsent_emails

NOW = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)


def unsent(user, *, age: timedelta, **fields) -> Notification:
    # Stored as notify() stores it, but its on_commit hand-off never reached the broker.
    return Notification.objects.create(
        user=user, kind="critical", title="Lost", created_at=NOW - age, **fields
    )


def test_sweeper_picks_only_old_enough_recent_enough_unsent_live_emails(english_reader, db):
    lost = unsent(english_reader, age=timedelta(minutes=20))
    unsent(english_reader, age=timedelta(minutes=2))  # its own task still has its chance
    unsent(english_reader, age=timedelta(days=3))  # too old to matter now
    unsent(english_reader, age=timedelta(minutes=20), emailed_at=NOW)
    unsent(english_reader, age=timedelta(minutes=20), origin="run:4")
    assert selectors.unsent_email_ids(now=NOW) == [lost.pk]


def test_sweeper_skips_users_without_an_address(english_reader):
    english_reader.email = ""
    english_reader.save(update_fields=["email"])
    unsent(english_reader, age=timedelta(minutes=20))
    assert selectors.unsent_email_ids(now=NOW) == []


@pytest.mark.celery_worker
def test_swept_email_is_sent_by_the_worker(celery_worker, english_reader):
    lost = Notification.objects.create(
        user=english_reader,
        kind="critical",
        title="Lost on the way",
        created_at=timezone.now() - timedelta(minutes=20),
    )
    assert sweep_unsent_emails() == 1
    # The worker sends, then commits emailed_at: wait for the commit, not only the outbox.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        lost.refresh_from_db()
        if lost.emailed_at is not None:
            break
        time.sleep(0.05)
    assert [message.subject for message in mail.outbox] == ["[Calma] Lost on the way"]
    assert lost.emailed_at is not None
