"""A refused request (403) leaves one log line, not two full tracebacks (issue 8, item 9)."""

import logging

import pytest
from django.test import Client
from django.urls import reverse


@pytest.fixture
def forbidden_records(client, manager, caplog):
    """The log records of a community manager opening the supervisors' approval queue."""
    client.force_login(manager)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = client.get("/approvals/")
    assert response.status_code == 403
    return [record for record in caplog.records if record.name.startswith("django")]


def test_a_403_is_logged_as_one_line_without_a_traceback(forbidden_records, manager):
    assert len(forbidden_records) == 1
    [record] = forbidden_records
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert (
        record.getMessage() == f"Forbidden (Permission denied): GET /approvals/ (user {manager.pk})"
    )
    assert "\n" not in logging.Formatter().format(record)


def test_a_django_warning_reaches_one_printing_handler(settings):
    """Django's own "django" console handler and the root's printed each warning twice."""
    settings.DEBUG = True  # as under `make run`; Django's handler printed only then
    record = logging.makeLogRecord({"name": "django.request", "levelno": logging.WARNING})
    printing = []
    logger = logging.getLogger("django.request")
    while logger is not None:
        printing += [
            handler
            for handler in logger.handlers
            if isinstance(handler, logging.StreamHandler)
            and type(handler).__module__ != "_pytest.logging"
            and handler.filter(record)
        ]
        logger = logger.parent if logger.propagate else None
    assert len(printing) == 1


@pytest.mark.django_db
def test_a_refused_form_post_answers_in_the_product_layout_under_the_csp(manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    response = client.post(reverse("logout"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "This form could not be sent" in page
    assert "<style" not in page  # Django's own page needs 'unsafe-inline' styles
