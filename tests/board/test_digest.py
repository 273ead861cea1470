"""The daily digest e-mail: sent by beat once per person and day, from the digest hour on, in
each recipient's language, with the board's own figures for yesterday."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crisis.board import digest, incident_metrics, incident_rollups, mention_metrics, rollups
from crisis.board.models import DigestSent, MentionHour
from crisis.board.tasks_digest import send_daily_digests
from crisis.notifications.models import NotificationKind, NotificationPreference
from crisis.people.selectors import profile_for
from crisis.roles import Role
from crisis.rooms.models import TaskStatus
from tests.factories import UserFactory
from tests.incidents.factories import incident
from tests.rooms.factories import a_crisis
from tests.rooms.postmortem_fixtures import commitment, statement_version

# 09:30 in Madrid (CET) on Tuesday 3 March 2026: the digest of Monday 2 March is due.
NOW = datetime(2026, 3, 3, 8, 30, tzinfo=UTC)
YESTERDAY = date(2026, 3, 2)
# Monday 2 March in Madrid is [1 March 23:00 UTC, 2 March 23:00 UTC).
DAY_START = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
LAST_HOUR = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
HOSTILE_TOPIC = "<script>alert('topic')</script>"
HOSTILE_CRISIS = '<img src=x onerror="alert(1)">Cobros dobles'


def reader(username: str, *, role: Role, language: str = "", email: str | None = None):
    user = UserFactory(username=username, role=role)
    if email is not None:
        user.email = email
        user.save(update_fields=["email"])
    profile = profile_for(user)
    profile.language = language
    profile.save(update_fields=["language"])
    return user


def mention_hour(hour: datetime, mentions: int, *, topic: str = "", **cell) -> MentionHour:
    defaults = {
        "platform": "bluesky",
        "language": "es",
        "severity": "",
        "triage_class": "",
        "polarity": "",
        "is_complaint": False,
    }
    return MentionHour.objects.create(
        hour=hour, topic=topic, mentions=mentions, **(defaults | cell)
    )


NEGATIVE_COMPLAINTS = {
    "severity": "high",
    "triage_class": "complaint_company_fault",
    "polarity": "negative",
    "is_complaint": True,
}
NEUTRAL_QUESTIONS = {"severity": "low", "triage_class": "question", "polarity": "neutral"}


@pytest.fixture
def board_day(db):
    """Yesterday's mention rollups (47 mentions: 30 negative complaints, 12 neutral questions,
    5 not scored yet), the day before (20), a baseline week, and yesterday's incidents."""
    nine = DAY_START + timedelta(hours=10)
    mention_hour(nine, 30, **NEGATIVE_COMPLAINTS)
    mention_hour(nine, 30, topic=HOSTILE_TOPIC, **NEGATIVE_COMPLAINTS)
    mention_hour(nine + timedelta(hours=1), 12, **NEUTRAL_QUESTIONS)
    mention_hour(nine + timedelta(hours=1), 12, topic="billing", **NEUTRAL_QUESTIONS)
    mention_hour(LAST_HOUR, 5)  # the day's last hour counts
    mention_hour(LAST_HOUR + timedelta(hours=1), 99)  # today, 00:00 in Madrid: not yesterday
    mention_hour(DAY_START - timedelta(hours=12), 20, **NEUTRAL_QUESTIONS)  # the day before
    for days in range(2, 8):  # the rest of the baseline week: one negative in four
        hour = DAY_START - timedelta(days=days)
        mention_hour(hour, 3, **NEUTRAL_QUESTIONS)
        mention_hour(hour, 1, **NEGATIVE_COMPLAINTS)
    # Four incidents opened at 10:00 in Madrid, due an hour later: two answered in 10 min,
    # one in 90 min (late), the critical one never (unanswered at the end of the day).
    for minutes in (10, 10, 90):
        incident(severity="high", at=nine, first_response_at=nine + timedelta(minutes=minutes))
    incident(severity="critical", at=nine)
    # The hours they changed (the receivers recompute them after a commit, never in a test).
    incident_rollups.recompute_hours([nine, nine + timedelta(hours=1), LAST_HOUR])
    # The per-platform-and-language slices of the mention rows written above.
    rollups.resum_slices(DAY_START - timedelta(days=8), LAST_HOUR + timedelta(hours=2))


