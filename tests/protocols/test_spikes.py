"""The surge detector: steady traffic stays quiet, a surge is flagged early, workers share state."""

# ruff: noqa: S311 - simulated traffic, not security

import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.conf import settings

from monitoring.simulator.world import World
from protocols.defaults import default_config
from protocols.spikes import (
    ALL_TOPICS,
    DetectorSettings,
    MemorySpikeStore,
    RedisSpikeStore,
    SurgeDetector,
    replay,
)

START = datetime(2025, 3, 10, 0, 0, tzinfo=UTC)
SETTINGS = DetectorSettings.from_protocol(default_config())


def poisson_arrivals(rng, start, minutes, per_minute):
    """Arrival times of a Poisson process."""
    at, end = start, start + timedelta(minutes=minutes)
    while True:
        at += timedelta(seconds=rng.expovariate(per_minute / 60))
        if at >= end:
            return
        yield at


def feed(detector, times, topic="billing"):
    return [(at, detector.observe(topic, at)) for at in times]


def alerts_of(observations):
    return [observation.alert for _, observation in observations if observation.alert]


@pytest.fixture
def redis_store():
    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = f"calma:spikes:test-{uuid.uuid4().hex}:"
    yield RedisSpikeStore(client, prefix=prefix)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_settings_follow_the_protocol():
    config = default_config()
    config["velocity"]["spike_factor"] = 2.5
    config["crisis_threshold"]["spike_factor"] = 6.0
    detector_settings = DetectorSettings.from_protocol(config, bucket_seconds=300)
    assert detector_settings.spike_factor == 2.5
    assert detector_settings.crisis_factor == 6.0
    assert detector_settings.bucket_seconds == 300


def test_steady_poisson_traffic_raises_no_alert_over_a_day():
    rng = random.Random(1)
    detector = SurgeDetector(SETTINGS, MemorySpikeStore())
    observations = feed(detector, poisson_arrivals(rng, START, 24 * 60, 2.0))
    assert alerts_of(observations) == []


def test_factor_is_close_to_one_on_steady_traffic():
    rng = random.Random(2)
    detector = SurgeDetector(SETTINGS, MemorySpikeStore())
    feed(detector, poisson_arrivals(rng, START, 6 * 60, 3.0))
    end = START + timedelta(hours=6)
    assert 0.6 < detector.factor("billing", end) < 1.5


def test_step_surge_alerts_within_its_first_buckets_with_a_high_factor():
    rng = random.Random(3)
    detector = SurgeDetector(SETTINGS, MemorySpikeStore())
    feed(detector, poisson_arrivals(rng, START, 120, 2.0))
    surge_start = START + timedelta(minutes=120)
    observations = feed(detector, poisson_arrivals(rng, surge_start, 30, 20.0))
    alerts = alerts_of(observations)
    assert alerts, "the surge was not flagged"
    assert alerts[0].at - surge_start < timedelta(minutes=2)
    assert alerts[0].factor >= SETTINGS.spike_factor
    assert alerts[0].crisis_suggested
    assert detector.factor("billing", surge_start + timedelta(minutes=5)) > SETTINGS.spike_factor


def test_one_surge_gives_one_alert_until_the_cooldown_has_passed():
    rng = random.Random(4)
    detector = SurgeDetector(SETTINGS, MemorySpikeStore())
    feed(detector, poisson_arrivals(rng, START, 120, 2.0))
    first = START + timedelta(minutes=120)
    surge = feed(detector, poisson_arrivals(rng, first, 40, 20.0))
    assert len(alerts_of(surge)) == 1
    # Back to normal, then a new surge after the cooldown: a new alert.
    calm_start = first + timedelta(minutes=40)
    feed(detector, poisson_arrivals(rng, calm_start, SETTINGS.cooldown_minutes + 60, 2.0))
    second = calm_start + timedelta(minutes=SETTINGS.cooldown_minutes + 60)
    assert len(alerts_of(feed(detector, poisson_arrivals(rng, second, 20, 20.0)))) == 1


def test_the_bucket_in_progress_triggers_before_it_closes():
    # Five-minute buckets: the surge is flagged in its first bucket, before that bucket ends.
    detector_settings = DetectorSettings.from_protocol(default_config(), bucket_seconds=300)
    rng = random.Random(5)
    detector = SurgeDetector(detector_settings, MemorySpikeStore())
    feed(detector, poisson_arrivals(rng, START, 6 * 60, 2.0))
    surge_start = START + timedelta(hours=6)  # a bucket boundary
    alerts = alerts_of(feed(detector, poisson_arrivals(rng, surge_start, 5, 30.0)))
    assert alerts
    assert alerts[0].bucket_start == surge_start
    assert alerts[0].at < surge_start + timedelta(minutes=3)


