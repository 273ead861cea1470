"""Acceptance 1 of issue 11 in a real browser, the post-mortem changes the protocol: from the
post-mortem of the resolved crisis a supervisor creates a protocol draft (based on the version
the crisis ran on, linked to the post-mortem), lowers its high threshold in the protocol
editor, comes back and backtests it on the crisis's own mentions: the post-mortem reads that
with this draft the crisis would have been suggested earlier, and lists the complaints that
would have been high instead of medium."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crisis.models import AuditEvent
from crisis.rooms.models import PostMortem
from protocols.models import ProtocolStatus
from tests.e2e.conftest import screenshot
from tests.e2e.journeys import exactly, press, sign_in
from tests.e2e.rooms_journeys import (
    COMPLAINTS,
    DRAFT_HIGH_THRESHOLD,
    TITLE,
    complaint_surge,
    convened_crisis,
    crisis_people,
    resolved_with_post_mortem,
)

pytestmark = pytest.mark.e2e


def test_a_protocol_draft_from_the_post_mortem_is_backtested_on_the_crisis(
    page, live_server, transactional_db, redis_client
):
    now = timezone.now()
    people = crisis_people()
    surge = complaint_surge(now=now)
    crisis = convened_crisis(people, surge, now=now)
    post_mortem = resolved_with_post_mortem(people, crisis, now=now)

    # The supervisor reaches the post-mortem from the room.
    sign_in(page, live_server.url, "supervisor")
    page.goto(f"{live_server.url}/crises/")
    press(page.get_by_role("link", name=exactly(TITLE)))
    press(page.get_by_role("button", name=exactly("Continue the post-mortem")))
    page.wait_for_url(re.compile(rf"/crises/{crisis.pk}/post-mortem/$"))
    proposal = page.locator("#post-mortem-protocol")
    press(
        proposal.get_by_role(
            "button", name=exactly("Create a protocol draft from this post-mortem")
        )
    )
    expect(proposal).to_contain_text("holds the changes this post-mortem proposes")
    post_mortem.refresh_from_db()
    draft = post_mortem.protocol_draft
    assert draft.status == ProtocolStatus.DRAFT
    assert draft.based_on_id == crisis.protocol_version_id
    assert AuditEvent.objects.filter(
        verb="crisis.post_mortem.protocol_draft", object_id=str(crisis.pk)
    ).exists()

    # In the protocol editor: the high threshold lowered from 55 to 50.
    press(proposal.get_by_role("link", name=exactly("Edit it in the protocol editor")))
    page.wait_for_url(re.compile(rf"/protocols/{draft.pk}/$"))
    press(page.get_by_role("link", name="Edit").first)  # severity thresholds come first
    page.get_by_label("High from").fill(str(DRAFT_HIGH_THRESHOLD))
    press(page.get_by_role("button", name=exactly("Save")))
    page.wait_for_url(re.compile(rf"/protocols/{draft.pk}/"))
    draft.refresh_from_db()
    assert draft.config["severity_thresholds"]["high"] == DRAFT_HIGH_THRESHOLD

    # Back to the post-mortem: the backtest on the crisis's own mentions.
    page.goto(f"{live_server.url}/crises/{crisis.pk}/post-mortem/")
    backtest = page.locator("#post-mortem-backtest")
    press(backtest.get_by_role("button", name=exactly("Backtest the draft on this crisis")))
    summary = page.locator("#post-mortem-backtest .backtest-summary")
    expect(summary).to_contain_text(
        re.compile(r"With this draft the crisis would have been suggested .+ earlier\.")
    )
    post_mortem.refresh_from_db()
    result = post_mortem.backtest
    assert result["status"] == "done"
    assert result["draft"]["number"] == draft.number
    assert result["crisis_mentions"] + result["history_mentions"] == 12
    # The six medium complaints of small accounts are high with the draft: the threshold (5
    # in 30 minutes) is crossed at the fifth of them, 20 minutes after the first, instead of
    # at the fifth high complaint of the larger accounts, 90 minutes after it.
    assert result["severity_moves"] == {"medium>high": 6}, result["severity_moves"]
    assert result["minutes_earlier"] == 70, result["suggested"]
    expect(page.locator("#post-mortem-backtest .backtest-changed")).to_contain_text(
        "6 mentions would change severity"
    )
    press(page.get_by_text("The 6 mentions that would change", exact=True))
    rows = page.locator("#post-mortem-backtest table.changed-mentions tbody tr")
    expect(rows).to_have_count(6)
    for row in rows.all():
        expect(row.locator("td").nth(1)).to_contain_text("Medium")
        expect(row.locator("td").nth(2)).to_contain_text("High")
    expect(rows.first).to_contain_text(COMPLAINTS[0][:30])
    screenshot(page, "crisis-room-12-post-mortem-backtest")
    assert PostMortem.objects.get(pk=post_mortem.pk).protocol_draft_id == draft.pk
