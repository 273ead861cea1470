"""Source alerts by kind: a full quarantine's alert survives successful polls, coexists with
a polling-failing alert, counts what it dropped and resolves when the queue drains below the
cap (regression of issue 8, item 6: a quarantine alert vanished at the end of its own poll)."""

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from monitoring import polling, services
from monitoring.connectors.base import QuarantinedIn
from monitoring.ingest import quarantine
from monitoring.models import AlertKind, QuarantinedItem, SourceAlert
from monitoring.platforms import Platform
from tests.monitoring.factories import make_source

pytestmark = pytest.mark.django_db
TAG_PATH = "/api/v1/timelines/tag/brisa"


@pytest.fixture
def cap_of(settings):
    def set_cap(cap: int) -> None:
        settings.MONITORING = {
            **settings.MONITORING,
            "QUARANTINE_CAP_PER_SOURCE": cap,
            "FAILING_AFTER": 3,
            "BACKOFF_BASE_SECONDS": 1,
        }

    return set_cap


@pytest.fixture
def source(httpserver):
    return make_source(base_url=httpserver.url_for("/").rstrip("/"))


def future_status(number: int) -> dict:
    """A Mastodon status dated 2041: refused by the boundary, so quarantined."""
    return {
        "id": str(120000000000000000 + number),
        "created_at": "2041-01-01T00:00:00.000Z",
        "uri": f"https://masto.example/users/ana/statuses/{number}",
        "url": f"https://masto.example/@ana/{number}",
        "content": "<p>Desde el futuro</p>",
        "account": {"id": "1", "username": "ana", "acct": "ana"},
    }


def junk(*numbers: int) -> list[QuarantinedIn]:
    return [QuarantinedIn(reason="unreadable", raw={"id": f"junk-{n}"}) for n in numbers]


def open_alerts(source) -> dict[str, SourceAlert]:
    return {
        alert.kind: alert for alert in SourceAlert.objects.filter(source=source, resolved_at=None)
    }


def poll_again(source) -> str:
    source.refresh_from_db()
    source.next_poll_at = timezone.now()
    source.save()
    return polling.poll(source.pk).status


def fail_three_polls(httpserver, source) -> None:
    httpserver.expect_request(TAG_PATH).respond_with_data("boom", status=503)
    for _ in range(3):
        poll_again(source)
    httpserver.clear()


def test_quarantine_full_alert_survives_the_successful_poll_that_raised_it(
    httpserver, source, cap_of
):
    cap_of(1)
    httpserver.expect_request(TAG_PATH).respond_with_json([future_status(1), future_status(2)])

    assert polling.poll(source.pk).status == "ok"

    assert AlertKind.QUARANTINE_FULL in open_alerts(source)


def test_quarantine_full_alert_survives_a_later_successful_poll(httpserver, source, cap_of):
    cap_of(1)
    quarantine(junk(1, 2), platform=Platform.MASTODON, source_id=source.pk)
    httpserver.expect_request(TAG_PATH).respond_with_json([])

    assert polling.poll(source.pk).status == "ok"

    assert AlertKind.QUARANTINE_FULL in open_alerts(source)


def test_failing_alert_and_quarantine_full_alert_are_open_together(httpserver, source, cap_of):
    cap_of(1)
    quarantine(junk(1, 2), platform=Platform.MASTODON, source_id=source.pk)

    fail_three_polls(httpserver, source)

    assert set(open_alerts(source)) == {AlertKind.QUARANTINE_FULL, AlertKind.POLLING_FAILING}


def test_a_successful_poll_resolves_only_the_failing_alert(httpserver, source, cap_of):
    cap_of(1)
    quarantine(junk(1, 2), platform=Platform.MASTODON, source_id=source.pk)
    fail_three_polls(httpserver, source)
    httpserver.expect_request(TAG_PATH).respond_with_json([])

    assert poll_again(source) == "ok"

    assert set(open_alerts(source)) == {AlertKind.QUARANTINE_FULL}


