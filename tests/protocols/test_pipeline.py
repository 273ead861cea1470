"""Scoring stored mentions: the hand-off task, idempotence, crisis suggestions, rescoring."""

import time

import pytest
from django.utils import timezone

from monitoring.connectors.base import AuthorIn, MentionIn
from monitoring.ingest import ingest_mentions
from protocols import services
from protocols.models import CrisisSuggestion, MentionScore
from protocols.tasks import rescore_recent_mentions, score_new_mentions
from protocols.topics import topics_for


def mention(number: int, text: str, followers: int = 10) -> MentionIn:
    return MentionIn(
        platform="bluesky",
        external_id=f"at://post/{number}",
        url=f"https://bsky.app/p/{number}",
        text=text,
        published_at=timezone.now() - timezone.timedelta(minutes=number),
        author=AuthorIn(handle=f"user{number}", followers=followers),
        language="es",
    )


@pytest.fixture
def clean_redis(redis_client):
    return redis_client


def test_scores_explain_themselves_and_sum_to_their_value(db, clean_redis):
    ids = ingest_mentions(
        [mention(1, "Pésimo servicio, me habéis cobrado dos veces y no contestáis")],
        source_id=None,
    ).new_mention_ids
    score_new_mentions(ids)
    score = MentionScore.objects.get(mention_id=ids[0])
    assert score.protocol_version == services.active_version()
    assert round(sum(signal["contribution"] for signal in score.signals)) == score.value
    assert all(signal["label"] for signal in score.signals)
    assert score.sentiment < 0
    assert score.is_complaint


def test_scoring_the_same_mentions_twice_keeps_one_score_each(db, clean_redis):
    ids = ingest_mentions([mention(1, "hola"), mention(2, "adiós")], source_id=None)
    score_new_mentions(ids.new_mention_ids)
    score_new_mentions(ids.new_mention_ids)
    assert MentionScore.objects.count() == 2


def test_many_serious_mentions_on_one_topic_suggest_a_crisis(
    db, clean_redis, supervisor, django_capture_on_commit_callbacks
):
    draft = services.create_draft(actor=supervisor)
    services.update_draft(
        actor=supervisor,
        version=draft,
        section="crisis_threshold",
        value={"incidents": 3, "window_minutes": 60, "spike_factor": 4},
    )
    services.update_draft(
        actor=supervisor,
        version=draft,
        section="severity_thresholds",
        value={"medium": 10, "high": 20, "critical": 90},
    )
    services.activate(actor=supervisor, version=draft)
    text = "Voy a denunciar a Brisa ante la OCU, me han cobrado dos veces, es un robo"
    ids = ingest_mentions(
        [mention(n, text, followers=20_000) for n in range(1, 5)], source_id=None
    ).new_mention_ids
    with django_capture_on_commit_callbacks(execute=True):  # suggestions follow the commit
        score_new_mentions(ids)
    suggestion = CrisisSuggestion.objects.get(topic="authority")
    assert suggestion.reason == CrisisSuggestion.Reason.INCIDENTS
    assert suggestion.observed >= 3


def test_activation_can_rescore_recent_mentions(db, clean_redis, supervisor):
    ids = ingest_mentions([mention(1, "El router no funciona, fatal")], source_id=None)
    score_new_mentions(ids.new_mention_ids)
    draft = services.create_draft(actor=supervisor)
    services.update_draft(
        actor=supervisor,
        version=draft,
        section="severity_thresholds",
        value={"medium": 2, "high": 3, "critical": 4},
    )
    services.activate(actor=supervisor, version=draft)
    rescore_recent_mentions(draft.pk, 7)
    score = MentionScore.objects.get()
    assert score.protocol_version_id == draft.pk
    assert score.severity == "critical"


def test_topics_are_overall_volume_and_hashtags():
    assert topics_for("Fatal #Brisa #factura #brisa", ()) == ["__all__", "brisa", "factura"]


@pytest.mark.celery_worker
def test_polled_mentions_are_scored_by_the_hand_off(celery_worker, httpserver, settings):
    from monitoring import polling
    from tests.monitoring.factories import make_source
    from tests.monitoring.test_polling import TAG_PATH, status

    settings.MONITORING = {
        **settings.MONITORING,
        "NEW_MENTIONS_TASK": "protocols.tasks.score_new_mentions",
    }
    source = make_source(base_url=httpserver.url_for("/").rstrip("/"))
    httpserver.expect_request(TAG_PATH).respond_with_json([status(2), status(1)])
    polling.poll(source.pk)
    deadline = time.monotonic() + 20
    while MentionScore.objects.count() < 2:
        assert time.monotonic() < deadline, "the hand-off did not score the mentions"
        time.sleep(0.05)
