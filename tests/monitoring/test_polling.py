"""Polling: leases, page+cursor commits, rate limits, backoff, health, alerts, hand-off."""

import json
import time
from datetime import timedelta

import pytest
from celery import shared_task
from django.utils import timezone, translation

from monitoring import polling
from monitoring.models import Mention, QuarantinedItem, Source, SourceAlert, SourceHealth
from tests.monitoring.factories import make_source

pytestmark = pytest.mark.django_db


def status(number: int, **overrides) -> dict:
    """A Mastodon Status entity with the fields the real API sends."""
    value = {
        "id": str(110000000000000000 + number),
        "created_at": f"2026-11-01T09:{number % 60:02d}:00.000Z",
        "in_reply_to_id": None,
        "language": "es",
        "uri": f"https://masto.example/users/ana/statuses/{number}",
        "url": f"https://masto.example/@ana/{number}",
        "replies_count": 0,
        "reblogs_count": 1,
        "favourites_count": 2,
        "content": f"<p>Problema {number} con <a href='#'>#brisa</a></p>",
        "spoiler_text": "",
        "reblog": None,
        "account": {
            "id": "1",
            "username": "ana",
            "acct": "ana",
            "display_name": "Ana",
            "followers_count": 321,
            "url": "https://masto.example/@ana",
        },
    }
    value.update(overrides)
    return value


@pytest.fixture
def source(httpserver):
    return make_source(base_url=httpserver.url_for("/").rstrip("/"))


@pytest.fixture
def fast_failures(settings):
    settings.MONITORING = {**settings.MONITORING, "FAILING_AFTER": 3, "BACKOFF_BASE_SECONDS": 2}


TAG_PATH = "/api/v1/timelines/tag/brisa"


def test_a_poll_stores_the_page_and_advances_the_cursor_with_it(httpserver, source):
    httpserver.expect_request(TAG_PATH).respond_with_json([status(2), status(1)])
    assert polling.poll(source.pk).status == "ok"
    source.refresh_from_db()
    assert Mention.objects.count() == 2
    assert source.cursor["min_id"] == str(110000000000000002)
    assert source.health == SourceHealth.HEALTHY
    assert source.last_success_at is not None
    assert source.lease_token is None


def test_the_next_poll_asks_only_for_newer_items(httpserver, source):
    httpserver.expect_ordered_request(TAG_PATH).respond_with_json([status(1)])
    httpserver.expect_ordered_request(
        TAG_PATH, query_string={"limit": "40", "min_id": str(110000000000000001)}
    ).respond_with_json([status(2)])
    polling.poll(source.pk)
    polling.poll(source.pk)
    assert Mention.objects.count() == 2
    httpserver.check_assertions()


def test_a_source_is_never_polled_by_two_workers_at_once(source):
    token = polling.acquire_lease(source.pk)
    assert token is not None
    assert polling.acquire_lease(source.pk) is None
    assert polling.poll(source.pk).status == "busy"
    polling.release_lease(source.pk, token)
    assert polling.acquire_lease(source.pk) is not None