def test_a_failing_poll_never_rewrites_the_quarantine_full_alert(httpserver, source, cap_of):
    cap_of(1)
    quarantine(junk(1, 2), platform=Platform.MASTODON, source_id=source.pk)
    message = open_alerts(source)[AlertKind.QUARANTINE_FULL].message

    fail_three_polls(httpserver, source)

    assert open_alerts(source)[AlertKind.QUARANTINE_FULL].message == message


def test_quarantine_full_alert_counts_every_item_dropped_across_deliveries(source, cap_of):
    cap_of(1)
    quarantine(junk(1, 2, 3), platform=Platform.MASTODON, source_id=source.pk)

    quarantine(junk(4, 5), platform=Platform.MASTODON, source_id=source.pk)

    alert = SourceAlert.objects.get(source=source, kind=AlertKind.QUARANTINE_FULL)
    assert alert.dropped_count == 4
    assert "4 more items were dropped" in alert.message


def test_discarding_below_the_cap_resolves_the_quarantine_full_alert(source, cap_of, administrator):
    cap_of(1)
    quarantine(junk(1, 2), platform=Platform.MASTODON, source_id=source.pk)

    services.discard_quarantined(
        actor=administrator, item=QuarantinedItem.objects.get(), justification="basura"
    )

    assert open_alerts(source) == {}
    assert SourceAlert.objects.get(kind=AlertKind.QUARANTINE_FULL).resolved_at is not None


def test_reprocessing_below_the_cap_resolves_the_quarantine_full_alert(
    source, cap_of, administrator
):
    cap_of(1)
    readable = {
        "id": "fixed-1",
        "url": "https://example.org/fixed-1",
        "text": "Ahora se puede leer",
        "published_at": timezone.now().isoformat(),
        "author": {"handle": "@ana"},
    }
    kept = [QuarantinedIn(reason="a connector bug", raw=readable)]
    quarantine(kept + junk(2), platform=Platform.WEBHOOK, source_id=source.pk)

    services.reprocess_quarantined(actor=administrator, item=QuarantinedItem.objects.get())

    assert open_alerts(source) == {}


def test_a_discard_that_leaves_the_queue_at_the_cap_keeps_the_alert_open(
    source, cap_of, administrator
):
    cap_of(3)
    quarantine(junk(1, 2, 3), platform=Platform.MASTODON, source_id=source.pk)
    cap_of(1)  # the operator lowered the cap: 3 pending, the next item is dropped
    quarantine(junk(4), platform=Platform.MASTODON, source_id=source.pk)

    services.discard_quarantined(
        actor=administrator, item=QuarantinedItem.objects.first(), justification="basura"
    )

    assert set(open_alerts(source)) == {AlertKind.QUARANTINE_FULL}


def test_a_new_flood_after_the_alert_resolved_raises_a_new_one(source, cap_of, administrator):
    cap_of(1)
    quarantine(junk(1, 2), platform=Platform.MASTODON, source_id=source.pk)
    services.discard_quarantined(
        actor=administrator, item=QuarantinedItem.objects.get(), justification="basura"
    )

    quarantine(junk(3, 4, 5), platform=Platform.MASTODON, source_id=source.pk)

    assert open_alerts(source)[AlertKind.QUARANTINE_FULL].dropped_count == 2


def test_source_page_shows_the_quarantine_full_alert_and_its_dropped_count(
    client, source, cap_of, administrator
):
    cap_of(1)
    quarantine(junk(1, 2, 3), platform=Platform.MASTODON, source_id=source.pk)
    client.force_login(administrator)

    page = client.get(reverse("monitoring:source_detail", args=[source.pk])).content.decode()

    assert "Quarantine full" in page
    assert "2 more items were dropped since" in page


def test_source_page_shows_the_quarantine_full_alert_in_spanish(
    client, source, cap_of, administrator
):
    cap_of(1)
    quarantine(junk(1, 2), platform=Platform.MASTODON, source_id=source.pk)
    client.force_login(administrator)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "es"

    page = client.get(reverse("monitoring:source_detail", args=[source.pk])).content.decode()

    assert "Cuarentena llena" in page
    assert "se ha descartado 1 elemento más" in page
    assert "dropped" not in page
