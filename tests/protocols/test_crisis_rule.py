"""The one crisis rule (issue 13): N serious mentions from distinct authors on one topic within
T minutes at the mention's time, or a serious surge at the crisis factor; live scoring (SQL
counts), rescoring and backtests (in-memory counts) decide alike. Surges that are not serious
(praise, a campaign), that follow a source's recovery, or that hit a muted topic are recorded
and suggest nothing."""

import random
import threading
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from django.db import connection

from crisis.rooms.models import Crisis, CrisisStatus
from monitoring.models import Author, Mention, Platform, SourceHealth
from monitoring.simulator.world import World
from protocols import crisis_rule, pipeline, services, velocity
from protocols.backtest import _VersionReplay
from protocols.crisis_rule import MemoryCounts, RuleSettings, SqlCounts
from protocols.defaults import default_config
from protocols.models import (
    CrisisSuggestion,
    MentionScore,
    MentionTopic,
    ProtocolStatus,
    ProtocolVersion,
    SurgeAlert,
)
from protocols.spikes import RedisSpikeStore
from tests.monitoring.factories import make_source
from tests.rooms.factories import a_crisis

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SURGE_AT = START + timedelta(minutes=30, seconds=50)
# Under the default protocol: critical (legal threat), medium complaint, praise, ordinary.
SERIOUS = "Voy a denunciar a Brisa ante la OCU, me han cobrado dos veces, es un robo #factura"
COMPLAINT = "Pésimo servicio, me habéis cobrado dos veces y no contestáis #factura"
HIGH = "Brisa me ha cobrado dos veces la factura, es una estafa y nadie responde #factura"
PRAISE = "Me encanta Brisa, gracias por la atención, sois geniales #verano"
ORDINARY = "Hola Brisa, ¿cuándo llega la factura de este mes? #factura"
_ids = count(3_000_000)


def store(text: str, at: datetime, *, author: int, origin: str = "live", source=None) -> Mention:
    account, _ = Author.objects.get_or_create(
        platform=Platform.MASTODON, handle=f"user{author}", defaults={"followers": 100}
    )
    return Mention.objects.create(
        platform=Platform.MASTODON,
        external_id=f"rule/{next(_ids)}",
        author=account,
        text=text,
        language="es",
        published_at=at,
        ingested_at=at,
        origin=origin,
        source=source,
    )


@pytest.fixture
def score(db, redis_client, django_capture_on_commit_callbacks):
    """Score mentions as the live stage does, its after-commit side effects included."""

    def run(mentions: list[Mention], *, now: datetime, observe: bool = True) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            pipeline.score_and_store(
                [mention.pk for mention in mentions],
                version=services.active_version(),
                observe_spikes=observe,
                now=now,
                hand_off=False,
            )

    return run


def prime(topic: str, *, minutes: int = 30, per_minute: int = 10, origin: str = "live") -> None:
    """Half an hour of steady traffic on `topic` in the origin's detector (nothing stored)."""
    version = services.active_version()
    for minute in range(minutes):
        for second in range(per_minute):
            at = START + timedelta(minutes=minute, seconds=second * 5)
            velocity.count_once(version, next(_ids), [topic], at, now=at, origin=origin)


def burst(
    text: str, topic_mentions: int = 40, *, source=None, origin: str = "live"
) -> list[Mention]:
    return [
        store(text, SURGE_AT, author=number, source=source, origin=origin)
        for number in range(topic_mentions)
    ]


def open_topics(origin: str = "live") -> dict[str, str]:
    return dict(
        CrisisSuggestion.objects.filter(origin=origin, dismissed_at__isnull=True).values_list(
            "topic", "reason"
        )
    )


# --- the counting interface: memory and SQL agree ---------------------------------------------


