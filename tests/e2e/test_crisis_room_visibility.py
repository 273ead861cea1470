"""Acceptance 1 (and 4) of issue 11 in a real browser: a cabinet member of another crisis sees
nothing of this one (their list shows only their own crisis; this room and every part of it,
which its own legal member opens, answer 403 or 404 and show nothing of it), and an executive
reads this room without a single form to act in it."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.journeys import sign_in
from tests.e2e.rooms_journeys import (
    LEGAL,
    OUTSIDER,
    TITLE,
    another_crisis_with_outsider,
    complaint_surge,
    convened_crisis,
    crisis_people,
    resolved_with_post_mortem,
    statement_out,
)

pytestmark = pytest.mark.e2e


ROOM_PARTS = (
    "/",
    "/header/",
    "/cabinet/",
    "/incidents/",
    "/plan/",
    "/timeline/",
    "/statement/",
    "/statement/history/",
    "/statement/checklist/",
    "/resolution/",
    "/post-mortem/",
    "/post-mortem.md",
    "/post-mortem.pdf",
)


def test_a_cabinet_member_of_another_crisis_sees_nothing_of_this_one(
    page, browser, live_server, transactional_db, redis_client
):
    now = timezone.now()
    people = crisis_people()
    crisis = convened_crisis(people, complaint_surge(now=now), now=now)
    statement_out(people, crisis, now=now)
    resolved_with_post_mortem(people, crisis, now=now)  # every part of the room exists
    theirs = another_crisis_with_outsider(people, now=now)
    room = f"{live_server.url}/crises/{crisis.pk}"

    # Its own cabinet's legal member opens every part of it.
    context = browser.new_context(locale="en-GB")
    try:
        legal = context.new_page()
        sign_in(legal, live_server.url, LEGAL.username)
        for part in ROOM_PARTS:
            assert context.request.get(f"{room}{part}").status == 200, part
    finally:
        context.close()

    # The member of the other crisis: only their own crisis listed, nothing of this one.
    sign_in(page, live_server.url, OUTSIDER.username)
    page.wait_for_url(re.compile(r"/crises/$"))
    rows = page.locator("table.crisis-list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(theirs.title)
    expect(page.locator("main")).not_to_contain_text(TITLE)
    response = page.goto(f"{room}/")
    assert response.status in (403, 404), response.status
    expect(page.locator("body")).not_to_contain_text(TITLE)
    for part in ROOM_PARTS:
        answer = page.context.request.get(f"{room}{part}")
        assert answer.status in (403, 404), (part, answer.status)
        assert TITLE not in answer.text(), part
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
