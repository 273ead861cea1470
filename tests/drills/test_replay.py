"""The replay engine (crisis/drills/replay.py): scenarios from the CSV import format, runs found
by their file, and a Player that plays rows as the run's own, resumably."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from crisis.drills.replay import (
    Player,
    ReplayEvent,
    ScenarioError,
    iso_utc,
    replay_key,
    run_for,
    scenario_from_csv,
)
from monitoring import ingest
from monitoring.connectors.base import AuthorIn, MentionIn
from monitoring.models import Author, Mention, Platform
from protocols import pipeline, velocity
from protocols.backtest import _VersionReplay
from protocols.models import CrisisSuggestion, Run, RunKind, run_origin
from protocols.services import active_version
from tests.drills.test_replay_command import ORDINARY, build_story, row, write_csv

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
AT = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)


def minutes(*offsets: int, text: str = ORDINARY[0]) -> bytes:
    return write_csv(
        [
            row(number, AT + timedelta(minutes=offset), text, f"vecino{number}")
            for number, offset in enumerate(offsets)
        ]
    )


@pytest.fixture
def replaying(transactional_db, redis_client, settings):
    settings.PROTOCOLS = {**settings.PROTOCOLS, "SCORED_MENTIONS_TASK": ""}


# --- scenarios --------------------------------------------------------------------------------
def test_a_scenarios_rows_are_in_published_at_order_and_stable():
    scenario = scenario_from_csv(minutes(5, 0, 5, 3), now=NOW)
    assert [mention.external_id for mention in scenario.rows] == [
        "story-1",
        "story-3",
        "story-0",
        "story-2",
    ]
    assert scenario.start == AT and scenario.end == AT + timedelta(minutes=5)


def test_a_scenario_keeps_its_row_errors_with_their_lines():
    data = minutes(0, 1).replace(AT.strftime("%Y-%m-%dT%H:%M:%SZ").encode(), b"not a date", 1)
    scenario = scenario_from_csv(data, now=NOW)
    assert len(scenario.rows) == 1
    assert [(error.line, error.field) for error in scenario.errors] == [(2, "published_at")]
    assert scenario.line_of(0) == 3


def test_a_file_without_the_required_columns_is_not_a_scenario():
    with pytest.raises(ScenarioError, match="missing required column"):
        scenario_from_csv(b"id,text\n1,hola\n", now=NOW)


def test_an_event_line_is_tab_separated_with_an_iso_utc_time():
    event = ReplayEvent(AT, "spike", "topic=billing\tfactor=5.0\nserious=no")
    assert event.line() == "2026-03-02T10:15:00Z\tspike\ttopic=billing factor=5.0 serious=no"
    assert iso_utc(AT.astimezone(timezone.get_fixed_timezone(60))) == "2026-03-02T10:15:00Z"


# --- runs -------------------------------------------------------------------------------------
def test_the_same_file_is_the_same_run_and_another_file_another(db):
    scenario = scenario_from_csv(minutes(0, 1), now=NOW)
    run, created = run_for(scenario, kind=RunKind.REPLAY, label="march")
    again, created_again = run_for(scenario_from_csv(minutes(0, 1), now=NOW), label="other")
    other, _ = run_for(scenario_from_csv(minutes(0, 2), now=NOW))
    assert (created, created_again) == (True, False)
    assert again.pk == run.pk and other.pk != run.pk
    assert run.key == replay_key(scenario) == f"replay:{scenario.digest[:16]}"
    assert (run.total, run.label, run.kind) == (2, "march", RunKind.REPLAY)


# --- ingest of a run's mentions ---------------------------------------------------------------
def mention_in(external_id: str, origin: str) -> MentionIn:
    return MentionIn(
        platform=Platform.CSV,
        external_id=external_id,
        url="https://example.org/1",
        text="Hola Brisa",
        published_at=AT,
        author=AuthorIn(handle="vecino"),
        language="es",
        origin=origin,
    )


def test_ingest_stores_a_runs_origin_on_postgres(db):
    assert connection.vendor == "postgresql"
    ingest.ingest_mentions(
        [mention_in("run3:a", run_origin(3)), mention_in("b", "live")], source_id=None
    )
    assert dict(Mention.objects.values_list("external_id", "origin")) == {
        "run3:a": "run:3",
        "b": "live",
    }


def test_the_portable_ingest_path_stores_a_runs_origin_too(db):
    mentions = [mention_in("run4:a", run_origin(4))]
    ingest._orm_upsert(mentions, ["es"], None)
    assert Mention.objects.get().origin == "run:4"


# --- the player -------------------------------------------------------------------------------
def play(data: bytes, until: datetime | None = None, limit: int | None = None):
    scenario = scenario_from_csv(data, now=NOW)
    run, _ = run_for(scenario)
    player = Player(run, scenario)
    return player, player.play_until(until, limit=limit)


def test_a_runs_mentions_carry_its_origin_and_namespaced_ids(replaying):
    player, _events = play(minutes(0, 1))
    run = player.run
    assert set(Mention.objects.values_list("origin", flat=True)) == {run.origin}
    assert sorted(Mention.objects.values_list("external_id", flat=True)) == [
        f"run{run.pk}:story-0",
        f"run{run.pk}:story-1",
    ]


def test_a_reply_in_the_file_points_at_the_runs_own_mention(replaying):
    stamp = AT.strftime("%Y-%m-%dT%H:%M:%SZ")
    data = (
        "id,url,text,published_at,author,reply_to_id\n"
        f"story-0,https://example.org/0,Hola Brisa,{stamp},vecino,\n"
        f"story-1,https://example.org/1,Hola de nuevo Brisa,{stamp},otro,story-0\n"
    ).encode()
    player, _events = play(data)
    reply = Mention.objects.get(external_id=f"run{player.run.pk}:story-1")
    assert reply.reply_to_id == f"run{player.run.pk}:story-0"


def test_play_until_stops_at_the_scenario_time_and_a_new_player_resumes(replaying):
    data = minutes(0, 1, 2, 10, 11)
    _player, _events = play(data, until=AT + timedelta(minutes=5))
    run = Run.objects.get()
    assert (run.played, run.clock) == (3, AT + timedelta(minutes=2))
    assert Mention.objects.count() == 3
    resumed, _events = play(data)
    run.refresh_from_db()
    assert (run.played, run.clock) == (5, AT + timedelta(minutes=11))
    assert resumed.tally.skipped == 3 and resumed.tally.played == 2
    assert Mention.objects.count() == 5


def test_play_until_plays_at_most_limit_rows(replaying):
    player, _events = play(minutes(0, 0, 0, 1), limit=2)
    assert player.run.played == 2
    assert Mention.objects.count() == 2


def test_a_resumed_run_reports_only_what_its_next_rows_raise(replaying):
    data = build_story(timezone.now()).data
    scenario = scenario_from_csv(data)
    run, _ = run_for(scenario)
    first = Player(run, scenario).play_until(scenario.rows[len(scenario.rows) // 2].published_at)
    second = Player(run, scenario).play_until(None)
    third = Player(run, scenario).play_until(None)
    assert first and second and third == []
    assert not {(event.at, event.detail) for event in first} & {
        (event.at, event.detail) for event in second
    }


def test_a_row_whose_id_is_already_a_live_mention_is_not_played(replaying):
    scenario = scenario_from_csv(minutes(0, 1), now=NOW)
    run, _ = run_for(scenario)
    author = Author.objects.create(platform=Platform.CSV, handle="someone")
    Mention.objects.create(
        platform=Platform.CSV,
        external_id=f"run{run.pk}:story-0",
        author=author,
        text="a live mention",
        published_at=AT,
    )
    player = Player(run, scenario)
    player.play_until(None)
    assert Mention.objects.get(origin="live").text == "a live mention"
    assert Mention.objects.filter(origin=run.origin).count() == 1
    assert [problem.line for problem in player.tally.problems] == [2]
    assert player.tally.row_errors == 1


def test_a_run_resumed_in_a_new_process_continues_its_embedded_detector(replaying, settings):
    """Without Redis a run's detector lives in the process: a resumed run re-counts what was
    played, so its state is what an uninterrupted play would have."""
    settings.REDIS_URL = ""
    offsets = [minute for minute in range(40) for _ in range(2)]
    whole = write_csv(
        [
            row(n, AT + timedelta(minutes=m, seconds=n % 2), ORDINARY[0], f"v{n}")
            for n, m in enumerate(offsets)
        ]
    )
    uninterrupted, _events = play(whole)
    expected = velocity.store_for(uninterrupted.run.origin).load("__all__")

    halves = whole + b"\n"  # another file (the same rows): another run
    scenario = scenario_from_csv(halves, now=NOW)
    run, _ = run_for(scenario)
    Player(run, scenario).play_until(AT + timedelta(minutes=20))
    velocity.forget_run(run.pk)  # what a new process would find: nothing
    Player(run, scenario).play_until(None)
    assert velocity.store_for(run.origin).load("__all__") == expected


# --- acceptance 3: live scoring, the backtest and a replay agree ------------------------------
HIGH = "Brisa me ha cobrado dos veces la factura, es una estafa y nadie responde #factura"
COMPLAINT = "Pésimo servicio, me habéis cobrado dos veces y no contestáis #factura"
QUESTION = "Hola Brisa, ¿cuándo llega la factura de este mes? #factura"


def complaint_history() -> list[tuple[datetime, str, str]]:
    """Half an hour of ordinary traffic (2 a minute), then complaints from many accounts:
    (time, text, author)."""
    rng = random.Random(5)  # noqa: S311 - a reproducible fixture
    history = [
        (AT + timedelta(seconds=30 * number + rng.randint(0, 20)), QUESTION, f"u{number % 25}")
        for number in range(60)
    ]
    history += [
        (
            AT + timedelta(minutes=30, seconds=5 * number),
            HIGH if number % 3 == 0 else COMPLAINT,
            f"c{number}",
        )
        for number in range(30)
    ]
    return sorted(history, key=lambda item: item[0])


def test_live_scoring_the_backtest_and_a_replay_suggest_the_same_crisis_at_the_same_mention(
    replaying,
):
    history = complaint_history()
    version = active_version()
    # Live: stored as they arrive, each scored with the clock at its time (the live stage).
    live_ids = []
    for number, (at, text, handle) in enumerate(history):
        author, _ = Author.objects.get_or_create(
            platform=Platform.MASTODON, handle=handle, defaults={"followers": 100}
        )
        mention = Mention.objects.create(
            platform=Platform.MASTODON,
            external_id=f"live-{number}",
            author=author,
            text=text,
            language="es",
            published_at=at,
            ingested_at=at,
        )
        pipeline.score_and_store([mention.pk], version=version, now=at, hand_off=False)
        live_ids.append(mention.pk)
    live = suggested("live")
    # The backtest: the same mentions, the detector and the rule in memory.
    backtest_replay = _VersionReplay(version)
    for mention in (
        Mention.objects.filter(pk__in=live_ids)
        .select_related("author")
        .order_by("published_at", "pk")
    ):
        backtest_replay.score(mention)
    backtest: dict[str, tuple[str, datetime]] = {}
    for key, at in sorted(backtest_replay.crossings.items(), key=lambda item: item[1]):
        spike, separator, topic = key.rpartition("spike:")
        reason = "spike" if separator else "incidents"
        backtest.setdefault(topic or spike, (reason, datetime.fromisoformat(at)))
    # The replay: the same rows from a file (its own accounts, platform "csv").
    data = write_csv(
        [row(number, at, text, handle) for number, (at, text, handle) in enumerate(history)]
    ).replace(b"author,language", b"author,language,author_followers", 1)
    data = b"\n".join(
        line + (b",100" if number else b"") for number, line in enumerate(data.splitlines())
    )
    _player, _events = play(data)
    replayed = suggested(Run.objects.get().origin)
    assert live, "the burst suggested nothing"
    assert backtest == live
    assert replayed == live


def suggested(origin: str) -> dict[str, tuple[str, datetime]]:
    return {
        topic: (reason, raised_at)
        for topic, reason, raised_at in CrisisSuggestion.objects.filter(origin=origin).values_list(
            "topic", "reason", "raised_at"
        )
    }
