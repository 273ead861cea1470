"""The notification bell in a real browser: its count changes without a reload, and the
keyboard alone reaches it and opens a notification."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crisis.notifications import services
from crisis.roles import Role
from tests.e2e.conftest import screenshot
from tests.factories import UserFactory

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
POLL_SECONDS = 20


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")


def tab_to(page, name: str, limit: int = 40) -> None:
    """Press Tab until the focused element's accessible text contains `name`."""
    for _press in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent || ''")
        if name in focused:
            return
    raise AssertionError(f"{name!r} is not reachable with Tab")


def test_bell_counts_a_new_notification_live_and_opens_it_by_keyboard(
    page, live_server, transactional_db
):
    manager = UserFactory(username="bell-cm", role=Role.COMMUNITY_MANAGER, email="")
    sign_in(page, live_server.url, "bell-cm")
    page.wait_for_url(re.compile(r"/inbox/$"))
    bell = page.locator("#notification-count")
    expect(bell).to_be_empty()

    services.notify(
        users=[manager],
        kind="assigned",
        title=("Incident #%(id)s assigned to you: %(author)s", {"id": 12, "author": "<b>x</b>"}),
        url="/inbox/",
        now=timezone.now(),
    )
    expect(bell).to_contain_text("1 unread", timeout=(POLL_SECONDS + 5) * 1000)
    screenshot(page, "notification-bell-unread")

    tab_to(page, "Notifications")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/notifications/$"))
    expect(page.get_by_text("Incident #12 assigned to you: <b>x</b>")).to_be_visible()
    tab_to(page, "Open")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/inbox/$"))
    expect(page.locator("#notification-count")).to_be_empty()
