"""The surge detector believes only the present, and any gap between observations is cheap.

Issue 8, "What was found" 3: one RSS item dated 2041 moved the overall spike state to 2041, so
real-time mentions stopped counting and a surge right after raised nothing; a date in 2200 grew
a worker to 2.2 GB and 9999 raised MemoryError.
"""

import time
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest

from monitoring.models import Author, Mention, Platform
from protocols import pipeline, services, velocity
from protocols.models import CrisisSuggestion
from protocols.spikes import (
    ALL_TOPICS,
    DetectorSettings,
    MemorySpikeStore,
    SurgeDetector,
)

SETTINGS = DetectorSettings()
BUCKET = timedelta(seconds=SETTINGS.bucket_seconds)
# Generous bounds: the unbounded gap took gigabytes and minutes.
SECONDS = 2.0
PEAK_BYTES = 20 * 2**20


def bucket_of(at: datetime) -> int:
    return int(at.timestamp() // SETTINGS.bucket_seconds)


def present_minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


def warmed_up(detector: SurgeDetector, until: datetime, per_bucket: int = 2) -> None:
    """Steady traffic for the half hour before `until`, observed live (so the topic can alert)."""
    for minutes in range(30, 0, -1):
        at = until - minutes * BUCKET
        for _ in range(per_bucket):
            detector.observe_live(ALL_TOPICS, at, now=at)


def stored_mention(number: int, published_at: datetime, ingested_at: datetime) -> Mention:
    author, _ = Author.objects.get_or_create(platform=Platform.BLUESKY, handle="someone")
    return Mention.objects.create(
        platform=Platform.BLUESKY,
        external_id=f"at://present/{number}",
        author=author,
        text="el servicio no funciona",
        language="es",
        published_at=published_at,
        ingested_at=ingested_at,
    )


# --- the live path: pipeline.score_and_store with the Redis store ------------------------------


@pytest.fixture
def live(transactional_db, redis_client):
    # Transactional: the live stage counts mentions after its scores commit (on_commit).
    version = services.active_version()
    return version, velocity.live_detector(version)


def test_a_mention_dated_2041_does_not_move_the_overall_clock(live):
    version, detector = live
    now = present_minute()
    warmed_up(detector, now)
    future = stored_mention(1, datetime(2041, 6, 1, tzinfo=UTC), ingested_at=now)
    pipeline.score_and_store([future.pk], version=version, now=now)
    assert detector.store.load(ALL_TOPICS)["bucket"] <= bucket_of(now)


def test_a_surge_right_after_a_mention_from_the_future_still_alerts(live):
    version, detector = live
    now = present_minute()
    warmed_up(detector, now)
    future = stored_mention(1, datetime(2041, 6, 1, tzinfo=UTC), ingested_at=now)
    pipeline.score_and_store([future.pk], version=version, now=now)
    surge = [
        stored_mention(100 + second, now + timedelta(seconds=second), ingested_at=now + BUCKET)
        for second in range(1, 41)
    ]
    pipeline.score_and_store([mention.pk for mention in surge], version=version, now=now + BUCKET)
    assert CrisisSuggestion.objects.filter(
        topic=ALL_TOPICS, reason=CrisisSuggestion.Reason.SPIKE
    ).exists()


def test_a_mention_far_from_the_present_is_counted_as_ignored_in_redis(live):
    version, detector = live
    now = present_minute()
    future = stored_mention(1, datetime(2041, 6, 1, tzinfo=UTC), ingested_at=now)
    past = stored_mention(2, now - timedelta(days=3), ingested_at=now)
    pipeline.score_and_store([future.pk, past.pk], version=version, now=now)
    # Each mention is observed on "__all__" (and its hashtags, none here).
    assert detector.ignored() == 2


def test_a_backlogged_worker_still_counts_mentions_at_the_time_they_arrived(live):
    version, detector = live
    received = present_minute() - timedelta(minutes=30)
    mention = stored_mention(1, received - timedelta(seconds=5), ingested_at=received)
    pipeline.score_and_store([mention.pk], version=version, now=received + timedelta(minutes=30))
    assert detector.ignored() == 0
    assert detector.store.load(ALL_TOPICS)["bucket"] == bucket_of(received - timedelta(seconds=5))


# --- the detector itself ----------------------------------------------------------------------


def test_a_platform_clock_a_little_fast_is_counted_at_the_present():
    detector = SurgeDetector(SETTINGS, MemorySpikeStore())
    now = present_minute()
    detector.observe_live(ALL_TOPICS, now + timedelta(minutes=5), now=now)
    assert detector.store.load(ALL_TOPICS)["bucket"] == bucket_of(now)
    assert detector.ignored() == 0


def test_a_mention_older_than_every_window_is_ignored():
    detector = SurgeDetector(SETTINGS, MemorySpikeStore())
    now = present_minute()
    detector.observe_live(ALL_TOPICS, now - timedelta(hours=2), now=now)
    assert detector.store.load(ALL_TOPICS) is None
    assert detector.ignored() == 1


@pytest.mark.parametrize("year", [2200, 9999])
def test_observing_centuries_ahead_takes_bounded_time_and_memory(year):
    detector = SurgeDetector(SETTINGS, MemorySpikeStore())
    now = present_minute()
    warmed_up(detector, now)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        detector.observe(ALL_TOPICS, datetime(year, 12, 31, 23, 0, tzinfo=UTC))
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < SECONDS
    assert peak < PEAK_BYTES


def test_reading_a_factor_centuries_ahead_takes_bounded_time_and_memory():
    detector = SurgeDetector(SETTINGS, MemorySpikeStore())
    now = present_minute()
    warmed_up(detector, now)
    tracemalloc.start()
    try:
        detector.factor(ALL_TOPICS, datetime(9999, 12, 31, tzinfo=UTC))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES


def test_the_present_after_a_first_observation_in_year_one_takes_bounded_memory():
    detector = SurgeDetector(SETTINGS, MemorySpikeStore())
    detector.observe(ALL_TOPICS, datetime(1, 1, 2, tzinfo=UTC))
    tracemalloc.start()
    try:
        detector.observe(ALL_TOPICS, present_minute())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES
