"""The board's incident numbers equal direct reads of the incidents table (issue 12,
acceptance 2): IncidentHour recomputed and rebuilt, across hour boundaries, with an incident
answered in time, one answered late, one closed unanswered, a drill's and a rescore that
changes the severity of a mention; exposure at hour ends and now; SLA today against the last
7 days across the organisation's midnight; active crises; query counts bounded."""

import statistics
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db.models import Sum

from crisis.board import incident_metrics, incident_rollups, tasks_rollups
from crisis.board.filters import parse_filters
from crisis.board.incident_rollups import rebuild_range, recompute_hours
from crisis.board.models import DailyFigure, IncidentHour, MentionHour
from crisis.incidents.models import LIVE_ORIGIN, Incident, IncidentState
from crisis.rooms.models import (
    Commitment,
    Crisis,
    CrisisStatus,
    Statement,
    StatementState,
    StatementVersion,
    Task,
    TaskStatus,
)
from crisis.rooms.selectors import with_level_labels
from crisis.rooms.statement import next_update_due
from protocols.models import MentionScore
from tests.incidents import factories
from tests.rooms.factories import a_crisis

NOW = datetime(2026, 3, 10, 12, 20, tzinfo=UTC)  # 13:20 in Madrid
HOUR = timedelta(hours=1)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 10, hour, minute, tzinfo=UTC)


def incident(
    *,
    opened: datetime,
    severity: str = "high",
    reach: int | None = 1000,
    due_minutes: int | None = 60,
    state: str = IncidentState.NEW,
    platform: str = "bluesky",
    **fields,
) -> Incident:
    """An incident as the services leave it: `fields` set what happened to it since."""
    author = factories.author(followers=reach or 0, platform=platform)
    mention = factories.scored_mention(by=author, severity=severity, published_at=opened)
    created = factories.incident(severity=severity, state=state, at=opened)
    Incident.objects.filter(pk=created.pk).update(
        author=author,
        first_mention=mention,
        reach=reach,
        sla_due_at=opened + timedelta(minutes=due_minutes) if due_minutes else None,
        awaiting_response_since=None if fields.get("first_response_at") else opened,
        **fields,
    )
    return Incident.objects.get(pk=created.pk)


@pytest.fixture
def story(db):
    """Five live incidents and a drill's, on 10 March 2026 (UTC):
    A high, 09:50, answered 10:10 in time (due 10:50): crosses the hour;
    B critical, 10:30, answered 11:30, due 11:00: late (breach recorded), resolved 11:50;
    C medium, 10:05, closed 11:15 unanswered (spam), due 12:05;
    D low, 11:40, unknown reach, unanswered, due 15:40;
    E high, 11:45, reach 3000, on Mastodon, unanswered, due 12:15 (overdue at 12:20);
    a drill's incident at 10:00 that no number counts."""
    found = {
        "A": incident(
            opened=at(9, 50),
            severity="high",
            reach=1000,
            state=IncidentState.REPLIED,
            first_response_at=at(10, 10),
        ),
        "B": incident(
            opened=at(10, 30),
            severity="critical",
            reach=500,
            due_minutes=30,
            state=IncidentState.RESOLVED,
            first_response_at=at(11, 30),
            sla_breached_at=at(11, 0),
            resolved_at=at(11, 50),
        ),
        "C": incident(
            opened=at(10, 5),
            severity="medium",
            reach=200,
            due_minutes=120,
            state=IncidentState.CLOSED,
            closed_at=at(11, 15),
            close_reason="spam",
        ),
        "D": incident(opened=at(11, 40), severity="low", reach=None, due_minutes=240),
        "E": incident(
            opened=at(11, 45), severity="high", reach=3000, due_minutes=30, platform="mastodon"
        ),
    }
    drill = incident(opened=at(10, 0), severity="critical", reach=99_999)
    Incident.objects.filter(pk=drill.pk).update(origin="run:1")
    return found