def test_replay_of_closed_buckets_flags_the_spike_bucket():
    series = [(START + timedelta(minutes=5 * i), 20 + (i % 3)) for i in range(200)]
    spike_at = series[150][0]
    series[150] = (spike_at, 120)
    detector_settings = DetectorSettings.from_protocol(default_config(), bucket_seconds=300)
    alerts = replay(series, detector_settings)
    assert [alert.bucket_start for alert in alerts] == [spike_at]


def test_redis_and_memory_stores_give_identical_results(redis_store):
    rng = random.Random(6)
    times = list(poisson_arrivals(rng, START, 90, 2.0))
    times += list(poisson_arrivals(rng, START + timedelta(minutes=90), 10, 25.0))
    in_memory = SurgeDetector(SETTINGS, MemorySpikeStore())
    in_redis = SurgeDetector(SETTINGS, redis_store)
    assert [o for _, o in feed(in_memory, times)] == [o for _, o in feed(in_redis, times)]
    ttl = redis_store.client.ttl(redis_store.key("billing"))
    assert 0 < ttl <= SETTINGS.ttl_seconds


def test_two_workers_sharing_redis_see_each_others_mentions(redis_store):
    rng = random.Random(7)
    worker_a = SurgeDetector(SETTINGS, redis_store)
    worker_b = SurgeDetector(SETTINGS, RedisSpikeStore(redis_store.client, redis_store.prefix))
    single = SurgeDetector(SETTINGS, MemorySpikeStore())
    times = list(poisson_arrivals(rng, START, 90, 2.0))
    times += list(poisson_arrivals(rng, START + timedelta(minutes=90), 10, 25.0))
    shared, alone = [], []
    for position, at in enumerate(times):
        worker = worker_a if position % 2 else worker_b
        shared.append(worker.observe("billing", at))
        alone.append(single.observe("billing", at))
    assert shared == alone  # as if one process had seen every mention
    assert len([observation for observation in shared if observation.alert]) == 1


def _replay_world(world, topic_of=lambda post: ALL_TOPICS):
    detector = SurgeDetector(SETTINGS, MemorySpikeStore())
    alerts, surge_index = [], 0
    for post in world.posts:
        surge_index += post.is_surge
        observation = detector.observe(topic_of(post), post.published_at)
        if observation.alert:
            alerts.append((surge_index, observation.alert))
    return alerts


def test_simulated_crisis_is_suggested_before_its_twentieth_mention():
    # Starts at midnight UTC; the 30 minutes of ordinary traffic before the crisis cover the
    # warm-up (20 one-minute buckets). Busier hours need more mentions (see the module notes).
    world = World.generate(seed=7, start=START, hours=6, crisis_at_minutes=30)
    alerts = _replay_world(world)
    crisis = [(index, alert) for index, alert in alerts if alert.crisis_suggested]
    assert crisis, "no crisis suggested"
    index, alert = crisis[0]
    assert index < 20, f"crisis suggested at surge mention {index}"
    assert alert.at >= world.crisis_at
    assert index == 12


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_quiet_day_raises_no_alert(seed):
    world = World.quiet_day(seed=seed, start=datetime(2025, 3, 10, 0, 0, tzinfo=UTC))
    assert _replay_world(world) == []
    by_topic = _replay_world(world, topic_of=lambda post: post.topic)
    assert [alert for _, alert in by_topic if alert.crisis_suggested] == []


def test_a_daily_rush_hour_is_expected_once_its_hour_has_been_learned():
    # Five-minute buckets, 5 mentions a bucket at night and 25 from 08:00 to 12:00 every day:
    # the short-term baseline is surprised each morning, the hour-of-week profile is not.
    detector_settings = DetectorSettings.from_protocol(default_config(), bucket_seconds=300)
    series = []
    for i in range(9 * 288):
        moment = START + timedelta(minutes=5 * i)
        busy = 8 <= moment.hour < 12
        series.append((moment, (25 if busy else 5) + (i % 3)))
    alerts = replay(series, detector_settings)
    first_week = [alert for alert in alerts if alert.bucket_start < START + timedelta(days=7)]
    assert first_week, "the morning rise should surprise a detector without history"
    assert [alert for alert in alerts if alert.bucket_start >= START + timedelta(days=7)] == []
    without_season = replay(series, replace(detector_settings, season_slots=0))
    assert [a for a in without_season if a.bucket_start >= START + timedelta(days=7)]
