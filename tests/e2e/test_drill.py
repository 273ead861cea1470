"""Acceptance 5 of issue 13 in a real browser: a supervisor stores a small scenario, starts a
drill at high speed and watches it play (a real Celery worker ticks it); the drill's
incidents carry a DRILL badge in the inbox; the drill's suggestion is declared a crisis; the
board's real figures are the same as before the drill; the drill's report gives its times."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from crisis.drills.models import Drill, DrillStatus
from crisis.incidents.models import Incident
from tests.e2e.conftest import screenshot
from tests.e2e.journeys import demo_people, exactly, press, sign_in
from tests.e2e.rooms_journeys import default_departments
from tests.incidents.factories import incident

pytestmark = pytest.mark.e2e

THREATS = (
    "Si Brisa no devuelve el cobro duplicado en 48 horas: reclamación en consumo y a la OCU",
    "Esto es para llevarlo a la OCU. Brisa cobrando dos veces la factura a sus clientes",
)
SPEED = 600  # the scenario's quarter of an hour plays in about a second and a half
# A tick every 2 s and the drill page's poll every 3 s: well within this.
PLAYED_TIMEOUT_MS = 60_000
BOARD_FIGURES = "#volume .figure, #incidents .figure"


def scenario_csv(first) -> bytes:
    """Five quiet minutes, then eight legal threats from distinct authors 40 s apart from ten
    minutes in: high incidents, and a crisis suggestion at the fifth (+12 min 40 s)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "url", "text", "published_at", "author", "author_followers", "language"])
    for n in range(5):
        at = first + timedelta(minutes=n)
        writer.writerow([f"q{n}", f"https://example.org/q/{n}", f"Buenos días {n}", at.isoformat(),
                         f"calm{n}", 50, "es"])  # fmt: skip
    for n in range(8):
        at = first + timedelta(minutes=10, seconds=40 * n)
        writer.writerow([f"l{n}", f"https://example.org/l/{n}", THREATS[n % 2], at.isoformat(),
                         f"legal{n}", 900, "es"])  # fmt: skip
    return out.getvalue().encode()


def board_figures(page: Page, base_url: str) -> list[str]:
    """The board's real figures: mentions, negative share, complaints, serious mentions,
    open incidents (each block loads its fragment)."""
    page.goto(f"{base_url}/board/")
    figures = page.locator(BOARD_FIGURES)
    expect(figures).to_have_count(5)
    return [text.strip() for text in figures.all_inner_texts()]


def test_a_supervisor_runs_a_drill_that_stays_out_of_the_real_figures(
    page, live_server, celery_worker, tmp_path
):
    default_departments()
    demo_people()
    now = timezone.now()
    incident(severity="medium", at=now - timedelta(minutes=30))  # the real world's one
    base = live_server.url
    sign_in(page, base, "supervisor")
    before = board_figures(page, base)

    # No drill yet; store the scenario from a CSV.
    page.goto(f"{base}/drills/")
    expect(page.get_by_text("No drill yet", exact=False)).to_be_visible()
    press(page.get_by_role("button", name=exactly("New scenario")))
    page.get_by_label("Name").fill("Amenazas legales")
    upload = tmp_path / "amenazas.csv"
    upload.write_bytes(scenario_csv((now - timedelta(hours=2)).replace(microsecond=0)))
    page.get_by_label("CSV file").set_input_files(str(upload))
    press(page.get_by_role("button", name=exactly("Store the scenario")))
    page.wait_for_url(re.compile(r"/drills/start/\?scenario=\d+$"))

    # Start it at high speed; the starter and the active managers take part.
    page.get_by_label("Speed").fill(str(SPEED))
    expect(page.get_by_label("manager")).to_be_checked()
    press(page.get_by_role("button", name=exactly("Start the drill")))
    page.wait_for_url(re.compile(r"/drills/\d+/$"))
    drill = Drill.objects.get()
    expect(page.locator("[data-drill-badge]").first).to_be_visible()

    # The worker plays it; the page, never reloaded, follows to the end.
    expect(page.locator("[data-drill-status]")).to_have_text(
        exactly("Played"), timeout=PLAYED_TIMEOUT_MS
    )
    expect(page.locator("[data-drill-rows]")).to_contain_text("13 of 13")
    drill.refresh_from_db()
    assert drill.status == DrillStatus.PLAYED
    assert Incident.objects.filter(origin=drill.run.origin, owner__isnull=False).count() == 8

    # The drill's incidents wait in the participants' inbox, badged.
    page.goto(f"{base}/inbox/")
    badges = page.locator("#inbox-list [data-drill-badge]")
    expect(badges).to_have_count(8)
    live_row = page.locator("tr.inbox-row").filter(has_not=page.locator("[data-drill-badge]"))
    expect(live_row).to_have_count(1)

    # The drill's suggestion is declared a crisis from the drill's page.
    page.goto(f"{base}/drills/{drill.pk}/")
    press(page.get_by_role("link", name=exactly("Declare the crisis")).first)
    page.get_by_label("Title").fill("Simulacro: amenazas legales")
    press(page.get_by_role("button", name=exactly("Declare the crisis")))
    page.wait_for_url(re.compile(r"/crises/\d+/$"))

    # The board's real figures are as they were.
    assert board_figures(page, base) == before

    # The report, in scenario time from the first mention.
    page.goto(f"{base}/drills/{drill.pk}/")
    report = page.locator("#drill-report")
    expect(report.locator('[data-milestone="first_mention"]')).to_contain_text("+0 min")
    expect(report.locator('[data-milestone="suggestion"]')).to_contain_text("+12 min")
    expect(report.locator('[data-milestone="declaration"]')).to_contain_text(re.compile(r"\+\d"))
    expect(report.locator("[data-sla]")).to_contain_text("8 incidents")
    screenshot(page, "drill-report")

    # Closing asks first.
    press(page.locator("#close-drill"))
    page.wait_for_url(re.compile(rf"/drills/{drill.pk}/close/$"))
    press(page.get_by_role("button", name=exactly("Yes, close the drill")))
    page.wait_for_url(re.compile(rf"/drills/{drill.pk}/$"))
    expect(page.locator("[data-drill-status]")).to_have_text(exactly("Closed"))