def test_memory_and_sql_counts_agree_on_the_same_mentions(db):
    version = services.active_version()
    settings = RuleSettings.from_protocol(version.config)
    memory = MemoryCounts(settings)
    rng = random.Random(13)  # noqa: S311 - a reproducible fixture
    at = START - timedelta(hours=26)
    checked = 0
    for number in range(400):
        at += timedelta(seconds=rng.randint(30, 600))
        mention = store("x", at, author=rng.randint(1, 12))
        severity = rng.choice(["low", "medium", "high", "critical"])
        sentiment, complaint = rng.uniform(-1, 1), rng.random() < 0.3
        MentionScore.objects.create(
            mention=mention,
            protocol_version=version,
            value=50,
            severity=severity,
            triage_class="neutral",
            sentiment=sentiment,
            is_complaint=complaint,
        )
        topic = rng.choice(["billing", "coverage"])
        MentionTopic.objects.create(mention=mention, topic=topic, published_at=at)
        memory.add(
            topic,
            at,
            mention.author_id,
            severity in crisis_rule.SERIOUS,
            crisis_rule.is_negative_or_complaint(sentiment, complaint),
        )
        if number % 20:
            continue
        sql = SqlCounts("live")
        for name in ("billing", "coverage"):
            since = at - settings.window
            assert memory.distinct_serious_authors(name, since, at) == (
                sql.distinct_serious_authors(name, since, at)
            )
            assert memory.shares(name, at - settings.surge_window, at) == sql.shares(
                name, at - settings.surge_window, at
            )
            assert memory.usual_share(name, at) == pytest.approx(sql.usual_share(name, at))
            checked += 1
    assert checked == 40
    # Bounded: only the longest window's mentions one by one, a day of per-minute totals.
    assert all(items[0].at >= items[-1].at - settings.window for items in memory.recent.values())
    assert all(len(minutes) <= 24 * 60 + 1 for minutes in memory.minutes.values())


# --- serious mentions from distinct authors ---------------------------------------------------


def test_serious_mentions_from_one_author_do_not_suggest(score):
    mentions = [store(SERIOUS, START + timedelta(minutes=n), author=1) for n in range(6)]
    score(mentions, now=START + timedelta(minutes=6))
    assert open_topics() == {}


def test_serious_mentions_from_as_many_distinct_authors_as_the_protocol_needs_suggest(score):
    needed = RuleSettings.from_protocol(services.active_version().config).serious_needed
    mentions = [store(SERIOUS, START + timedelta(minutes=n), author=n) for n in range(needed)]
    score(mentions[:-1], now=mentions[-2].published_at)
    assert open_topics() == {}
    score(mentions[-1:], now=mentions[-1].published_at)
    suggestion = CrisisSuggestion.objects.get(topic="legal_threat")
    assert suggestion.reason == CrisisSuggestion.Reason.INCIDENTS
    assert suggestion.observed == needed
    assert suggestion.raised_at == mentions[-1].published_at


def test_an_old_serious_mention_rescored_today_does_not_count_today(score):
    today = START + timedelta(days=3)
    old = store(SERIOUS, START, author=99)
    score([old], now=START)  # scored at its time: one author, no crisis
    fresh = [store(SERIOUS, today + timedelta(minutes=n), author=n) for n in range(4)]
    score(fresh, now=today + timedelta(minutes=4))
    score([old], now=today + timedelta(minutes=5), observe=False)  # the rescoring
    assert open_topics() == {}  # four authors today, the old one counts at its own time
    fifth = store(SERIOUS, today + timedelta(minutes=6), author=4)
    score([fifth], now=fifth.published_at)
    assert CrisisSuggestion.objects.get(topic="legal_threat").observed == 5


def test_a_serious_mention_arriving_late_counts_at_its_own_time(score):
    mentions = [store(SERIOUS, START + timedelta(minutes=n), author=n) for n in range(5)]
    score(mentions[:4], now=mentions[3].published_at)
    late = mentions[4]
    Mention.objects.filter(pk=late.pk).update(ingested_at=START + timedelta(minutes=50))
    score([late], now=START + timedelta(minutes=50))  # received 46 minutes after it was posted
    assert CrisisSuggestion.objects.get(topic="legal_threat").observed == 5


