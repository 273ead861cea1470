"""Case-work tasks run on a real Celery worker over Redis."""

import time

import pytest
from django.core import mail

from crisis.tasks import send_notification_email


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.mark.celery_worker
def test_notification_email_is_sent_by_the_worker(celery_worker, supervisor):
    send_notification_email.delay(supervisor.pk, "SLA breached", "Incident 12 is late.")
    wait_for(lambda: len(mail.outbox) == 1)
    assert mail.outbox[0].to == ["boss@example.org"]
    assert mail.outbox[0].subject == "SLA breached"


def test_notification_to_a_user_without_email_is_skipped(supervisor):
    supervisor.email = ""
    supervisor.save()
    assert send_notification_email(supervisor.pk, "x", "y") is False
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_worker_forgets_the_queries_debug_logged_before_each_task(settings):
    from celery.signals import task_prerun
    from django.db import connection

    from monitoring.models import Source

    settings.DEBUG = True
    connection.force_debug_cursor = False
    Source.objects.count()
    assert connection.queries  # DEBUG keeps them for the debug page…
    task_prerun.send(sender=None, task_id="t", task=None, args=(), kwargs={})
    assert connection.queries == []  # …a long-running worker must not
