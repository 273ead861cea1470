"""Acceptance 1 of issue 11 in a real browser, the one public statement: the spokesperson (a
cabinet-member user) drafts it with a short text for Bluesky (the statement is longer than
Bluesky's 300 characters) and submits it; she cannot approve it herself; a supervisor and the
cabinet's legal member (level 3) approve it, each in their own browser; then it goes out on two
channels: the blog marked published by hand with its link, and Mastodon through the brand's
publishing account by a real worker, the simulator recording exactly one top-level post with
the statement's text."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crisis.models import AuditEvent
from crisis.rooms.models import (
    Publication,
    PublicationState,
    StatementApproval,
    StatementState,
    StatementVersion,
)
from tests.e2e.conftest import screenshot
from tests.e2e.journeys import exactly, press, sign_in, wait_until
from tests.e2e.rooms_journeys import (
    BLOG_URL,
    BLUESKY_TEXT,
    BRAND_HANDLE,
    LEGAL,
    SPOKESPERSON,
    STATEMENT,
    TITLE,
    brand_account_on,
    complaint_surge,
    convened_crisis,
    crisis_people,
    mastodon_simulator,
)

pytestmark = pytest.mark.e2e


def open_room(page, base_url: str, username: str, crisis) -> None:
    sign_in(page, base_url, username)
    page.goto(f"{base_url}/crises/")
    press(page.get_by_role("link", name=exactly(TITLE)))
    page.wait_for_url(re.compile(rf"/crises/{crisis.pk}/(#.*)?$"))


def test_the_statement_is_drafted_approved_by_two_others_and_published_on_two_channels(
    page, browser, live_server, celery_worker, monkeypatch
):
    now = timezone.now()
    people = crisis_people()
    crisis = convened_crisis(people, complaint_surge(now=now), now=now)
    with mastodon_simulator(now=now) as server:
        brand_account_on(server, monkeypatch)

        # The spokesperson drafts it: the statement, and Bluesky's own short text.
        open_room(page, live_server.url, SPOKESPERSON.username, crisis)
        section = page.locator("#crisis-statement")
        expect(section.get_by_text("No statement approved yet.")).to_be_visible()
        press(section.get_by_role("button", name=exactly("Draft the statement")))
        editor = page.locator("form.statement-editor")
        expect(editor).to_be_visible()
        # Saved as she types (the editor's autosave; its Save button is the no-JavaScript
        # way): she leaves each field with Tab and waits for the editor to say it is saved.
        status = editor.locator(".statement-status")
        editor.get_by_label(re.compile(r"^Statement")).fill(STATEMENT)
        page.keyboard.press("Tab")
        expect(status).to_contain_text("Saved (revision 2)")
        editor.get_by_label(re.compile(r"^Bluesky")).fill(BLUESKY_TEXT)
        page.keyboard.press("Tab")
        expect(status).to_contain_text("Saved (revision 3)")
        expect(status.locator(".error")).to_have_count(0)  # every channel text fits now
        version = StatementVersion.objects.get(statement__crisis=crisis)
        assert version.text == STATEMENT
        assert version.channel_texts == {"bluesky": BLUESKY_TEXT}
        press(editor.get_by_role("button", name=exactly("Submit for approval")))
        current = page.locator("article.statement-current")
        expect(current).to_have_class(re.compile(r"statement-state-awaiting_approval"))
        version.refresh_from_db()
        assert version.state == StatementState.AWAITING_APPROVAL
        assert version.approvers_required == ["supervisor", "legal"]  # level 3
        # Her own draft: no approval button for her.
        expect(current.get_by_role("button", name=re.compile(r"^Approve"))).to_have_count(0)
        expect(current).to_contain_text("nobody approves a statement they drafted")
        screenshot(page, "crisis-room-4-statement-submitted")

        # A supervisor and the legal member approve it, each in their own browser.
        for username, button in (
            ("supervisor", "Approve as supervisor"),
            (LEGAL.username, "Approve as legal"),
        ):
            context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
            other = context.new_page()
            other.set_default_timeout(15_000)
            try:
                open_room(other, live_server.url, username, crisis)
                deciding = other.locator("article.statement-current")
                # The text to approve: read (legal) or in the editor (a supervisor may edit).
                shown = deciding.locator(".statement-text, textarea[data-statement-main]")
                expect(shown.first).to_contain_text(STATEMENT[:60])
                expect(deciding.locator(".statement-waiting")).to_contain_text("Still needed")
                press(deciding.get_by_role("button", name=exactly(button)))
                other.wait_for_load_state()
                expect(other.get_by_role("button", name=exactly(button))).to_have_count(0)
            finally:
                context.close()
        version.refresh_from_db()
        assert version.state == StatementState.APPROVED
        approvals = {
            (approval.role, approval.decided_by.username)
            for approval in StatementApproval.objects.filter(version=version, decision="approved")
        }
        assert approvals == {("supervisor", "supervisor"), ("legal", LEGAL.username)}

        # The checklist: the blog by hand with its link, Mastodon through the connector.
        page.reload()
        expect(section.locator("#statement-approved-text")).to_contain_text(STATEMENT[:60])
        checklist = page.locator("#statement-checklist")
        blog = checklist.locator("tr").filter(has=page.get_by_role("rowheader", name="Blog"))
        press(blog.get_by_text("Mark published", exact=True).first)
        blog.get_by_label("Link to the published statement").fill(BLOG_URL)
        press(blog.get_by_role("button", name=exactly("Mark published")))
        blog = page.locator("#statement-checklist tr").filter(
            has=page.get_by_role("rowheader", name="Blog")
        )
        expect(blog.locator(f"a[href='{BLOG_URL}']")).to_be_visible()

        mastodon = page.locator("#statement-checklist tr").filter(
            has=page.get_by_role("rowheader", name="Mastodon")
        )
        press(mastodon.get_by_role("button", name=exactly("Publish on Mastodon")))
        published = wait_until(
            lambda: Publication.objects.filter(
                version=version, channel="mastodon", state=PublicationState.PUBLISHED
            ).first(),
            30,
            "the worker never published the statement on Mastodon",
        )
        statuses = server.writes.statuses("mastodon")
        assert len(statuses) == 1, statuses
        (posted,) = statuses
        assert posted["text"] == STATEMENT  # Mastodon takes the statement itself (318 ≤ 500)
        assert posted["account"] == BRAND_HANDLE
        assert posted["in_reply_to"] in ("", None)
        assert [record["action"] for record in server.writes.log("mastodon")] == ["status"]
        assert published.external_id == posted["external_id"]
        assert published.url
        # The checklist refreshes itself while Calma publishes: the post's link shows.
        mastodon = page.locator("#statement-checklist tr").filter(
            has=page.get_by_role("rowheader", name="Mastodon")
        )
        expect(mastodon.locator(f"a[href='{published.url}']")).to_be_visible(timeout=20_000)
        expect(mastodon).to_contain_text(f"posted by Calma as {BRAND_HANDLE}")

        lines = dict(Publication.objects.filter(version=version).values_list("channel", "state"))
        assert lines["blog"] == PublicationState.PUBLISHED
        assert lines["mastodon"] == PublicationState.PUBLISHED
        blog_line = Publication.objects.get(version=version, channel="blog")
        assert blog_line.url == BLOG_URL
        assert blog_line.published_by.username == SPOKESPERSON.username
        screenshot(page, "crisis-room-5-statement-published")

        verbs = set(
            AuditEvent.objects.filter(
                object_type="rooms.crisis", object_id=str(crisis.pk)
            ).values_list("verb", flat=True)
        )
        assert {
            "crisis.statement_draft",
            "crisis.statement_submit",
            "crisis.statement_approval",
            "crisis.statement_approved",
            "crisis.statement_published",
        } <= verbs, verbs
