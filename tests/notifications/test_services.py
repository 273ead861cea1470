"""notify(): a row per reader in their language and time zone, once per event, none for drills."""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.utils.translation import gettext_lazy, gettext_noop

from crisis.notifications import selectors, services
from crisis.notifications.models import Notification, NotificationKind
from tests.factories import UserFactory

NOW = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)
# A message already in the Spanish catalogue, so the test does not wait for a translation pass.
SIGNED_IN_AGAIN = gettext_noop("%(username)s can sign in again.")


def test_title_is_rendered_in_each_readers_language(spanish_reader, english_reader):
    services.notify(
        users=[spanish_reader, english_reader],
        kind=NotificationKind.ESCALATION,
        title=(SIGNED_IN_AGAIN, {"username": "ana"}),
        now=NOW,
    )
    titles = dict(Notification.objects.values_list("user__username", "title"))
    assert titles == {
        "lucia": "ana puede volver a iniciar sesión.",
        "tom": "ana can sign in again.",
    }


def test_times_are_written_in_each_readers_time_zone_and_language(spanish_reader, english_reader):
    services.notify(
        users=[spanish_reader, english_reader],
        kind=NotificationKind.SLA_WARNING,
        title="SLA",
        body=("%(when)s", {"when": NOW}),
        now=NOW,
    )
    bodies = dict(Notification.objects.values_list("user__username", "body"))
    # 13:05 UTC is 07:05 in Mexico City and 22:05 in Tokyo.
    assert bodies == {"lucia": "2 de diciembre de 2026, 07:05", "tom": "2 December 2026, 22:05"}


def test_lazy_translation_is_rendered_in_the_readers_language(spanish_reader):
    services.notify(
        users=[spanish_reader], kind=NotificationKind.CRITICAL, title=gettext_lazy("Inbox"), now=NOW
    )
    assert Notification.objects.get().title == "Bandeja"


def test_same_dedupe_key_notifies_each_user_once(spanish_reader, english_reader):
    for _attempt in range(2):
        rows = services.notify(
            users=[spanish_reader, english_reader],
            kind=NotificationKind.ASSIGNED,
            title="Incident assigned",
            dedupe_key="incident:12:assigned",
            now=NOW,
        )
        assert len(rows) == 2
    assert Notification.objects.count() == 2


def test_without_dedupe_key_each_call_notifies_again(english_reader):
    for _attempt in range(2):
        services.notify(users=[english_reader], kind="critical", title="Critical", now=NOW)
    assert Notification.objects.count() == 2


def test_drill_notification_is_neither_shown_nor_emailed(
    english_reader, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.notify(
            users=[english_reader],
            kind=NotificationKind.CRITICAL,
            title="Drill",
            now=NOW,
            origin="run:7",
        )
    assert callbacks == []
    assert mail.outbox == []
    assert selectors.unread_count(english_reader) == 0
    assert selectors.notifications_page(english_reader, 1).paginator.count == 0


def test_live_notification_enqueues_one_email_after_commit(
    english_reader, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        services.notify(users=[english_reader], kind="critical", title="Critical", now=NOW)
    assert len(callbacks) == 1


def test_user_without_email_gets_the_bell_only(english_reader, django_capture_on_commit_callbacks):
    english_reader.email = ""
    english_reader.save(update_fields=["email"])
    with django_capture_on_commit_callbacks() as callbacks:
        services.notify(users=[english_reader], kind="critical", title="Critical", now=NOW)
    assert callbacks == []
    assert selectors.unread_count(english_reader) == 1


def test_inactive_user_is_not_notified(db):
    gone = UserFactory(username="gone", is_active=False)
    assert services.notify(users=[gone], kind="critical", title="Critical", now=NOW) == []
    assert not Notification.objects.exists()


def test_user_listed_twice_is_notified_once(english_reader):
    services.notify(users=[english_reader, english_reader], kind="critical", title="x", now=NOW)
    assert Notification.objects.count() == 1


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "https://evil.example/", "//evil.example/x", "incidents/1/"]
)
def test_link_outside_calma_is_refused(english_reader, url):
    with pytest.raises(ValueError):
        services.notify(users=[english_reader], kind="critical", title="x", url=url, now=NOW)


def test_long_platform_text_in_a_title_is_cut_to_the_column(english_reader):
    services.notify(
        users=[english_reader],
        kind="critical",
        title=("%(text)s", {"text": "a\x00" * 400}),
        now=NOW,
    )
    title = Notification.objects.get().title
    assert len(title) == 300
    assert "\x00" not in title


def test_mark_read_refuses_another_users_notification(english_reader, spanish_reader):
    [mine] = services.notify(users=[english_reader], kind="critical", title="x", now=NOW)
    with pytest.raises(Notification.DoesNotExist):
        services.mark_read(user=spanish_reader, notification_id=mine.pk, now=NOW)
    assert selectors.unread_count(english_reader) == 1


def test_mark_all_read_empties_the_unread_count(english_reader):
    for _attempt in range(3):
        services.notify(users=[english_reader], kind="critical", title="x", now=NOW)
    assert services.mark_all_read(user=english_reader, now=NOW) == 3
    assert selectors.unread_count(english_reader) == 0
