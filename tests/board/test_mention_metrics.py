"""The board's mention figures equal direct queries over the raw tables, for every filter
(issue 12, acceptance 2); each figure costs one or two queries."""

import copy
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.db.models import Count as CountOf
from django.db.models import Q

from crisis.board import mention_metrics as metrics
from crisis.board import tasks_rollups
from crisis.board.filters import HOUR, BoardFilters, parse_filters
from monitoring.models import Author, Mention
from protocols import services
from protocols.evaluation import NEGATIVE_BELOW
from protocols.models import MentionTopic
from protocols.scoring.types import OVERALL_TOPIC
from protocols.tasks import rescore_recent_mentions
from tests.board.mention_fixtures import LONG_TAG, NOW, SERIOUS, at, build_world, post, store

pytestmark = pytest.mark.django_db

QUERIES = [
    {},
    {"range": "7d"},
    {"range": "30d"},
    {"platform": "bluesky"},
    {"platform": "mastodon", "range": "7d"},
    {"language": "es"},
    {"language": "und"},
    {"language": "en", "range": "30d"},
    {"topic": "brisa"},
    {"topic": "authority", "range": "30d"},
    {"topic": "legal_threat", "platform": "reddit", "range": "7d"},
    {"topic": LONG_TAG},
    {"topic": "ñandúcafé", "language": "es"},
    {"topic": "x" * 300},  # cut to 200 by the filters: no such topic
    {"topic": "🙂\u200b<script>'\"", "range": "bogus", "platform": "nope", "language": "xx"},
    {"range": "custom", "date_from": "2026-11-09", "date_to": "2026-11-10"},
    {"range": "custom", "date_from": "2026-11-01", "date_to": "2026-11-10", "platform": "reddit"},
]


@pytest.fixture
def world(redis_client, django_capture_on_commit_callbacks):
    with time_machine.travel(NOW, tick=False):
        yield build_world(django_capture_on_commit_callbacks)


def filters(query: dict) -> BoardFilters:
    return parse_filters(query, now=NOW)


# --- the oracle: raw tables only ------------------------------------------------------------
def raw(f: BoardFilters, start=None, end=None):
    """Live mentions published in [start, end) on the filters' platform, language, topic."""
    rows = Mention.objects.filter(
        origin="live", published_at__gte=start or f.start, published_at__lt=end or f.end
    )
    if f.platform:
        rows = rows.filter(platform=f.platform)
    if f.language:
        rows = rows.filter(language="" if f.language == "und" else f.language)
    if f.topic:
        rows = rows.filter(pk__in=MentionTopic.objects.filter(topic=f.topic).values("mention_id"))
    return rows


def raw_counts(rows) -> dict:
    return rows.aggregate(
        mentions=CountOf("pk"),
        scored=CountOf("pk", filter=Q(score__isnull=False)),
        negative=CountOf("pk", filter=Q(score__sentiment__lte=NEGATIVE_BELOW)),
        complaints=CountOf("pk", filter=Q(score__is_complaint=True)),
        serious=CountOf("pk", filter=Q(score__severity__in=SERIOUS)),
    )


def raw_baseline_window(f: BoardFilters):
    days = 7 if f.bucket == HOUR else 28
    return f.start - timedelta(days=days), f.start


def raw_rows(f: BoardFilters) -> list[tuple]:
    """(published_at, sentiment or None, scored) of the live mentions from the baseline
    window's start to the range's end, fetched once and counted in Python."""
    window_start, _ = raw_baseline_window(f)
    return [
        (published, sentiment, score_id is not None)
        for published, sentiment, score_id in raw(f, window_start, f.end).values_list(
            "published_at", "score__sentiment", "score__id"
        )
    ]


def counted(rows: list[tuple], start, end) -> tuple[int, int, int]:
    """(mentions, negative, scored) published in [start, end)."""
    inside = [row for row in rows if start <= row[0] < end]
    negative = sum(
        1 for _, sentiment, _ in inside if sentiment is not None and sentiment <= NEGATIVE_BELOW
    )
    return len(inside), negative, sum(1 for *_, scored in inside if scored)


def raw_baseline(f: BoardFilters, rows: list[tuple], start, end) -> float:
    """Expected mentions in [start, end): hourly, the mean of the same hour of the day over
    the 7 days before the range; coarser, the 28 days before scaled to the bucket."""
    window_start, window_end = raw_baseline_window(f)
    if f.bucket != HOUR:
        in_window = counted(rows, window_start, window_end)[0]
        return in_window * ((end - start) / (window_end - window_start))
    total, hour = 0, start
    while hour < end:
        for back in range(1, 40):
            earlier = hour - timedelta(days=back)
            if window_start <= earlier < window_end:
                total += counted(rows, earlier, earlier + HOUR)[0]
        hour += HOUR
    return total / 7


def raw_share(f: BoardFilters, rows: list[tuple]) -> float | None:
    _, negative, scored = counted(rows, *raw_baseline_window(f))
    return negative / scored if scored else None


