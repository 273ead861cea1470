"""The surge detector: steady traffic stays quiet, a surge is flagged early, workers share state."""

# ruff: noqa: S311 - simulated traffic, not security

import json
import math
import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.conf import settings
from django.urls import reverse

from monitoring.simulator.world import World
from protocols import services
from protocols.defaults import default_config
from protocols.spikes import (
    ALL_TOPICS,
    SENSITIVITIES,
    SENSITIVITY_KNOBS,
    DetectorSettings,
    MemorySpikeStore,
    RedisSpikeStore,
    SurgeDetector,
    replay,
)
from protocols.validation import validate_config

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


def test_a_stored_version_without_a_sensitivity_reads_as_normal():
    config = default_config()
    del config["velocity"]["sensitivity"]
    assert DetectorSettings.from_protocol(config) == DetectorSettings.from_protocol(
        default_config()
    )
    assert (
        DetectorSettings.from_protocol(config).peak_multiple
        == (SENSITIVITY_KNOBS["normal"]["peak_multiple"])
    )


def test_each_sensitivity_level_sets_its_knobs_and_high_asks_the_least_surprise():
    levels = {}
    for level in SENSITIVITIES:
        config = default_config()
        config["velocity"]["sensitivity"] = level
        levels[level] = DetectorSettings.from_protocol(config)
    assert levels["low"].peak_multiple > levels["normal"].peak_multiple
    assert levels["normal"].peak_multiple > levels["high"].peak_multiple
    assert levels["low"].z_threshold >= levels["normal"].z_threshold >= levels["high"].z_threshold


@pytest.mark.parametrize("value", ["medium", "", 3, None, ["high"]])
def test_an_unknown_sensitivity_is_refused_naming_the_field(value):
    config = default_config()
    config["velocity"]["sensitivity"] = value
    errors = validate_config(config)
    assert [error.path for error in errors] == ["velocity.sensitivity"]


def test_a_version_without_a_sensitivity_is_valid():
    config = default_config()
    del config["velocity"]["sensitivity"]
    assert validate_config(config) == []


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


def _watched_for_an_hour(rng):
    """A detector whose overall volume has been counted for an hour (past its warm-up)."""
    detector = SurgeDetector(SETTINGS, MemorySpikeStore())
    feed(detector, poisson_arrivals(rng, START, 60, 2.0), topic=ALL_TOPICS)
    return detector


def test_a_topic_born_with_a_surge_on_a_watched_stream_alerts_within_its_first_dozen_mentions():
    # Nobody named #cobroduplicado during the hour watched: its silence was real, so the
    # hashtag born with the crisis needs no warm-up of its own.
    rng = random.Random(5)
    detector = _watched_for_an_hour(rng)
    born = START + timedelta(minutes=60)
    observations = feed(detector, poisson_arrivals(rng, born, 20, 3.0), topic="cobroduplicado")
    alerting = [n for n, (_at, seen) in enumerate(observations, start=1) if seen.alert]
    assert alerting, "the new topic's surge was not flagged"
    assert alerting[0] <= 12
    assert observations[alerting[0] - 1][1].alert.crisis_suggested


def test_a_topic_seen_at_the_first_light_of_a_new_watch_still_warms_up():
    rng = random.Random(5)
    detector = SurgeDetector(SETTINGS, MemorySpikeStore())
    feed(detector, poisson_arrivals(rng, START, 5, 2.0), topic=ALL_TOPICS)
    later = START + timedelta(minutes=5)
    observations = feed(detector, poisson_arrivals(rng, later, 10, 3.0), topic="cobroduplicado")
    assert alerts_of(observations) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_new_hashtag_used_now_and_then_on_a_watched_stream_raises_nothing(seed):
    rng = random.Random(seed)
    detector = _watched_for_an_hour(rng)
    born = START + timedelta(minutes=60)
    observations = feed(detector, poisson_arrivals(rng, born, 6 * 60, 0.3), topic="fibra")
    assert alerts_of(observations) == []


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


