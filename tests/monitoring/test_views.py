"""Monitoring screens: the mentions explorer and source management."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crisis.models import AuditEvent
from monitoring import polling
from monitoring.ingest import ingest_mentions
from monitoring.models import Source
from monitoring.platforms import Platform, QueryKind
from tests.monitoring.factories import make_source, mention_in

pytestmark = pytest.mark.django_db


def test_explorer_lists_mentions_newest_first_with_links(client, manager):
    ingest_mentions([mention_in(1, text="primero"), mention_in(2, text="segundo")], source_id=None)
    client.force_login(manager)
    page = client.get(reverse("monitoring:mentions")).content.decode()
    assert page.index("segundo") < page.index("primero")
    assert 'href="https://masto.example/@ana/1002"' in page
    assert 'rel="noopener noreferrer nofollow"' in page


def test_explorer_filters_by_text_platform_language_and_date(client, manager):
    ingest_mentions(
        [
            mention_in(1, text="factura duplicada", language="es"),
            mention_in(2, text="double charge", language="en", platform="bluesky"),
        ],
        source_id=None,
    )
    client.force_login(manager)
    url = reverse("monitoring:mentions")
    assert "double charge" not in client.get(url, {"q": "factura"}).content.decode()
    assert "factura" not in client.get(url, {"platform": "bluesky"}).content.decode()
    assert "factura" not in client.get(url, {"language": "en"}).content.decode()
    assert "factura" not in client.get(url, {"date_from": "2026-12-01"}).content.decode()


def test_explorer_escapes_platform_text(client, manager):
    ingest_mentions([mention_in(1, text="<script>alert('x')</script>")], source_id=None)
    client.force_login(manager)
    page = client.get(reverse("monitoring:mentions")).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page


def test_explorer_paginates_with_a_constant_number_of_queries(client, manager):
    client.force_login(manager)
    ingest_mentions([mention_in(n, handle=f"user{n}") for n in range(60)], source_id=None)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("monitoring:mentions"))
    ingest_mentions([mention_in(n, handle=f"user{n}") for n in range(60, 160)], source_id=None)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("monitoring:mentions"))
    assert len(many) == len(few)
    assert "Page 1 of 4" in response.content.decode()


def test_htmx_filtering_returns_only_the_results(client, manager):
    client.force_login(manager)
    response = client.get(reverse("monitoring:mentions"), headers={"hx-request": "true"})
    assert b"<html" not in response.content
    assert b"No mentions match" in response.content


def test_admin_creates_a_source_and_it_is_audited(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("monitoring:source_create"),
        {
            "name": "Brisa en Mastodon",
            "platform": Platform.MASTODON,
            "kind": QueryKind.HASHTAG,
            "query": "brisa",
            "base_url": "https://mastodon.social",
            "poll_interval_seconds": 60,
            "enabled": "on",
            "credentials_ref": "",
        },
    )
    source = Source.objects.get()
    assert response.status_code == 302
    assert source.next_poll_at is not None
    assert AuditEvent.objects.get(verb="source.create").object_id == str(source.pk)


def test_source_form_names_the_field_that_is_wrong(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("monitoring:source_create"),
        {
            "name": "x",
            "platform": Platform.MASTODON,
            "kind": QueryKind.SUBREDDIT,
            "query": "brisa",
            "base_url": "",
            "poll_interval_seconds": 5,
            "credentials_ref": "lower case",
        },
    )
    form = response.context["form"]
    assert set(form.errors) == {"kind", "base_url", "poll_interval_seconds", "credentials_ref"}
    assert Source.objects.count() == 0


def test_deleting_a_source_asks_first_and_keeps_its_mentions(client, administrator):
    source = make_source()
    ingest_mentions([mention_in(1)], source_id=source.pk)
    client.force_login(administrator)
    confirm = client.get(reverse("monitoring:source_delete", args=[source.pk]))
    assert b"Keep it" in confirm.content
    assert Source.objects.exists()
    client.post(reverse("monitoring:source_delete", args=[source.pk]))
    assert not Source.objects.exists()
    assert AuditEvent.objects.filter(verb="source.delete").exists()


def test_source_health_page_shows_state_and_errors(client, administrator):
    source = make_source(last_error="TransientError: HTTP 503", consecutive_failures=2)
    client.force_login(administrator)
    page = client.get(reverse("monitoring:source_detail", args=[source.pk])).content.decode()
    assert "HTTP 503" in page
    assert "Poll now" in page


def test_secrets_are_never_stored_or_shown_only_their_reference(client, administrator, monkeypatch):
    monkeypatch.setenv("CALMA_SECRET_MASTODON_MAIN_ACCESS_TOKEN", "tok-1234567890")
    source = make_source(credentials_ref="MASTODON_MAIN")
    client.force_login(administrator)
    page = client.get(reverse("monitoring:source_detail", args=[source.pk])).content.decode()
    assert "MASTODON_MAIN" in page
    assert "tok-1234567890" not in page
    assert "tok-1234567890" not in str(Source.objects.values().get())
    assert "tok-1234567890" not in repr(polling.source_config(source))


@pytest.mark.parametrize("url_name", ["monitoring:sources", "monitoring:quarantine"])
def test_community_managers_cannot_manage_sources(client, manager, url_name):
    client.force_login(manager)
    assert client.get(reverse(url_name)).status_code == 403