# --- the oracle: the definitions, read straight from the incidents table ----------------------
def raw_hour(hour: datetime) -> dict[str, float]:
    """IncidentHour's definitions over every live incident, summed over severities, in Python."""
    end = hour + HOUR
    totals = dict.fromkeys(
        ["opened", "responded", "response_seconds", "due", "met", "unanswered", "exposure"], 0.0
    )
    for item in Incident.objects.filter(origin=LIVE_ORIGIN):
        if hour <= item.opened_at < end:
            totals["opened"] += 1
        if item.first_response_at and hour <= item.first_response_at < end:
            totals["responded"] += 1
            totals["response_seconds"] += (item.first_response_at - item.opened_at).total_seconds()
        if item.sla_due_at and hour <= item.sla_due_at < end:
            totals["due"] += 1
            in_time = item.first_response_at and item.first_response_at <= item.sla_due_at
            if in_time and item.sla_breached_at is None and item.awaiting_response_since is None:
                totals["met"] += 1
        ends = [item.first_response_at, item.closed_at, item.resolved_at]
        if item.opened_at < end and all(value is None or value >= end for value in ends):
            totals["unanswered"] += 1
            totals["exposure"] += (item.reach or 0) * (end - item.opened_at).total_seconds() / 60
    return totals


def stored_hour(hour: datetime) -> dict[str, float]:
    row = IncidentHour.objects.filter(hour=hour).aggregate(
        opened=Sum("opened"),
        responded=Sum("responded"),
        response_seconds=Sum("response_seconds"),
        due=Sum("due"),
        met=Sum("met"),
        unanswered=Sum("unanswered_at_end"),
        exposure=Sum("exposure_at_end"),
    )
    return {key: float(value or 0) for key, value in row.items()}


STORY_HOURS = [at(hour) for hour in range(8, 14)]


def test_rebuilt_hours_equal_the_incidents_table(story):
    assert rebuild_range(at(8), at(14)) == 6
    for hour in STORY_HOURS:
        assert stored_hour(hour) == pytest.approx(raw_hour(hour)), hour
    assert IncidentHour.objects.count() == 6 * 4  # every severity of every hour, zeros too


def test_a_sweep_of_many_hours_equals_each_hour_recomputed_alone(story):
    def rows():
        return list(
            IncidentHour.objects.order_by("hour", "severity").values_list(
                "hour", "severity", *incident_rollups.UPDATE_FIELDS
            )
        )

    rebuild_range(at(8), at(14))
    swept = rows()
    for hour in STORY_HOURS:
        incident_rollups.recompute_hours([hour])  # one hour: the aggregate query
    alone = rows()
    assert len(swept) == len(alone) == 24
    for by_sweep, by_query in zip(swept, alone, strict=True):
        assert by_sweep[:2] == by_query[:2]  # hour, severity
        assert by_sweep[2:] == pytest.approx(by_query[2:])


def test_the_story_in_numbers(story):
    rebuild_range(at(9), at(13))
    nine, ten, eleven, noon = (stored_hour(at(hour)) for hour in (9, 10, 11, 12))
    # A opened at 09:50 and answered at 10:10: opened in one hour, answered in the next.
    assert (nine["opened"], ten["responded"], ten["response_seconds"]) == (1, 1, 1200)
    assert (nine["unanswered"], nine["exposure"]) == (1, 1000 * 10)
    # At 11:00 B (500 x 30 min) and C (200 x 55 min) were unanswered; the drill is not counted.
    assert (ten["opened"], ten["unanswered"], ten["exposure"]) == (2, 2, 15_000 + 11_000)
    assert (ten["due"], ten["met"]) == (1, 1)  # A, in time
    # B was due at 11:00 and answered at 11:30: due, not met. C closed at 11:15 is gone.
    assert (eleven["due"], eleven["met"], eleven["responded"]) == (1, 0, 1)
    assert (eleven["unanswered"], eleven["exposure"]) == (2, 3000 * 15)  # D (no reach) and E
    assert (noon["due"], noon["met"]) == (2, 0)  # C closed unanswered, E overdue


def test_recomputing_an_hour_replaces_it_and_equals_its_rebuild(story):
    recompute_hours([at(10, 42), at(10, 5)])  # any moment of the hour, repeated
    first = stored_hour(at(10))
    recompute_hours([at(10)])
    assert stored_hour(at(10)) == first == pytest.approx(raw_hour(at(10)))
    assert IncidentHour.objects.filter(hour=at(10)).count() == 4


