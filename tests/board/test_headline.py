"""The board's headline (calm, watch, crisis) with its reasons and links, and the data version
its cached fragments are keyed by (issue 12)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from crisis.board.headline import CALM, CRISIS, WATCH, headline
from crisis.board.version import data_version
from crisis.incidents.models import Incident, IncidentState
from crisis.rooms.models import CrisisStatus
from protocols.models import CrisisSuggestion, SurgeAlert
from protocols.services import active_version
from tests.incidents import factories
from tests.rooms.factories import a_crisis

NOW = datetime(2026, 3, 10, 12, 20, tzinfo=UTC)


def surge_alert(*, raised_at: datetime, topic: str = "billing", origin: str = "live"):
    return SurgeAlert.objects.create(
        topic=topic,
        factor=3.46,
        observed=30,
        expected=8.7,
        bucket_start=raised_at.replace(second=0),
        raised_at=raised_at,
        origin=origin,
        protocol_version=active_version(),
    )


def suggestion(*, topic: str = "billing", dismissed: bool = False, origin: str = "live"):
    return CrisisSuggestion.objects.create(
        topic=topic,
        reason=CrisisSuggestion.Reason.INCIDENTS,
        protocol_version=active_version(),
        raised_at=NOW - timedelta(minutes=10),
        dismissed_at=NOW if dismissed else None,
        origin=origin,
    )


def overdue(severity: str, *, minutes_late: int = 5, **changes) -> Incident:
    """An open incident whose first-response deadline passed `minutes_late` ago."""
    item = factories.incident(severity=severity, at=NOW - timedelta(minutes=60 + minutes_late))
    Incident.objects.filter(pk=item.pk).update(
        **{"awaiting_response_since": item.opened_at, **changes}
    )
    return item


@pytest.fixture
def english(db):
    with translation.override("en"):
        yield


def test_calm_says_what_it_checked(english, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        shown = headline(NOW)
    assert shown.level == CALM
    [reason] = shown.reasons
    assert reason.text == "No surge, suggestion or overdue serious incident in the last 3 hours"
    assert reason.url == ""


def test_the_watch_hours_follow_the_setting(english, settings):
    settings.BOARD_WATCH_HOURS = 1
    assert headline(NOW).reasons[0].text.endswith("in the last hour")
    surge_alert(raised_at=NOW - timedelta(minutes=90))
    assert headline(NOW).level == CALM
    settings.BOARD_WATCH_HOURS = "not a number"
    assert headline(NOW).level == WATCH  # back to the default 3 hours


def test_a_recent_surge_alert_is_a_watch_naming_its_topic(english):
    surge_alert(raised_at=NOW - timedelta(hours=2, minutes=59))
    shown = headline(NOW)
    assert shown.level == WATCH
    [reason] = shown.reasons
    assert reason.text == "Surge on billing: ×3.5 the usual rate"
    assert reason.url == reverse("board") + "#alerts"


def test_old_or_drill_surge_alerts_leave_the_board_calm(english):
    surge_alert(raised_at=NOW - timedelta(hours=3, minutes=1))
    surge_alert(raised_at=NOW - timedelta(minutes=5), origin="run:4")
    surge_alert(raised_at=NOW + timedelta(minutes=5))  # not yet: a clock ahead
    assert headline(NOW).level == CALM


def test_an_undecided_suggestion_is_a_watch(english):
    suggestion()
    suggestion(topic="delivery", dismissed=True)
    suggestion(topic="refunds", origin="run:1")
    shown = headline(NOW)
    assert shown.level == WATCH
    assert [(reason.text, reason.url) for reason in shown.reasons] == [
        ("1 crisis suggestion waits for a decision", reverse("protocols:suggestions"))
    ]


def test_an_accepted_suggestion_no_longer_waits(english):
    accepted = suggestion()
    CrisisSuggestion.objects.filter(pk=accepted.pk).update(
        dismissed_at=NOW, dismiss_reason="Accepted as crisis #1"
    )
    a_crisis(status=CrisisStatus.RESOLVED)
    assert headline(NOW).level == CALM


def test_a_serious_incident_past_its_sla_is_a_watch_linking_the_overdue_inbox(english):
    overdue("critical")
    overdue("high")
    shown = headline(NOW)
    assert shown.level == WATCH
    [reason] = shown.reasons
    assert reason.text == "2 high or critical incidents are past their SLA"
    assert reason.url == reverse("inbox") + "?queue=team&sla=breached&sort=severity"


def test_low_answered_closed_or_drill_incidents_past_their_sla_leave_it_calm(english):
    overdue("low")
    overdue("medium")
    overdue("high", first_response_at=NOW - timedelta(minutes=1), awaiting_response_since=None)
    overdue("high", state=IncidentState.CLOSED, closed_at=NOW)
    overdue("critical", origin="run:1")
    overdue("high", minutes_late=-5)  # due in five minutes
    assert headline(NOW).level == CALM


def test_an_active_crisis_is_the_headline_with_its_room(english, django_assert_num_queries):
    crisis = a_crisis(title="Double charges", declared_at=NOW - timedelta(hours=1))
    surge_alert(raised_at=NOW - timedelta(minutes=5))
    with django_assert_num_queries(1):
        shown = headline(NOW)
    assert shown.level == CRISIS
    assert [(reason.text, reason.url) for reason in shown.reasons] == [
        ("Crisis: Double charges", reverse("rooms:room", args=[crisis.pk]))
    ]


def test_a_contained_crisis_is_a_watch(english):
    crisis = a_crisis(title="Outage", status=CrisisStatus.CONTAINED)
    shown = headline(NOW)
    assert shown.level == WATCH
    assert shown.reasons[0].text == "Crisis contained: Outage"
    assert shown.reasons[0].url == reverse("rooms:room", args=[crisis.pk])


def test_a_drill_crisis_is_not_the_organisations(english):
    a_crisis(origin="run:9")
    assert headline(NOW).level == CALM


def test_many_crises_name_the_first_five_and_link_the_list(english):
    commander = a_crisis(title="Crisis 0").commander
    for number in range(1, 7):
        a_crisis(title=f"Crisis {number}", commander=commander)
    shown = headline(NOW)
    assert len(shown.reasons) == 6
    assert shown.reasons[-1].text == "2 more crises"
    assert shown.reasons[-1].url == reverse("rooms:list")


def test_the_headline_speaks_the_readers_language(db):
    with translation.override("es"):
        text = headline(NOW).reasons[0].text
    assert text  # the catalogue may not have it yet: never empty, never an error


# --- data version ------------------------------------------------------------------------------
def test_the_data_version_changes_when_a_crisis_is_declared_or_changed(
    db, django_assert_num_queries
):
    with django_assert_num_queries(1):
        empty = data_version()
    assert len(empty) == 16
    assert data_version() == empty  # nothing moved
    crisis = a_crisis()
    declared = data_version()
    assert declared != empty
    crisis.status = CrisisStatus.CONTAINED
    crisis.save()
    assert data_version() != declared


def test_the_data_version_follows_incidents_alerts_suggestions_and_rollups(db):
    seen = {data_version()}
    item = factories.incident(at=timezone.now())
    seen.add(data_version())
    item.severity = "critical"
    item.save()
    seen.add(data_version())
    surge_alert(raised_at=NOW)
    seen.add(data_version())
    made = suggestion()
    seen.add(data_version())
    CrisisSuggestion.objects.filter(pk=made.pk).update(dismissed_at=NOW + timedelta(seconds=1))
    seen.add(data_version())
    from crisis.board.incident_rollups import recompute_hours

    recompute_hours([NOW])
    seen.add(data_version())
    assert len(seen) == 7