@pytest.mark.parametrize("hour", [0, 6, 9, 13, 19, 22])
def test_the_simulated_crisis_on_its_topic_reaches_the_crisis_factor_within_twenty_mentions(hour):
    # An hour of ordinary traffic first, so the billing topic has a baseline (a live topic
    # has one); the busiest hours of the simulated day included.
    start = datetime(2025, 3, 10, hour, tzinfo=UTC)
    world = World.generate(seed=7, start=start, hours=3, crisis_at_minutes=60)
    alerts = _replay_world(world, topic_of=lambda post: post.topic)
    crisis = [(index, alert) for index, alert in alerts if alert.crisis_suggested]
    assert crisis, "no crisis-factor alert"
    index, alert = crisis[0]
    assert 0 < index <= 20, f"crisis factor reached at surge mention {index}"
    assert alert.topic == "billing"
    assert alert.at >= world.crisis_at
    assert not alert.after_gap


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_quiet_day_raises_no_alert(seed):
    world = World.quiet_day(seed=seed, start=datetime(2025, 3, 10, 0, 0, tzinfo=UTC))
    assert _replay_world(world) == []
    assert _replay_world(world, topic_of=lambda post: post.topic) == []


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
    # Without the profile (nor the calibration to the topic's usual daily peak, which learns
    # a daily rise as ordinary surprise too) every morning would alert once the day-long
    # cooldown is shortened to an hour.
    without_season = replay(
        series,
        replace(detector_settings, season_slots=0, peak_multiple=0, cooldown_minutes=60),
    )
    assert [a for a in without_season if a.bucket_start >= START + timedelta(days=7)]


# --- quieter on heavy-tailed traffic: the topic's usual daily peak ----------------------------
def bursty_days(rng, days, *, level=20.0, burst_every=36):
    """Five-minute buckets of over-dispersed traffic with a daily cycle and frequent bursts of
    two to five times the level: what real topics look like (heavy tails)."""
    series = []
    for i in range(days * 288):
        moment = START + timedelta(minutes=5 * i)
        daily = 0.5 + (8 <= moment.hour < 20)
        mean = level * daily * rng.gammavariate(4.0, 0.25)
        if rng.randrange(burst_every) == 0:
            mean *= rng.uniform(2.0, 5.0)
        series.append((moment, max(int(rng.gauss(mean, math.sqrt(mean)) + 0.5), 0)))
    return series


def test_a_topic_with_daily_bursts_alerts_rarely_once_its_usual_peak_is_known():
    rng = random.Random(11)
    series = bursty_days(rng, 21)
    detector_settings = DetectorSettings.from_protocol(default_config(), bucket_seconds=300)
    later = [
        a for a in replay(series, detector_settings) if a.bucket_start >= START + timedelta(days=7)
    ]
    uncalibrated = replay(series, replace(detector_settings, peak_multiple=0))
    uncalibrated_later = [a for a in uncalibrated if a.bucket_start >= START + timedelta(days=7)]
    assert len(later) <= 2, "two weeks of ordinary bursts should not alert more than twice"
    assert len(uncalibrated_later) > 3 * max(len(later), 1)


def test_a_real_surge_on_a_bursty_topic_still_alerts():
    rng = random.Random(12)
    series = bursty_days(rng, 15)
    surge_at = START + timedelta(days=14, hours=10)
    series = [
        (moment, count * 15 if surge_at <= moment < surge_at + timedelta(minutes=30) else count)
        for moment, count in series
    ]
    detector_settings = DetectorSettings.from_protocol(default_config(), bucket_seconds=300)
    alerts = replay(series, detector_settings)
    assert any(surge_at <= a.bucket_start < surge_at + timedelta(minutes=30) for a in alerts)


def test_higher_sensitivity_never_alerts_less():
    series = bursty_days(random.Random(13), 14)
    counts = []
    for level in SENSITIVITIES:
        config = default_config()
        config["velocity"]["sensitivity"] = level
        counts.append(
            len(replay(series, DetectorSettings.from_protocol(config, bucket_seconds=300)))
        )
    low, normal, high = counts
    assert low <= normal <= high
    assert low < high


