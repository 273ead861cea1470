"""Acceptance 3 of issue 12 in a real browser: the executive signs in through the login page
and lands on the board, calm; a supervisor declares a crisis from the declaration page in
another browser; the executive's board, never reloaded, turns to crisis and names it as its
fragments poll; the war-room mode renders it in large type in light and dark; and an
incident opened from the board's numbers is read-only for the executive."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from crisis.board.fragments import POLL_SECONDS
from crisis.incidents.models import IncidentState
from crisis.rooms.models import Crisis
from tests.e2e.conftest import screenshot
from tests.e2e.journeys import demo_people, exactly, press, sign_in
from tests.e2e.rooms_journeys import default_departments
from tests.incidents.factories import incident

pytestmark = pytest.mark.e2e

TITLE = "Caída de la app en Madrid"
TOPIC = "caidabrisa"
LEVEL = 2  # "Serious" in the default protocol

# Each block of the board is a <section> whose id is its fragment's name.
HEADLINE = "#headline"
CRISES = "#crises"
INCIDENTS = "#incidents"
# The blocks poll every POLL_SECONDS (30 s, no setting shortens it): one poll and the time
# its render and the declaration's own round trips take.
LIVE_TIMEOUT_MS = (POLL_SECONDS + 20) * 1000
WALL_HEADLINE_MIN_PX = 32
# Relative luminance of the page's background: a light theme above, a dark one below.
LIGHT_ABOVE, DARK_BELOW = 0.6, 0.3
NO_RELOAD_MARKER = "window.__boardNotReloaded"


def new_page(browser, **context_options) -> Page:
    context = browser.new_context(
        locale="en-GB", viewport={"width": 1280, "height": 800}, **context_options
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def declare_in_the_browser(browser, base_url: str) -> Crisis:
    """The supervisor, in a browser of their own, declares the crisis from the declaration
    page with the keyboard, and lands in its room."""
    supervisor = new_page(browser)
    try:
        sign_in(supervisor, base_url, "supervisor")
        supervisor.goto(f"{base_url}/crises/declare/")
        supervisor.get_by_label("Title").fill(TITLE)
        supervisor.get_by_label("Level").select_option(value=str(LEVEL))
        supervisor.get_by_label("Topics").fill(TOPIC)
        press(supervisor.get_by_role("button", name=exactly("Declare the crisis")))
        supervisor.wait_for_url(re.compile(r"/crises/\d+/$"))
        crisis = Crisis.objects.get(title=TITLE)
        expect(supervisor.locator("#room-header")).to_contain_text(TITLE)
        return crisis
    finally:
        supervisor.context.close()


def font_size_px(locator) -> float:
    return float(locator.evaluate("element => parseFloat(getComputedStyle(element).fontSize)"))


def background_luminance(page: Page) -> float:
    """The relative luminance (0 black .. 1 white) of the page's background: the body's
    colour, else the root's (Pico paints the root and leaves the body transparent)."""
    return float(
        page.evaluate(
            """() => {
                const opaque = [document.body, document.documentElement]
                    .map(element => getComputedStyle(element).backgroundColor)
                    .map(colour => colour.match(/[\\d.]+/g).map(Number))
                    .find(parts => parts.length === 3 || parts[3] > 0);
                const [r, g, b] = (opaque || [255, 255, 255]).slice(0, 3).map(c => c / 255);
                return 0.2126 * r + 0.7152 * g + 0.0722 * b;
            }"""
        )
    )


def wall_shows_the_crisis(page: Page, url: str) -> None:
    """The war room names the crisis in the headline and in the crises block, the level in
    type readable across a room."""
    page.goto(url)
    headline = page.locator(HEADLINE)
    expect(headline.locator(".headline-level")).to_have_text(exactly("Crisis"))
    expect(headline).to_contain_text(f"Crisis: {TITLE}")
    expect(page.locator(CRISES)).to_contain_text(TITLE)
    size = font_size_px(headline.locator(".headline-level"))
    assert size >= WALL_HEADLINE_MIN_PX, f"the wall's headline is {size}px at {url}"