@pytest.fixture
def sara(db):
    return reader("sara", role=Role.SUPERVISOR, language="en")


@pytest.fixture
def elena(db):
    return reader("elena", role=Role.EXECUTIVE, language="es")


def run(at: datetime = NOW) -> int:
    with time_machine.travel(at, tick=False):
        return send_daily_digests()


def mail_to(address: str):
    [message] = [message for message in mail.outbox if message.to == [address]]
    return message


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


# --- Who gets it, and when --------------------------------------------------------------------


def test_each_recipient_gets_one_email_in_their_language(board_day, sara, elena):
    assert run() == 2
    english, spanish = mail_to("sara@example.org"), mail_to("elena@example.org")
    assert english.subject == "[Calma] Daily digest for 2 March 2026"
    assert "Mentions: 47" in english.body
    assert "Negative share: 71.4 %" in english.body
    # Spanish: the catalogue's words, the Spanish date and decimal comma.
    assert "2 de marzo de 2026" in spanish.subject
    assert "Menciones: 47" in spanish.body
    assert "Proporción de negativas: 71,4 %" in spanish.body
    assert "Exposición" in html_of(spanish)
    assert set(DigestSent.objects.values_list("user__username", "day", "language")) == {
        ("sara", YESTERDAY, "en"),
        ("elena", YESTERDAY, "es"),
    }


def test_a_profile_without_a_language_reads_the_organisations(board_day):
    reader("pablo", role=Role.SUPERVISOR, language="")
    run()
    assert "Mentions: 47" in mail_to("pablo@example.org").body


def test_running_twice_sends_nothing_twice(board_day, sara, elena):
    assert run() == 2
    assert run(NOW + timedelta(minutes=10)) == 0
    assert run(NOW + timedelta(hours=12)) == 0
    assert len(mail.outbox) == 2


def test_nothing_is_sent_before_the_digest_hour(board_day, sara):
    assert run(datetime(2026, 3, 3, 5, 59, tzinfo=UTC)) == 0  # 06:59 in Madrid
    assert mail.outbox == []
    assert run(datetime(2026, 3, 3, 6, 0, tzinfo=UTC)) == 1  # 07:00 in Madrid


def test_the_digest_hour_is_a_setting(board_day, sara, settings):
    settings.BOARD_DIGEST_HOUR = 10
    assert run() == 0  # 09:30 in Madrid
    assert run(NOW + timedelta(hours=1)) == 1


def test_the_next_day_brings_the_next_digest(board_day, sara):
    run()
    run(NOW + timedelta(days=1))
    assert [message.subject for message in mail.outbox] == [
        "[Calma] Daily digest for 2 March 2026",
        "[Calma] Daily digest for 3 March 2026",
    ]


def test_community_managers_and_cabinet_members_get_none(board_day, sara):
    reader("carla", role=Role.COMMUNITY_MANAGER, language="en")
    reader("legal", role=Role.CABINET_MEMBER, language="en")
    run()
    assert [message.to for message in mail.outbox] == [["sara@example.org"]]


def test_an_opted_out_user_gets_none(board_day, sara, elena):
    NotificationPreference.objects.create(
        user=elena, kind="daily_digest", channel="email", enabled=False
    )
    run()
    assert [message.to for message in mail.outbox] == [["sara@example.org"]]


