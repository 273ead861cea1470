"""A supervisor drafts a protocol change, backtests it and activates it, in the browser."""

import re

import pytest
from django.utils import timezone

from crisis.demo import create_demo_users
from monitoring.connectors.base import AuthorIn, MentionIn
from monitoring.ingest import ingest_mentions
from protocols.models import ProtocolStatus, ProtocolVersion
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.celery_worker]

TEXTS = [
    "Me habéis cobrado dos veces la factura, quiero mi dinero ya",
    "No internet for three days and nobody answers, terrible",
    "El técnico no se presentó, tercera vez",
]


def test_supervisor_backtests_and_activates_a_draft(page, live_server, celery_worker):
    create_demo_users()
    ingest_mentions(
        [
            MentionIn(
                platform="mastodon",
                external_id=str(number),
                url=f"https://masto.example/{number}",
                text=text,
                published_at=timezone.now() - timezone.timedelta(hours=number + 1),
                author=AuthorIn(handle=f"user{number}"),
            )
            for number, text in enumerate(TEXTS)
        ],
        source_id=None,
    )
    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("supervisor")
    page.get_by_label("Password").fill("calma-supervisor")
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(re.compile(r"/approvals/$"))

    page.keyboard.press("g")
    page.keyboard.press("p")  # keyboard shortcut to the protocol
    page.get_by_role("button", name="New draft from the active version").click()
    page.get_by_role("heading", name=re.compile(r"^v2 ")).wait_for()
    page.get_by_role("link", name="Edit").first.click()  # severity thresholds come first
    page.get_by_label("High from").fill("60")
    page.get_by_label("Medium from").fill("70")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("alert").first.inner_text().startswith("overlaps medium")
    page.get_by_label("Medium from").fill("10")
    page.get_by_label("High from").fill("11")
    page.get_by_role("button", name="Save").click()

    page.get_by_role("button", name="Run backtest").click()
    page.get_by_text("would change severity or class").wait_for(timeout=30_000)
    screenshot(page, "protocol-backtest")
    assert page.locator("table.changed-mentions tbody tr").count() >= 1

    page.get_by_role("link", name=re.compile(r"← v2")).click()
    page.get_by_role("button", name="Review and activate…").click()
    assert page.get_by_text("severity_thresholds.high").is_visible()
    page.get_by_role("button", name="Activate", exact=True).click()
    page.get_by_text("v2 is now active.").wait_for()
    assert ProtocolVersion.objects.get(status=ProtocolStatus.ACTIVE).number == 2
