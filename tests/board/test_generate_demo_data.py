"""The demo data generator (issue 12, "Fast at scale"): the counts asked for, rows consistent
with the active protocol, a refusal to run twice without --replace, and rollups that equal the
raw tables it wrote. Small N on the real Postgres, through the real command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F, Sum
from django.utils import timezone

from crisis.board import demo_data
from crisis.board.models import AuthorHour, IncidentHour, MentionHour
from crisis.incidents.models import OPEN_STATES, Incident, IncidentMention
from crisis.incidents.services import sla_minutes
from crisis.rooms.models import Crisis, CrisisStatus
from monitoring.models import Author, Mention
from protocols.evaluation import NEGATIVE_BELOW, POSITIVE_ABOVE
from protocols.models import MentionScore, MentionTopic, SurgeAlert
from protocols.pipeline import compiled
from protocols.scoring.engine import severity_for
from protocols.services import active_version
from protocols.topics import topics_for
from tests.board.mention_fixtures import assert_rollups_exact

pytestmark = pytest.mark.django_db

MENTIONS, INCIDENTS, DAYS = 2_000, 200, 2


def run(*extra: str) -> str:
    out = StringIO()
    call_command(
        "generate_demo_data",
        f"--mentions={MENTIONS}",
        f"--incidents={INCIDENTS}",
        f"--days={DAYS}",
        *extra,
        stdout=out,
    )
    return out.getvalue()


@pytest.fixture
def generated(redis_client):
    return run()


def demo_incidents():
    return Incident.objects.filter(first_mention__external_id__startswith="demo-")


def test_writes_the_counts_asked_for_and_says_so(generated):
    assert Mention.objects.filter(external_id__startswith="demo-").count() == MENTIONS
    assert MentionScore.objects.filter(mention__external_id__startswith="demo-").count() == MENTIONS
    # Every scored mention has the overall topic, some also a group or hashtag.
    assert MentionTopic.objects.filter(topic="__all__").count() == MENTIONS
    assert MentionTopic.objects.count() > MENTIONS
    assert demo_incidents().count() == INCIDENTS
    assert IncidentMention.objects.filter(mention_id=F("incident__first_mention_id")).count() == (
        INCIDENTS
    )
    assert Author.objects.filter(handle__startswith="demo-").exists()
    assert f"Wrote {MENTIONS:,} mentions" in generated
    assert f"{INCIDENTS:,} incidents" in generated


def test_mentions_span_the_days_asked_for_on_several_platforms_and_languages(generated):
    now = timezone.now()
    mentions = Mention.objects.filter(external_id__startswith="demo-")
    assert not mentions.filter(published_at__gt=now).exists()
    assert not mentions.filter(published_at__lt=now - timedelta(days=DAYS, hours=1)).exists()
    assert mentions.values("platform").distinct().count() >= 4
    assert set(mentions.values_list("language", flat=True)) == {"es", "en", ""}
    assert mentions.filter(origin="live").count() == MENTIONS


def test_scores_follow_the_active_protocol(generated):
    version = active_version()
    protocol = compiled(version)
    groups = {group["key"] for group in version.config["keyword_groups"]}
    scores = MentionScore.objects.select_related("mention")
    for score in scores.iterator():
        assert score.protocol_version_id == version.pk
        assert score.severity == severity_for(score.value, protocol)
        assert score.value == sum(signal["contribution"] for signal in score.signals)
        assert set(score.matched_groups) <= groups
        assert score.is_complaint == score.triage_class.startswith("complaint")
        if score.is_complaint or score.triage_class == "troll_abuse":
            assert score.sentiment <= NEGATIVE_BELOW
        if score.triage_class == "praise":
            assert score.sentiment >= POSITIVE_ABOVE
        assert score.handed_off_at is not None  # the hand-off sweeper leaves them alone
        stored = set(score.mention.topics.values_list("topic", flat=True))
        assert stored == set(topics_for(score.mention.text, score.matched_groups))


def test_incidents_follow_the_protocols_policy_and_most_are_closed(generated):
    config = active_version().config
    incidents = list(demo_incidents().select_related("first_mention__score"))
    open_count = sum(incident.state in OPEN_STATES for incident in incidents)
    assert 0 < open_count < len(incidents) // 4
    for incident in incidents:
        score = incident.first_mention.score
        assert incident.severity == score.severity
        assert incident.severity in config["incidents"]["open_severities"]
        assert incident.triage_class in config["incidents"]["open_classes"]
        assert incident.author_id == incident.first_mention.author_id
        minutes = sla_minutes(config, incident.severity)
        assert incident.sla_due_at == incident.opened_at + timedelta(minutes=minutes)
        assert incident.opened_at >= incident.first_mention.published_at
        if incident.state not in OPEN_STATES:
            assert incident.resolved_at or incident.closed_at
        if incident.first_response_at is None and incident.state in OPEN_STATES:
            assert incident.awaiting_response_since == incident.opened_at


def test_active_crises_with_a_commander_and_surge_alerts(generated):
    crises = Crisis.objects.filter(declared_by__username=demo_data.DEMO_SUPERVISOR)
    assert crises.count() == 2
    for crisis in crises:
        assert crisis.status == CrisisStatus.ACTIVE
        assert crisis.members.filter(user=crisis.commander, role="commander").exists()
    assert crises.filter(incident_links__isnull=False).exists()
    assert SurgeAlert.objects.filter(topic__in=demo_data.SURGE_HASHTAGS).exists()


def test_a_second_run_refuses_without_replace(generated):
    with pytest.raises(CommandError, match="--replace"):
        run()
    assert Mention.objects.filter(external_id__startswith="demo-").count() == MENTIONS


def test_replace_deletes_the_earlier_demo_rows_first(generated):
    run("--replace", "--seed=11")
    assert Mention.objects.filter(external_id__startswith="demo-").count() == MENTIONS
    assert demo_incidents().count() == INCIDENTS
    assert IncidentMention.objects.count() == INCIDENTS
    assert Crisis.objects.filter(declared_by__username=demo_data.DEMO_SUPERVISOR).count() == 2
    assert_rollups_exact()


def test_rollups_equal_the_raw_tables(generated):
    assert_rollups_exact()
    overall = MentionHour.objects.filter(topic="")
    assert overall.aggregate(total=Sum("mentions"))["total"] == MENTIONS
    negative = MentionScore.objects.filter(sentiment__lte=NEGATIVE_BELOW).count()
    assert overall.filter(polarity="negative").aggregate(n=Sum("mentions"))["n"] == negative
    assert AuthorHour.objects.aggregate(n=Sum("negative"))["n"] == negative
    hours = IncidentHour.objects.aggregate(opened=Sum("opened"), responded=Sum("responded"))
    assert hours["opened"] == INCIDENTS
    assert hours["responded"] == demo_incidents().exclude(first_response_at=None).count()


def test_the_bulk_insert_path_writes_the_same_data_as_copy(redis_client):
    """Other databases (the embedded SQLite) take bulk_create; forced here on Postgres."""
    now = timezone.now()
    demo_data.generate(mentions=300, incidents=30, days=1, now=now, use_copy=False)
    by_orm = sorted(
        MentionScore.objects.values_list("mention__external_id", "value", "severity", "sentiment")
    )
    orm_topics = MentionTopic.objects.count()
    demo_data.generate(mentions=300, incidents=30, days=1, now=now, replace=True, use_copy=True)
    by_copy = sorted(
        MentionScore.objects.values_list("mention__external_id", "value", "severity", "sentiment")
    )
    assert by_copy == by_orm
    assert MentionTopic.objects.count() == orm_topics
    assert demo_incidents().count() == 30
    assert_rollups_exact()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--mentions=0"], "--mentions"),
        (["--mentions=10", "--incidents=11"], "--incidents"),
        (["--days=0"], "--days"),
    ],
)
def test_refuses_impossible_sizes(db, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("generate_demo_data", *arguments, stdout=StringIO())
