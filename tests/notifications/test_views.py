"""The bell and the notifications page: every role sees only its own, the count is one query."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from crisis.notifications import selectors, services
from crisis.notifications.models import Notification
from crisis.notifications.views import HTMX_STOP_POLLING

NOW = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)
ROLES = ["manager", "supervisor", "executive", "administrator"]
HTMX = {"HTTP_HX_REQUEST": "true"}


def tell(user, title="Incident #12 assigned to you", url="/inbox/") -> Notification:
    [notification] = services.notify(users=[user], kind="assigned", title=title, url=url, now=NOW)
    return notification


# --- anonymous -------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["notifications:list"])
def test_anonymous_is_sent_to_login_from_the_list(client, db, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_anonymous_bell_tells_htmx_to_stop_polling(client, db):
    response = client.get(reverse("notifications:bell"), **HTMX)
    assert response.status_code == HTMX_STOP_POLLING
    assert response.content == b""


def test_anonymous_cannot_mark_a_notification_read(client, manager):
    notification = tell(manager)
    response = client.post(reverse("notifications:read", args=[notification.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert selectors.unread_count(manager) == 1


def test_anonymous_cannot_mark_all_read(client, manager):
    tell(manager)
    response = client.post(reverse("notifications:read_all"))
    assert response.url.startswith(reverse("login"))
    assert selectors.unread_count(manager) == 1


# --- each role -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_its_own_notifications(client, request, role, spanish_reader):
    user = request.getfixturevalue(role)
    tell(user, title="Yours")
    tell(spanish_reader, title="Someone else's")
    client.force_login(user)
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 200
    assert b"Yours" in response.content
    assert b"Someone else" not in response.content


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_its_unread_count_in_the_bell(client, request, role):
    user = request.getfixturevalue(role)
    tell(user)
    tell(user)
    client.force_login(user)
    response = client.get(reverse("notifications:bell"), **HTMX)
    assert response.status_code == 200
    assert b'aria-hidden="true">2</span>' in response.content


@pytest.mark.parametrize("role", ROLES)
def test_each_role_marks_its_notification_read(client, request, role):
    user = request.getfixturevalue(role)
    notification = tell(user)
    client.force_login(user)
    response = client.post(reverse("notifications:read", args=[notification.pk]))
    assert response.url == reverse("notifications:list")
    assert selectors.unread_count(user) == 0


@pytest.mark.parametrize("role", ROLES)
def test_each_role_marks_all_its_notifications_read(client, request, role, spanish_reader):
    user = request.getfixturevalue(role)
    tell(user)
    tell(spanish_reader)
    client.force_login(user)
    client.post(reverse("notifications:read_all"))
    assert selectors.unread_count(user) == 0
    assert selectors.unread_count(spanish_reader) == 1


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_the_bell_in_the_navigation(client, request, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("notifications:list"))
    assert reverse("notifications:bell").encode() in response.content


# --- behaviour -------------------------------------------------------------------------------


def test_marking_another_users_notification_is_not_found(client, manager, supervisor):
    theirs = tell(supervisor)
    client.force_login(manager)
    response = client.post(reverse("notifications:read", args=[theirs.pk]))
    assert response.status_code == 404
    assert selectors.unread_count(supervisor) == 1


def test_open_marks_read_and_follows_the_link(client, manager):
    notification = tell(manager, url="/inbox/")
    client.force_login(manager)
    response = client.post(reverse("notifications:read", args=[notification.pk]), {"open": "on"})
    assert response.url == "/inbox/"
    assert selectors.unread_count(manager) == 0


def test_get_does_not_mark_read(client, manager):
    notification = tell(manager)
    client.force_login(manager)
    response = client.get(reverse("notifications:read", args=[notification.pk]))
    assert response.status_code == 405
    assert selectors.unread_count(manager) == 1


def test_bell_count_is_one_count_query_beyond_the_session(
    client, manager, django_assert_num_queries
):
    for _attempt in range(30):
        tell(manager)
    client.force_login(manager)
    # The session and the signed-in user (two queries any page pays), then one COUNT.
    with django_assert_num_queries(3) as captured:
        response = client.get(reverse("notifications:bell"), **HTMX)
    assert b">30</span>" in response.content
    assert sum("COUNT(" in query["sql"] for query in captured.captured_queries) == 1


def test_unread_count_selector_is_one_query(manager, django_assert_num_queries):
    tell(manager)
    with django_assert_num_queries(1):
        assert selectors.unread_count(manager) == 1


def test_bell_without_htmx_opens_the_notifications_page(client, manager):
    client.force_login(manager)
    response = client.get(reverse("notifications:bell"))
    assert response.url == reverse("notifications:list")


def test_list_is_newest_first_and_paginated(client, manager):
    for number in range(30):
        services.notify(
            users=[manager],
            kind="critical",
            title=f"number {number:02d}",
            now=NOW.replace(minute=number),
        )
    client.force_login(manager)
    first = client.get(reverse("notifications:list")).content.decode()
    second = client.get(reverse("notifications:list"), {"page": 2}).content.decode()
    assert first.index("number 29") < first.index("number 28")
    assert "number 05" in first and "number 04" not in first
    assert "number 04" in second and "number 29" not in second


def test_untrusted_text_in_a_notification_stays_inert(client, manager):
    payload = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    services.notify(
        users=[manager],
        kind="critical",
        title=("Author %(name)s", {"name": payload}),
        body=("Said: %(text)s", {"text": payload}),
        now=NOW,
    )
    client.force_login(manager)
    content = client.get(reverse("notifications:list")).content.decode()
    assert "<script>alert(1)" not in content
    assert "<img src=x" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_list_shows_times_in_the_readers_time_zone(client, english_reader):
    tell(english_reader)
    client.force_login(english_reader)
    content = client.get(reverse("notifications:list")).content.decode()
    assert "2 Dec 2026, 22:05" in content  # 13:05 UTC in Tokyo