def test_the_digest_is_turned_off_in_the_notification_settings(client, board_day, sara):
    client.force_login(sara)
    page = client.get(reverse("notifications:preferences")).content.decode()
    # Only its e-mail box can be chosen: the digest never reaches the bell nor a webhook.
    assert re.search(r'<input[^>]*name="daily_digest__in_app"[^>]*disabled', page)
    assert re.search(r'<input[^>]*name="daily_digest__webhook"[^>]*disabled', page)
    assert re.search(r'<input[^>]*name="daily_digest__email"[^>]*checked', page)
    every_other_default = {
        f"{kind}__{channel}": "on"
        for kind in NotificationKind.values
        if kind != NotificationKind.DAILY_DIGEST
        for channel in ("in_app", "email")
    }
    client.post(reverse("notifications:preferences"), every_other_default)
    assert set(NotificationPreference.objects.values_list("kind", "channel", "enabled")) == {
        ("daily_digest", "email", False)
    }
    assert run() == 0


def test_inactive_users_and_users_without_an_address_get_none(board_day, sara):
    gone = reader("gone", role=Role.EXECUTIVE)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    reader("noaddress", role=Role.SUPERVISOR, email="")
    run()
    assert [message.to for message in mail.outbox] == [["sara@example.org"]]


def test_a_failing_send_is_retried_by_the_next_run(board_day, sara):
    # An address the mail library refuses: this person's mail fails, the others' do not.
    broken = reader("broken", role=Role.EXECUTIVE, email="broken@example.org\nBcc: x@evil.example")
    assert run() == 1
    assert not DigestSent.objects.filter(user=broken).exists()
    broken.email = "broken@example.org"
    broken.save(update_fields=["email"])
    assert run(NOW + timedelta(minutes=10)) == 1
    assert [message.to for message in mail.outbox] == [
        ["sara@example.org"],
        ["broken@example.org"],
    ]
    assert DigestSent.objects.filter(user=broken, day=YESTERDAY).exists()


def test_a_mail_server_that_is_down_leaves_every_digest_for_the_next_run(
    board_day, sara, elena, settings
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "use_tls": False, "timeout": 2},
        }
    }
    assert run() == 0
    assert not DigestSent.objects.exists()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert run(NOW + timedelta(minutes=10)) == 2


# --- What it says -----------------------------------------------------------------------------


def test_the_figures_are_the_boards_for_yesterday(board_day, sara):
    run()
    body = mail_to("sara@example.org").body
    board = digest.day_filters(YESTERDAY, now=NOW)
    assert (board.start, board.end) == (DAY_START, LAST_HOUR + timedelta(hours=1))
    totals = mention_metrics.totals(board)
    assert (totals.mentions, totals.scored, totals.negative) == (47, 42, 30)
    # The 7 days before yesterday: the day before's 20 neutral and six days of 3 + 1 negative.
    assert totals.baseline_negative_share == pytest.approx(6 / 44)
    assert "Mentions: 47 (+135 % vs the day before)" in body
    assert "Negative share: 71.4 % (7-day baseline: 13.6 %)" in body
    for item in mention_metrics.complaint_classes(board)[: digest.TOP_ITEMS]:
        assert f"{item.label}: {item.count} " in body
    assert "Complaint: company at fault: 30 " in body
    for item in mention_metrics.keyword_groups(board, limit=digest.TOP_ITEMS):
        assert f"{item.label}: {item.count} " in body
    assert "Critical: 1 " in body
    assert "High: 3 " in body
    assert "Low: 0 " in body
    sla = incident_metrics.sla_summary(digest.day_end(board))
    assert (sla.today_due, sla.today_met, sla.today_median_minutes) == (4, 2, 10)
    assert "SLA compliance: 50 % (2 of 4 answered in time)" in body
    assert "Median first response: 10 min" in body
    # The board's exposure chart ends the day where the digest does: 1,000 followers x 840
    # minutes unanswered (10:00 to midnight in Madrid).
    [*_, last_point] = incident_metrics.exposure_series(board, NOW)
    assert last_point.value == 840_000
    assert "At the end of the day: 840,000 (reach × minutes unanswered), 1 incident" in body


