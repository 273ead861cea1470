"""Every alert the live surge detector raises is recorded (issue 12: the board's recent surge
alerts), also those below the crisis factor, once per topic and bucket whatever the number of
deliveries; a failure to record never breaks the count nor the crisis suggestion."""

import logging
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from monitoring.models import Mention
from protocols import pipeline, services, velocity
from protocols.models import CrisisSuggestion, SurgeAlert
from protocols.spikes import Alert

TOPIC = "billing"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SURGE_AT = START + timedelta(minutes=30, seconds=50)
_ids = count(1_000_000)


@pytest.fixture
def version(db, redis_client):
    return services.active_version()


def prime(version, *, minutes: int = 30, per_minute: int = 10) -> None:
    """Half an hour of steady traffic: the detector's baseline is `per_minute` a minute."""
    for minute in range(minutes):
        for second in range(per_minute):
            at = START + timedelta(minutes=minute, seconds=second * 5)
            velocity.count_once(version, next(_ids), [TOPIC], at, now=at)


def mention_at(at: datetime) -> Mention:
    """An unsaved mention as the stage passes it (the detector needs its id and times)."""
    return Mention(pk=next(_ids), published_at=at, ingested_at=at, origin="live")


def surge(version, mentions: int) -> list[Mention]:
    sent = [mention_at(SURGE_AT) for _ in range(mentions)]
    for mention in sent:
        pipeline.count_in_surge_detector(version, mention, [TOPIC], now=SURGE_AT)
    return sent


def test_a_surge_below_the_crisis_factor_is_recorded_without_a_suggestion(version):
    prime(version)
    surge(version, 25)  # three times the usual rate: a surge, not yet a crisis
    [alert] = SurgeAlert.objects.all()
    assert alert.topic == TOPIC
    assert 3.0 <= alert.factor < 4.0
    assert not alert.crisis_suggested
    assert alert.origin == "live"
    assert alert.protocol_version == version
    assert alert.bucket_start == START + timedelta(minutes=30)
    assert alert.raised_at == SURGE_AT
    assert alert.expected > 0 and alert.observed >= 25
    assert not CrisisSuggestion.objects.exists()


def test_the_same_surge_past_the_crisis_factor_upgrades_its_alert(version):
    # Issue 13: a surge at the crisis factor suggests a crisis only when it is serious (the
    # crisis rule, tests/protocols/test_crisis_rule.py); these mentions have no score, so the
    # surge is recorded as a plain spike held back for not being serious.
    prime(version)
    surge(version, 40)
    [alert] = SurgeAlert.objects.all()
    assert alert.crisis_suggested
    assert alert.factor >= 4.0
    assert (alert.serious, alert.held_back) == (False, "not_serious")
    assert not CrisisSuggestion.objects.exists()


def test_a_redelivered_count_records_nothing_twice(version):
    prime(version)
    sent = surge(version, 25)
    for mention in sent:  # the whole batch delivered again: the detector's markers hold
        pipeline.count_in_surge_detector(version, mention, [TOPIC], now=SURGE_AT)
    assert SurgeAlert.objects.count() == 1


def test_the_same_alert_recorded_twice_is_one_row(version):
    alert = Alert(
        topic=TOPIC,
        bucket_start=START,
        at=START + timedelta(seconds=20),
        factor=3.2,
        observed=30,
        expected=9.4,
    )
    pipeline.record_surge_alert(alert, version=version, origin="live")
    pipeline.record_surge_alert(alert, version=version, origin="live")
    assert SurgeAlert.objects.count() == 1
    # A drill's alert on the same topic and bucket is its own row.
    pipeline.record_surge_alert(alert, version=version, origin="run:7")
    assert SurgeAlert.objects.count() == 2


def test_a_weaker_repeat_never_downgrades_an_escalated_alert(version):
    spike = Alert(TOPIC, START, START, factor=3.1, observed=25, expected=8.0)
    crisis = Alert(
        TOPIC, START, START, factor=4.4, observed=36, expected=8.2, crisis_suggested=True
    )
    pipeline.record_surge_alert(spike, version=version, origin="live")
    pipeline.record_surge_alert(crisis, version=version, origin="live")
    pipeline.record_surge_alert(spike, version=version, origin="live")
    [stored] = SurgeAlert.objects.values_list("crisis_suggested", "factor", "observed")
    assert stored == (True, 4.4, 36)


def test_an_alert_that_cannot_be_stored_is_logged_and_the_stage_goes_on(version, caplog):
    hostile = Alert("bad\x00topic", START, START, factor=3.5, observed=30, expected=8.0)
    with caplog.at_level(logging.ERROR, logger="protocols.pipeline"):
        pipeline.record_surge_alert(hostile, version=version, origin="live")
    assert "not recorded" in caplog.text
    # The connection is still usable: the next alert is stored.
    pipeline.record_surge_alert(
        Alert(TOPIC, START, START, factor=3.5, observed=30, expected=8.0),
        version=version,
        origin="live",
    )
    assert list(SurgeAlert.objects.values_list("topic", flat=True)) == [TOPIC]
