"""Acceptance 3 of issue 10 in a real browser: "take it private". A Spanish complaint on the
simulated Mastodon becomes an incident through the real path; the manager, in the Spanish
interface, takes it private from the incident page (e-mail, a due date of their choosing), which
drafts the public acknowledgement from the protocol's template; it goes through whatever
approval the protocol asks for and out through the brand's account (exactly one reply on the
thread); the incident waits in private follow-up; the manager completes the follow-up with its
outcome and the incident is resolved."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from crisis.incidents.models import IncidentState
from crisis.models import AuditEvent
from crisis.people.selectors import profile_for, time_zone_of
from crisis.replies.models import (
    FollowUp,
    FollowUpChannel,
    FollowUpState,
    Reply,
    ReplyPurpose,
    ReplyState,
)
from protocols import replies as rules
from tests.e2e.conftest import screenshot
from tests.e2e.journeys import (
    BRAND_HANDLE,
    DOUBLE_CHARGE,
    demo_people,
    exactly,
    mastodon_source_answered_by_brisa,
    one_post_world,
    poll_until_incident,
    press,
    sign_in,
    simulator_for,
    spanish,
    switch_language,
    wait_until,
)

pytestmark = pytest.mark.e2e
EMAIL = "lucia.garcia@correo.example"
NOTE = "Revisar el doble cargo de la factura de noviembre"
OUTCOME = "Devolvimos el cargo duplicado; Lucía confirma que ya lo ve en su cuenta."


def test_a_complaint_taken_private_is_acknowledged_followed_up_and_resolved(
    page, browser, live_server, celery_worker, monkeypatch
):
    now = timezone.now()
    world, post = one_post_world(DOUBLE_CHARGE, now=now)
    demo_people()
    manager = get_user_model().objects.get(username="manager")
    zone = ZoneInfo(time_zone_of(profile_for(manager)))
    # The day after tomorrow at 10:30 on the manager's clock.
    due = datetime.combine(
        timezone.localtime(now, zone).date() + timedelta(days=2), time(10, 30), tzinfo=zone
    )
    with simulator_for(world, now=now) as server:
        mastodon_source_answered_by_brisa(server, monkeypatch)
        incident = poll_until_incident(post)
        assert incident.owner == manager
        config = incident.protocol_version.config

        sign_in(page, live_server.url, "manager")
        switch_language(page, "es")
        page.goto(f"{live_server.url}/incidents/{incident.pk}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"#{incident.pk}")

        # Take it private: by e-mail, due when the manager says, with a note.
        take_private = exactly(spanish("Take it private"))
        take = page.locator("#private-panel details").filter(
            has=page.locator("summary", has_text=take_private)
        )
        press(take.locator("summary"))
        take.get_by_label(spanish("Continue by")).select_option(FollowUpChannel.EMAIL)
        take.get_by_label(spanish("Due")).fill(f"{due:%Y-%m-%dT%H:%M}")
        take.get_by_label(spanish("E-mail address")).fill(EMAIL)
        take.get_by_label(spanish("Note")).fill(NOTE)
        screenshot(page, "take-private-journey-1-form")
        press(take.get_by_role("button", name=take_private))

        follow_up = wait_until(
            lambda: FollowUp.objects.filter(incident=incident).first(),
            15,
            "taking it private created no follow-up",
        )
        assert follow_up.state == FollowUpState.OPEN
        assert follow_up.channel == FollowUpChannel.EMAIL
        assert follow_up.owner == manager
        assert follow_up.due_at == due
        assert follow_up.contact.email == EMAIL
        # The address stays out of the audit trail.
        assert not any(
            EMAIL in f"{event.before} {event.after}" for event in AuditEvent.objects.all()
        )
        expect(page.locator(f"[data-follow-up='{follow_up.pk}']")).to_contain_text(EMAIL)

        # The public acknowledgement, drafted from the protocol's template in Spanish, shows in
        # the reply panel at once.
        acknowledgement = Reply.objects.get(incident=incident)
        assert acknowledgement.purpose == ReplyPurpose.ACKNOWLEDGEMENT
        assert acknowledgement.language == "es"
        filled = rules.fill_template(
            config["replies"]["acknowledgement_templates"]["es"][0],
            {
                "author": DOUBLE_CHARGE.display_name,
                "brand": config["replies"]["brand"],
                "agent": "manager",
                "case": f"#{incident.pk}",
                "channel": "Mastodon",
            },
        )
        assert not filled.missing
        assert acknowledgement.text == filled.text
        editor = page.get_by_label(spanish("Your reply"))
        expect(editor).to_have_value(filled.text)
        screenshot(page, "take-private-journey-2-acknowledgement")

        # Submit it; it needs whatever approval the protocol says for this incident.
        press(page.get_by_role("button", name=exactly(spanish("Submit"))))
        required = rules.approvers_required(
            config,
            severity=incident.severity,
            triage_class=incident.triage_class,
            keyword_groups=incident.opened_score.get("matched_groups") or [],
        )
        wait_until(
            lambda: Reply.objects.get(pk=acknowledgement.pk).state != ReplyState.DRAFT,
            15,
            "the acknowledgement was never submitted",
        )
        acknowledgement.refresh_from_db()
        assert acknowledgement.approvers_required == required
        screenshot(page, "take-private-journey-3-submitted")
        if required:
            assert acknowledgement.state == ReplyState.AWAITING_APPROVAL
            assert required == [rules.SUPERVISOR]  # no legal group matched this complaint
            assert server.writes.log() == []
            approve_as_supervisor(browser, live_server.url, acknowledgement, filled.text)

        # Out through the brand's account: exactly one reply, on the mention's thread.
        wait_until(
            lambda: Reply.objects.filter(pk=acknowledgement.pk, state=ReplyState.SENT).exists(),
            30,
            "the acknowledgement was never sent",
        )
        replies = server.writes.replies("mastodon")
        assert len(replies) == 1, replies
        assert replies[0]["in_reply_to"] == post.external_id
        assert replies[0]["account"] == BRAND_HANDLE
        assert replies[0]["text"].endswith(filled.text)
        incident.refresh_from_db()
        assert incident.state == IncidentState.PRIVATE_FOLLOW_UP
        assert incident.first_response_at is not None  # the public answer stopped the clock

        page.reload()
        state = page.locator("[data-incident-state]")
        expect(state).to_have_attribute("data-incident-state", IncidentState.PRIVATE_FOLLOW_UP)
        expect(state).to_have_text(spanish(IncidentState.PRIVATE_FOLLOW_UP.label))
        screenshot(page, "take-private-journey-4-following-up")

        # The private conversation ends: complete the follow-up with its outcome, resolving.
        card = page.locator(f"[data-follow-up='{follow_up.pk}']")
        card.get_by_label(spanish("Outcome")).fill(OUTCOME)
        expect(card.get_by_label(spanish("Resolve the incident"))).to_be_checked()
        press(card.get_by_role("button", name=exactly(spanish("Complete the follow-up"))))
        expect(page.locator(f"[data-follow-up='{follow_up.pk}']")).to_have_count(0)
        follow_up.refresh_from_db()
        assert follow_up.state == FollowUpState.DONE
        assert follow_up.outcome == OUTCOME
        assert follow_up.completed_at is not None
        incident.refresh_from_db()
        assert incident.state == IncidentState.RESOLVED
        # The page says so without a reload, and after one.
        expect(page.locator("[data-incident-state]")).to_have_text(
            spanish(IncidentState.RESOLVED.label)
        )
        page.reload()
        expect(page.locator("[data-incident-state]")).to_have_text(
            spanish(IncidentState.RESOLVED.label)
        )
        expect(page.locator("#private-panel")).to_contain_text(OUTCOME)
        screenshot(page, "take-private-journey-5-resolved")
        assert len(server.writes.replies("mastodon")) == 1  # still one public reply


def approve_as_supervisor(browser, base_url: str, reply: Reply, text: str) -> None:
    """A supervisor, in a browser of their own, approves the reply from the approval queue."""
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    boss = context.new_page()
    boss.set_default_timeout(15_000)
    try:
        sign_in(boss, base_url, "supervisor")
        boss.wait_for_url(re.compile(r"/approvals/$"))
        item = boss.locator(f"#approval-{reply.pk}")
        expect(item).to_contain_text(text)
        screenshot(boss, "take-private-journey-3b-approval-queue")
        press(item.get_by_role("button", name=exactly("Approve")))
        expect(boss.locator(f"#approval-{reply.pk}")).to_have_count(0)
    finally:
        context.close()
