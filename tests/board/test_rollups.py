"""The per-hour mention rollups: exact after ingest and scoring, after a late arrival, after a
rescore, after concurrent recomputes; corrected by the beat (issue 12, acceptance 2)."""

import copy
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisis.board import rollups, tasks_rollups
from crisis.board.models import AuthorHour, MentionHour, MentionSliceHour
from monitoring.models import Author, Mention
from protocols import services
from protocols.models import MentionScore, MentionTopic
from protocols.tasks import rescore_recent_mentions, score_new_mentions
from tests.board.mention_fixtures import (
    NOW,
    assert_rollups_exact,
    at,
    build_world,
    hour_of,
    post,
    raw_mention_cells,
    raw_slice_cells,
    store,
    stored_mention_cells,
    stored_slice_cells,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(redis_client, django_capture_on_commit_callbacks):
    with time_machine.travel(NOW, tick=False):
        yield build_world(django_capture_on_commit_callbacks)


def cells_of_hour(hour: datetime, topic: str = "") -> dict:
    rows = MentionHour.objects.filter(hour=hour, topic=topic)
    return {(row.platform, row.language, row.severity, row.polarity): row.mentions for row in rows}


def test_ingest_and_scoring_leave_every_bucket_equal_to_the_raw_tables(world):
    assert MentionHour.objects.exists()
    assert_rollups_exact()


def test_an_hour_boundary_splits_xx59_59_from_the_next_hour(world):
    before = MentionHour.objects.filter(hour=at(10, 10), topic="", platform="bluesky")
    after = MentionHour.objects.filter(hour=at(10, 11), topic="", platform="bluesky")
    assert sum(row.mentions for row in before) == 1  # 10:59:59
    assert sum(row.mentions for row in after) == 1  # 11:00:00 (the drill at 11:05 is not)
    assert {row.severity for row in after} == {"critical"}


def test_drill_mentions_never_reach_the_rollups(world):
    drill = Mention.objects.get(pk=world.ids["drill"])
    assert drill.origin == "run:7" and MentionScore.objects.filter(mention=drill).exists()
    total = sum(MentionHour.objects.filter(topic="").values_list("mentions", flat=True))
    assert total == Mention.objects.filter(origin="live").count()
    rollups.recompute_hours([drill.published_at])
    assert_rollups_exact()


def test_unscored_mentions_are_counted_without_a_polarity(world):
    unscored = Mention.objects.get(pk=world.ids["unscored"])
    row = MentionHour.objects.get(
        hour=hour_of(unscored.published_at), topic="", platform="bluesky", polarity=""
    )
    assert (row.mentions, row.severity, row.triage_class, row.reach) == (1, "", "", 100)


def test_topic_rows_count_each_topic_and_leave_out_the_overall_topic(world):
    assert not MentionHour.objects.filter(topic="__all__").exists()
    legal = MentionHour.objects.filter(hour=at(10, 11), topic__in=["authority", "legal_threat"])
    assert sorted(row.topic for row in legal) == ["authority", "legal_threat"]
    assert all(row.mentions == 1 and row.reach == 1000 for row in legal)


def test_hostile_values_are_counted(world):
    """Language "" (none detected), odd unicode and the longest hashtag as topics."""
    emoji = MentionHour.objects.filter(hour=at(10, 8))
    assert {row.language for row in emoji} == {"", "es"}
    assert emoji.get(language="", topic="").mentions == 1
    topics = set(emoji.values_list("topic", flat=True))
    assert {"", "ñandúcafé"} <= topics
    assert any(len(topic) == 60 for topic in topics)
    assert_rollups_exact()


def test_a_late_arriving_mention_updates_its_old_hour_at_ingest(
    world, django_capture_on_commit_callbacks
):
    published = NOW - timedelta(days=3)
    before = sum(
        MentionHour.objects.filter(hour=hour_of(published), topic="").values_list(
            "mentions", flat=True
        )
    )
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        store([post("troll", published, handle="late")], django_capture_on_commit_callbacks)
    after = MentionHour.objects.filter(hour=hour_of(published), topic="")
    assert sum(row.mentions for row in after) == before + 1
    assert after.get(polarity="negative", triage_class="troll_abuse").mentions >= 1
    assert AuthorHour.objects.filter(hour=hour_of(published), author__handle="late").exists()
    assert_rollups_exact()


def test_the_beat_corrects_a_late_arrival_whose_signal_was_lost(world):
    published = at(7, 12, 15)  # three days before NOW: outside the 48 recent hours
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        # No on-commit callbacks run here: the signal is lost, the rollups are stale.
        ids = Mention.objects.bulk_create([_raw_mention(published, "late-beat")])
        assert raw_mention_cells() != _stored_or_empty()
        hours = tasks_rollups.correct_rollups(now=NOW + timedelta(minutes=6))
    assert hours >= 48 + 1  # the recent hours, the late one (and the world's, just ingested)
    assert MentionHour.objects.filter(hour=hour_of(published), topic="").exists()
    assert Mention.objects.filter(pk=ids[0].pk).exists()
    assert_rollups_exact()


def test_the_beat_recomputes_the_recent_hours_from_scratch(world):
    MentionHour.objects.filter(hour__gte=NOW - timedelta(hours=47)).update(mentions=999)
    MentionSliceHour.objects.filter(hour__gte=NOW - timedelta(hours=47)).update(negative=999)
    AuthorHour.objects.all().delete()
    with time_machine.travel(NOW, tick=False):
        tasks_rollups.correct_recent_rollups()
    # The recent hours are right again; AuthorHour rows older than 48 h stay gone (only
    # a rebuild brings back hours nothing happened in since).
    recent = {
        key: value
        for key, value in raw_mention_cells().items()
        if key[0] >= NOW - timedelta(hours=47)
    }
    stored = {
        key: value
        for key, value in _stored_or_empty().items()
        if key[0] >= NOW - timedelta(hours=47)
    }
    assert stored == recent
    recent_slices = {
        key: value
        for key, value in raw_slice_cells().items()
        if key[0] >= NOW - timedelta(hours=47)
    }
    stored_slices = {
        key: value
        for key, value in stored_slice_cells().items()
        if key[0] >= NOW - timedelta(hours=47)
    }
    assert stored_slices == recent_slices
    rollups.rebuild_range(NOW - timedelta(days=60), NOW + timedelta(hours=1))
    assert_rollups_exact()


def test_the_beat_uses_its_watermark_for_late_arrivals(world):
    with time_machine.travel(NOW, tick=False):
        tasks_rollups.correct_rollups(now=NOW)
    # An hour later (the beat was late), the window of late arrivals starts at the last run
    # (less the commit lag), not just two intervals back: nothing ingested since is missed.
    late = tasks_rollups.late_arrivals_since(NOW + timedelta(hours=1))
    assert late == NOW - tasks_rollups.COMMIT_LAG


def test_a_rescore_that_changes_severities_and_polarity_is_followed(
    world, supervisor, django_capture_on_commit_callbacks
):
    news = Mention.objects.get(pk=world.ids["news"])
    assert news.score.sentiment > -0.1  # neutral under the shipped protocol
    draft = services.create_draft(actor=supervisor)
    lexicons = copy.deepcopy(draft.config["lexicons"])
    lexicons["es"].setdefault("negative", {})["informe"] = 3
    services.update_draft(actor=supervisor, version=draft, section="lexicons", value=lexicons)
    services.update_draft(
        actor=supervisor,
        version=draft,
        section="severity_thresholds",
        value={"medium": 5, "high": 10, "critical": 20},
    )
    services.activate(actor=supervisor, version=draft)
    before = dict(MentionScore.objects.values_list("mention_id", "severity"))
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        rescore_recent_mentions(draft.pk, days=90)
    after = dict(MentionScore.objects.values_list("mention_id", "severity"))
    assert before != after
    news.score.refresh_from_db()
    assert news.score.sentiment <= -0.1
    row = MentionHour.objects.get(hour=at(10, 12), topic="", platform="reddit")
    assert row.polarity == "negative"
    assert AuthorHour.objects.filter(hour=at(10, 12), author=news.author).exists()
    assert_rollups_exact()


def test_two_interleaved_recomputes_leave_the_exact_result(world):
    hour = at(10, 11)
    rollups.recompute_hours([hour])
    Mention.objects.bulk_create([_raw_mention(hour + timedelta(minutes=7), "interleaved")])
    rollups.recompute_hours([hour, hour])
    rollups.recompute_hours([hour - timedelta(hours=1), hour])
    assert_rollups_exact()


@pytest.mark.django_db(transaction=True)
def test_concurrent_recomputes_in_threads_never_leave_a_stale_result(redis_client):
    """Writers commit mentions into one hour while two workers recompute it after each
    commit, each on its own connection: the last recompute always wins with the newest data."""
    hour = at(10, 11)
    errors: list[BaseException] = []

    def worker(label: str, rounds: int) -> None:
        try:
            for number in range(rounds):
                Mention.objects.bulk_create(
                    [_raw_mention(hour + timedelta(seconds=number), f"{label}-{number}")]
                )
                rollups.recompute_hours([hour - timedelta(hours=1), hour])
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(name, 8)) for name in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert (
        sum(MentionHour.objects.filter(hour=hour, topic="").values_list("mentions", flat=True))
        == 24
    )
    assert_rollups_exact()


