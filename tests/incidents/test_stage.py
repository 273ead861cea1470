"""The incident stage: a scored mention attaches, reopens, opens or is kept; idempotently."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from crisis.incidents import services, tasks
from crisis.incidents.models import Incident, IncidentMention, IncidentState
from crisis.incidents.services import StageAction
from crisis.models import AuditEvent
from monitoring.connectors.base import AuthorIn, MentionIn
from monitoring.ingest import ingest_mentions
from protocols.models import MentionScore
from protocols.tasks import score_new_mentions
from tests.incidents.factories import NOW, author, incident, scored_mention, team

pytestmark = pytest.mark.django_db


def handle(*mentions, now=NOW):
    return services.handle_scored_mentions(mention_ids=[m.pk for m in mentions], now=now)


def test_a_serious_complaint_opens_an_incident_with_its_score_and_deadline():
    mention = scored_mention(severity="high", matched_groups=("authority",))
    [outcome] = handle(mention)
    opened = Incident.objects.get()
    assert outcome.action == StageAction.OPENED
    assert (opened.state, opened.severity, opened.topic) == ("new", "high", "authority")
    assert opened.opened_score["value"] == 60 and opened.opened_score["class"] == (
        "complaint_company_fault"
    )
    assert opened.sla_due_at == NOW + timedelta(minutes=60)  # the high policy's SLA
    assert opened.reach == mention.author.followers
    assert AuditEvent.objects.filter(verb="incident.open", object_id=str(opened.pk)).exists()


@pytest.mark.parametrize(
    ("severity", "triage_class"),
    [("high", "praise"), ("low", "neutral"), ("low", "praise"), ("low", "troll_abuse")],
)
def test_a_mention_the_protocol_does_not_open_for_is_kept(severity, triage_class):
    [outcome] = handle(scored_mention(severity=severity, triage_class=triage_class))
    assert outcome.action == StageAction.KEPT
    assert not Incident.objects.exists()


def test_a_low_question_opens_an_incident():
    [outcome] = handle(scored_mention(severity="low", triage_class="question"))
    assert outcome.action == StageAction.OPENED


def test_an_opened_incident_goes_to_the_default_team():
    team("Night shift")
    default = team("Customer care", is_default=True)
    handle(scored_mention())
    assert Incident.objects.get().team == default


def test_without_a_default_team_an_incident_has_no_team():
    handle(scored_mention())
    assert Incident.objects.get().team is None


def test_a_reply_to_a_mention_of_an_open_incident_attaches_to_it():
    first = scored_mention()
    handle(first)
    reply = scored_mention(reply_to=first, published_at=NOW + timedelta(days=2))
    [outcome] = handle(reply, now=NOW + timedelta(days=2))
    assert outcome.action == StageAction.ATTACHED
    assert list(Incident.objects.get().links.values_list("mention", flat=True)) == [
        first.pk,
        reply.pk,
    ]


def test_the_same_author_on_the_same_topic_within_the_window_attaches():
    writer = author()
    first = scored_mention(by=writer, matched_groups=("authority",))
    later = scored_mention(
        by=writer, matched_groups=("authority",), published_at=NOW + timedelta(minutes=239)
    )
    outcomes = handle(first, later)
    assert [o.action for o in outcomes] == [StageAction.OPENED, StageAction.ATTACHED]
    assert Incident.objects.count() == 1


def test_the_same_author_on_the_same_topic_outside_the_window_opens_another():
    writer = author()
    first = scored_mention(by=writer, matched_groups=("authority",))
    later = scored_mention(
        by=writer, matched_groups=("authority",), published_at=NOW + timedelta(minutes=241)
    )
    outcomes = handle(first, later)
    assert [o.action for o in outcomes] == [StageAction.OPENED, StageAction.OPENED]


def test_the_same_author_on_another_topic_opens_another():
    writer = author()
    first = scored_mention(by=writer, matched_groups=("authority",))
    later = scored_mention(
        by=writer, matched_groups=("data_breach",), published_at=NOW + timedelta(minutes=5)
    )
    outcomes = handle(first, later)
    assert [o.action for o in outcomes] == [StageAction.OPENED, StageAction.OPENED]


def test_another_author_on_the_same_topic_opens_another():
    first = scored_mention(matched_groups=("authority",))
    other = scored_mention(matched_groups=("authority",), published_at=NOW + timedelta(minutes=5))
    assert [o.action for o in handle(first, other)] == ["opened", "opened"]


def test_a_more_severe_new_mention_raises_severity_and_brings_the_deadline_forward():
    writer = author()
    handle(scored_mention(by=writer, severity="medium"))
    assert Incident.objects.get().sla_due_at == NOW + timedelta(minutes=240)
    later = NOW + timedelta(minutes=10)
    handle(scored_mention(by=writer, severity="critical", published_at=later), now=later)
    raised = Incident.objects.get()
    assert raised.severity == "critical"
    assert raised.sla_due_at == NOW + timedelta(minutes=15)  # from when it opened


def test_a_less_severe_new_mention_changes_neither_severity_nor_deadline():
    writer = author()
    handle(scored_mention(by=writer, severity="high"))
    later = NOW + timedelta(minutes=10)
    handle(scored_mention(by=writer, severity="low", published_at=later), now=later)
    kept = Incident.objects.get()
    assert (kept.severity, kept.sla_due_at) == ("high", NOW + timedelta(minutes=60))
    assert list(kept.links.values_list("severity", flat=True)) == ["high", "low"]


def test_rescoring_a_mention_does_not_rewrite_its_incident():
    mention = scored_mention(severity="medium")
    handle(mention)
    before = Incident.objects.values().get()
    # A rescore rewrites the stored score and hands the mention over again.
    MentionScore.objects.filter(mention=mention).update(
        severity="critical", value=95, triage_class="troll_abuse"
    )
    [outcome] = handle(mention, now=NOW + timedelta(hours=1))
    assert outcome.action == StageAction.ALREADY_HANDLED
    assert Incident.objects.values().get() == before
    assert IncidentMention.objects.get().severity == "medium"


def test_handing_the_same_mentions_over_twice_attaches_each_once():
    writer = author()
    mentions = [
        scored_mention(by=writer, published_at=NOW + timedelta(minutes=n)) for n in range(3)
    ]
    handle(*mentions)
    again = handle(*mentions, now=NOW + timedelta(minutes=5))
    assert [o.action for o in again] == [StageAction.ALREADY_HANDLED] * 3
    assert (Incident.objects.count(), IncidentMention.objects.count()) == (1, 3)
    assert AuditEvent.objects.filter(verb="incident.open").count() == 1


def test_handled_mentions_are_marked_handed_off():
    mentions = [scored_mention(), scored_mention(severity="low", triage_class="praise")]
    handle(*mentions)
    assert set(MentionScore.objects.values_list("handed_off_at", flat=True)) == {NOW}


def test_a_resolved_incident_reopens_when_its_author_writes_again_on_its_topic():
    resolved = incident(state=IncidentState.RESOLVED)
    later = NOW + timedelta(days=2)
    again = scored_mention(by=resolved.author, severity="medium", published_at=later)
    [outcome] = handle(again, now=later)
    resolved.refresh_from_db()
    assert (outcome.action, outcome.incident_id) == (StageAction.REOPENED, resolved.pk)
    assert (resolved.state, resolved.resolved_at) == (IncidentState.REOPENED, None)
    assert resolved.sla_due_at == later + timedelta(minutes=60)  # a fresh clock
    assert AuditEvent.objects.get(verb="incident.reopen").actor_label == "system"


def test_praise_does_not_reopen_a_resolved_incident():
    resolved = incident(state=IncidentState.RESOLVED)
    later = NOW + timedelta(days=1)
    thanks = scored_mention(
        by=resolved.author, severity="low", triage_class="praise", published_at=later
    )
    [outcome] = handle(thanks, now=later)
    resolved.refresh_from_db()
    assert outcome.action == StageAction.KEPT
    assert resolved.state == IncidentState.RESOLVED


def test_a_resolved_incident_stays_resolved_after_the_reopen_window():
    resolved = incident(state=IncidentState.RESOLVED)
    later = NOW + timedelta(minutes=4321)
    [outcome] = handle(scored_mention(by=resolved.author, published_at=later), now=later)
    resolved.refresh_from_db()
    assert outcome.action == StageAction.OPENED
    assert resolved.state == IncidentState.RESOLVED


def test_a_closed_incident_is_not_reopened_by_the_stage():
    closed = incident(state=IncidentState.CLOSED)
    later = NOW + timedelta(hours=1)
    [outcome] = handle(scored_mention(by=closed.author, published_at=later), now=later)
    assert outcome.action == StageAction.OPENED


def test_a_runs_mention_opens_an_incident_of_that_run_apart_from_live_ones():
    writer = author()
    handle(scored_mention(by=writer))
    drill = scored_mention(by=writer, origin="run:7", published_at=NOW + timedelta(minutes=1))
    [outcome] = handle(drill)
    assert outcome.action == StageAction.OPENED
    assert sorted(Incident.objects.values_list("origin", flat=True)) == ["live", "run:7"]


def test_the_task_handles_the_ids_it_is_given():
    mention = scored_mention()
    assert tasks.handle_scored_mentions([mention.pk, 999_999]) == 1
    assert Incident.objects.filter(first_mention=mention).exists()


def test_an_unscored_mention_is_left_for_the_sweeper():
    mention = scored_mention()
    MentionScore.objects.filter(mention=mention).delete()
    assert handle(mention) == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_handing_the_same_mention_at_once_attach_it_once():
    mention = scored_mention()
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            barrier.wait(timeout=10)
            services.handle_scored_mentions(mention_ids=[mention.pk], now=NOW)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert (Incident.objects.count(), IncidentMention.objects.count()) == (1, 1)


def test_a_real_scored_complaint_opens_an_incident_on_its_keyword_group(redis_client):
    now = timezone.now()
    stored = ingest_mentions(
        [
            MentionIn(
                platform="bluesky",
                external_id="at://post/real-1",
                url="https://bsky.app/p/real-1",
                text="Voy a denunciar a Brisa ante la OCU, me han cobrado dos veces, es un robo",
                published_at=now - timedelta(minutes=1),
                author=AuthorIn(handle="angry", followers=20_000),
                language="es",
            )
        ],
        source_id=None,
    ).new_mention_ids
    score_new_mentions(stored)
    [outcome] = services.handle_scored_mentions(mention_ids=stored, now=now)
    opened = Incident.objects.get()
    assert outcome.action == StageAction.OPENED
    assert opened.topic == "authority"
    assert opened.opened_score["value"] == MentionScore.objects.get().value


@pytest.mark.celery_worker
def test_a_mention_scored_by_a_real_worker_is_handed_to_the_incident_stage_by_name(
    celery_worker,
):
    stored = ingest_mentions(
        [
            MentionIn(
                platform="bluesky",
                external_id="at://post/worker-1",
                url="https://bsky.app/p/worker-1",
                text="Voy a denunciar a Brisa ante la OCU, me han cobrado dos veces, es un robo",
                published_at=timezone.now() - timedelta(minutes=1),
                author=AuthorIn(handle="angry", followers=20_000),
                language="es",
            )
        ],
        source_id=None,
    ).new_mention_ids
    score_new_mentions.delay(stored)
    deadline = time.monotonic() + 30
    while not MentionScore.objects.filter(handed_off_at__isnull=False).exists():
        assert time.monotonic() < deadline, "the incident stage never saw the mention"
        time.sleep(0.1)
    assert Incident.objects.get().first_mention_id == stored[0]
