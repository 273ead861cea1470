"""Polling the simulator over real HTTP, through Celery on Redis, into Postgres.

Every fault the simulator can inject is switched on while the stream unfolds; afterwards
the set of stored (platform, external_id) must equal the set the simulator served.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection

from monitoring import polling
from monitoring.demo import DEMO_CREDENTIALS_REF, DEMO_YOUTUBE_API_KEY, create_demo_sources
from monitoring.models import Mention, QuarantinedItem, Source
from monitoring.platforms import Platform
from monitoring.simulator.server import SimulatorServer
from monitoring.simulator.world import World

pytestmark = pytest.mark.celery_worker
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def stored_keys() -> set[tuple[str, str]]:
    return set(Mention.objects.values_list("platform", "external_id"))


def wait_until(condition, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.05)


def round_of_polls(timeout: float = 30) -> None:
    """What beat does every few seconds: dispatch due sources, then let the worker finish."""
    dispatched = polling.dispatch_due_polls()
    started = time.monotonic()

    def finished() -> bool:
        busy = Source.objects.filter(pk__in=dispatched, lease_token__isnull=False).exists()
        return not busy and time.monotonic() - started > 0.2

    wait_until(finished, timeout, "polls did not finish")
    for source_id in dispatched:  # the queued task must have run: the lease was taken and freed
        wait_until(
            lambda source_id=source_id: Source.objects.get(pk=source_id).last_polled_at is not None,
            timeout,
            "a dispatched poll never ran",
        )


@pytest.fixture
def fast_polling(settings, monkeypatch):
    settings.MONITORING = {
        **settings.MONITORING,
        "HTTP_TIMEOUT_SECONDS": 1.0,
        "BACKOFF_BASE_SECONDS": 1,
        "BACKOFF_MAX_SECONDS": 1,
        "LEASE_SECONDS": 30,
    }
    monkeypatch.setenv(f"CALMA_SECRET_{DEMO_CREDENTIALS_REF}_API_KEY", DEMO_YOUTUBE_API_KEY)


def make_sources(server: SimulatorServer) -> list[Source]:
    sources = create_demo_sources(server.base_url, server.world.channel_id)
    Source.objects.update(poll_interval_seconds=1, next_poll_at=None)
    return sources


def test_every_served_item_is_stored_once_with_every_fault_switched_on(celery_worker, fast_polling):
    world = World.generate(seed=11, start=START, hours=1.0, crisis_at_minutes=20)
    with SimulatorServer(world, clock=START + timedelta(minutes=2), fault_seed=3) as server:
        make_sources(server)
        # One sure hit of every kind first (the random ones below may all miss on a run
        # whose requests interleave differently), then the random rain.
        for kind in ("429", "500", "timeout", "malformed_json", "duplicate", "out_of_order"):
            server.add_fault(kind, count=1, retry_after=1, delay=1.5)
        server.add_fault("malformed_item", "mastodon", count=1)
        for kind in ("429", "500", "timeout", "malformed_json"):
            server.add_fault(kind, probability=0.08, retry_after=1, delay=1.5)
        # Feed entries without id or date are still readable by design (a hash of title and
        # link, the fetch time), so items made malformed are tried on the JSON APIs only.
        for platform in ("mastodon", "bluesky", "reddit", "youtube"):
            server.add_fault("malformed_item", platform, probability=0.2)
        for kind in ("duplicate", "out_of_order"):
            server.add_fault(kind, probability=0.3)
        now = START + timedelta(minutes=2)
        while now < world.end:
            now += timedelta(minutes=3)
            server.set_clock(now)
            round_of_polls()
            time.sleep(0.3)  # let 1-second poll intervals and backoffs come due
        hits_by_kind: dict[str, int] = {}
        for fault in server.state()["faults"]:
            hits_by_kind[fault["kind"]] = hits_by_kind.get(fault["kind"], 0) + fault["hits"]
        server.clear_faults()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(1.1)
            round_of_polls()
            healthy = not Source.objects.exclude(health="healthy").exists()
            if healthy and stored_keys() == server.served():
                break
        served = server.served()

    stored = stored_keys()
    assert stored == served
    assert Mention.objects.count() == len(stored)  # no duplicates
    assert {platform for platform, _ in stored} == {
        Platform.MASTODON,
        Platform.BLUESKY,
        Platform.REDDIT,
        Platform.YOUTUBE,
        Platform.FEED,
    }
    assert len(stored) > 300
    assert all(hits_by_kind.values()), hits_by_kind  # every kind of fault really happened
    assert QuarantinedItem.objects.exists()  # malformed items were set aside, not stored


def worker_environment() -> dict[str, str]:
    database = settings.DATABASES["default"]
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(
        {
            "DATABASE_URL": (
                f"postgresql://{database['USER']}@{database['HOST']}:{database['PORT']}"
                f"/{database['NAME']}"
            ),
            "REDIS_URL": settings.REDIS_URL,
            "DEBUG": "true",
            "SECRET_KEY": "test-worker",
            "DB_CONN_MAX_AGE": "0",
            "POLL_LEASE_SECONDS": "3",
            "POLL_HTTP_TIMEOUT_SECONDS": "5",
            "POLL_MAX_PAGES": "50",
        }
    )
    return env


def start_worker_process() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crisis", "worker", "--pool=solo", "-l", "WARNING"],
        cwd=settings.BASE_DIR,
        env=worker_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_worker_killed_mid_poll_loses_and_duplicates_nothing(transactional_db, redis_client):
    world = World.generate(seed=5, start=START, hours=2.0, crisis_at_minutes=20)
    expected = {(p.platform, p.external_id) for p in world.visible_at(world.end, "mastodon")}
    with SimulatorServer(world, clock=world.end) as server:
        source = create_demo_sources(server.base_url, world.channel_id)[0]
        Source.objects.exclude(pk=source.pk).delete()
        # Start from the beginning of the timeline so the poll spans many pages.
        Source.objects.filter(pk=source.pk).update(cursor={"min_id": "0"}, next_poll_at=None)
        server.add_fault("timeout", "mastodon", probability=1.0, delay=0.6)  # slow pages

        first = start_worker_process()
        try:
            polling.dispatch_due_polls()
            wait_until(lambda: Mention.objects.count() >= 80, 60, "first worker stored nothing")
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        partial = Mention.objects.count()
        assert 0 < partial < len(expected)
        assert Source.objects.get(pk=source.pk).lease_token is not None  # died holding it

        server.clear_faults()
        second = start_worker_process()
        try:
            Source.objects.filter(pk=source.pk).update(next_poll_at=None)

            def caught_up() -> bool:
                polling.dispatch_due_polls()
                time.sleep(0.3)
                return stored_keys() >= expected

            wait_until(caught_up, 90, "the second worker did not finish the poll")
        finally:
            second.terminate()
            second.wait(20)
        served = server.served()

    connection.close()
    stored = stored_keys()
    assert stored == expected == served
    assert Mention.objects.count() == len(expected)
