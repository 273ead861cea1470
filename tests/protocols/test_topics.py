"""Topics, defined once (protocols.topics.topics_for) and stored per mention with its score."""

import importlib
from datetime import UTC, datetime, timedelta

from django.apps import apps
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring.models import Author, Mention, Platform
from protocols import pipeline, services
from protocols.models import MentionScore, MentionTopic
from protocols.topics import MAX_HASHTAGS, topics_for

AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
AUTHORITY_TEXT = "Voy a denunciar a Brisa ante la OCU, me han cobrado dos veces #Factura #brisa"
BACKFILL = importlib.import_module(
    "protocols.migrations.0005_backfill_topics_velocity_and_open_suggestions"
)


def stored_mention(number: int, text: str, origin: str = "live") -> Mention:
    author, _ = Author.objects.get_or_create(platform=Platform.MASTODON, handle="ana")
    return Mention.objects.create(
        platform=Platform.MASTODON,
        external_id=f"topics/{number}",
        author=author,
        text=text,
        language="es",
        published_at=AT - timedelta(minutes=number),
        ingested_at=AT,
        origin=origin,
    )


# --- the definition ---------------------------------------------------------------------------


def test_topics_are_overall_then_groups_then_hashtags():
    assert topics_for("Fatal #Brisa #factura", ["billing"]) == [
        "__all__",
        "billing",
        "brisa",
        "factura",
    ]


def test_a_hashtag_equal_to_a_group_is_one_topic():
    assert topics_for("#billing again", ["billing"]) == ["__all__", "billing"]


def test_at_most_five_hashtags_are_topics():
    text = " ".join(f"#tag{number}" for number in range(9))
    assert topics_for(text, ()) == ["__all__", *[f"tag{number}" for number in range(5)]]


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=2000), groups=st.lists(st.text(min_size=1, max_size=300), max_size=8))
def test_any_text_gives_bounded_topics_with_the_overall_first(text, groups):
    topics = topics_for(text, groups)
    assert topics[0] == "__all__"
    assert len(topics) <= 1 + len(groups) + MAX_HASHTAGS
    assert all(len(topic) <= 200 for topic in topics)


# --- stored with the score --------------------------------------------------------------------


def test_scoring_stores_each_topic_with_the_mentions_time_and_origin(db, redis_client):
    mention = stored_mention(1, AUTHORITY_TEXT)
    pipeline.score_and_store([mention.pk], version=services.active_version(), now=AT)
    score = MentionScore.objects.get(mention=mention)
    stored = MentionTopic.objects.filter(mention=mention)
    assert sorted(stored.values_list("topic", flat=True)) == sorted(
        topics_for(mention.text, score.matched_groups)
    )
    assert {(row.published_at, row.origin) for row in stored} == {(mention.published_at, "live")}
    assert "authority" in score.matched_groups


def test_a_run_mentions_topics_carry_its_origin(db, redis_client):
    mention = stored_mention(1, AUTHORITY_TEXT, origin="run:4")
    pipeline.score_and_store([mention.pk], version=services.active_version(), now=AT)
    assert set(MentionTopic.objects.values_list("origin", flat=True)) == {"run:4"}


def test_scoring_twice_stores_each_topic_once(db, redis_client):
    mention = stored_mention(1, AUTHORITY_TEXT)
    version = services.active_version()
    pipeline.score_and_store([mention.pk], version=version, now=AT)
    count = MentionTopic.objects.count()
    pipeline.score_and_store([mention.pk], version=version, now=AT)
    assert MentionTopic.objects.count() == count


def test_a_rescore_that_drops_a_group_drops_its_topic(db, redis_client, supervisor):
    mention = stored_mention(1, AUTHORITY_TEXT)
    pipeline.score_and_store([mention.pk], version=services.active_version(), now=AT)
    draft = services.create_draft(actor=supervisor)
    services.update_draft(actor=supervisor, version=draft, section="keyword_groups", value=[])
    active = services.activate(actor=supervisor, version=draft)
    pipeline.score_and_store([mention.pk], version=active, observe_spikes=False, now=AT)
    assert set(MentionTopic.objects.values_list("topic", flat=True)) == {
        "__all__",
        "factura",
        "brisa",
    }


def test_topics_are_indexed_by_topic_and_time(db):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, MentionTopic._meta.db_table)
    assert constraints["topic_published"]["columns"] == ["topic", "published_at"]
    assert constraints["topic_published"]["index"]


# --- the backfill migration -------------------------------------------------------------------


def test_the_backfill_stores_topics_of_mentions_scored_before_topics_existed(db, redis_client):
    mention = stored_mention(1, AUTHORITY_TEXT)
    pipeline.score_and_store([mention.pk], version=services.active_version(), now=AT)
    expected = set(MentionTopic.objects.values_list("mention_id", "topic"))
    MentionTopic.objects.all().delete()
    BACKFILL.backfill_topics(apps, None)
    BACKFILL.backfill_topics(apps, None)  # an interrupted migration runs again
    assert set(MentionTopic.objects.values_list("mention_id", "topic")) == expected


def test_the_backfill_keeps_the_velocity_a_stored_score_used(db, redis_client):
    mention = stored_mention(1, AUTHORITY_TEXT)
    pipeline.score_and_store([mention.pk], version=services.active_version(), now=AT)
    MentionScore.objects.update(
        signals=[{"name": "velocity", "params": {"factor": 5.2, "topic": "factura"}}],
        velocity_factor=1.0,
        velocity_topic="",
    )
    BACKFILL.backfill_velocity_and_hand_off(apps, None)
    score = MentionScore.objects.get()
    assert (score.velocity_factor, score.velocity_topic) == (5.2, "factura")
    assert score.handed_off_at == score.scored_at  # history is not sent to incidents