def test_hours_keep_each_incident_under_its_own_severity(story):
    rebuild_range(at(10), at(11))
    rows = dict(IncidentHour.objects.filter(hour=at(10)).values_list("severity", "opened"))
    assert rows == {"critical": 1, "high": 0, "medium": 1, "low": 0}


def test_a_rescore_of_its_mention_leaves_the_incident_severity_and_its_hours(story):
    rebuild_range(at(10), at(12))
    before = list(IncidentHour.objects.order_by("hour", "severity").values_list())
    MentionScore.objects.filter(mention=story["C"].first_mention).update(severity="critical")
    rebuild_range(at(10), at(12))
    after = list(IncidentHour.objects.order_by("hour", "severity").values_list())
    assert [row[1:] for row in after] == [row[1:] for row in before]
    assert Incident.objects.get(pk=story["C"].pk).severity == "medium"


def test_a_severity_raised_on_attach_moves_the_incident_in_every_hour_it_touched(story):
    rebuild_range(at(11), at(13))
    Incident.objects.filter(pk=story["D"].pk).update(severity="critical")
    recompute_hours([at(11), at(12)])
    assert IncidentHour.objects.get(hour=at(11), severity="critical").opened == 1
    assert IncidentHour.objects.get(hour=at(11), severity="low").opened == 0
    assert stored_hour(at(11)) == pytest.approx(raw_hour(at(11)))


