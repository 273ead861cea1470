"""The scoring stage never loses or doubles work (issue 9, acceptance 3).

Scores commit first; the surge detector's counts, crisis suggestions and the hand-off to
incidents follow the commit. A batch delivered twice, two deliveries at once, a delivery cut
between two topics, and a real worker SIGKILLed mid-batch: each mention is counted once,
scored once, and no suggestion is doubled; with the real incident stage behind the killed
worker, every serious mention sits in exactly one incident. `detector_counts` reads the
detector's own state.
"""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis
from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone

from crisis.incidents.models import IncidentMention
from monitoring.models import Author, Mention, Platform
from protocols import pipeline, services, sweeper, velocity
from protocols.models import CrisisSuggestion, MentionScore
from protocols.spikes import ALL_TOPICS, RedisSpikeStore
from protocols.tasks import score_new_mentions
from tests.chaos.stack import dying_with_the_test
from tests.monitoring.test_recovery import broker_unreachable

HANDED_OFF = "test:protocols:handed-off"
HAND_OFF_TASK = "tests.protocols.record_hand_off"
TAG = "stagetest"
SERIOUS_TEXT = f"Voy a denunciar a Brisa ante la OCU, me han cobrado dos veces, es un robo #{TAG}"


@shared_task(name=HAND_OFF_TASK, ignore_result=True)
def record_hand_off(mention_ids: list[int]) -> None:
    """Stands in for the incident stage: records what it was handed."""
    redis.Redis.from_url(settings.REDIS_URL).rpush(HANDED_OFF, *mention_ids)


def detector_counts(topics: list[str]) -> dict[str, int]:
    """What the live surge detector has counted per topic: the bucket in progress plus the
    closed buckets still in its windows (the tests' mentions all fall in one minute)."""
    store = RedisSpikeStore()
    counts = {}
    for topic in topics:
        state = store.load(topic)
        counts[topic] = 0 if state is None else state["count"] + sum(state["ring"])
    return counts


def present_minute() -> datetime:
    return timezone.now().replace(second=0, microsecond=0)