def test_every_figure_links_to_the_page_behind_it(board_day, sara):
    run()
    body = mail_to("sara@example.org").body
    assert (
        "http://localhost:8000/board/?range=custom&date_from=2026-03-02&date_to=2026-03-02" in body
    )
    assert "http://localhost:8000/monitoring/mentions/?date_from=2026-03-02" in body
    assert "http://localhost:8000/inbox/?severity=critical" in body
    assert "http://localhost:8000/inbox/?triage=complaint_company_fault" in body
    assert "topic=billing" in body
    assert "http://localhost:8000/notifications/settings/" in body


def test_active_crises_and_overdue_commitments_are_listed_and_drills_are_not(board_day, sara):
    commander = reader("marta", role=Role.SUPERVISOR, language="en")
    commander.first_name, commander.last_name = "Marta", "Ruiz"
    commander.save(update_fields=["first_name", "last_name"])
    live = a_crisis(title=HOSTILE_CRISIS, commander=commander, declared_at=NOW - timedelta(days=3))
    drill = a_crisis(
        title="Drill: fake outage",
        commander=commander,
        declared_at=NOW - timedelta(days=3),
        origin="run:7",
    )
    version = statement_version(live, by=commander, approved_at=NOW - timedelta(days=3))
    commitment(version, by=commander, due_at=NOW - timedelta(days=1))
    kept = commitment(version, by=commander, due_at=NOW - timedelta(days=1), status=TaskStatus.DONE)
    kept.sentence = "Promise kept"
    kept.save(update_fields=["sentence"])
    drill_version = statement_version(drill, by=commander, approved_at=NOW - timedelta(days=3))
    drilled = commitment(drill_version, by=commander, due_at=NOW - timedelta(days=1))
    drilled.sentence = "Drill promise"
    drilled.save(update_fields=["sentence"])
    run()
    body = mail_to("sara@example.org").body
    assert HOSTILE_CRISIS in body  # plain text is not HTML
    assert "Commander: Marta Ruiz" in body
    assert f"http://localhost:8000/crises/{live.pk}/" in body
    assert "Refunds by Friday" in body
    assert f"http://localhost:8000/crises/{live.pk}/plan/" in body
    assert "Promise kept" not in body
    assert "Drill" not in body


def test_hostile_text_is_escaped_in_the_html(board_day, sara):
    commander = reader("marta", role=Role.SUPERVISOR, language="en")
    a_crisis(title=HOSTILE_CRISIS, commander=commander, declared_at=NOW - timedelta(days=1))
    run()
    html = html_of(mail_to("sara@example.org"))
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(&#x27;topic&#x27;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Cobros dobles" in html
    # The topic's board link carries it URL-encoded.
    assert "topic=%3Cscript%3Ealert%28%27topic%27%29%3C%2Fscript%3E" in html
    assert "src=" not in html.replace("src=x onerror", "")  # no remote images


def test_query_count_does_not_grow_with_the_recipients(board_day):
    for number in range(2):
        reader(f"few{number}", role=Role.EXECUTIVE, language=("en", "es")[number % 2])
    # The week's SLA of yesterday is stored by that day's first reader (the board, or the
    # digest's first language): stored before both counts, so they compare like with like.
    incident_metrics.sla_summary(digest.day_end(digest.day_filters(YESTERDAY, now=NOW)))
    with CaptureQueriesContext(connection) as few:
        assert run() == 2
    DigestSent.objects.all().delete()
    for number in range(18):
        reader(f"many{number}", role=Role.SUPERVISOR, language=("en", "es")[number % 2])
    with CaptureQueriesContext(connection) as many:
        assert run() == 20
    assert len(many) == len(few)
    # One for the recipients, then per language: the figures and one claim for its batch.
    assert len(many) <= 40