# --- a serious surge at the crisis factor ------------------------------------------------------


def test_a_praise_burst_at_the_crisis_factor_is_a_spike_and_suggests_nothing(score):
    prime("verano")
    score(burst(PRAISE), now=SURGE_AT)
    [alert] = SurgeAlert.objects.filter(topic="verano")
    assert alert.crisis_suggested  # at the crisis factor …
    assert (alert.serious, alert.held_back) == (False, "not_serious")  # … but praise
    assert open_topics() == {}


def test_a_complaint_surge_at_the_crisis_factor_is_suggested(score):
    prime("factura")
    score(burst(COMPLAINT), now=SURGE_AT)
    [alert] = SurgeAlert.objects.filter(topic="factura")
    assert (alert.crisis_suggested, alert.serious, alert.held_back) == (True, True, "")
    suggestion = CrisisSuggestion.objects.get(topic="factura")
    assert suggestion.reason == CrisisSuggestion.Reason.SPIKE
    assert suggestion.factor >= 4.0


def test_a_runs_complaint_surge_is_counted_in_its_own_detector_and_suggested_for_the_run(
    score,
):
    prime("factura", origin="run:77")
    score(burst(COMPLAINT, origin="run:77"), now=SURGE_AT)
    assert open_topics("run:77") == {"factura": CrisisSuggestion.Reason.SPIKE}
    assert open_topics() == {}
    assert list(SurgeAlert.objects.values_list("origin", "topic")) == [("run:77", "factura")]
    assert RedisSpikeStore().load("factura") is None  # the live detector saw nothing


def test_a_surge_right_after_a_source_recovered_is_held_back_as_a_gap(score):
    source = make_source(
        health=SourceHealth.HEALTHY,
        last_error_at=SURGE_AT - timedelta(minutes=12),
        last_success_at=SURGE_AT - timedelta(minutes=1),
    )
    prime("factura")
    score(burst(COMPLAINT, source=source), now=SURGE_AT)
    [alert] = SurgeAlert.objects.filter(topic="factura")
    assert (alert.crisis_suggested, alert.serious, alert.held_back) == (True, True, "gap")
    assert open_topics() == {}


def test_a_surge_long_after_a_source_recovered_is_suggested(score):
    source = make_source(
        health=SourceHealth.HEALTHY,
        last_error_at=SURGE_AT - timedelta(hours=3),
        last_success_at=SURGE_AT - timedelta(minutes=1),
    )
    prime("factura")
    score(burst(COMPLAINT, source=source), now=SURGE_AT)
    assert open_topics() == {"factura": CrisisSuggestion.Reason.SPIKE}


def test_a_muted_topic_records_its_surge_and_suggests_nothing(score, supervisor):
    services.mute_topic(
        actor=supervisor,
        topic="factura",
        until=SURGE_AT + timedelta(hours=2),
        reason="Billing campaign",
        now=START,
    )
    prime("factura")
    score(burst(COMPLAINT), now=SURGE_AT)
    [alert] = SurgeAlert.objects.filter(topic="factura")
    assert (alert.crisis_suggested, alert.serious, alert.held_back) == (True, True, "muted")
    assert open_topics() == {}


def test_after_its_mute_ends_a_topic_is_suggested_again(score, supervisor):
    services.mute_topic(
        actor=supervisor,
        topic="legal_threat",
        until=START + timedelta(minutes=10),
        reason="Planned legal announcement",
        now=START - timedelta(minutes=1),
    )
    muted = [store(SERIOUS, START + timedelta(minutes=n), author=n) for n in range(6)]
    score(muted, now=muted[-1].published_at)
    assert "legal_threat" not in open_topics()
    assert "authority" in open_topics()  # the other topics of the same mentions are not muted
    later = store(SERIOUS, START + timedelta(minutes=12), author=6)
    score([later], now=later.published_at)
    assert open_topics()["legal_threat"] == CrisisSuggestion.Reason.INCIDENTS