def test_the_receiver_costs_a_handful_of_queries_for_a_batch_in_one_hour(
    redis_client, django_assert_max_num_queries
):
    hour = at(10, 11)
    mentions = Mention.objects.bulk_create(
        [_raw_mention(hour + timedelta(seconds=n), f"batch-{n}") for n in range(100)]
    )
    ids = [mention.pk for mention in mentions]
    # hours (1), savepoint + release (2), locks (1), three deletes, three inserts (MentionHour,
    # its slices, AuthorHour)
    with django_assert_max_num_queries(10):
        rollups.refresh_rollups_of_mentions(mention_ids=ids)
    assert sum(MentionHour.objects.filter(topic="").values_list("mentions", flat=True)) == 100


def test_scoring_a_batch_of_100_adds_only_the_receivers_queries(
    redis_client, django_capture_on_commit_callbacks
):
    posts = [post("news", at(10, 11) + timedelta(seconds=n)) for n in range(100)]
    with time_machine.travel(NOW, tick=False):
        ids = store(posts, django_capture_on_commit_callbacks, score=False)
        with (
            CaptureQueriesContext(connection) as scoring,
            django_capture_on_commit_callbacks(execute=True),
        ):
            score_new_mentions(ids)
    rollup_queries = [
        query["sql"]
        for query in scoring.captured_queries
        if "board_" in query["sql"] or "pg_advisory" in query["sql"]
    ]
    # Lock; delete and insert MentionHour, its slices and AuthorHour.
    assert len(rollup_queries) <= 7
    assert_rollups_exact()


