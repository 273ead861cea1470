"""The surge detector's shared state (issue 13): a short per-topic lock instead of an unbounded
WATCH loop, one Redis client per process, and runs' own state apart from the live keys."""

import multiprocessing
import os
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.conf import settings

from protocols import velocity
from protocols.models import ProtocolVersion, run_origin
from protocols.services import active_version
from protocols.spike_stores import (
    IGNORED_COUNTER,
    REDIS_PREFIX,
    MemorySpikeStore,
    RedisSpikeStore,
    SpikeStoreBusy,
    shared_redis_client,
)

UPDATES = 500
AT = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)


@pytest.fixture
def store(redis_client):
    return RedisSpikeStore(redis_client, prefix=f"test:stores:{uuid.uuid4().hex}:")


def add_one(state):
    state = state or {"n": 0}
    state["n"] += 1
    return state, state["n"]


def update_many(url: str, prefix: str, topic: str, times: int) -> None:
    store = RedisSpikeStore(shared_redis_client(url), prefix=prefix)
    for _ in range(times):
        store.update(topic, add_one, ttl_seconds=600)


def test_two_threads_updating_one_topic_count_every_update(store):
    workers = [
        threading.Thread(
            target=update_many, args=(settings.REDIS_URL, store.prefix, "__all__", UPDATES)
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert store.load("__all__") == {"n": 2 * UPDATES}


def test_two_processes_updating_one_topic_count_every_update(store):
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(
            target=update_many, args=(settings.REDIS_URL, store.prefix, "__all__", UPDATES)
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert store.load("__all__") == {"n": 2 * UPDATES}


def test_a_held_lock_times_out_with_a_clear_error_and_writes_nothing(store):
    impatient = RedisSpikeStore(store.client, prefix=store.prefix, lock_wait_seconds=0.2)
    with store.locked("billing"), pytest.raises(SpikeStoreBusy, match="'billing' stayed locked"):
        impatient.update("billing", add_one, ttl_seconds=600)
    assert store.load("billing") is None


def test_a_busy_topic_is_a_redis_timeout_so_scoring_tasks_retry_it():
    from protocols.tasks import TRANSIENT_ERRORS

    assert isinstance(SpikeStoreBusy("busy"), TRANSIENT_ERRORS)


def test_a_lock_lost_before_the_write_writes_nothing(store):
    with store.locked("billing") as token:
        store.client.set(store.lock_key("billing"), "another worker's token")
        with pytest.raises(SpikeStoreBusy, match="expired before the write"):
            store.write("billing", token, {"n": 1}, ttl_seconds=600)
    assert store.load("billing") is None


def test_releasing_an_expired_lock_never_frees_another_workers_lock(store):
    with store.locked("billing"):
        store.client.set(store.lock_key("billing"), "another worker's token")
    assert store.client.get(store.lock_key("billing")) == b"another worker's token"


def test_a_killed_holders_lock_expires_by_itself(store):
    quick = RedisSpikeStore(store.client, prefix=store.prefix, lock_ttl_ms=50)
    quick.client.set(quick.lock_key("billing"), "a dead worker", px=50)
    assert quick.update("billing", add_one, ttl_seconds=600) == 1


def test_one_redis_client_per_process():
    assert shared_redis_client() is shared_redis_client()
    assert shared_redis_client() is shared_redis_client(settings.REDIS_URL)
    assert RedisSpikeStore().client is shared_redis_client()


def test_a_forked_process_builds_its_own_client():
    parent = shared_redis_client()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            own = shared_redis_client()
            answer = b"own" if own is not parent and own.ping() else b"shared"
        except Exception:  # any failure is the child's answer
            answer = b"error"
        os.write(writer, answer)
        os._exit(0)
    os.close(writer)
    answer = os.read(reader, 16)
    os.close(reader)
    os.waitpid(child, 0)
    assert answer == b"own"
    assert shared_redis_client() is parent


# --- counting once, per origin --------------------------------------------------------------
@pytest.fixture
def version(db) -> ProtocolVersion:
    return active_version()


def test_one_mention_counted_concurrently_counts_once(version, redis_client):
    mention_id = 9_000_001

    def count():
        for _ in range(50):
            velocity.count_once(version, mention_id, ["billing", "__all__"], AT, now=AT)

    workers = [threading.Thread(target=count) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    store = RedisSpikeStore()
    assert store.load("billing")["count"] == 1
    assert store.load("__all__")["count"] == 1
    assert velocity.counted_topics(mention_id) == {"billing", "__all__"}


def test_a_mention_far_from_the_present_is_counted_as_ignored_once(version, redis_client):
    far = AT - timedelta(days=2)
    for _ in range(3):
        velocity.count_once(version, 9_000_002, ["billing"], far, now=AT)
    assert RedisSpikeStore().counter(IGNORED_COUNTER) == 1


def test_a_run_counts_in_its_own_keys_never_the_live_ones(version, redis_client):
    origin = run_origin(7)
    velocity.count_once(version, 9_000_003, ["billing"], AT, now=AT, origin=origin)
    live = RedisSpikeStore()
    assert live.load("billing") is None
    assert velocity.counted_topics(9_000_003) == set()
    assert velocity.counted_topics(9_000_003, origin) == {"billing"}
    assert velocity.store_for(origin).load("billing")["count"] == 1
    assert all(key.startswith(b"calma:spikes:run:7:") for key in redis_client.keys("calma:*"))


def test_a_runs_velocity_reads_its_own_state(version, redis_client):
    origin = run_origin(8)
    detector = velocity.detector_for(version, origin)
    start = AT - timedelta(hours=1)
    for minute in range(60):  # an hour of one mention a minute: the run's baseline
        detector.observe("billing", start + timedelta(minutes=minute))
    for second in range(40):  # then forty in one minute
        detector.observe("billing", AT + timedelta(seconds=second))
    now = AT + timedelta(seconds=45)
    assert velocity.current(version, ["billing"], now, now=now, origin=origin).velocity_factor > 3
    assert velocity.current(version, ["billing"], now, now=now).velocity_factor == 1.0


def test_forgetting_a_run_drops_its_keys_and_leaves_live_ones(version, redis_client):
    velocity.count_once(version, 9_000_004, ["billing"], AT, now=AT)
    velocity.count_once(version, 9_000_005, ["billing"], AT, now=AT, origin=run_origin(9))
    assert velocity.forget_run(9) == 2  # the topic's state and the mention's marker
    assert velocity.store_for(run_origin(9)).load("billing") is None
    assert RedisSpikeStore().load("billing")["count"] == 1


def test_an_origin_that_is_neither_live_nor_a_run_has_no_detector_state():
    with pytest.raises(ValueError, match="no detector state"):
        velocity.store_for("elsewhere")


def test_the_embedded_default_keeps_a_bounded_store_per_run(settings):
    settings.REDIS_URL = ""
    first = velocity.store_for(run_origin(101))
    assert isinstance(first, MemorySpikeStore)
    assert first is velocity.store_for(run_origin(101))
    assert first is not velocity.store_for("live")
    assert first is not velocity.store_for(run_origin(102))
    for run_id in range(103, 103 + velocity.EMBEDDED_RUNS):
        velocity.store_for(run_origin(run_id))
    assert velocity.store_for(run_origin(101)) is not first  # the least recently used went


def test_the_redis_prefix_of_a_run_is_apart_from_live_topics():
    assert velocity.run_prefix(5) == f"{REDIS_PREFIX}run:5:"
    assert RedisSpikeStore(redis.Redis(), prefix=velocity.run_prefix(5)).key("billing") == (
        "calma:spikes:run:5:billing"
    )