# --- race safety, rescoring -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_scoring_tasks_on_one_topic_open_one_suggestion(redis_client):
    now = START + timedelta(minutes=10)
    batches = [[store(SERIOUS, now, author=10 * batch + n) for n in range(6)] for batch in range(2)]
    version = services.active_version()
    ready, errors = threading.Barrier(2), []

    def task(mentions):
        try:
            ready.wait(timeout=10)
            pipeline.score_and_store(
                [m.pk for m in mentions], version=version, now=now, hand_off=False
            )
        except Exception as error:  # reported by the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=task, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    topics = list(
        CrisisSuggestion.objects.filter(dismissed_at__isnull=True).values_list("topic", flat=True)
    )
    assert "legal_threat" in topics
    assert sorted(topics) == sorted(set(topics))  # one open suggestion per topic


def test_rescoring_an_old_mention_adds_nothing_to_todays_detector(score):
    mention = store(COMPLAINT, START, author=1)
    score([mention], now=START)
    store_ = RedisSpikeStore()
    topics = velocity.counted_topics(mention.pk)
    before = {topic: store_.load(topic) for topic in topics}
    stored = MentionScore.objects.values_list("velocity_factor", "velocity_topic").get()
    score([mention], now=START + timedelta(days=2), observe=False)
    assert {topic: store_.load(topic) for topic in topics} == before
    assert velocity.counted_topics(mention.pk) == topics
    assert {"__all__", "factura"} <= topics
    assert MentionScore.objects.values_list("velocity_factor", "velocity_topic").get() == stored
    assert not SurgeAlert.objects.exists()


# --- live scoring and the backtest agree ------------------------------------------------------


def history_with_a_complaint_burst() -> list[Mention]:
    """Half an hour of ordinary traffic (2 a minute), then complaints from many accounts."""
    rng = random.Random(5)  # noqa: S311 - a reproducible fixture
    mentions = []
    for number in range(60):
        at = START + timedelta(seconds=30 * number + rng.randint(0, 20))
        mentions.append(store(ORDINARY, at, author=1000 + number % 25))
    for number in range(30):
        at = START + timedelta(minutes=30, seconds=5 * number)
        mentions.append(store(HIGH if number % 3 == 0 else COMPLAINT, at, author=number))
    return mentions


def test_live_scoring_and_the_backtest_suggest_the_same_crisis_at_the_same_mention(score):
    mentions = history_with_a_complaint_burst()
    for mention in mentions:  # live: one at a time, the clock at the mention's time
        score([mention], now=mention.published_at)
    live = {
        topic: (reason, raised_at)
        for topic, reason, raised_at in CrisisSuggestion.objects.values_list(
            "topic", "reason", "raised_at"
        )
    }
    replay = _VersionReplay(services.active_version())
    for mention in Mention.objects.select_related("author").order_by("published_at", "pk"):
        replay.score(mention)
    backtest = {}
    for key, at in sorted(replay.crossings.items(), key=lambda item: item[1]):
        spike, _sep, topic = key.rpartition("spike:")
        reason = "spike" if _sep else "incidents"
        backtest.setdefault(topic or spike, (reason, datetime.fromisoformat(at)))
    assert live, "the burst suggested nothing"
    assert backtest == live


# --- acceptance 2: the simulator's crisis and quiet days, through the rule -------------------


def replay_world(world: World) -> list[tuple[int, str]]:
    """Score the world's posts with the default protocol and run the detector and the rule in
    memory, as the backtest does; returns (surge mentions so far, crossing) per crossing.

    The posts' own text decides their topics, as live: the default protocol's billing group
    (double charges, duplicated bills) and the hashtags people write."""
    version = ProtocolVersion(number=0, status=ProtocolStatus.ACTIVE, config=default_config())
    replay = _VersionReplay(version)
    authors: dict[tuple[str, str], Author] = {}
    crossings, surge_mentions = [], 0
    for post in world.posts:
        surge_mentions += post.is_surge
        key = (post.platform, post.author.handle)
        if key not in authors:
            authors[key] = Author(pk=len(authors) + 1, followers=post.author.followers, flags=[])
        mention = Mention(
            text=post.text,
            language=post.language,
            published_at=post.published_at,
            author=authors[key],
        )
        seen = set(replay.crossings)
        replay.score(mention)
        crossings += [(surge_mentions, key) for key in replay.crossings if key not in seen]
    return crossings


