"""Recovery under faults (issue 8, item 12): each fault a chaos run found, reproduced alone.

The broker unreachable at the hand-off, the database gone during a poll (the lease release
fails too), a feed cut short, and the broker's visibility timeout against the task limits.
"""

import json
import logging
import socket
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import psycopg
import psycopg.sql
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone
from werkzeug import Response

from monitoring import polling
from monitoring.ingest import ingest_mentions
from monitoring.models import Mention, Source, SourceHealth
from monitoring.platforms import Platform, QueryKind
from protocols import sweeper
from protocols.models import MentionScore
from tests.monitoring.factories import make_source, mention_in
from tests.monitoring.test_polling import TAG_PATH, status

FEEDS = Path(__file__).parent / "fixtures" / "feeds"


def free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


@contextmanager
def broker_unreachable():
    """Point the Celery app at a loopback port where nothing listens, as a stopped Redis."""
    from crisis.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    drop_broker_connections(app)
    try:
        yield
    finally:
        app.conf.broker_url = original
        drop_broker_connections(app)


def drop_broker_connections(app) -> None:
    """Forget the app's broker pools, so the next send looks up the pool for broker_url as it
    is now (what Celery itself does after a fork). Not closed: kombu keeps one pool per URL
    for the whole process, and the real broker's pool is used again afterwards."""
    app._pool = None
    app.amqp._producer_pool = None


