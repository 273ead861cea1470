"""Acceptance 2 of issue 10 in a real browser: a Spanish complaint on the simulated Mastodon
becomes an incident through the real path (a source polled by a real Celery worker, scored,
opened, routed to the manager on shift); the manager, in the Spanish interface, drafts the
reply from the protocol's Spanish template, edits it and submits it; a supervisor approves it
from the approval queue; the worker posts it through the brand's publishing account, the
simulator records exactly one reply on the mention's thread, and the incident shows it
replied, with the reply's link and its first-response clock stopped; every step is audited."""

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crisis.incidents.models import IncidentState
from crisis.replies.models import Reply, ReplyState
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
ADDED = " Te devolvemos hoy mismo el cargo duplicado."


def test_a_simulated_complaint_is_answered_once_after_a_supervisor_approves(
    page, browser, live_server, celery_worker, monkeypatch
):
    now = timezone.now()
    world, post = one_post_world(DOUBLE_CHARGE, now=now)
    demo_people()
    with simulator_for(world, now=now) as server:
        mastodon_source_answered_by_brisa(server, monkeypatch)

        # The real path: poll, score, open, route (the manager is on shift around the clock).
        incident = poll_until_incident(post)
        assert incident.owner.username == "manager"
        assert incident.triage_class == "complaint_company_fault"
        assert incident.first_response_at is None
        config = incident.protocol_version.config
        # The protocol makes this reply wait for a supervisor (its class is listed).
        assert incident.triage_class in config["replies"]["approval_classes"]

        # The manager, in Spanish, opens it from the inbox with the keyboard.
        sign_in(page, live_server.url, "manager")
        switch_language(page, "es")
        page.goto(f"{live_server.url}/inbox/")
        expect(page.locator("tr[data-incident]")).to_have_count(1)
        page.keyboard.press("j")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf"/incidents/{incident.pk}/$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"#{incident.pk}")
        screenshot(page, "reply-journey-1-incident")

        # Start the reply from the class's Spanish template (the mention's language).
        start = page.locator("form.reply-start")
        expect(start.get_by_role("radio").first).to_be_checked()
        expect(start.get_by_label(spanish("Language"))).to_have_value("es")
        press(start.get_by_role("button", name=exactly(spanish("Start a reply"))))
        editor = page.get_by_label(spanish("Your reply"))
        expect(editor).to_be_visible()
        template = config["policies"][incident.severity]["actions"][incident.triage_class][
            "templates"
        ]["es"][0]
        filled = rules.fill_template(
            template,
            {
                "author": "Lucía García",
                "brand": config["replies"]["brand"],
                "agent": "manager",
                "case": f"#{incident.pk}",
                "channel": "Mastodon",
            },
        )
        assert not filled.missing
        expect(editor).to_have_value(filled.text)
        screenshot(page, "reply-journey-2-draft")

        # Edit it (keyboard), save, submit.
        editor.focus()
        page.keyboard.press("Control+End")
        page.keyboard.type(ADDED)
        press(page.get_by_role("button", name=exactly(spanish("Save"))))
        reply = Reply.objects.get(incident=incident)
        wait_until(
            lambda: Reply.objects.get(pk=reply.pk).text == filled.text + ADDED,
            15,
            "the edited draft was never saved",
        )
        expect(page.get_by_label(spanish("Your reply"))).to_have_value(filled.text + ADDED)
        press(page.get_by_role("button", name=exactly(spanish("Submit"))))
        expect(page.locator("[data-incident-state]")).to_have_attribute(
            "data-incident-state", IncidentState.AWAITING_APPROVAL
        )
        expect(page.locator("[data-incident-state]")).to_have_text(
            spanish(IncidentState.AWAITING_APPROVAL.label)
        )
        reply.refresh_from_db()
        assert reply.state == ReplyState.AWAITING_APPROVAL
        assert reply.approvers_required == [rules.SUPERVISOR]
        assert server.writes.log() == []  # nothing leaves before the approval
        screenshot(page, "reply-journey-3-submitted")

        # A supervisor, in another browser, approves it from the approval queue.
        supervisor_context = browser.new_context(
            locale="en-GB", viewport={"width": 1280, "height": 900}
        )
        boss = supervisor_context.new_page()
        boss.set_default_timeout(15_000)
        try:
            sign_in(boss, live_server.url, "supervisor")
            boss.wait_for_url(re.compile(r"/approvals/$"))
            item = boss.locator(f"#approval-{reply.pk}")
            expect(item).to_contain_text(filled.text + ADDED)
            expect(item).to_contain_text(DOUBLE_CHARGE.text)
            screenshot(boss, "reply-journey-4-approval-queue")
            press(item.get_by_role("button", name=exactly("Approve")))
            expect(boss.locator(f"#approval-{reply.pk}")).to_have_count(0)
            screenshot(boss, "reply-journey-5-approved")

            # The worker posts it: exactly one reply, on the mention's thread.
            sent = wait_until(
                lambda: Reply.objects.filter(pk=reply.pk, state=ReplyState.SENT).first(),
                30,
                "the approved reply was never sent",
            )
            replies = server.writes.replies("mastodon")
            assert len(replies) == 1, replies
            (posted,) = replies
            assert posted["in_reply_to"] == post.external_id
            assert posted["account"] == BRAND_HANDLE
            assert posted["text"].endswith(filled.text + ADDED)
            assert [record["action"] for record in server.writes.log("mastodon")] == ["reply"]
            assert sent.external_id == posted["external_id"]
            assert sent.url

            # The incident reads replied, links the reply, its SLA clock stopped.
            incident.refresh_from_db()
            assert incident.state == IncidentState.REPLIED
            assert incident.first_response_at is not None
            page.reload()
            state = page.locator("[data-incident-state]")
            expect(state).to_have_attribute("data-incident-state", IncidentState.REPLIED)
            expect(state).to_have_text(spanish(IncidentState.REPLIED.label))
            assert spanish(IncidentState.REPLIED.label) == "Respondida"
            expect(page.locator(f"a[href='{sent.url}']")).to_be_visible()
            status = page.locator(".incident-status")
            expect(status.locator("[data-sla-due]")).to_have_count(0)  # no countdown left
            shown = status.locator("time").evaluate_all(
                "times => times.map(time => time.getAttribute('datetime'))"
            )
            assert any(
                abs(datetime.fromisoformat(moment) - incident.first_response_at)
                < timedelta(seconds=1)
                for moment in shown
            ), shown
            screenshot(page, "reply-journey-6-replied")

            # The audit page lists each step.
            boss.goto(f"{live_server.url}/audit/?verb=reply.&object_id={reply.pk}")
            steps = ("reply.draft", "reply.edit", "reply.submit", "reply.approve", "reply.sent")
            for verb in steps:
                expect(boss.get_by_text(verb, exact=True).first).to_be_visible()
            screenshot(boss, "reply-journey-7-audit")
        finally:
            supervisor_context.close()
