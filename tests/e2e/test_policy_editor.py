"""A supervisor edits a reply template in the policy form and sees it filled live, by keyboard,
under the strict CSP."""

import re

import pytest
from django.contrib.auth import get_user_model

from crisis.demo import create_demo_users
from protocols import services
from protocols.models import ProtocolVersion
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} ${event.blockedURI || "inline"}`);
});
"""


def test_supervisor_previews_and_saves_a_template(page, live_server, transactional_db):
    create_demo_users()
    services.ensure_default_protocol()
    supervisor = get_user_model().objects.get(username="supervisor")
    draft = services.create_draft(actor=supervisor)
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("supervisor")
    page.get_by_label("Password").fill("calma-supervisor")
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)

    page.goto(f"{live_server.url}/protocols/{draft.pk}/sections/policies/")
    page.get_by_label("First response within (minutes)").nth(2).fill("45")  # high
    high = page.locator("fieldset.policy-severity").nth(2)
    high.locator("summary", has_text="Question").click()
    box = high.get_by_label("High · Question · Spanish, new template")
    box.focus()
    page.keyboard.type("Hola {author}, disculpe las molestias {foo}. Caso {case}")
    preview = page.locator("#template-preview")
    preview.get_by_text("Hola María, disculpe las molestias {foo}. Caso #123").wait_for()
    assert "of 500 characters on Mastodon" in preview.inner_text()
    assert "{foo}" in preview.get_by_role("alert").inner_text()
    assert "disculpe las molestias" in preview.locator(".tone-warning").inner_text()

    page.get_by_label("Channel").select_option("bluesky")
    preview.get_by_text(re.compile(r"of 300 characters on Bluesky")).wait_for()
    screenshot(page, "policy-template-preview")

    box.fill("Hola {author}, lo miramos ahora mismo. {agent}")
    page.get_by_label("First response within (minutes)").nth(2).press("Enter")
    page.get_by_text("Response policies saved.").wait_for()
    high_policy = ProtocolVersion.objects.get(pk=draft.pk).config["policies"]["high"]
    assert high_policy["sla_minutes"] == 45
    assert high_policy["actions"]["question"]["templates"]["es"][-1] == (
        "Hola {author}, lo miramos ahora mismo. {agent}"
    )
    assert page.evaluate("window.__cspViolations") == []


def test_the_replies_preview_signs_with_the_brand_being_typed(page, live_server, transactional_db):
    create_demo_users()
    services.ensure_default_protocol()
    draft = services.create_draft(actor=get_user_model().objects.get(username="supervisor"))
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("supervisor")
    page.get_by_label("Password").fill("calma-supervisor")
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)

    page.goto(f"{live_server.url}/protocols/{draft.pk}/sections/replies/")
    page.get_by_label("Acknowledgement · English, template 1").fill(
        "{brand} will DM you, {author}."
    )
    preview = page.locator("#template-preview")
    preview.get_by_text("Brisa will DM you, María.").wait_for()
    page.get_by_label("Brand").fill("Brisa Móvil")
    preview.get_by_text("Brisa Móvil will DM you, María.").wait_for()
    screenshot(page, "replies-section-form")
    assert page.evaluate("window.__cspViolations") == []
