"""Acceptance 1 (and 4) of issue 11 in a real browser, resolution and the post-mortem: with
the statement published on every channel of its checklist and its promise kept, the room
computes the resolution criteria (only the linked incidents still wait for an answer); the
spokesperson, who is not the commander, cannot resolve (no form, and the POST is refused); the
commander resolves with a note although one criterion is not met; she starts the post-mortem,
reads its impact figures computed from the data, writes it, adds a follow-up item for the
legal member and completes it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crisis.models import AuditEvent
from crisis.rooms.models import CrisisStatus, FollowUpItem, PostMortem, PostMortemState
from tests.e2e.conftest import screenshot
from tests.e2e.journeys import exactly, press, sign_in
from tests.e2e.rooms_journeys import (
    COMMANDER,
    LARGE,
    LEGAL,
    SMALL,
    SPOKESPERSON,
    complaint_surge,
    convened_crisis,
    crisis_people,
    statement_out,
)

pytestmark = pytest.mark.e2e
NOTE = "Servicio restablecido en toda Valencia; quedan respuestas pendientes en redes."
REVIEW = {
    "Summary": "Una avería de fibra dejó sin servicio a parte de Valencia durante dos días.",
    "Root cause": "El plan de avisos no cubría las averías de red: nadie avisó en redes.",
    "Processes and policies involved": "Plan de avisos; protocolo de crisis v1.",
    "What worked": "El gabinete se reunió en minutos y el comunicado salió aprobado.",
    "What did not": "Las menciones medias tardaron en verse como crisis.",
}
ITEM = "Añadir las averías de red al plan de avisos"


def test_the_commander_resolves_and_writes_the_post_mortem(
    page, browser, live_server, transactional_db, redis_client
):
    now = timezone.now()
    people = crisis_people()
    surge = complaint_surge(now=now)
    crisis = convened_crisis(people, surge, now=now)
    statement_out(people, crisis, now=now)
    room = f"{live_server.url}/crises/{crisis.pk}/"

    # The spokesperson reads the criteria but has nothing to resolve with; a forged POST fails.
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    member = context.new_page()
    member.set_default_timeout(15_000)
    try:
        sign_in(member, live_server.url, SPOKESPERSON.username)
        member.goto(room)
        section = member.locator("#resolution-section")
        expect(section.locator("[data-criterion]")).not_to_have_count(0)
        expect(section).to_contain_text("Only the commander or a supervisor resolves the crisis.")
        expect(section.get_by_text("Resolve the crisis…")).to_have_count(0)
        token = next(
            cookie["value"] for cookie in context.cookies() if cookie["name"] == "csrftoken"
        )
        refused = context.request.post(
            f"{room}resolve/",
            form={"note": "no"},
            headers={"X-CSRFToken": token, "Referer": room},
        )
        assert refused.status == 403
    finally:
        context.close()
    crisis.refresh_from_db()
    assert crisis.status == CrisisStatus.ACTIVE

    # The commander: every criterion met but the incidents' answers; she resolves anyway.
    sign_in(page, live_server.url, COMMANDER.username)
    page.goto(room)
    section = page.locator("#resolution-section")
    for key in ("statement", "commitments"):
        expect(section.locator(f'[data-criterion="{key}"]')).to_contain_text("Met")
    incidents = section.locator('[data-criterion="incidents"]')
    expect(incidents).to_contain_text("Not met")
    expect(incidents).to_contain_text("12 of 12 incidents")
    screenshot(page, "crisis-room-9-resolution")
    press(section.get_by_text("Resolve the crisis…", exact=True))
    section.get_by_label("Note").fill(NOTE)
    press(section.get_by_role("button", name=exactly("Yes, resolve it anyway")))
    resolved = page.locator("#resolution-section")
    expect(resolved).to_contain_text(f"by {COMMANDER.username}")
    expect(resolved.locator(".resolution-note")).to_contain_text(NOTE)
    expect(resolved).to_contain_text("Not met when it was resolved:")
    expect(page.locator("[data-crisis-status]")).to_have_attribute(
        "data-crisis-status", CrisisStatus.RESOLVED
    )
    crisis.refresh_from_db()
    assert crisis.status == CrisisStatus.RESOLVED
    assert crisis.resolved_by.username == COMMANDER.username
    event = AuditEvent.objects.get(
        verb="crisis.resolve", object_type="rooms.crisis", object_id=str(crisis.pk)
    )
    assert event.actor.username == COMMANDER.username
    assert "incidents" in event.after["unmet"]

    # The post-mortem: impact computed from the data, then the blameless review.
    press(resolved.get_by_role("button", name=exactly("Start the post-mortem")))
    page.wait_for_url(re.compile(rf"/crises/{crisis.pk}/post-mortem/$"))
    impact = page.locator("#post-mortem-impact")
    for key, value in (("mentions", "12"), ("unique_authors", "12"), ("incidents", "12")):
        expect(impact.locator(f'[data-figure="{key}"] td')).to_have_text(value)
    reach = 6 * SMALL + 6 * LARGE
    expect(impact.locator('[data-figure="reach"] td')).to_have_text(
        re.compile(rf"^\s*{reach // 1000}\D?{reach % 1000:03d}\s*$")
    )
    # The fifth high complaint (20 minutes after the first) crossed the threshold.
    expect(impact.locator('[data-figure="to_suggestion"] td')).to_contain_text("20")
    review = page.locator("#post-mortem-review")
    for label, text in REVIEW.items():
        review.get_by_label(re.compile(rf"^{re.escape(label)}")).fill(text)
    press(review.get_by_role("button", name=exactly("Save the post-mortem")))
    expect(page.locator("#post-mortem-body")).to_contain_text("Post-mortem saved.")

    items = page.locator("#post-mortem-items")
    press(items.get_by_text("Add a follow-up item", exact=True))
    items.get_by_label(re.compile(r"^Follow-up item")).fill(ITEM)
    items.get_by_label(re.compile(r"^Owner")).select_option(label="Lorena (lorena)")
    items.get_by_label(re.compile(r"^Due")).fill((now + timedelta(days=14)).date().isoformat())
    press(items.get_by_role("button", name=exactly("Add the item")))
    expect(page.locator("#post-mortem-items table.follow-up-items")).to_contain_text(ITEM)
    post_mortem = PostMortem.objects.get(crisis=crisis)
    assert post_mortem.summary == REVIEW["Summary"]
    assert post_mortem.root_cause == REVIEW["Root cause"]
    assert post_mortem.what_did_not == REVIEW["What did not"]
    item = FollowUpItem.objects.get(post_mortem=post_mortem)
    assert item.owner.username == LEGAL.username
    assert item.done_at is None
    screenshot(page, "crisis-room-10-post-mortem")

    # Completed: the figures frozen, the crisis closed.
    press(page.get_by_text("Complete the post-mortem…", exact=True))
    press(page.get_by_role("button", name=exactly("Yes, complete it")))
    expect(page.locator("#post-mortem-body")).to_contain_text("the figures below are frozen")
    post_mortem.refresh_from_db()
    assert post_mortem.state == PostMortemState.DONE
    assert post_mortem.impact["mentions"] == 12
    crisis.refresh_from_db()
    assert crisis.status == CrisisStatus.POST_MORTEM_DONE
    screenshot(page, "crisis-room-11-post-mortem-done")