def test_the_state_stays_json_and_bounded_over_weeks():
    series = bursty_days(random.Random(14), 30)
    store = MemorySpikeStore()
    detector = SurgeDetector(DetectorSettings(bucket_seconds=300), store)
    sizes = []
    for moment, count in series:
        detector.observe("billing", moment + timedelta(minutes=4), count)
        if moment.minute == 0 and moment.hour == 0:
            sizes.append(len(json.dumps(store.load("billing"))))
    state = store.load("billing")
    assert len(state["peaks"][2]) == DetectorSettings().peak_days
    assert max(sizes[-10:]) < 6000
    assert max(sizes[-10:]) <= max(sizes[15:20]) + 100  # no growth once two weeks are kept


# --- one surge, one alert; a much bigger one later still counts ------------------------------
def test_a_much_bigger_surge_after_the_first_has_calmed_alerts_within_the_cooldown():
    rng = random.Random(15)
    detector = SurgeDetector(SETTINGS, MemorySpikeStore())
    feed(detector, poisson_arrivals(rng, START, 120, 2.0))
    first = START + timedelta(minutes=120)
    assert len(alerts_of(feed(detector, poisson_arrivals(rng, first, 10, 10.0)))) == 1
    calm = first + timedelta(minutes=10)
    assert alerts_of(feed(detector, poisson_arrivals(rng, calm, 120, 2.0))) == []
    second = calm + timedelta(minutes=120)  # well inside the cooldown
    assert second < first + timedelta(minutes=SETTINGS.cooldown_minutes)
    alerts = alerts_of(feed(detector, poisson_arrivals(rng, second, 10, 80.0)))
    assert len(alerts) == 1
    assert not alerts[0].escalation


def test_a_second_surge_no_bigger_than_the_first_stays_within_the_cooldown():
    rng = random.Random(16)
    detector = SurgeDetector(SETTINGS, MemorySpikeStore())
    feed(detector, poisson_arrivals(rng, START, 120, 2.0))
    first = START + timedelta(minutes=120)
    assert len(alerts_of(feed(detector, poisson_arrivals(rng, first, 10, 20.0)))) == 1
    calm = first + timedelta(minutes=10)
    feed(detector, poisson_arrivals(rng, calm, 120, 2.0))
    second = calm + timedelta(minutes=120)
    assert alerts_of(feed(detector, poisson_arrivals(rng, second, 10, 20.0))) == []


# --- collection gaps ---------------------------------------------------------------------------
def test_traffic_resuming_after_a_collection_gap_is_marked_and_never_a_crisis():
    rng = random.Random(17)
    detector = SurgeDetector(SETTINGS, MemorySpikeStore())
    feed(detector, poisson_arrivals(rng, START, 180, 3.0))
    before = detector.factor("billing", START + timedelta(minutes=180))
    # The source goes silent for an hour (180 mentions expected), then its backlog arrives.
    resumed = START + timedelta(minutes=240)
    alerts = alerts_of(feed(detector, poisson_arrivals(rng, resumed, 5, 30.0)))
    assert alerts, "the backlog should still show as a spike"
    assert all(alert.after_gap and not alert.crisis_suggested for alert in alerts)
    assert 0.5 < before < 2.0


def test_a_collection_gap_does_not_decay_the_baseline():
    rng = random.Random(18)
    detector = SurgeDetector(SETTINGS, MemorySpikeStore())
    feed(detector, poisson_arrivals(rng, START, 180, 3.0))
    level = detector.store.load("billing")["level"]
    resumed = START + timedelta(hours=5)  # two hours without a single mention
    feed(detector, poisson_arrivals(rng, resumed, 20, 3.0))
    assert detector.store.load("billing")["level"] > 0.6 * level
    without_gaps = SurgeDetector(replace(SETTINGS, gap_expected=math.inf), MemorySpikeStore())
    rng = random.Random(18)
    feed(without_gaps, poisson_arrivals(rng, START, 180, 3.0))
    feed(without_gaps, poisson_arrivals(rng, resumed, 20, 3.0))
    assert without_gaps.store.load("billing")["level"] < 0.4 * level


