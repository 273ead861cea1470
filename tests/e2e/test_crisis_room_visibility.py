"""Acceptance 1 (and 4) of issue 11 in a real browser: a cabinet member of another crisis sees
nothing of this one (its list shows only their own crisis, this room and its parts answer
403 or 404 and show nothing of it), and an executive reads this room without a single form
to act in it."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.journeys import sign_in
from tests.e2e.rooms_journeys import (
    OUTSIDER,
    TITLE,
    another_crisis_with_outsider,
    complaint_surge,
    convened_crisis,
    crisis_people,
)

pytestmark = pytest.mark.e2e


def test_a_cabinet_member_of_another_crisis_sees_nothing_of_this_one(
    page, browser, live_server, transactional_db, redis_client
):
    now = timezone.now()
    people = crisis_people()
    crisis = convened_crisis(people, complaint_surge(now=now), now=now)
    theirs = another_crisis_with_outsider(people, now=now)

    sign_in(page, live_server.url, OUTSIDER.username)
    page.wait_for_url(re.compile(r"/crises/$"))
    rows = page.locator("table.crisis-list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(theirs.title)
    expect(page.locator("main")).not_to_contain_text(TITLE)

    room = f"{live_server.url}/crises/{crisis.pk}"
    for url in (
        f"{room}/",
        f"{room}/header/",
        f"{room}/cabinet/",
        f"{room}/incidents/",
        f"{room}/timeline/",
    ):
        response = page.goto(url)
        assert response.status in (403, 404), (url, response.status)
        expect(page.locator("body")).not_to_contain_text(TITLE)
    # Their own room opens.
    assert page.goto(f"{live_server.url}/crises/{theirs.pk}/").status == 200


def test_an_executive_reads_the_room_without_a_form_to_act(
    page, live_server, transactional_db, redis_client
):
    now = timezone.now()
    people = crisis_people()
    crisis = convened_crisis(people, complaint_surge(now=now), now=now)

    sign_in(page, live_server.url, "executive")
    page.goto(f"{live_server.url}/crises/")
    expect(page.locator(f"#crisis-{crisis.pk}")).to_contain_text(TITLE)
    page.goto(f"{live_server.url}/crises/{crisis.pk}/")
    expect(page.get_by_role("heading", level=1).first).to_contain_text(TITLE)
    expect(page.locator(".room-read-only")).to_be_visible()
    # Nothing to act with: no form posts anything from the room (the language switcher and
    # sign-out live in the navigation, outside <main>).
    expect(page.locator("main form[method='post' i]")).to_have_count(0)
    expect(page.locator("main button[hx-post], main [hx-post]")).to_have_count(0)