# --- kept current by the receiver ------------------------------------------------------------
def test_a_saved_incident_recomputes_its_hours_once_committed(
    db, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with (
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        created = factories.incident(severity="high", at=at(11, 45))
        created.first_response_at = at(12, 10)
        created.awaiting_response_since = None
        created.state = IncidentState.REPLIED
        created.save()
    assert len(callbacks) == 2  # one per save: the first recomputes every hour touched
    with django_assert_num_queries(0):
        callbacks[1]()
    for hour in (at(11), at(12)):
        assert stored_hour(hour) == pytest.approx(raw_hour(hour))
    assert stored_hour(at(12))["responded"] == 1


def test_a_save_that_moves_no_hour_and_a_drills_incident_schedule_nothing(
    db, django_capture_on_commit_callbacks
):
    created = factories.incident(severity="high", at=at(11, 45))
    drill = factories.incident(severity="high", at=at(11, 45))
    Incident.objects.filter(pk=drill.pk).update(origin="run:5")
    loaded, drill = Incident.objects.get(pk=created.pk), Incident.objects.get(pk=drill.pk)
    with django_capture_on_commit_callbacks() as callbacks:
        loaded.state = IncidentState.ASSIGNED  # no moment, severity or reach moved
        loaded.save()
        drill.first_response_at = at(12, 0)
        drill.save()
    assert callbacks == []


def test_an_incident_reopened_recomputes_the_hours_it_left(db, django_capture_on_commit_callbacks):
    with time_machine.travel(NOW, tick=False):
        created = factories.incident(severity="high", at=at(9, 0))
        Incident.objects.filter(pk=created.pk).update(closed_at=at(9, 30), state="closed")
        rebuild_range(at(9), at(13))
        assert stored_hour(at(10))["unanswered"] == 0
        loaded = Incident.objects.get(pk=created.pk)
        with django_capture_on_commit_callbacks(execute=True):
            loaded.closed_at = None
            loaded.state = IncidentState.REOPENED
            loaded.sla_due_at = NOW + HOUR
            loaded.save()
    # Unanswered again since it opened: every hour since 09:00 and the deadline's hour moved.
    for hour in (at(9), at(10), at(11), at(12), at(13)):
        assert stored_hour(hour) == pytest.approx(raw_hour(hour)), hour
    assert stored_hour(at(10))["unanswered"] == 1


def test_a_first_response_touches_only_its_hour():
    before = {
        "origin": "live",
        "severity": "high",
        "reach": 10,
        "opened_at": at(11, 45),
        "first_response_at": None,
        "sla_due_at": at(12, 45),
        "closed_at": None,
        "resolved_at": None,
    }
    after = {**before, "first_response_at": at(12, 10)}
    touched = incident_rollups.touched_hours(before, after, now=NOW)
    assert touched == {at(12)}  # 11:00's end still found it unanswered
    assert incident_rollups.touched_hours(after, {**after, "reach": 10}, now=NOW) == set()


def test_touched_hours_never_reach_further_back_than_three_days():
    long_ago = NOW - timedelta(days=30)
    state = {"origin": "live", "severity": "low", "reach": 1, "opened_at": long_ago}
    touched = incident_rollups.touched_hours(None, state, now=NOW)
    # Its opening hour, and the hours it was unanswered in the last 72 (up to the current one).
    last_days = {at(12) - HOUR * back for back in range(73)}
    assert touched == {at(12) - timedelta(days=30)} | last_days


# --- metrics ----------------------------------------------------------------------------------
def filters(**query):
    return parse_filters(query, now=NOW)


def test_open_incidents_by_severity_counts_open_live_incidents(story, django_assert_num_queries):
    with django_assert_num_queries(1):
        counts = incident_metrics.open_incidents_by_severity(filters())
    # A (replied is still open), D and E; B resolved, C closed, the drill's not live.
    assert [(count.key, count.count) for count in counts] == [
        ("critical", 0),
        ("high", 2),
        ("medium", 0),
        ("low", 1),
    ]
    assert counts[0].label == "Critical"
    on_mastodon = incident_metrics.open_incidents_by_severity(filters(platform="mastodon"))
    assert [count.count for count in on_mastodon] == [0, 1, 0, 0]
    assert (
        sum(c.count for c in incident_metrics.open_incidents_by_severity(filters(language="es")))
        == 3
    )
    assert (
        sum(c.count for c in incident_metrics.open_incidents_by_severity(filters(topic="x"))) == 0
    )


def test_exposure_now_sums_reach_times_minutes_of_the_unanswered(story, django_assert_num_queries):
    with django_assert_num_queries(1):
        exposure = incident_metrics.exposure_now(NOW)
    # D has no known reach; E: 3000 followers x 35 minutes.
    assert exposure == incident_metrics.Exposure(value=3000 * 35, unanswered=2)
    expected = sum(
        item.exposure(NOW)
        for item in Incident.objects.filter(
            origin=LIVE_ORIGIN, first_response_at__isnull=True, closed_at__isnull=True
        )
    )
    assert exposure.value == pytest.approx(expected)


def test_exposure_series_reads_hour_ends_and_now_for_the_hour_in_progress(
    story, django_assert_max_num_queries
):
    rebuild_range(NOW - timedelta(hours=24), NOW)
    with django_assert_max_num_queries(2):
        series = incident_metrics.exposure_series(filters(), NOW)
    assert len(series) == 24
    assert series[0].start == at(13) - timedelta(hours=24)
    by_start = {point.start: point.value for point in series}
    assert by_start[at(9)] == 10_000
    assert by_start[at(10)] == 26_000
    assert by_start[at(11)] == 45_000
    assert by_start[at(12)] == 105_000  # the hour in progress: exposure now
    assert by_start[at(8)] == 0


def test_exposure_series_of_a_week_reads_the_end_of_each_six_hours(story):
    rebuild_range(at(13) - timedelta(days=7), at(13))
    series = incident_metrics.exposure_series(filters(range="7d"), NOW)
    assert len(series) == 28
    *closed, current = series
    for point in closed:
        last_hour = point.start + timedelta(hours=5)
        assert point.value == pytest.approx(raw_hour(last_hour)["exposure"]), point.start
    assert current.start == at(7)  # 07:00-13:00, in progress: exposure now
    assert current.value == 105_000


def test_sla_today_reads_the_table_and_compliance_is_met_over_due(
    story, django_assert_max_num_queries
):
    # Today's three reads, then the week's figure: read, computed (two) and stored.
    with django_assert_max_num_queries(6):
        summary = incident_metrics.sla_summary(NOW)
    with django_assert_max_num_queries(3):  # the day's figure is stored: one row read
        assert incident_metrics.sla_summary(NOW) == summary
    # Due by 12:20: A (met), B (late), C (closed unanswered), E (overdue); D due at 15:40.
    assert (summary.today_due, summary.today_met) == (4, 1)
    assert summary.today_compliance == 0.25
    assert summary.today_median_minutes == 40  # A after 20 min, B after 60
    assert (summary.week_due, summary.week_met, summary.week_compliance) == (0, 0, None)
    assert summary.week_median_minutes is None
    assert summary.today_start == datetime(2026, 3, 9, 23, 0, tzinfo=UTC)  # Madrid midnight
    assert summary.week_start == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)


def test_sla_today_and_the_week_part_at_the_organisations_midnight(db):
    midnight = datetime(2026, 3, 9, 23, 0, tzinfo=UTC)  # 00:00 on 10 March in Madrid
    # Due at 23:50 in Madrid on the 9th (the week), answered 30 minutes after it opened.
    incident(
        opened=midnight - timedelta(minutes=40),
        due_minutes=30,
        first_response_at=midnight - timedelta(minutes=10),
        state=IncidentState.REPLIED,
    )
    # Due at 00:10 on the 10th (today), answered 10 minutes after it opened.
    incident(
        opened=midnight - timedelta(minutes=5),
        due_minutes=15,
        first_response_at=midnight + timedelta(minutes=5),
        state=IncidentState.REPLIED,
    )
    # Two days earlier, answered late.
    incident(
        opened=midnight - timedelta(days=2),
        due_minutes=30,
        first_response_at=midnight - timedelta(days=2) + timedelta(minutes=50),
        sla_breached_at=midnight - timedelta(days=2) + timedelta(minutes=30),
    )
    now = midnight + timedelta(minutes=20)
    rebuild_range(midnight - timedelta(days=8), midnight + HOUR)
    with time_machine.travel(now, tick=False):
        summary = incident_metrics.sla_summary(now)
    assert summary.today_start == midnight
    assert (summary.today_due, summary.today_met, summary.today_median_minutes) == (1, 1, 10)
    assert (summary.week_due, summary.week_met) == (2, 1)
    assert summary.week_compliance == 0.5
    assert summary.week_median_minutes == 40  # 30 and 50 minutes
    # An hour earlier it was still the 9th: the first incident is today's then.
    earlier = incident_metrics.sla_summary(midnight - timedelta(minutes=5))
    assert earlier.today_start == midnight - timedelta(days=1)
    assert (earlier.today_due, earlier.today_met) == (1, 1)


MIDNIGHT = datetime(2026, 3, 9, 23, 0, tzinfo=UTC)  # 00:00 on 10 March in Madrid


def answered(opened: datetime, *, due: int, after: int) -> Incident:
    """An incident due `due` minutes after it opened, answered `after` minutes after it."""
    late = opened + timedelta(minutes=due) if after > due else None
    return incident(
        opened=opened,
        due_minutes=due,
        first_response_at=opened + timedelta(minutes=after),
        sla_breached_at=late,
        state=IncidentState.REPLIED,
    )


def raw_week(day_start: datetime) -> dict:
    """The week's SLA straight from the incidents table, in Python."""
    week_start = day_start - timedelta(days=7)
    live = list(Incident.objects.filter(origin=LIVE_ORIGIN))
    due = [i for i in live if i.sla_due_at and week_start <= i.sla_due_at < day_start]
    met = [
        i
        for i in due
        if i.first_response_at and i.first_response_at <= i.sla_due_at and not i.sla_breached_at
    ]
    minutes = [
        (i.first_response_at - i.opened_at).total_seconds() / 60
        for i in live
        if i.first_response_at and week_start <= i.first_response_at < day_start
    ]
    return {
        "due": len(due),
        "met": len(met),
        "median_minutes": statistics.median(minutes) if minutes else None,
    }


def test_the_weeks_sla_is_stored_once_a_day_and_equals_the_raw_tables(
    db, django_assert_max_num_queries
):
    answered(MIDNIGHT - timedelta(hours=30), due=30, after=20)
    answered(MIDNIGHT - timedelta(days=3), due=30, after=50)
    answered(MIDNIGHT - timedelta(days=6, hours=2), due=60, after=35)
    answered(MIDNIGHT - timedelta(days=9), due=30, after=5)  # before the week
    rebuild_range(MIDNIGHT - timedelta(days=10), MIDNIGHT + HOUR)
    now = MIDNIGHT + timedelta(hours=9)
    summary = incident_metrics.sla_summary(now)
    stored = DailyFigure.objects.get(name=incident_metrics.SLA_WEEK_FIGURE)
    assert stored.day == date(2026, 3, 10)
    assert stored.value == raw_week(MIDNIGHT) == {"due": 3, "met": 2, "median_minutes": 35}
    assert (summary.week_due, summary.week_met, summary.week_median_minutes) == (3, 2, 35)
    # Every later read of the day (and the digest's of that day) reads the stored row.
    with django_assert_max_num_queries(3):
        assert incident_metrics.sla_summary(now + timedelta(hours=10)) == summary
    # The next day has a figure of its own: the oldest answer leaves its week.
    following = incident_metrics.sla_summary(now + timedelta(days=1))
    assert DailyFigure.objects.count() == 2
    day_start = MIDNIGHT + timedelta(days=1)
    assert following.week_start == day_start - timedelta(days=7)
    expected = raw_week(day_start)
    assert (following.week_due, following.week_met) == (expected["due"], expected["met"])
    assert following.week_median_minutes == expected["median_minutes"]


def test_two_first_readers_of_the_day_store_one_figure(db):
    answered(MIDNIGHT - timedelta(hours=5), due=30, after=20)
    rebuild_range(MIDNIGHT - timedelta(days=8), MIDNIGHT + HOUR)
    # A reader that computed the figure while another stored it: its insert is ignored.
    value = incident_metrics.compute_week_sla(date(2026, 3, 10))
    DailyFigure.objects.create(
        day=date(2026, 3, 10), name=incident_metrics.SLA_WEEK_FIGURE, value=value, computed_at=NOW
    )
    assert incident_metrics.week_sla(date(2026, 3, 10)) == value
    DailyFigure.objects.filter(name=incident_metrics.SLA_WEEK_FIGURE).delete()
    assert incident_metrics.week_sla(date(2026, 3, 10)) == value
    assert incident_metrics.week_sla(date(2026, 3, 10)) == value
    assert DailyFigure.objects.count() == 1


def test_a_late_answer_reaches_the_weeks_sla_through_the_beat(db, redis_client):
    answered(MIDNIGHT - timedelta(days=2), due=30, after=50)
    rebuild_range(MIDNIGHT - timedelta(days=8), MIDNIGHT + HOUR)
    now = MIDNIGHT + timedelta(hours=2)
    with time_machine.travel(now, tick=False):
        before = incident_metrics.sla_summary(now)
        assert (before.week_due, before.week_met, before.week_median_minutes) == (1, 0, 50)
        # Yesterday evening's incident, recorded late (no receiver ran): the stored figure
        # does not see it yet...
        answered(MIDNIGHT - timedelta(hours=3), due=30, after=10)
        assert incident_metrics.sla_summary(now) == before
        # ...the beat's correction recomputes the recent hours and refreshes the day's figure.
        tasks_rollups.correct_rollups(now=now + timedelta(minutes=5))
        after = incident_metrics.sla_summary(now + timedelta(minutes=5))
    assert DailyFigure.objects.get().value == raw_week(MIDNIGHT)
    assert (after.week_due, after.week_met, after.week_median_minutes) == (2, 1, 30)
    assert after.today_start == before.today_start


# --- active crises ----------------------------------------------------------------------------
def mentions_on(topic: str, hour: datetime, count: int) -> None:
    MentionHour.objects.create(hour=hour, topic=topic, platform="bluesky", mentions=count)


def commitment(crisis, *, status: str) -> Commitment:
    statement, _ = Statement.objects.get_or_create(crisis=crisis, defaults={"created_at": NOW})
    version = StatementVersion.objects.filter(statement=statement).first()
    if version is None:
        version = StatementVersion.objects.create(
            statement=statement,
            number=1,
            text="We will refund every double charge by Friday.",
            state=StatementState.APPROVED,
            author=crisis.commander,
            created_at=NOW - HOUR,
            approved_at=NOW - HOUR,
        )
    task = Task.objects.create(
        crisis=crisis,
        title="Refunds",
        status=status,
        created_by=crisis.commander,
        created_at=NOW,
        due_at=NOW + timedelta(days=2),
    )
    return Commitment.objects.create(
        version=version,
        sentence="Refunds by Friday",
        due_at=NOW + timedelta(days=2),
        task=task,
        marked_by=crisis.commander,
        marked_at=NOW,
    )


def test_active_crises_carry_level_commander_age_trend_update_due_and_commitments(db):
    crisis = a_crisis(topics=["billing"], declared_at=NOW - timedelta(hours=3))
    commitment(crisis, status=TaskStatus.TODO)
    commitment(crisis, status=TaskStatus.DONE)
    mentions_on("billing", at(10), 40)
    mentions_on("billing", at(11), 60)  # the last full hour: +50 %
    a_crisis(title="Resolved", status=CrisisStatus.RESOLVED, commander=crisis.commander)
    a_crisis(title="Drill", commander=crisis.commander, origin="run:3")
    [summary] = incident_metrics.active_crises(NOW)
    assert summary.crisis == crisis
    assert summary.level_label == "Serious"
    assert summary.commander == crisis.commander
    assert summary.age == timedelta(hours=3)
    assert (summary.trend, summary.open_commitments) == ("rising", 1)
    assert summary.trend_detail == "60 mentions in the last hour, 40 the hour before"
    # The statement approved an hour ago: the next update is due a cadence after it.
    from crisis.rooms.statement import cadence

    assert summary.next_update_due == NOW - HOUR + cadence(crisis)


@pytest.mark.parametrize(
    ("last", "before", "trend"),
    [
        (0, 0, "steady"),
        (5, 0, "rising"),
        (125, 100, "rising"),
        (124, 100, "steady"),
        (75, 100, "falling"),
        (76, 100, "steady"),
        (0, 3, "falling"),
    ],
)
def test_trend_thresholds(last, before, trend):
    assert incident_metrics.trend_of(last, before) == trend


def test_active_crises_cost_the_same_queries_for_one_or_five(db, django_assert_num_queries):
    first = a_crisis(topics=["billing"], declared_at=NOW - HOUR)
    commitment(first, status=TaskStatus.DOING)
    # Crises (with their protocol's crisis section), commitments, topic hours.
    with django_assert_num_queries(3) as one:
        incident_metrics.active_crises(NOW)
    for number in range(4):
        other = a_crisis(
            title=f"Crisis {number}",
            topics=[f"topic{number}"],
            commander=first.commander,
            status=CrisisStatus.CONTAINED if number % 2 else CrisisStatus.ACTIVE,
        )
        commitment(other, status=TaskStatus.TODO)
    with django_assert_num_queries(len(one.captured_queries)):
        summaries = incident_metrics.active_crises(NOW)
    assert len(summaries) == 5
    contained = [item for item in summaries if item.crisis.status == CrisisStatus.CONTAINED]
    assert all(item.next_update_due is None for item in contained)
    # Read with the crises, yet what the crisis room computes for each.
    for item in summaries:
        crisis = Crisis.objects.get(pk=item.crisis.pk)
        due = next_update_due(crisis, now=NOW)
        assert item.next_update_due == (due.due_at if due else None)
        assert item.level_label == with_level_labels([crisis])[0].level_label


def test_recent_surge_alerts_are_live_in_range_newest_first(db):
    from protocols.models import SurgeAlert
    from protocols.services import active_version

    def alert(topic, raised, origin="live"):
        return SurgeAlert.objects.create(
            topic=topic,
            factor=3.3,
            observed=30,
            expected=9.0,
            bucket_start=raised,
            raised_at=raised,
            origin=origin,
            protocol_version=active_version(),
        )

    newest = alert("billing", at(12, 5))
    older = alert("delivery", at(9, 0))
    alert("billing", at(11), origin="run:2")
    alert("billing", NOW - timedelta(days=3))  # before the 24 hours
    assert incident_metrics.recent_surge_alerts(filters()) == [newest, older]
    assert incident_metrics.recent_surge_alerts(filters(topic="billing")) == [newest]
    assert incident_metrics.recent_surge_alerts(filters(), limit=1) == [newest]
