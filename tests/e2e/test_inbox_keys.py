"""The inbox worked with the keyboard in Chromium: j/k move, x selects, a takes, ? lists the
keys; the live refresh keeps the cursor and the selection; keys do nothing inside a field."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from crisis.incidents.models import IncidentState
from crisis.people.models import Profile
from crisis.roles import Role
from tests.e2e.conftest import screenshot
from tests.factories import UserFactory
from tests.incidents.factories import NOW, incident, team

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
REFRESH_SECONDS = 10


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    # The inbox itself (the login page's ?next=/inbox/ would match a looser pattern), loaded.
    page.wait_for_url(re.compile(r"^[^?]*/inbox/$"), wait_until="load")


@pytest.fixture
def queue(transactional_db):
    """A manager of a team with three unowned incidents, due one after another."""
    care = team("Care")
    user = UserFactory(username="keys-cm", role=Role.COMMUNITY_MANAGER)
    Profile.objects.update_or_create(user=user, defaults={"team": care})
    cases = [incident(of=care, at=NOW + timedelta(minutes=minutes)) for minutes in (0, 5, 10)]
    return user, cases


def current_row(page) -> str:
    return page.locator("tr.is-current").get_attribute("data-incident")


def test_keys_move_select_and_take_and_survive_the_refresh(page, live_server, queue):
    user, cases = queue
    sign_in(page, live_server.url, "keys-cm")
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert current_row(page) == str(cases[1].pk)
    page.keyboard.press("k")
    assert current_row(page) == str(cases[0].pk)
    page.keyboard.press("x")
    expect(page.locator(f"#select-{cases[0].pk}")).to_be_checked()

    # A refresh arrives (a new incident); cursor and selection are still there.
    incident(of=user.profile.team, at=NOW + timedelta(minutes=20))
    rows = page.locator("tr[data-incident]")
    expect(rows).to_have_count(4, timeout=(REFRESH_SECONDS + 10) * 1000)
    assert current_row(page) == str(cases[0].pk)
    expect(page.locator(f"#select-{cases[0].pk}")).to_be_checked()

    page.keyboard.press("j")
    page.keyboard.press("a")
    page.wait_for_url(re.compile(r"/inbox/"))
    expect(page.get_by_text("You took 1 incident.")).to_be_visible()
    cases[1].refresh_from_db()
    assert (cases[1].owner_id, cases[1].state) == (user.pk, IncidentState.ASSIGNED)
    screenshot(page, "inbox-keyboard-take")


def test_keys_do_nothing_while_typing_in_the_search_box(page, live_server, queue):
    sign_in(page, live_server.url, "keys-cm")
    page.get_by_label("Search").fill("")
    page.get_by_label("Search").press("j")
    page.get_by_label("Search").press("a")
    expect(page.get_by_label("Search")).to_have_value("ja")
    assert page.locator("tr.is-current").count() == 0


def test_question_mark_shows_the_inbox_keys(page, live_server, queue):
    sign_in(page, live_server.url, "keys-cm")
    page.keyboard.press("?")
    help_dialog = page.locator("#shortcuts-help")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Take the incident")
    expect(help_dialog).to_contain_text("Select the incident for a bulk action")