def open_medium_incident_from_the_board(page: Page, number: int) -> None:
    """From the open incidents' table view (the chart's figures), the medium ones' count, to
    the read-only list of every team's open incidents, to the incident."""
    block = page.locator(INCIDENTS)
    press(block.get_by_text("The figures as a table", exact=True))
    medium = block.locator("table tr").filter(has=page.get_by_role("rowheader", name="Medium"))
    press(medium.get_by_role("link", name=exactly("1")))
    page.wait_for_url(re.compile(r"/inbox/\?.*severity=medium"))
    expect(page.get_by_role("heading", level=1)).to_have_text(exactly("Open incidents"))
    expect(page.locator("#inbox-bulk")).to_have_count(0)
    expect(page.locator("#inbox-list [data-select]")).to_have_count(0)
    press(page.locator(f"#open-{number}"))
    page.wait_for_url(re.compile(rf"/incidents/{number}/$"))


def test_a_declared_crisis_reaches_the_executives_board_without_a_reload(
    page, browser, live_server, transactional_db, redis_client
):
    default_departments()
    demo_people()
    # A medium incident: counted on the board, no reason to watch (it is not serious).
    waiting = incident(severity="medium", state=IncidentState.NEW, at=timezone.now())

    # The executive's home is the board: calm.
    sign_in(page, live_server.url, "executive")
    page.wait_for_url(re.compile(r"/board/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(exactly("Crisis board"))
    headline = page.locator(HEADLINE)
    expect(headline.locator(".headline-level")).to_have_text(exactly("Calm"))
    expect(page.locator(CRISES)).to_contain_text("No active crisis")
    page.evaluate(f"{NO_RELOAD_MARKER} = true")
    navigations = page.evaluate("performance.getEntriesByType('navigation').length")

    declare_in_the_browser(browser, live_server.url)

    # The blocks poll: the crisis arrives in place, the page never navigated.
    expect(headline.locator(".headline-level")).to_have_text(
        exactly("Crisis"), timeout=LIVE_TIMEOUT_MS
    )
    expect(headline).to_contain_text(f"Crisis: {TITLE}")
    crises = page.locator(CRISES)
    expect(crises).to_contain_text(TITLE, timeout=LIVE_TIMEOUT_MS)
    expect(crises).to_contain_text("Serious")  # the level's label
    expect(crises).to_contain_text("supervisor")  # the commander
    assert page.evaluate(NO_RELOAD_MARKER) is True, "the board was reloaded"
    assert page.evaluate("performance.getEntriesByType('navigation').length") == navigations
    assert re.search(r"/board/$", page.url)
    screenshot(page, "board-executive-light")

    # The war room in a light room, then a dark one (the screen's colour scheme decides).
    wall = f"{live_server.url}/board/wall/"
    page.emulate_media(color_scheme="light")
    wall_shows_the_crisis(page, wall)
    light = background_luminance(page)
    screenshot(page, "board-wall-light")
    page.emulate_media(color_scheme="dark")
    wall_shows_the_crisis(page, wall)
    dark = background_luminance(page)
    screenshot(page, "board-wall-dark")
    assert light > LIGHT_ABOVE and dark < DARK_BELOW, (light, dark)
    # ?theme= forces one whatever the screen prefers.
    wall_shows_the_crisis(page, f"{wall}?theme=light")
    assert background_luminance(page) > LIGHT_ABOVE

    # Read-only: every number links to the list behind it, which the executive may read only.
    page.emulate_media(color_scheme="light")
    page.goto(f"{live_server.url}/board/")
    open_medium_incident_from_the_board(page, waiting.pk)
    main = page.locator("main")
    expect(main.get_by_role("heading", level=1)).to_contain_text(f"Incident #{waiting.pk}")
    expect(main).to_contain_text("You can read this incident but not act on it.")
    expect(main.locator("form[method=post]")).to_have_count(0)
    expect(main.get_by_role("button")).to_have_count(0)