def test_a_killed_pollers_lease_expires(source):
    polling.acquire_lease(source.pk)
    Source.objects.filter(pk=source.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert polling.acquire_lease(source.pk) is not None


def test_a_poller_that_lost_its_lease_commits_nothing(httpserver, source):
    from monitoring.connectors import mastodon
    from monitoring.connectors.base import Page

    stale = polling.acquire_lease(source.pk)
    Source.objects.filter(pk=source.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    polling.acquire_lease(source.pk)  # another worker takes over
    page = Page(mentions=mastodon.parse([status(1)]), next_cursor={"min_id": "9"})
    with pytest.raises(polling.LeaseLost):
        polling.commit_page(source.pk, stale, page)
    assert Mention.objects.count() == 0
    source.refresh_from_db()
    assert source.cursor == {}


def test_429_waits_as_long_as_retry_after_says(httpserver, source):
    httpserver.expect_request(TAG_PATH).respond_with_data(
        "slow down", status=429, headers={"Retry-After": "120"}
    )
    before = timezone.now()
    assert polling.poll(source.pk).status == "rate_limited"
    source.refresh_from_db()
    assert source.next_poll_at >= before + timedelta(seconds=119)
    assert source.health == SourceHealth.DEGRADED
    assert source.consecutive_failures == 0


def test_server_errors_back_off_then_mark_the_source_failing_and_alert(
    httpserver, source, fast_failures
):
    httpserver.expect_request(TAG_PATH).respond_with_data("boom", status=503)
    healths = []
    for _ in range(3):
        before = timezone.now()
        assert polling.poll(source.pk).status == "failed"
        source.refresh_from_db()
        assert before < source.next_poll_at <= before + timedelta(seconds=901)
        healths.append(source.health)
    assert healths == [SourceHealth.DEGRADED, SourceHealth.DEGRADED, SourceHealth.FAILING]
    assert source.consecutive_failures == 3
    assert "503" in source.last_error
    alert = SourceAlert.objects.get(source=source, resolved_at=None)
    assert "3 polls in a row" in alert.message


def test_the_failing_alert_is_written_in_the_organisation_language_whatever_the_thread_served(
    httpserver, source, fast_failures
):
    httpserver.expect_request(TAG_PATH).respond_with_data("boom", status=503)
    translation.activate("es")  # a thread that last served a Spanish page
    for _ in range(3):
        polling.poll(source.pk)
    alert = SourceAlert.objects.get(source=source, resolved_at=None)
    assert "3 polls in a row" in alert.message


def test_a_success_after_failures_heals_the_source_and_resolves_the_alert(
    httpserver, source, fast_failures
):
    httpserver.expect_ordered_request(TAG_PATH).respond_with_data("boom", status=500)
    httpserver.expect_ordered_request(TAG_PATH).respond_with_data("boom", status=500)
    httpserver.expect_ordered_request(TAG_PATH).respond_with_data("boom", status=500)
    httpserver.expect_ordered_request(TAG_PATH).respond_with_json([status(1)])
    for _ in range(4):
        polling.poll(source.pk)
    source.refresh_from_db()
    assert source.health == SourceHealth.HEALTHY
    assert source.consecutive_failures == 0
    assert not SourceAlert.objects.filter(source=source, resolved_at=None).exists()


def test_a_malformed_item_is_quarantined_and_the_rest_of_the_page_stored(httpserver, source):
    broken = status(2)
    del broken["id"]
    broken["created_at"] = "not a date"
    httpserver.expect_request(TAG_PATH).respond_with_json([status(3), broken, status(1)])
    assert polling.poll(source.pk).status == "ok"
    assert Mention.objects.count() == 2
    item = QuarantinedItem.objects.get()
    assert item.source == source
    assert item.raw["created_at"] == "not a date"
    assert item.reason


def test_an_unreadable_body_is_a_failed_poll_that_keeps_the_cursor(httpserver, source):
    httpserver.expect_request(TAG_PATH).respond_with_data(
        '[{"id": "1", "created_', content_type="application/json"
    )
    assert polling.poll(source.pk).status == "failed"
    source.refresh_from_db()
    assert source.cursor == {}
    assert "MalformedPayload" in source.last_error


def test_the_dispatcher_queues_each_due_source_once(source, redis_client):
    paused = make_source(name="paused", enabled=False)
    assert polling.dispatch_due_polls() == [source.pk]
    assert polling.dispatch_due_polls() == []  # its next poll moved forward
    source.refresh_from_db()
    assert source.next_poll_at > timezone.now() + timedelta(seconds=50)
    assert paused.pk not in polling.due_sources()


HANDED_OFF = "calma-test:handed-off"


@shared_task(name="tests.record_new_mentions")
def record_new_mentions(mention_ids: list[int]) -> None:
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.REDIS_URL).rpush(HANDED_OFF, json.dumps(mention_ids))


@pytest.mark.celery_worker
def test_new_mentions_are_handed_off_by_id_after_commit(
    httpserver, celery_worker, redis_client, settings
):
    settings.MONITORING = {**settings.MONITORING, "NEW_MENTIONS_TASK": "tests.record_new_mentions"}
    source = make_source(base_url=httpserver.url_for("/").rstrip("/"))
    httpserver.expect_ordered_request(TAG_PATH).respond_with_json([status(2), status(1)])
    httpserver.expect_ordered_request(TAG_PATH).respond_with_json([status(3), status(2)])
    polling.poll(source.pk)
    polling.poll(source.pk)
    deadline = time.monotonic() + 20
    while redis_client.llen(HANDED_OFF) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    batches = [json.loads(item) for item in redis_client.lrange(HANDED_OFF, 0, -1)]
    by_external_id = dict(Mention.objects.values_list("external_id", "pk"))
    first = {by_external_id[str(110000000000000000 + n)] for n in (1, 2)}
    second = {by_external_id[str(110000000000000003)]}
    assert [set(batch) for batch in batches] == [first, second]


def test_a_poll_that_runs_out_of_page_budget_is_due_again_at_once(httpserver, source, settings):
    settings.MONITORING = {**settings.MONITORING, "MAX_PAGES_PER_POLL": 1}
    httpserver.expect_request(TAG_PATH).respond_with_json([status(n) for n in range(40, 0, -1)])
    polling.poll(source.pk)
    assert source.pk in polling.due_sources()