def raw_grouped(rows, column: str) -> list[tuple[str, int]]:
    counted = rows.values(column).annotate(count=CountOf("pk")).order_by("-count", column)
    return [(row[column], row["count"]) for row in counted]


def raw_topics(f: BoardFilters) -> list[tuple[str, int]]:
    without_topic = BoardFilters(start=f.start, end=f.end, platform=f.platform, language=f.language)
    topics = MentionTopic.objects.filter(mention__in=raw(without_topic)).exclude(
        topic=OVERALL_TOPIC
    )
    if f.topic:
        topics = topics.filter(topic=f.topic)
    return raw_grouped(topics, "topic")


def raw_agitators(f: BoardFilters) -> list[tuple[int, int, int]]:
    rows = (
        raw(f)
        .filter(score__sentiment__lte=NEGATIVE_BELOW)
        .values("author_id")
        .annotate(
            negative=CountOf("pk"), serious=CountOf("pk", filter=Q(score__severity__in=SERIOUS))
        )
        .order_by("-negative", "-serious", "author_id")
    )
    return [(row["author_id"], row["negative"], row["serious"]) for row in rows]


def assert_every_figure_equals_the_raw_tables(f: BoardFilters) -> None:
    totals = metrics.totals(f)
    counts = raw_counts(raw(f))
    assert (totals.mentions, totals.scored, totals.negative, totals.complaints, totals.serious) == (
        counts["mentions"],
        counts["scored"],
        counts["negative"],
        counts["complaints"],
        counts["serious"],
    )
    rows = raw_rows(f)
    assert totals.baseline_mentions == pytest.approx(raw_baseline(f, rows, f.start, f.end))
    assert totals.baseline_negative_share == pytest.approx(raw_share(f, rows))

    series = metrics.volume_series(f)
    assert [point.start for point in series] == [
        f.start + f.bucket * n for n in range(-(-(f.end - f.start) // f.bucket))
    ]
    for point in series:
        end = min(point.start + f.bucket, f.end)
        assert (point.mentions, point.negative, point.scored) == counted(rows, point.start, end), (
            point.start
        )
        assert point.baseline_mentions == pytest.approx(raw_baseline(f, rows, point.start, end))
        assert point.baseline_negative_share == pytest.approx(raw_share(f, rows))
    assert sum(point.mentions for point in series) == totals.mentions

    classes = [(c.key, c.count) for c in metrics.complaint_classes(f)]
    assert classes == raw_grouped(raw(f).exclude(score=None), "score__triage_class")
    assert [(c.key, c.count) for c in metrics.keyword_groups(f, limit=50)] == raw_topics(f)
    assert [(c.key, c.count) for c in metrics.by_platform(f)] == raw_grouped(raw(f), "platform")
    languages = [(c.key, c.count) for c in metrics.by_language(f)]
    assert languages == [(key or "und", n) for key, n in raw_grouped(raw(f), "language")]
    agitators = [(a.author_id, a.negative, a.serious) for a in metrics.top_agitators(f, 50)]
    assert agitators == raw_agitators(f)


# --- tests ----------------------------------------------------------------------------------
@pytest.mark.parametrize("query", QUERIES, ids=lambda query: repr(query)[:60])
def test_every_figure_equals_a_direct_query_over_the_raw_tables(world, query):
    assert_every_figure_equals_the_raw_tables(filters(query))


def test_the_known_counts_of_the_default_day(world):
    """Twelve live mentions in the last 24 hours (the drill's is not one, the unscored one
    is); 11:00:00 belongs to the 11 o'clock bucket, 10:59:59 to the one before."""
    f = filters({})
    totals = metrics.totals(f)
    assert (totals.mentions, totals.scored) == (12, 11)
    by_hour = {point.start: point.mentions for point in metrics.volume_series(f)}
    assert by_hour[at(10, 10)] == 1
    assert by_hour[at(10, 11)] == 3  # boundary legal mention, praise, question
    assert by_hour[at(9, 13)] == 1  # the range's first second
    assert at(9, 12) not in by_hour  # 12:59:59 the day before is baseline
    # Same hour of the day over the 7 days before: 11:10 on the 5th and 11:40 on the 8th.
    baseline = {point.start: point.baseline_mentions for point in metrics.volume_series(f)}
    assert baseline[at(10, 11)] == pytest.approx(2 / 7)


def test_a_late_arrival_moves_the_figures_of_its_day(world, django_capture_on_commit_callbacks):
    f = filters({"range": "7d"})
    before = metrics.totals(f).mentions
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        store(
            [post("troll", NOW - timedelta(days=3), handle="late")],
            django_capture_on_commit_callbacks,
        )
    assert metrics.totals(f).mentions == before + 1
    assert_every_figure_equals_the_raw_tables(f)
    assert [a.handle for a in metrics.top_agitators(f)].count("late") == 1


def test_a_late_arrival_whose_signal_was_lost_is_counted_after_the_beat(world):
    f = filters({"range": "30d"})
    author = Author.objects.get(handle="ana")
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        Mention.objects.create(
            platform="bluesky",
            external_id="late-lost",
            author=author,
            text="Brisa",
            language="es",
            published_at=NOW - timedelta(days=20),
        )
        assert metrics.totals(f).mentions == raw(f).count() - 1  # stale until the beat
        tasks_rollups.correct_recent_rollups()
    assert_every_figure_equals_the_raw_tables(f)


def test_a_rescore_with_another_protocol_version_moves_every_figure(
    world, supervisor, django_capture_on_commit_callbacks
):
    f = filters({"range": "30d"})
    before = metrics.totals(f)
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
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        rescore_recent_mentions(draft.pk, days=90)
    after = metrics.totals(f)
    assert after.serious > before.serious
    assert after.negative > before.negative
    for query in QUERIES:
        assert_every_figure_equals_the_raw_tables(filters(query))


def test_labels_are_display_text(world):
    f = filters({"range": "30d"})
    classes = {c.key: c.label for c in metrics.complaint_classes(f)}
    assert classes["complaint_company_fault"] == "Complaint: company at fault"
    groups = {c.key: c.label for c in metrics.keyword_groups(f, limit=50)}
    assert groups["authority"] == "Consumer protection, ombudsman, regulators"
    assert groups["brisa"] == "#brisa"
    platforms = {c.key: c.label for c in metrics.by_platform(f)}
    assert platforms == {"bluesky": "Bluesky", "mastodon": "Mastodon", "reddit": "Reddit"}
    languages = {c.key: c.label for c in metrics.by_language(f)}
    assert languages == {"es": "Spanish", "en": "English", "und": "Unknown"}
    assert metrics.language_label("fr") == "French"
    assert metrics.language_label("zz-bogus") == "zz-bogus"


def test_agitators_carry_reach_flags_and_only_safe_profile_links(world):
    Author.objects.filter(handle="eva").update(flags=["known_troll"], url="javascript:alert(1)")
    Author.objects.filter(handle="ana").update(url="https://bsky.app/profile/ana")
    top = metrics.top_agitators(filters({"range": "30d"}))
    assert (top[0].handle, top[0].negative, top[0].serious) == ("ana", 4, 2)
    ana, eva = top[0], next(a for a in top if a.handle == "eva")
    assert (ana.followers, ana.profile_url, ana.platform) == (
        1000,
        "https://bsky.app/profile/ana",
        "bluesky",
    )
    assert (eva.followers, eva.flags, eva.profile_url) == (2_000_000, ["known_troll"], "")
    assert metrics.top_agitators(filters({}), limit=0) == []


def test_the_overall_topic_means_every_mention(world):
    overall = metrics.totals(filters({"topic": OVERALL_TOPIC}))
    assert overall == metrics.totals(filters({}))


def test_known_topics_are_the_recent_ones_most_used_first(world):
    topics = metrics.known_topics(now=NOW)
    # The fixture's complaints are double charges: the billing group leads, then #brisa.
    assert topics[:2] == ["billing", "brisa"]
    assert {"authority", "legal_threat", "fans", LONG_TAG, "ñandúcafé"} <= set(topics)
    assert OVERALL_TOPIC not in topics and "" not in topics
    assert metrics.known_topics(limit=1, now=NOW) == ["billing"]


def test_each_figure_costs_one_or_two_queries(world, django_assert_max_num_queries):
    for query in ({"range": "30d"}, {"topic": "brisa", "language": "es"}):
        f = filters(query)
        for read in (
            metrics.totals,
            metrics.volume_series,
            metrics.complaint_classes,
            metrics.by_platform,
            metrics.by_language,
        ):
            with django_assert_max_num_queries(1):
                read(f)
        for read in (metrics.keyword_groups, metrics.top_agitators):
            with django_assert_max_num_queries(2):
                read(f)
    with django_assert_max_num_queries(1):
        metrics.known_topics(now=NOW)


@pytest.mark.parametrize("query", QUERIES[:3] + QUERIES[8:9] + QUERIES[-2:], ids=repr)
def test_the_volume_block_reads_its_series_and_totals_in_one_query(
    world, query, django_assert_num_queries
):
    f = filters(query)
    with django_assert_num_queries(1):
        together = metrics.volume_with_totals(f)
    assert together == (metrics.volume_series(f), metrics.totals(f))


def test_an_empty_database_reads_zeros_and_no_shares(db):
    f = filters({"range": "7d"})
    totals = metrics.totals(f)
    assert (totals.mentions, totals.negative_share, totals.baseline_negative_share) == (
        0,
        None,
        None,
    )
    assert totals.baseline_mentions == 0
    series = metrics.volume_series(f)
    assert len(series) == 28 and all(point.mentions == 0 for point in series)
    assert series[0].negative_share is None
    assert metrics.complaint_classes(f) == metrics.keyword_groups(f) == []
    assert metrics.top_agitators(f) == [] and metrics.known_topics(now=NOW) == []


def test_negative_shares(world):
    totals = metrics.totals(filters({}))
    assert totals.negative_share == pytest.approx(totals.negative / totals.scored)
    counted = Counter(point.negative_share is None for point in metrics.volume_series(filters({})))
    assert counted[False] >= 5
