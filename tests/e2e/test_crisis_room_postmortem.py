"""Acceptance 1 of issue 11 in a real browser, resolution and post-mortem: the commander (a
cabinet-member user) reads the resolution criteria computed from the data and resolves with a
note although some are not met; she starts the post-mortem, writes it and adds a follow-up
item for the legal member; a supervisor turns it into a protocol draft, lowers the high
threshold in it, backtests it on the crisis's own mentions and reads that the crisis would
have been suggested earlier, with the mentions that would have been high instead of medium;
the PDF export downloads and names the crisis. Screenshots of the room and the post-mortem."""

import re
from datetime import timedelta

import pypdfium2
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crisis.models import AuditEvent
from crisis.rooms.models import CrisisStatus, FollowUpItem, PostMortem
from protocols import services as protocol_services
from protocols.schema import upgrade
from tests.e2e.conftest import screenshot
from tests.e2e.journeys import exactly, press, sign_in
from tests.e2e.rooms_journeys import (
    COMMANDER,
    DRAFT_HIGH_THRESHOLD,
    LEGAL,
    TITLE,
    complaint_surge,
    convened_crisis,
    crisis_people,
)

pytestmark = pytest.mark.e2e

SUMMARY = "Una avería de fibra dejó sin servicio a parte de Valencia durante dos días."
ROOT_CAUSE = "El plan de avisos no cubría las averías de red; nadie avisó en redes."
ITEM = "Añadir las averías de red al plan de avisos"


def test_the_commander_resolves_and_the_post_mortem_proposes_a_backtested_protocol_draft(
    page, browser, live_server, transactional_db, redis_client
):
    now = timezone.now()
    people = crisis_people()
    surge = complaint_surge(now=now)
    crisis = convened_crisis(people, surge, now=now)

    # The commander reads the criteria in the room and resolves, with a note.
    sign_in(page, live_server.url, COMMANDER.username)
    page.goto(f"{live_server.url}/crises/{crisis.pk}/")
    section = page.locator("#resolution-section")
    expect(section.locator('[data-criterion="incidents"]')).to_contain_text("Not met")
    expect(section.locator('[data-criterion="statement"]')).to_contain_text(
        "No approved statement yet."
    )
    screenshot(page, "crisis-room-6-resolution")
    press(section.locator("details.resolve-confirm > summary"))
    section.get_by_label("Note").fill("Servicio restablecido; la devolución sigue su curso.")
    press(section.get_by_role("button", name=exactly("Yes, resolve it anyway")))
    page.wait_for_url(re.compile(rf"/crises/{crisis.pk}/(#.*)?$"))
    section = page.locator("#resolution-section")
    expect(section).to_contain_text("Servicio restablecido")
    expect(section).to_contain_text("Not met when it was resolved:")
    crisis.refresh_from_db()
    assert crisis.status == CrisisStatus.RESOLVED
    event = AuditEvent.objects.get(verb="crisis.resolve", object_id=str(crisis.pk))
    assert "incidents" in event.after["unmet"]

    # She starts the post-mortem, writes it and adds a follow-up item for the legal member.
    press(section.get_by_role("button", name=exactly("Start the post-mortem")))
    page.wait_for_url(re.compile(rf"/crises/{crisis.pk}/post-mortem/$"))
    impact = page.locator("#post-mortem-impact")
    expect(impact.locator('[data-figure="incidents"]')).to_contain_text("12")
    review = page.locator("#post-mortem-review")
    review.get_by_label("Summary").fill(SUMMARY)
    review.get_by_label("Root cause").fill(ROOT_CAUSE)
    review.get_by_label("What worked").fill("El gabinete se reunió en minutos.")
    press(review.get_by_role("button", name=exactly("Save the post-mortem")))
    expect(page.locator("#post-mortem-body")).to_contain_text("Post-mortem saved.")
    items = page.locator("#post-mortem-items")
    press(items.locator("details > summary"))
    items.get_by_label("Follow-up item").fill(ITEM)
    items.get_by_label("Owner").select_option(
        label=f"{LEGAL.username.capitalize()} ({LEGAL.username})"
    )
    items.get_by_label("Due").fill((now + timedelta(days=14)).date().isoformat())
    press(items.get_by_role("button", name=exactly("Add the item")))
    expect(page.locator("#post-mortem-items table")).to_contain_text(ITEM)
    post_mortem = PostMortem.objects.get(crisis=crisis)
    assert post_mortem.summary == SUMMARY
    assert FollowUpItem.objects.get(post_mortem=post_mortem).owner.username == LEGAL.username
    # A cabinet member proposes no protocol change herself.
    expect(page.get_by_text("a supervisor creates the draft")).to_be_visible()

    # A supervisor turns it into a protocol draft and backtests it on the crisis.
    supervisor = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    boss = supervisor.new_page()
    boss.set_default_timeout(15_000)
    sign_in(boss, live_server.url, "supervisor")
    boss.goto(f"{live_server.url}/crises/{crisis.pk}/post-mortem/")
    press(boss.get_by_role("button", name=exactly("Create a protocol draft from this post-mortem")))
    protocol = boss.locator("#post-mortem-protocol")
    expect(protocol).to_contain_text("holds the changes this post-mortem proposes")
    post_mortem.refresh_from_db()
    draft = post_mortem.protocol_draft
    assert draft.based_on_id == crisis.protocol_version_id
    assert f"/crises/{crisis.pk}/post-mortem/" in draft.notes
    # The supervisor's edit in the protocol editor: the high threshold lowered.
    thresholds = dict(upgrade(draft.config)["severity_thresholds"], high=DRAFT_HIGH_THRESHOLD)
    protocol_services.update_draft(
        actor=people["supervisor"],
        version=draft,
        section="severity_thresholds",
        value=thresholds,
    )
    boss.reload()
    protocol = boss.locator("#post-mortem-protocol")
    press(protocol.get_by_role("button", name=exactly("Backtest the draft on this crisis")))
    summary = boss.locator("#post-mortem-backtest .backtest-summary")
    expect(summary).to_contain_text(re.compile(r"would have been suggested .+ earlier"))
    expect(boss.locator("#post-mortem-backtest .backtest-changed")).to_contain_text("Medium → High")
    post_mortem.refresh_from_db()
    result = post_mortem.backtest
    assert result["minutes_earlier"] > 0
    assert result["severity_moves"].get("medium>high", 0) >= 5
    press(boss.locator("#post-mortem-backtest details > summary"))
    screenshot(boss, "crisis-room-7-post-mortem")

    # The PDF export names the crisis.
    response = boss.request.get(f"{live_server.url}/crises/{crisis.pk}/post-mortem.pdf")
    assert response.status == 200
    document = pypdfium2.PdfDocument(response.body())
    try:
        assert TITLE in document[0].get_textpage().get_text_range()
    finally:
        document.close()
    supervisor.close()
