"""Hostile mention text and author names stay inert in the inbox in Chromium: on the first
render and when the live refresh brings them in (htmx swaps run scripts they are given)."""

import re

import pytest
from playwright.sync_api import expect

from crisis.incidents.models import Incident
from crisis.roles import Role
from monitoring.models import Mention
from tests.e2e.conftest import screenshot
from tests.factories import UserFactory
from tests.incidents.factories import incident

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
REFRESH_SECONDS = 10

SCRIPT = "<script>window.__xss = 'script'; alert('script')</script>"
IMG = "<img src=x onerror=\"window.__xss = 'img'; alert('img')\">"
SVG = "<svg onload=\"window.__xss = 'svg'; alert('svg')\"></svg>"
LINK = "<a href=\"javascript:window.__xss = 'link'; alert('link')\">click me</a>"


def hostile_incident(marker: str) -> Incident:
    """An open incident whose mention, author and link all carry payloads."""
    case = incident()
    Mention.objects.filter(pk=case.first_mention_id).update(
        text=f"{marker} {SCRIPT} {IMG} {LINK}", url="javascript:alert('url')"
    )
    case.author.display_name = f"{SVG}{IMG}"
    case.author.handle = f"{marker}<script>alert('handle')</script>"
    case.author.save()
    Incident.objects.filter(pk=case.pk).update(topic=SVG)
    return case


def assert_inert(page, dialogs: list[str]) -> None:
    assert dialogs == []
    assert page.evaluate("window.__xss === undefined")
    listing = page.locator("#inbox-list")
    assert listing.locator("script, img, svg, iframe, object").count() == 0
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
    assert not [href for href in hrefs if not href.startswith("http")], hrefs


def test_hostile_mentions_stay_inert_in_the_inbox_on_load_and_on_refresh(
    page, live_server, transactional_db
):
    UserFactory(username="xss-cm", role=Role.COMMUNITY_MANAGER)
    hostile_incident("first-payload")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("xss-cm")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(re.compile(r"^[^?]*/inbox/$"), wait_until="load")
    listing = page.locator("#inbox-list")
    expect(listing).to_contain_text("first-payload <script>window.__xss")
    expect(listing).to_contain_text("<svg onload=")
    assert_inert(page, dialogs)

    # A new hostile incident arrives through the live refresh, without a reload.
    hostile_incident("second-payload")
    expect(listing).to_contain_text("second-payload", timeout=(REFRESH_SECONDS + 10) * 1000)
    page.wait_for_timeout(500)  # anything a swapped-in script or handler would do, done
    assert_inert(page, dialogs)
    screenshot(page, "inbox-hostile-text-inert")
