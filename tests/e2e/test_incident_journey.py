"""The manager's journey in a real browser: a mention pushed through the real webhook is
scored and opened as an incident by a real Celery worker, appears in the inbox without a
reload, is worked with the keyboard alone, its class corrected with a reason, and every step
is on the audit page. And hostile mention text and author names stay inert on the page."""

import json
import re
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crisis.incidents.models import Incident, IncidentMention, IncidentState
from crisis.people.models import Profile, Team
from crisis.roles import Role
from monitoring.connectors import webhook
from monitoring.models import Author, Mention
from monitoring.platforms import Platform, QueryKind
from protocols.services import active_version
from tests.e2e.conftest import screenshot
from tests.factories import UserFactory
from tests.monitoring.factories import make_source

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
SECRET = "journey-webhook-secret"
# A hostile payload per way a page could run code: each sets window.__pwned if it ever runs.
HOSTILE_TEXT = (
    "<script>window.__pwned='script'</script>"
    "<img src=x onerror=\"window.__pwned='img'\">"
    "<svg onload=\"window.__pwned='svg'\"></svg> billing is broken"
)
HOSTILE_NAME = "<img src=y onerror=\"window.__pwned='name'\"><svg onload=\"window.__pwned='n'\">"
HOSTILE_URL = "javascript:window.__pwned='link'"


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches `selector` (keyboard only)."""
    for _press in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector!r} is not reachable with Tab")


def push_signed(base_url: str, source_id: int, payload: dict) -> dict:
    """POST a signed webhook body over loopback, as a relay would."""
    body = json.dumps(payload).encode()
    request = urllib.request.Request(  # noqa: S310 (the live server on loopback)
        f"{base_url}/monitoring/webhook/{source_id}/",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Calma-Signature": webhook.sign(SECRET, body),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def complaint_payload() -> dict:
    return {
        "mentions": [
            {
                "platform": "twitter",
                "id": "journey-1",
                "url": "https://x.com/lucia_gm/status/journey-1",
                "text": (
                    "@brisa me habéis cobrado dos veces la factura y nadie responde. "
                    "Es una vergüenza, voy a poner una hoja de reclamaciones en la OCU"
                ),
                "published_at": timezone.now().isoformat(),
                "author": {
                    "handle": "@lucia_gm",
                    "display_name": "Lucía García",
                    "followers": 18420,
                    "url": "https://x.com/lucia_gm",
                },
                "language": "es",
            }
        ]
    }


def test_a_pushed_mention_becomes_an_incident_worked_with_the_keyboard_and_audited(
    page, browser, live_server, celery_worker, monkeypatch
):
    monkeypatch.setenv("CALMA_SECRET_JOURNEY_WEBHOOK_SECRET", SECRET)
    source = make_source(
        name="Relay",
        platform=Platform.WEBHOOK,
        kind=QueryKind.PUSH,
        query="",
        base_url="",
        credentials_ref="JOURNEY",
    )
    care = Team.objects.create(name="Care", is_default=True)
    manager = UserFactory(username="journey-cm", role=Role.COMMUNITY_MANAGER)
    Profile.objects.update_or_create(user=manager, defaults={"team": care})
    UserFactory(username="journey-boss", role=Role.SUPERVISOR)

    sign_in(page, live_server.url, "journey-cm")
    page.wait_for_url(re.compile(r"/inbox/"))
    expect(page.locator("tr[data-incident]")).to_have_count(0)

    assert push_signed(live_server.url, source.pk, complaint_payload())["new"] == 1
    # Scored and opened by the worker, routed (nobody on shift: the team's unassigned
    # queue), and shown by the inbox's own refresh: no reload.
    row = page.locator("tr[data-incident]")
    expect(row).to_have_count(1, timeout=30_000)
    expect(row).to_contain_text("Lucía García")
    incident = Incident.objects.get()
    assert incident.owner is None and incident.team == care
    screenshot(page, "incident-journey-inbox")

    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/incidents/{incident.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"#{incident.pk}")
    page.keyboard.press("a")
    expect(page.locator("[data-incident-owner]")).to_contain_text("journey-cm")
    expect(page.get_by_text("is yours")).to_be_visible()

    # Correct the class with a reason, keyboard only.
    tab_to(page, "[data-correct-class-toggle]")
    page.keyboard.press("Enter")
    tab_to(page, "#id_correct-to_class")
    page.keyboard.press("ArrowDown")  # from "company at fault" to "without reason"
    tab_to(page, "#id_correct-reason")
    page.keyboard.type("Billing sent both charges; the bank reversed one already")
    tab_to(page, "form[data-correct-class] button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_text("corrected")).to_be_visible()
    incident.refresh_from_db()
    assert incident.owner == manager
    assert incident.state == IncidentState.ASSIGNED
    assert incident.triage_class == "complaint_no_reason"
    screenshot(page, "incident-journey-page")

    supervisor_context = browser.new_context(
        locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    audit = supervisor_context.new_page()
    try:
        sign_in(audit, live_server.url, "journey-boss")
        audit.wait_for_url(re.compile(r"/approvals/"))
        audit.goto(f"{live_server.url}/audit/?object_id={incident.pk}&verb=incident.")
        for verb in ("incident.open", "incident.route", "incident.take", "incident.correct_class"):
            expect(audit.get_by_text(verb, exact=True).first).to_be_visible()
        screenshot(audit, "incident-journey-audit")
    finally:
        supervisor_context.close()


def _hostile_incident() -> Incident:
    author = Author.objects.create(
        platform=Platform.BLUESKY,
        handle="hostile.example",
        display_name=HOSTILE_NAME,
        followers=500,
        url=HOSTILE_URL,
    )
    mention = Mention.objects.create(
        platform=Platform.BLUESKY,
        external_id="at://hostile/1",
        author=author,
        text=HOSTILE_TEXT,
        url=HOSTILE_URL,
        language="en",
        published_at=timezone.now() - timedelta(minutes=3),
    )
    now = timezone.now()
    incident = Incident.objects.create(
        state=IncidentState.NEW,
        severity="high",
        triage_class="complaint_company_fault",
        topic="__all__",
        author=author,
        first_mention=mention,
        opened_at=now,
        opened_score={"value": 60, "severity": "high", "class": "complaint_company_fault"},
        protocol_version=active_version(),
        sla_due_at=now + timedelta(hours=1),
        reach=500,
        last_activity_at=now,
    )
    IncidentMention.objects.create(
        incident=incident, mention=mention, severity="high", attached_at=now
    )
    return incident


def test_hostile_mention_text_and_author_names_stay_inert_on_the_incident_page(
    page, live_server, transactional_db
):
    incident = _hostile_incident()
    UserFactory(username="xss-boss", role=Role.SUPERVISOR)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, live_server.url, "xss-boss")
    page.wait_for_url(re.compile(r"/approvals/"))
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    expect(page.locator(".mention-text").first).to_contain_text("<script>window.__pwned")
    expect(page.locator("[data-author-name]")).to_contain_text("<img src=y onerror=")
    # Nothing became markup: no injected image, vector graphic or script, no live link.
    assert page.locator("main img, main svg").count() == 0
    assert page.locator("main script:not([src])").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    screenshot(page, "incident-page-hostile-input")
