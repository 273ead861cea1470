"""Login throttling (issue 8, found item 7): ten wrong passwords lock that username out from
that address only, with a clear message, an audit event, and an admin's unlock."""

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from crisis.models import AuditEvent
from crisis.people import services

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
TROLL = "203.0.113.7"
OFFICE = "198.51.100.20"


def sign_in(client, username: str, password: str, address: str):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def fail_ten_times(client, username: str, address: str) -> None:
    for _attempt in range(10):
        sign_in(client, username, "wrong password", address)


def test_right_password_fails_after_ten_wrong_ones_from_that_address(client, supervisor):
    fail_ten_times(client, "boss", TROLL)
    response = sign_in(client, "boss", PASSWORD, TROLL)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert b"Too many failed sign-ins" in response.content
    assert b'role="alert"' in response.content
    assert b'name="password"' in response.content  # the login page, not a bare error text


def test_nine_wrong_passwords_do_not_lock(client, supervisor):
    for _attempt in range(9):
        sign_in(client, "boss", "wrong password", TROLL)
    response = sign_in(client, "boss", PASSWORD, TROLL)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(supervisor.pk)


def test_same_user_still_signs_in_from_another_address(client, supervisor):
    fail_ten_times(client, "boss", TROLL)
    response = sign_in(client, "boss", PASSWORD, OFFICE)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(supervisor.pk)


def test_other_usernames_from_the_locked_address_still_sign_in(client, supervisor, manager):
    fail_ten_times(client, "boss", TROLL)
    response = sign_in(client, "cm", PASSWORD, TROLL)
    assert response.status_code == 302


def test_lockout_records_one_audit_event(client, supervisor):
    fail_ten_times(client, "boss", TROLL)
    sign_in(client, "boss", PASSWORD, TROLL)
    sign_in(client, "boss", "still wrong", TROLL)
    events = AuditEvent.objects.filter(verb="login.locked_out")
    assert events.count() == 1
    event = events.get()
    assert event.object_id == str(supervisor.pk)
    assert event.after == {"username": "boss", "ip_address": TROLL}


def test_admin_unlock_lets_the_user_sign_in_again_from_that_address(
    client, supervisor, administrator
):
    fail_ten_times(client, "boss", TROLL)
    services.unlock_person(actor=administrator, person=supervisor)
    response = sign_in(client, "boss", PASSWORD, TROLL)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(supervisor.pk)


def test_unlock_button_on_the_people_page_lets_the_user_sign_in(client, supervisor, administrator):
    fail_ten_times(client, "boss", TROLL)
    admin_client = client.__class__()
    admin_client.force_login(administrator)
    assert b"locked out" in admin_client.get(reverse("people:list")).content
    admin_client.post(reverse("people:unlock", args=[supervisor.pk]))
    assert b"locked out" not in admin_client.get(reverse("people:list")).content
    assert sign_in(client, "boss", PASSWORD, TROLL).status_code == 302


def test_lockout_ends_after_the_cool_off(client, supervisor, time_machine):
    time_machine.move_to(timezone.now(), tick=True)
    fail_ten_times(client, "boss", TROLL)
    time_machine.shift(16 * 60)
    assert sign_in(client, "boss", PASSWORD, TROLL).status_code == 302


@pytest.mark.parametrize(
    ("forwarded_for", "locked"),
    [("203.0.113.7", True), ("198.51.100.20", False), (f"{OFFICE}, {TROLL}", True)],
)
def test_behind_a_proxy_the_address_is_what_the_proxy_appended(
    client, supervisor, forwarded_for, locked
):
    proxy = "10.0.0.2"
    with override_settings(TRUSTED_PROXY_COUNT=1):
        for _attempt in range(10):
            client.post(
                reverse("login"),
                {"username": "boss", "password": "wrong"},
                REMOTE_ADDR=proxy,
                HTTP_X_FORWARDED_FOR=f"spoofed, {TROLL}",
            )
        response = client.post(
            reverse("login"),
            {"username": "boss", "password": PASSWORD},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=forwarded_for,
        )
    assert (response.status_code == 429) is locked


def test_without_a_proxy_x_forwarded_for_cannot_dodge_the_lockout(client, supervisor):
    for attempt in range(10):
        client.post(
            reverse("login"),
            {"username": "boss", "password": "wrong"},
            REMOTE_ADDR=TROLL,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}",
        )
    assert sign_in(client, "boss", PASSWORD, TROLL).status_code == 429