def test_a_surge_after_an_expected_quiet_night_is_not_after_a_gap():
    # Five-minute buckets: nothing at night (00:00-06:00), 20 a bucket by day, for three weeks;
    # the hour-of-week profile expects the silent nights, so a morning surge is a surge.
    series = []
    for i in range(22 * 288 + 7 * 12):
        moment = START + timedelta(minutes=5 * i)
        series.append((moment, 0 if moment.hour < 6 else 20 + (i % 3)))
    surge_at = START + timedelta(days=22, hours=7)
    series += [(surge_at + timedelta(minutes=5 * i), 300) for i in range(6)]
    detector_settings = DetectorSettings.from_protocol(default_config(), bucket_seconds=300)
    alerts = [a for a in replay(series, detector_settings) if a.bucket_start >= surge_at]
    assert alerts
    assert not alerts[0].after_gap
    assert alerts[0].crisis_suggested


# --- the sensitivity in the protocol editor ------------------------------------------------------
def test_the_velocity_form_offers_the_sensitivity_and_stores_the_choice(client, supervisor):
    draft = services.create_draft(actor=supervisor)
    client.force_login(supervisor)
    url = reverse("protocols:edit_section", args=[draft.pk, "velocity"])
    page = client.get(url).content.decode()
    assert 'name="sensitivity"' in page
    assert '<option value="high"' in page
    response = client.post(url, {"spike_factor": "3", "boost": "15", "sensitivity": "high"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.config["velocity"]["sensitivity"] == "high"
    assert (
        DetectorSettings.from_protocol(draft.config).peak_multiple
        == (SENSITIVITY_KNOBS["high"]["peak_multiple"])
    )


def test_the_velocity_form_refuses_an_unknown_sensitivity(client, supervisor):
    draft = services.create_draft(actor=supervisor)
    client.force_login(supervisor)
    url = reverse("protocols:edit_section", args=[draft.pk, "velocity"])
    response = client.post(url, {"spike_factor": "3", "boost": "15", "sensitivity": "max"})
    assert response.status_code == 200
    assert response.context["form"].errors["sensitivity"]
    draft.refresh_from_db()
    assert draft.config["velocity"].get("sensitivity", "normal") == "normal"


# --- the sensitivity means the same at any bucket length ----------------------------------------
def bursty_minutes(rng, days, *, level=4.0):
    """Per-minute counts with a daily cycle and bursts of 10-40 minutes at 2-5 times the rate."""
    counts, burst, multiple = [], 0, 1.0
    for i in range(days * 1440):
        moment = START + timedelta(minutes=i)
        if burst == 0 and rng.randrange(180) == 0:
            burst, multiple = rng.randint(10, 40), rng.uniform(2.0, 5.0)
        mean = level * (0.5 + (8 <= moment.hour < 20)) * (multiple if burst else 1.0)
        burst = max(burst - 1, 0)
        counts.append((moment, max(int(rng.gauss(mean, math.sqrt(mean)) + 0.5), 0)))
    return counts


@pytest.mark.parametrize("seed", [21, 22])
def test_one_minute_and_five_minute_buckets_flag_the_same_surge_and_nothing_else(seed):
    per_minute = bursty_minutes(random.Random(seed), 14)
    surge_at = START + timedelta(days=12, hours=10)
    per_minute = [
        (moment, count * 8 if surge_at <= moment < surge_at + timedelta(minutes=30) else count)
        for moment, count in per_minute
    ]
    per_five = [
        (per_minute[i][0], sum(count for _, count in per_minute[i : i + 5]))
        for i in range(0, len(per_minute), 5)
    ]
    for bucket_seconds, series in ((60, per_minute), (300, per_five)):
        detector_settings = DetectorSettings.from_protocol(
            default_config(), bucket_seconds=bucket_seconds
        )
        later = [
            alert.bucket_start
            for alert in replay(series, detector_settings)
            if alert.bucket_start >= START + timedelta(days=7)
        ]
        assert len(later) == 1, f"{bucket_seconds}-second buckets: {later}"
        assert surge_at <= later[0] < surge_at + timedelta(minutes=30)