def wait_until(condition, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


# --- the hand-off and the sweeper ---------------------------------------------------------
@pytest.mark.celery_worker
def test_mentions_stored_while_the_broker_is_down_are_scored_after_the_sweeper_runs(
    transactional_db, redis_client, httpserver, request, caplog
):
    source = make_source(base_url=httpserver.url_for("/").rstrip("/"))
    httpserver.expect_request(TAG_PATH).respond_with_json([status(2), status(1)])
    with broker_unreachable(), caplog.at_level(logging.WARNING, logger="monitoring.polling"):
        outcome = polling.poll(source.pk)
    assert outcome.status == "ok"
    assert Mention.objects.count() == 2
    hand_off_lines = [r for r in caplog.records if "hand-off of 2 new mentions" in r.message]
    assert len(hand_off_lines) == 1
    assert hand_off_lines[0].exc_info is None  # one line, no traceback

    later = timezone.now() + timedelta(seconds=django_settings.SCORING["SWEEP_AFTER_SECONDS"] + 1)
    assert sweeper.sweep_unscored_mentions(now=later) == 2
    request.getfixturevalue("celery_worker")  # a real worker, on the real broker
    wait_until(lambda: MentionScore.objects.count() == 2, 30, "the swept mentions were not scored")


def test_the_sweeper_takes_unscored_mentions_oldest_first_and_leaves_recent_ones(db):
    now = timezone.now()
    ids = ingest_mentions([mention_in(n) for n in range(4)], source_id=None).new_mention_ids
    ages = [timedelta(hours=100), timedelta(minutes=30), timedelta(minutes=10), timedelta(0)]
    for mention_id, age in zip(sorted(ids), ages, strict=True):
        Mention.objects.filter(pk=mention_id).update(ingested_at=now - age)
    found = sweeper.unscored_mention_ids(
        now=now, stored_before=timedelta(minutes=3), lookback=timedelta(hours=72), limit=10
    )
    # The 100-hour-old one is outside the lookback; the brand new one may still be handed off.
    assert found == sorted(ids)[1:3]
    assert (
        sweeper.unscored_mention_ids(
            now=now, stored_before=timedelta(minutes=3), lookback=timedelta(hours=72), limit=1
        )
        == sorted(ids)[1:2]
    )


def test_the_sweeper_skips_mentions_that_have_a_score(db, redis_client):
    from protocols.tasks import score_new_mentions

    now = timezone.now()
    ids = ingest_mentions([mention_in(n) for n in range(2)], source_id=None).new_mention_ids
    Mention.objects.update(ingested_at=now - timedelta(minutes=10))
    score_new_mentions(ids[:1])
    found = sweeper.unscored_mention_ids(
        now=now, stored_before=timedelta(minutes=3), lookback=timedelta(hours=72), limit=10
    )
    assert found == ids[1:]


# --- the lease when the database goes away ------------------------------------------------
def admin_connection() -> psycopg.Connection:
    database = connection.settings_dict
    return psycopg.connect(
        host=database["HOST"],
        port=database["PORT"],
        user=database["USER"],
        password=database["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


@contextmanager
def database_outage():
    """The test database goes down when `begin` is called: the poller's connection is ended
    (as a Postgres restart does) and no new connection is accepted until the block ends."""
    name = psycopg.sql.Identifier(connection.settings_dict["NAME"])

    def begin(pid: int) -> None:
        with admin_connection() as admin:
            admin.execute(psycopg.sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name))
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    try:
        yield begin
    finally:
        with admin_connection() as admin:
            admin.execute(psycopg.sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name))
        connection.close()  # the test's own connection died too; the next query reconnects


def test_a_release_that_fails_with_the_database_down_leaves_a_lease_that_lapses_soon(
    transactional_db, httpserver
):
    source = make_source(base_url=httpserver.url_for("/").rstrip("/"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        poller_pid = cursor.fetchone()[0]

    with database_outage() as database_goes_down:

        def database_goes_down_mid_poll(_request):
            database_goes_down(poller_pid)
            return Response(json.dumps([status(1)]), content_type="application/json")

        httpserver.expect_request(TAG_PATH).respond_with_handler(database_goes_down_mid_poll)
        started = timezone.now()
        outcome = polling.poll(source.pk)  # the commit and the release both fail

    assert outcome.status == "database_unavailable"
    source.refresh_from_db()
    assert source.lease_token is not None  # left behind by the failed release
    renewal = timedelta(seconds=django_settings.MONITORING["LEASE_SECONDS"])
    assert renewal <= timedelta(seconds=30)
    assert source.lease_expires_at <= timezone.now() + renewal
    assert source.lease_expires_at >= started
    assert polling.acquire_lease(source.pk, now=started + renewal + timedelta(seconds=1))


# --- a feed cut short ---------------------------------------------------------------------
def feed_source(httpserver) -> Source:
    return make_source(
        name="Brisa blog",
        platform=Platform.FEED,
        kind=QueryKind.FEED_URL,
        query=httpserver.url_for("/feed.xml"),
        base_url="",
    )


def test_a_truncated_feed_is_refused_whole_and_its_etag_is_not_kept(db, httpserver):
    whole = (FEEDS / "rss2sample.xml").read_bytes()
    httpserver.expect_request("/feed.xml").respond_with_data(
        whole[: len(whole) // 2],
        content_type="application/rss+xml",
        headers={"ETag": '"v1"', "Last-Modified": "Mon, 30 Nov 2026 10:00:00 GMT"},
    )
    source = feed_source(httpserver)
    before = timezone.now()
    assert polling.poll(source.pk).status == "failed"
    source.refresh_from_db()
    assert Mention.objects.count() == 0
    assert source.cursor == {}  # the next poll asks for the whole feed again
    assert source.health == SourceHealth.DEGRADED
    assert "not well-formed" in source.last_error
    assert source.next_poll_at > before  # backed off


def test_a_feed_after_a_blank_line_with_an_html_entity_is_still_read(db, httpserver):
    published = timezone.now().strftime("%a, %d %b %Y %H:%M:%S +0000")
    body = (
        '\n<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        "<title>Foro&nbsp;Brisa</title><link>https://foro.example/</link>"
        f"<item><title>Sin fibra</title><link>https://foro.example/1</link>"
        f"<guid>https://foro.example/1</guid><pubDate>{published}</pubDate></item>"
        "</channel></rss>"
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        body, content_type="application/rss+xml", headers={"ETag": '"v2"'}
    )
    source = feed_source(httpserver)
    assert polling.poll(source.pk).status == "ok"
    source.refresh_from_db()
    assert Mention.objects.count() == 1
    assert source.cursor == {"etag": '"v2"'}


# --- the broker's visibility timeout ------------------------------------------------------
def test_the_visibility_timeout_is_a_little_above_the_longest_task_time_limit():
    from crisis.celery import app

    app.loader.import_default_modules()
    limits = {
        name: task.time_limit or app.conf.task_time_limit
        for name, task in app.tasks.items()
        if name.startswith(("monitoring.", "protocols.", "crisis."))
    }
    assert limits["monitoring.tasks.poll_source"] >= django_settings.POLL_SOFT_TIME_LIMIT
    assert all(limits.values()), limits  # every task is acks_late: each needs a limit
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert max(limits.values()) < visibility <= max(limits.values()) + 120


def test_a_poll_soft_limit_covers_every_page_fetch_of_a_poll():
    monitoring = django_settings.MONITORING
    fetch_at_most = 5 + monitoring["HTTP_TIMEOUT_SECONDS"]  # connect + read timeout
    assert monitoring["MAX_PAGES_PER_POLL"] * fetch_at_most <= django_settings.POLL_SOFT_TIME_LIMIT
    assert django_settings.POLL_SOFT_TIME_LIMIT < django_settings.POLL_TIME_LIMIT
    assert monitoring["LEASE_SECONDS"] > fetch_at_most  # one slow page never costs the lease
