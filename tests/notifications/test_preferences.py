"""Each person chooses which events reach them by which channel, and notify() honours it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crisis.models import AuditEvent
from crisis.notifications import preferences, selectors, services
from crisis.notifications.models import (
    NotificationChannel,
    NotificationKind,
    NotificationPreference,
    WebhookDelivery,
    WebhookEndpoint,
)
from crisis.roles import Role
from tests.factories import UserFactory

NOW = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)
ROLES = ["manager", "supervisor", "executive", "administrator"]
IN_APP, EMAIL, WEBHOOK = (
    NotificationChannel.IN_APP.value,
    NotificationChannel.EMAIL.value,
    NotificationChannel.WEBHOOK.value,
)


def choose(user, kind, channel, enabled):
    return preferences.save_preferences(actor=user, choices={(kind, channel): enabled}, now=NOW)


def tell(user, kind="assigned"):
    return services.notify(users=[user], kind=kind, title="Incident #12", url="/inbox/", now=NOW)


@pytest.fixture
def endpoint(db):
    return WebhookEndpoint.objects.create(
        name="Ops", url="https://93.184.216.34/hook", kinds=["assigned", "sla_breach"]
    )


# --- Defaults and sparse storage ---------------------------------------------------------------


def test_defaults_are_in_app_and_email_on_webhook_off(manager):
    channels = preferences.channels_for([manager], "assigned")
    assert channels == {manager.pk: {IN_APP: True, EMAIL: True, WEBHOOK: False}}
    assert not NotificationPreference.objects.exists()


def test_only_choices_that_differ_from_the_default_are_stored(manager):
    choices = {
        (kind, channel): channel != WEBHOOK
        for kind in NotificationKind.values
        for channel in (IN_APP, EMAIL, WEBHOOK)
    }
    choices[("assigned", WEBHOOK)] = True
    choices[("sla_warning", EMAIL)] = False
    assert preferences.save_preferences(actor=manager, choices=choices, now=NOW) == 2
    stored = set(NotificationPreference.objects.values_list("kind", "channel", "enabled"))
    assert stored == {("assigned", WEBHOOK, True), ("sla_warning", EMAIL, False)}


def test_back_to_the_default_removes_the_row(manager):
    choose(manager, "assigned", WEBHOOK, True)
    choose(manager, "assigned", WEBHOOK, False)
    assert not NotificationPreference.objects.exists()


def test_a_change_is_audited_and_no_change_is_not(manager):
    choose(manager, "assigned", EMAIL, False)
    choose(manager, "assigned", EMAIL, False)
    [event] = AuditEvent.objects.filter(verb="notifications.preferences_changed")
    assert event.before == {"assigned:email": True}
    assert event.after == {"assigned:email": False}


def test_unknown_kind_or_channel_is_refused(manager):
    with pytest.raises(ValueError):
        choose(manager, "assigned", "carrier-pigeon", True)
    with pytest.raises(ValueError):
        choose(manager, "no-such-kind", EMAIL, True)


def test_one_persons_choice_is_not_anothers(manager, supervisor):
    choose(manager, "assigned", EMAIL, False)
    channels = preferences.channels_for([manager, supervisor], "assigned")
    assert channels[manager.pk][EMAIL] is False
    assert channels[supervisor.pk][EMAIL] is True


# --- notify() honours the choices --------------------------------------------------------------


def test_by_default_a_notification_is_shown_and_emailed_but_not_sent_by_webhook(
    manager, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        [notification] = tell(manager)
    assert selectors.unread_count(manager) == 1
    assert len(callbacks) == 1  # the e-mail's hand-off
    assert services.send_notification_email(notification_id=notification.pk, now=NOW) is True
    assert len(mail.outbox) == 1
    assert not WebhookDelivery.objects.exists()


def test_email_off_sends_no_email_now_nor_from_the_sweeper(
    manager, django_capture_on_commit_callbacks
):
    choose(manager, "assigned", EMAIL, False)
    with django_capture_on_commit_callbacks() as callbacks:
        [notification] = tell(manager)
    assert callbacks == []
    assert mail.outbox == []
    assert notification.by_email is False
    assert selectors.unread_count(manager) == 1
    assert selectors.unsent_email_ids(now=NOW + timedelta(hours=1)) == []
    assert services.send_notification_email(notification_id=notification.pk, now=NOW) is False


def test_email_off_for_one_kind_keeps_the_others(manager, django_capture_on_commit_callbacks):
    choose(manager, "assigned", EMAIL, False)
    with django_capture_on_commit_callbacks() as callbacks:
        tell(manager, kind="sla_breach")
    assert len(callbacks) == 1


def test_in_app_off_keeps_the_record_out_of_the_bell_and_the_list(
    client, manager, django_capture_on_commit_callbacks
):
    choose(manager, "assigned", IN_APP, False)
    with django_capture_on_commit_callbacks() as callbacks:
        [notification] = tell(manager)
    notification.refresh_from_db()
    assert notification.in_app is False
    assert notification.read_at == NOW  # born read: never counted by the bell
    assert selectors.unread_count(manager) == 0
    assert selectors.notifications_page(manager, 1).paginator.count == 0
    assert len(callbacks) == 1  # e-mail is still on
    client.force_login(manager)
    assert "Incident #12" not in client.get(reverse("notifications:list")).content.decode()


def test_in_app_off_still_deduplicates_the_event(manager):
    choose(manager, "assigned", IN_APP, False)
    for _attempt in range(2):
        services.notify(
            users=[manager], kind="assigned", title="x", dedupe_key="incident:1:assigned", now=NOW
        )
    assert manager.notifications.count() == 1


def test_webhook_on_makes_a_delivery_per_receiving_endpoint(manager, supervisor, endpoint):
    choose(manager, "assigned", WEBHOOK, True)
    services.notify(users=[manager, supervisor], kind="assigned", title="x", now=NOW)
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.notification.user == manager
    assert delivery.endpoint == endpoint
    assert delivery.payload["event"]["recipient"] == manager.username


def test_webhook_on_for_a_kind_no_endpoint_receives_makes_nothing(manager, endpoint):
    choose(manager, "approval_requested", WEBHOOK, True)
    tell(manager, kind="approval_requested")
    assert not WebhookDelivery.objects.exists()


def test_everything_off_still_keeps_the_record(manager, django_capture_on_commit_callbacks):
    for channel in (IN_APP, EMAIL):
        choose(manager, "assigned", channel, False)
    with django_capture_on_commit_callbacks() as callbacks:
        tell(manager)
    assert callbacks == []
    assert manager.notifications.count() == 1


def test_choices_of_all_recipients_are_read_in_one_query(db, endpoint):
    people = [UserFactory(username=f"cm{n}", role=Role.COMMUNITY_MANAGER) for n in range(8)]
    for person in people[:3]:
        choose(person, "assigned", WEBHOOK, True)
    with CaptureQueriesContext(connection) as captured:
        services.notify(users=people, kind="assigned", title="x", now=NOW)
    preference_queries = [
        query
        for query in captured.captured_queries
        if "notifications_notificationpreference" in query["sql"]
    ]
    endpoint_queries = [
        query
        for query in captured.captured_queries
        if 'FROM "notifications_webhookendpoint"' in query["sql"]
    ]
    assert len(preference_queries) == 1
    assert len(endpoint_queries) == 1
    assert WebhookDelivery.objects.count() == 3


def test_no_webhook_choice_costs_no_endpoint_query(db, endpoint):
    people = [UserFactory(username=f"cm{n}", role=Role.COMMUNITY_MANAGER) for n in range(3)]
    with CaptureQueriesContext(connection) as captured:
        services.notify(users=people, kind="assigned", title="x", now=NOW)
    assert not any("notifications_webhookendpoint" in q["sql"] for q in captured.captured_queries)


# --- The settings page, per role ---------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, db):
    for method in ("get", "post"):
        response = getattr(client, method)(reverse("notifications:preferences"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    assert not NotificationPreference.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_the_table_with_defaults_checked(client, request, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    response = client.get(reverse("notifications:preferences"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["assigned__in_app"].value() is True
    assert form["assigned__email"].value() is True
    assert form["assigned__webhook"].value() is False
    html = response.content.decode()
    for kind in NotificationKind:
        assert f'name="{kind.value}__webhook"' in html


@pytest.mark.parametrize("role", ROLES)
def test_each_role_saves_only_its_own_choices(client, request, role, spanish_reader):
    user = request.getfixturevalue(role)
    client.force_login(user)
    # Everything on by default stays checked; e-mail of SLA breaches unchecked; webhook on.
    data = {
        f"{kind}__{channel}": "on"
        for kind in NotificationKind.values
        for channel in (IN_APP, EMAIL)
        if (kind, channel) != ("sla_breach", EMAIL)
    }
    data["assigned__webhook"] = "on"
    response = client.post(reverse("notifications:preferences"), data)
    assert response.url == reverse("notifications:preferences")
    stored = set(NotificationPreference.objects.values_list("user", "kind", "channel", "enabled"))
    assert stored == {
        (user.pk, "sla_breach", EMAIL, False),
        (user.pk, "assigned", WEBHOOK, True),
    }
    page = client.get(reverse("notifications:preferences"))
    assert page.context["form"]["sla_breach__email"].value() is False
    assert "Your notification settings are saved." in page.content.decode()


def test_profile_page_links_to_the_notification_settings(client, manager):
    client.force_login(manager)
    html = client.get(reverse("profile")).content.decode()
    assert f'href="{reverse("notifications:preferences")}"' in html


def test_table_says_when_no_endpoint_receives_a_kind(client, manager, endpoint):
    client.force_login(manager)
    rows = {
        row.kind: row
        for row in client.get(reverse("notifications:preferences")).context["form"].table
    }
    assert rows["assigned"].has_endpoint is True
    assert rows["moderation_requested"].has_endpoint is False
