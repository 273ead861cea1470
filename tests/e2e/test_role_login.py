"""Each demo role signs in through the real login page and lands on its home."""

import re

import pytest

from crisis.demo import DEMO_LOGINS, create_demo_users
from crisis.roles import Role
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

HOME_PATH_AND_HEADING = {
    Role.COMMUNITY_MANAGER: ("/inbox/", "Inbox"),
    Role.SUPERVISOR: ("/approvals/", "Approval queue"),
    Role.EXECUTIVE: ("/board/", "Crisis board"),
    Role.ADMIN: ("/monitoring/sources/", "Sources"),
}


def sign_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Password").press("Enter")


@pytest.mark.parametrize("demo", DEMO_LOGINS, ids=lambda demo: demo.role.value)
def test_demo_role_signs_in_and_lands_on_its_home(page, live_server, transactional_db, demo):
    create_demo_users()
    sign_in(page, live_server.url, demo.username, demo.password)
    path, heading = HOME_PATH_AND_HEADING[demo.role]
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    assert page.get_by_role("heading", name=heading).first.is_visible()
    assert screenshot(page, f"home-{demo.role.value}").stat().st_size > 0


def test_interface_switches_to_spanish_in_the_browser(page, live_server, transactional_db):
    create_demo_users()
    sign_in(page, live_server.url, "manager", "calma-manager")
    page.wait_for_url(re.compile(r"/inbox/$"))
    # The inbox has a language filter too: the switcher is the one in the main navigation.
    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_label("Language").select_option("es")
    navigation.get_by_role("button", name="Change").click()
    page.get_by_role("heading", name="Bandeja").wait_for()
    assert "Nada que clasificar" in page.content()
    screenshot(page, "inbox-spanish")


def test_wrong_password_keeps_the_user_on_the_login_page(page, live_server, transactional_db):
    create_demo_users()
    sign_in(page, live_server.url, "manager", "wrong")
    assert page.get_by_role("alert").is_visible()
    assert "/accounts/login/" in page.url


def test_admin_goes_from_sources_to_django_admin_and_back(page, live_server, transactional_db):
    create_demo_users()
    sign_in(page, live_server.url, "admin", "calma-admin")
    page.wait_for_url(re.compile(r"/monitoring/sources/$"))
    page.get_by_role("link", name="Admin", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/$"))
    page.get_by_role("link", name="View site").click()
    page.wait_for_url(re.compile(r"/monitoring/sources/$"))
    page.get_by_role("link", name="People").click()
    assert page.get_by_role("heading", name="People").is_visible()
    screenshot(page, "people-admin")