def stored_mentions(
    count: int, *, at: datetime, origin: str = "live", text=SERIOUS_TEXT, authors: int = 1
):
    """`count` mentions published and received at `at`: they all land in one detector bucket.
    They are written by `authors` distinct accounts in turn (the crisis rule counts serious
    mentions from distinct authors, issue 13)."""
    accounts = [
        Author.objects.get_or_create(
            platform=Platform.MASTODON,
            handle="agitator" if number == 0 else f"agitator{number}",
            defaults={"followers": 20_000},
        )[0]
        for number in range(authors)
    ]
    Mention.objects.bulk_create(
        Mention(
            platform=Platform.MASTODON,
            external_id=f"stage/{origin}/{number}",
            author=accounts[number % authors],
            text=text,
            language="es",
            published_at=at,
            ingested_at=at,
            origin=origin,
        )
        for number in range(count)
    )
    return list(
        Mention.objects.filter(origin=origin, external_id__startswith="stage/")
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def serious_protocol(supervisor, *, incidents: int = 3):
    """A protocol under which the test's mentions are serious and a few make a crisis."""
    draft = services.create_draft(actor=supervisor)
    services.update_draft(
        actor=supervisor,
        version=draft,
        section="crisis_threshold",
        value={"incidents": incidents, "window_minutes": 60, "spike_factor": 4},
    )
    services.update_draft(
        actor=supervisor,
        version=draft,
        section="severity_thresholds",
        value={"medium": 10, "high": 20, "critical": 90},
    )
    return services.activate(actor=supervisor, version=draft)


@pytest.fixture
def stage(transactional_db, redis_client, settings):
    """Committed transactions (the stage acts after the commit) and no incident stage."""
    settings.PROTOCOLS = {**settings.PROTOCOLS, "SCORED_MENTIONS_TASK": ""}
    return redis_client


# --- exactly once, in-process -----------------------------------------------------------------


def test_the_same_batch_delivered_twice_is_counted_once(stage):
    ids = stored_mentions(30, at=present_minute())
    score_new_mentions(ids)
    score_new_mentions(ids)
    assert detector_counts([ALL_TOPICS, TAG]) == {ALL_TOPICS: 30, TAG: 30}
    assert MentionScore.objects.count() == 30


def test_two_deliveries_at_once_count_each_mention_once(stage):
    ids = stored_mentions(40, at=present_minute())
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            score_new_mentions(ids)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert detector_counts([ALL_TOPICS, TAG]) == {ALL_TOPICS: 40, TAG: 40}


def test_a_delivery_cut_between_two_topics_counts_only_the_rest_on_redelivery(stage):
    """The first delivery committed the score and counted one topic before its worker died."""
    now = present_minute()
    [mention_id] = stored_mentions(1, at=now)
    version = services.active_version()
    velocity.count_once(version, mention_id, [ALL_TOPICS], now, now=now)
    score_new_mentions([mention_id])
    assert detector_counts([ALL_TOPICS, TAG]) == {ALL_TOPICS: 1, TAG: 1}
    assert velocity.counted_topics(mention_id) >= {ALL_TOPICS, TAG}


def test_a_redelivered_batch_scores_exactly_as_its_first_delivery(stage):
    ids = stored_mentions(5, at=present_minute())  # one author: repeat complaints count
    score_new_mentions(ids)
    first = list(MentionScore.objects.order_by("mention_id").values_list("value", "signals"))
    score_new_mentions(ids)
    again = list(MentionScore.objects.order_by("mention_id").values_list("value", "signals"))
    assert again == first


def test_a_rescore_reuses_the_velocity_the_score_was_stored_with(stage):
    [mention_id] = stored_mentions(1, at=present_minute())
    score_new_mentions([mention_id])
    MentionScore.objects.update(velocity_factor=9.0, velocity_topic=TAG)
    pipeline.score_and_store(
        [mention_id], version=services.active_version(), observe_spikes=False, now=timezone.now()
    )
    score = MentionScore.objects.get()
    assert (score.velocity_factor, score.velocity_topic) == (9.0, TAG)
    assert any(signal["name"] == "velocity" for signal in score.signals)


def test_serious_mentions_raise_one_suggestion_per_topic_however_often_delivered(stage, supervisor):
    serious_protocol(supervisor)
    ids = stored_mentions(6, at=present_minute(), authors=6)
    for batch in (ids[:3], ids[3:], ids, ids[:3]):
        score_new_mentions(batch)
    topics = CrisisSuggestion.objects.values_list("topic", flat=True)
    assert sorted(topics) == sorted(set(topics))
    assert {ALL_TOPICS, TAG, "authority"} <= set(topics)


# --- runs (replays, drills) stay out of live figures ----------------------------------------


def test_a_run_never_feeds_the_live_detector(stage):
    ids = stored_mentions(10, at=present_minute(), origin="run:9")
    score_new_mentions(ids)
    assert detector_counts([ALL_TOPICS, TAG]) == {ALL_TOPICS: 0, TAG: 0}
    assert velocity.counted_topics(ids[0]) == set()


def test_a_run_never_suggests_a_live_crisis(stage, supervisor):
    serious_protocol(supervisor)
    ids = stored_mentions(6, at=present_minute(), origin="run:9", authors=6)
    score_new_mentions(ids)
    assert not CrisisSuggestion.objects.filter(origin="live").exists()
    assert CrisisSuggestion.objects.filter(origin="run:9", topic=TAG).count() == 1


# --- the hand-off to incidents and its sweeper ------------------------------------------------


def handed_off(client) -> list[int]:
    return [int(value) for value in client.lrange(HANDED_OFF, 0, -1)]


def wait_until(condition, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message() if callable(message) else message
        time.sleep(0.05)


@pytest.mark.celery_worker
def test_newly_scored_mentions_are_handed_to_the_incident_stage(stage, settings, celery_worker):
    settings.PROTOCOLS = {**settings.PROTOCOLS, "SCORED_MENTIONS_TASK": HAND_OFF_TASK}
    ids = stored_mentions(3, at=present_minute())
    score_new_mentions(ids)
    wait_until(lambda: sorted(handed_off(stage)) == ids, 20, "the scores were not handed off")


def test_a_hand_off_task_no_worker_knows_is_not_sent(stage, settings, caplog):
    settings.PROTOCOLS = {**settings.PROTOCOLS, "SCORED_MENTIONS_TASK": "tests.no.such.task"}
    ids = stored_mentions(3, at=present_minute())
    with caplog.at_level(logging.WARNING, logger="protocols.pipeline"):
        score_new_mentions(ids)
        score_new_mentions(ids)
    assert stage.llen("celery") == 0  # nothing a worker would reject with an error
    assert len([r for r in caplog.records if "tests.no.such.task" in r.getMessage()]) <= 1


def test_a_broker_down_at_the_hand_off_is_logged_and_the_scores_stay(stage, settings, caplog):
    settings.PROTOCOLS = {**settings.PROTOCOLS, "SCORED_MENTIONS_TASK": HAND_OFF_TASK}
    ids = stored_mentions(2, at=present_minute())
    with broker_unreachable(), caplog.at_level(logging.WARNING, logger="protocols.pipeline"):
        score_new_mentions(ids)
    assert MentionScore.objects.filter(handed_off_at__isnull=True).count() == 2
    assert any("left to the sweeper" in record.getMessage() for record in caplog.records)


@pytest.mark.celery_worker
def test_the_sweeper_re_sends_scores_the_incident_stage_never_saw(stage, settings, celery_worker):
    ids = stored_mentions(4, at=present_minute())
    score_new_mentions(ids)  # no incident stage configured: nothing handed off
    settings.PROTOCOLS = {**settings.PROTOCOLS, "SCORED_MENTIONS_TASK": HAND_OFF_TASK}
    later = timezone.now() + timedelta(minutes=10)
    assert sweeper.sweep_scores_not_handed_off(now=later) == 4
    wait_until(lambda: sorted(handed_off(stage)) == ids, 20, "the sweeper did not re-send")


def test_the_sweeper_leaves_scores_the_incident_stage_has_seen(stage, settings):
    ids = stored_mentions(4, at=present_minute())
    score_new_mentions(ids)
    now = timezone.now()
    services.mark_handed_off(ids[:3], now=now)
    assert sweeper.scores_not_handed_off(
        now=now + timedelta(minutes=10),
        scored_before=timedelta(minutes=5),
        lookback=timedelta(hours=1),
        limit=100,
    ) == [ids[3]]


def test_the_sweeper_waits_a_few_minutes_and_ignores_runs(stage):
    live = stored_mentions(2, at=present_minute())
    run = stored_mentions(2, at=present_minute(), origin="run:5")
    score_new_mentions(live + run)
    now = timezone.now()
    window = {"scored_before": timedelta(minutes=5), "lookback": timedelta(hours=1), "limit": 100}
    assert sweeper.scores_not_handed_off(now=now, **window) == []
    assert sweeper.scores_not_handed_off(now=now + timedelta(minutes=6), **window) == live


# --- a real worker SIGKILLed mid-batch ---------------------------------------------------------
BATCHES = 12
BATCH = 60


def start_worker(environment: dict[str, str], log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "crisis",
        "worker",
        "--pool=prefork",
        "--concurrency=1",
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    return subprocess.Popen(
        dying_with_the_test(command),
        cwd=settings.BASE_DIR,
        env=environment,
        start_new_session=True,  # its own process group: SIGKILL takes the pool child too
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def kill(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


def worker_environment() -> dict[str, str]:
    database = connection.settings_dict
    environment = dict(os.environ)
    environment.update(
        DATABASE_URL=(
            f"postgresql://{database['USER']}:{database['PASSWORD'] or ''}"
            f"@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        ),
        REDIS_URL=settings.REDIS_URL,
        DB_CONN_MAX_AGE="0",
        # The real hand-off: the killed worker may also die inside the incident stage.
        SCORED_MENTIONS_TASK="crisis.incidents.tasks.handle_scored_mentions",
    )
    return environment


def progress(client) -> dict[str, int]:
    return {
        "scores": MentionScore.objects.count(),
        "handed_off": MentionScore.objects.filter(handed_off_at__isnull=False).count(),
        "queued": client.llen("celery"),
        "unacknowledged": client.hlen("unacked"),
    }


def restore_unacknowledged() -> int:
    """What the broker does once the visibility timeout has passed (minutes): a dead worker's
    unacknowledged tasks go back to the queue. Done at once (a timeout of 0 s), so the test
    does not wait."""
    from kombu import Connection

    waiting = redis.Redis.from_url(settings.REDIS_URL).hlen("unacked")
    with Connection(
        settings.CELERY_BROKER_URL, transport_options={"visibility_timeout": 0}
    ) as broker:
        broker.default_channel.qos.restore_visible(num=1000)
    return waiting


def test_a_worker_killed_mid_batch_and_restarted_counts_and_scores_each_mention_once(
    stage, supervisor, tmp_path
):
    serious_protocol(supervisor)
    ids = stored_mentions(BATCHES * BATCH, at=present_minute(), authors=10)
    batches = [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]
    from crisis.celery import app

    for batch in [batches[0], *batches]:  # the first batch delivered twice
        app.send_task("protocols.tasks.score_new_mentions", args=[batch])
    environment = worker_environment()
    log = tmp_path / "worker.log"
    worker = start_worker(environment, log)
    try:
        wait_until(
            lambda: MentionScore.objects.count() >= 2 * BATCH, 60, "the worker scored nothing"
        )
        kill(worker)  # mid-batch: the worker takes batches one after another
        scored_at_kill = MentionScore.objects.count()
        assert scored_at_kill < len(ids), "the worker finished before it could be killed"
        assert restore_unacknowledged() >= 1  # the batch in progress when it died
        worker = start_worker(environment, log)
        done = {"scores": len(ids), "handed_off": len(ids), "queued": 0, "unacknowledged": 0}
        wait_until(lambda: progress(stage) == done, 180, lambda: f"stuck at {progress(stage)}")
    finally:
        kill(worker)
    assert detector_counts([ALL_TOPICS, TAG]) == {ALL_TOPICS: len(ids), TAG: len(ids)}
    assert all(velocity.counted_topics(mention_id) >= {ALL_TOPICS, TAG} for mention_id in ids)
    open_suggestions = list(
        CrisisSuggestion.objects.filter(dismissed_at__isnull=True).values_list("topic", "origin")
    )
    assert sorted(open_suggestions) == sorted(set(open_suggestions))
    assert (TAG, "live") in open_suggestions
    serious = set(
        MentionScore.objects.filter(severity__in=("high", "critical")).values_list(
            "mention_id", flat=True
        )
    )
    assert serious, "the protocol made no mention serious"
    links = Counter(
        IncidentMention.objects.filter(mention_id__in=serious).values_list("mention_id", flat=True)
    )
    assert set(links) == serious  # every serious mention sits in an incident…
    assert set(links.values()) == {1}  # …and in exactly one