@pytest.mark.parametrize("hour", [0, 6, 9, 13, 19, 22])
def test_the_simulated_crisis_is_suggested_within_its_first_twenty_surge_mentions(hour):
    # An hour of ordinary traffic first (a live topic has a baseline), the crisis from then.
    start = datetime(2025, 3, 10, hour, tzinfo=UTC)
    world = World.generate(seed=7, start=start, hours=3, crisis_at_minutes=60)
    crossings = replay_world(world)
    assert crossings, "the crisis was never suggested"
    surge_mentions, key = crossings[0]
    assert 0 < surge_mentions <= 20, f"first suggested ({key}) at surge mention {surge_mentions}"
    assert any(key.endswith("billing") for _index, key in crossings)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_quiet_day_suggests_nothing(seed):
    world = World.quiet_day(seed=seed, start=datetime(2025, 3, 10, tzinfo=UTC))
    assert replay_world(world) == []


# --- origins stay apart --------------------------------------------------------------------


def test_a_drills_complaints_never_make_a_live_author_a_repeat_complainant(score):
    # The same account complained three times in a drill (a replay of real history), then
    # writes live: live, it has no previous complaint; in the drill, it has three.
    drill = "run:77"
    score(
        [store(COMPLAINT, START + timedelta(minutes=n), author=5, origin=drill) for n in range(3)],
        now=START + timedelta(minutes=3),
    )
    live = store(COMPLAINT, START + timedelta(minutes=10), author=5)
    in_drill = store(COMPLAINT, START + timedelta(minutes=10), author=5, origin=drill)
    score([live, in_drill], now=START + timedelta(minutes=10))
    assert pipeline.previous_complaints([live.author_id], [live.pk]) == {}
    assert pipeline.previous_complaints([live.author_id], [in_drill.pk], origin=drill) == {
        live.author_id: 3
    }
    signals = dict(
        MentionScore.objects.filter(mention__in=[live, in_drill]).values_list(
            "mention__origin", "signals"
        )
    )
    assert "repeat" not in str(signals["live"]).lower()
    assert "repeat" in str(signals[drill]).lower()


# --- a topic an open crisis already handles ----------------------------------------------------


def test_an_open_crisis_on_a_topic_is_not_suggested_again_until_it_closes(score):
    crisis = a_crisis(topics=["legal_threat"], declared_at=START)
    a_crisis(title="A drill's crisis", topics=["factura"], origin="run:5", declared_at=START)
    mentions = [store(SERIOUS, START + timedelta(minutes=n), author=n) for n in range(5)]
    score(mentions, now=mentions[-1].published_at)
    assert "legal_threat" not in open_topics()  # the crisis room already has it
    assert "factura" in open_topics()  # a drill's crisis covers nothing live

    Crisis.objects.filter(pk=crisis.pk).update(status=CrisisStatus.RESOLVED)
    later = store(SERIOUS, START + timedelta(minutes=6), author=6)
    score([later], now=later.published_at)
    assert "legal_threat" in open_topics()


def test_a_serious_surge_on_a_topic_an_open_crisis_handles_is_recorded_but_not_suggested(score):
    a_crisis(topics=["factura"], declared_at=START)
    prime("factura")
    score(burst(COMPLAINT), now=SURGE_AT)
    [alert] = SurgeAlert.objects.filter(topic="factura")
    assert (alert.crisis_suggested, alert.serious) == (True, True)
    assert "factura" not in open_topics()