def test_a_failing_recompute_never_raises_into_ingest_or_scoring(monkeypatch, caplog):
    def broken(hours):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(rollups, "recompute_hours", broken)
    author = Author.objects.create(platform="bluesky", handle="x")
    mention = Mention.objects.create(
        platform="bluesky", external_id="x", author=author, text="x", published_at=NOW
    )
    rollups.refresh_rollups_of_mentions(mention_ids=[mention.pk])
    assert "left to the beat" in caplog.text


def test_rebuild_range_recomputes_every_hour_and_counts_them(world):
    MentionHour.objects.all().delete()
    MentionSliceHour.objects.all().delete()
    AuthorHour.objects.all().delete()
    start, end = at(20, 9, month=9), at(10, 14)
    assert rollups.rebuild_range(start, end) == (end - start) // timedelta(hours=1)
    assert_rollups_exact()


def test_hours_of_mentions_are_utc_hour_starts_of_live_mentions(world):
    hours = rollups.hours_of_mentions(
        [world.ids["before_boundary"], world.ids["on_boundary"], world.ids["drill"]]
    )
    assert hours == {at(10, 10), at(10, 11)}
    assert rollups.hours_of_mentions([]) == set()


def test_naive_and_foreign_zone_hours_are_read_as_utc_hours():
    madrid = datetime(2026, 11, 10, 12, 45, tzinfo=UTC).astimezone(ZoneInfo("Europe/Madrid"))
    assert rollups.floor_hour_utc(madrid) == at(10, 12)
    assert rollups.floor_hour_utc(datetime(2026, 11, 10, 12, 45)) == at(10, 12)


