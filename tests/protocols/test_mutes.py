"""Topic mutes (issue 13): a supervisor silences crisis suggestions on a topic until a set time
for a planned campaign, audited; the suggestions page lists active mutes, sets one and ends
one early after a confirmation. (What a mute does to the crisis rule: test_crisis_rule.py.)"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from crisis.models import AuditEvent
from protocols import services
from protocols.models import TopicMute

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
ROLES_WITHOUT = ["manager", "executive", "administrator"]


def mute(actor, topic="verano", hours=2, reason="Summer campaign", now=NOW) -> TopicMute:
    return services.mute_topic(
        actor=actor, topic=topic, until=now + timedelta(hours=hours), reason=reason, now=now
    )


# --- services -----------------------------------------------------------------------------------


def test_a_topic_is_muted_from_its_mute_until_its_time(supervisor):
    mute(supervisor)
    assert not services.is_muted("verano", NOW - timedelta(seconds=1))
    assert services.is_muted("verano", NOW)
    assert services.is_muted("verano", NOW + timedelta(hours=2) - timedelta(seconds=1))
    assert not services.is_muted("verano", NOW + timedelta(hours=2))
    assert not services.is_muted("factura", NOW)


def test_muting_records_who_until_when_and_why(supervisor):
    created = mute(supervisor)
    event = AuditEvent.objects.get(verb="topic.mute")
    assert event.actor == supervisor
    assert event.object_id == str(created.pk)
    assert event.after == {
        "topic": "verano",
        "until": (NOW + timedelta(hours=2)).isoformat(),
        "reason": "Summer campaign",
    }


def test_ending_a_mute_early_is_audited_and_unmutes_from_then(supervisor):
    created = mute(supervisor)
    ended_at = NOW + timedelta(minutes=30)
    services.end_mute(actor=supervisor, mute=created, now=ended_at)
    assert services.is_muted("verano", ended_at - timedelta(seconds=1))  # history stays true
    assert not services.is_muted("verano", ended_at)
    event = AuditEvent.objects.get(verb="topic.unmute")
    assert event.after == {"topic": "verano", "ended_at": ended_at.isoformat()}


def test_a_mute_cannot_be_ended_twice(supervisor):
    created = mute(supervisor)
    services.end_mute(actor=supervisor, mute=created, now=NOW + timedelta(minutes=1))
    with pytest.raises(services.MuteAlreadyEnded):
        services.end_mute(actor=supervisor, mute=created, now=NOW + timedelta(minutes=2))


def test_a_mute_past_its_time_cannot_be_ended(supervisor):
    created = mute(supervisor)
    with pytest.raises(services.MuteAlreadyEnded):
        services.end_mute(actor=supervisor, mute=created, now=NOW + timedelta(hours=3))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"hours": 0}, "until"),
        ({"hours": -1}, "until"),
        ({"hours": 31 * 24}, "until"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 1001}, "reason"),
        ({"topic": ""}, "topic"),
        ({"topic": "bad\x00topic"}, "topic"),
        ({"topic": "t" * 201}, "topic"),
    ],
)
def test_an_invalid_mute_is_refused_with_its_field(supervisor, fields, field):
    with pytest.raises(services.MuteInvalid) as refused:
        mute(supervisor, **fields)
    assert field in refused.value.errors
    assert not TopicMute.objects.exists()


def test_a_topic_already_muted_is_refused(supervisor):
    mute(supervisor)
    with pytest.raises(services.MuteInvalid) as refused:
        mute(supervisor, now=NOW + timedelta(minutes=5))
    assert "topic" in refused.value.errors
    assert TopicMute.objects.count() == 1


@pytest.mark.parametrize("role", ROLES_WITHOUT)
def test_only_supervisors_mute(db, request, role):
    with pytest.raises(PermissionDenied):
        mute(request.getfixturevalue(role))


# --- the page -----------------------------------------------------------------------------------


def local_input(moment: datetime) -> str:
    """A datetime-local value in the supervisor's time zone (the default one)."""
    return timezone.localtime(moment, ZoneInfo(settings.TIME_ZONE)).strftime("%Y-%m-%dT%H:%M")


def test_a_supervisor_mutes_a_topic_from_the_suggestions_page(client, supervisor):
    client.force_login(supervisor)
    page = client.get(reverse("protocols:suggestions"))
    assert b"Mute a topic" in page.content and b'id="mute-topic"' in page.content
    until = (timezone.now() + timedelta(hours=3)).replace(second=0, microsecond=0)
    response = client.post(
        reverse("protocols:mute_topic"),
        {"topic": "#Verano", "until": local_input(until), "reason": "Summer <b>campaign</b>"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("protocols:suggestions")
    created = TopicMute.objects.get()
    assert (created.topic, created.until, created.created_by) == ("verano", until, supervisor)
    assert b"Summer &lt;b&gt;campaign&lt;/b&gt;" in response.content  # listed, escaped
    assert reverse("protocols:end_mute", args=[created.pk]).encode() in response.content


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"reason": ""}, b"This field is required"),
        ({"until": "not a date"}, b"Enter a valid date/time"),
        ({"until": "2001-01-01T10:00"}, b"The mute must end in the future"),
        ({"topic": "bad\x00topic"}, b"Null characters are not allowed"),
    ],
)
def test_an_invalid_mute_form_is_shown_again_with_its_error(client, supervisor, values, message):
    client.force_login(supervisor)
    until = local_input(timezone.now() + timedelta(hours=1))
    data = {"topic": "verano", "until": until, "reason": "Campaign", **values}
    response = client.post(reverse("protocols:mute_topic"), data)
    assert response.status_code == 400
    assert message in response.content
    assert b'role="alert"' in response.content
    assert not TopicMute.objects.exists()


def test_ending_a_mute_asks_for_confirmation_then_ends_it(client, supervisor):
    created = mute(supervisor, now=timezone.now())
    client.force_login(supervisor)
    url = reverse("protocols:end_mute", args=[created.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert b"End the mute" in confirm.content and b"Keep it muted" in confirm.content
    created.refresh_from_db()
    assert created.ended_at is None  # a GET changes nothing
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("protocols:suggestions")
    created.refresh_from_db()
    assert created.ended_at is not None
    assert b"No topic is muted." in response.content


@pytest.mark.parametrize("role", ROLES_WITHOUT)
def test_other_roles_cannot_mute_or_end_a_mute(client, supervisor, request, role):
    created = mute(supervisor, now=timezone.now())
    client.force_login(request.getfixturevalue(role))
    until = local_input(timezone.now() + timedelta(hours=1))
    posted = client.post(
        reverse("protocols:mute_topic"), {"topic": "x", "until": until, "reason": "y"}
    )
    assert posted.status_code == 403
    assert client.post(reverse("protocols:end_mute", args=[created.pk])).status_code == 403
    assert TopicMute.objects.filter(ended_at__isnull=True).count() == 1


def test_anonymous_is_sent_to_login_from_muting(client, db):
    response = client.post(reverse("protocols:mute_topic"), {"topic": "x"})
    assert response.status_code == 302 and "login" in response.url