# --- property: any small set of mentions ----------------------------------------------------
SENTIMENTS = st.sampled_from([-0.9, -0.1, -0.0999, 0.0, 0.2999, 0.3, 0.95])
mention_specs = st.lists(
    st.fixed_dictionaries(
        {
            "minute": st.integers(min_value=0, max_value=6 * 60 - 1),
            "second": st.sampled_from([0, 59]),
            "platform": st.sampled_from(["bluesky", "mastodon"]),
            "language": st.sampled_from(["es", "en", ""]),
            "author": st.integers(min_value=0, max_value=2),
            "origin": st.sampled_from(["live", "live", "run:3"]),
            "score": st.none()
            | st.fixed_dictionaries(
                {
                    "severity": st.sampled_from(["low", "medium", "high", "critical"]),
                    "triage": st.sampled_from(["neutral", "complaint_company_fault"]),
                    "sentiment": SENTIMENTS,
                    "complaint": st.booleans(),
                    "topics": st.lists(
                        st.sampled_from(["__all__", "brisa", "ñ🙂", "x" * 200]),
                        unique=True,
                        max_size=3,
                    ),
                }
            ),
        }
    ),
    max_size=12,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=mention_specs)
def test_recompute_equals_a_fresh_raw_aggregate_for_any_mentions(specs):
    Mention.objects.all().delete()
    MentionHour.objects.all().delete()
    MentionSliceHour.objects.all().delete()
    AuthorHour.objects.all().delete()
    version = services.active_version()
    authors = [
        Author.objects.get_or_create(
            platform="bluesky", handle=f"prop{n}", defaults={"followers": [None, 0, 5000][n]}
        )[0]
        for n in range(3)
    ]
    base = datetime(2026, 11, 10, 6, 0, tzinfo=UTC)
    for number, spec in enumerate(specs):
        published = base + timedelta(minutes=spec["minute"], seconds=spec["second"])
        mention = Mention.objects.create(
            platform=spec["platform"],
            external_id=f"prop-{number}",
            author=authors[spec["author"]],
            text="x",
            language=spec["language"],
            published_at=published,
            origin=spec["origin"],
        )
        if spec["score"]:
            score = spec["score"]
            MentionScore.objects.create(
                mention=mention,
                protocol_version=version,
                value=50,
                severity=score["severity"],
                triage_class=score["triage"],
                sentiment=score["sentiment"],
                is_complaint=score["complaint"],
            )
            MentionTopic.objects.bulk_create(
                MentionTopic(
                    mention=mention, topic=topic, published_at=published, origin=spec["origin"]
                )
                for topic in score["topics"]
            )
    rollups.recompute_hours(base + timedelta(hours=n) for n in range(6))
    assert_rollups_exact()


# --- helpers ----------------------------------------------------------------------------------
def _raw_mention(published: datetime, handle: str) -> Mention:
    author, _ = Author.objects.get_or_create(
        platform="bluesky", handle=handle, defaults={"followers": 3}
    )
    return Mention(
        platform="bluesky",
        external_id=f"raw-{handle}-{published.timestamp()}",
        author=author,
        text="Brisa",
        language="es",
        published_at=published,
    )


def _stored_or_empty():
    return stored_mention_cells()
