"""In the Spanish interface, the pages a crisis team reads show no English scoring words."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from crisis.demo import create_demo_users
from monitoring.connectors.base import AuthorIn, MentionIn
from monitoring.ingest import ingest_mentions
from protocols import backtest, services
from protocols.models import BacktestRun
from protocols.pipeline import score_and_store
from tests.e2e.conftest import SCREENSHOTS, screenshot

pytestmark = pytest.mark.e2e

# Acceptance 7 of issue 8: none of these may show in the page text (attributes and URLs
# are not text). Whole words, case-insensitive.
ENGLISH = (
    "low",
    "medium",
    "high",
    "critical",
    "Neutral",
    "Praise",
    "Question",
    "base score",
    "negative sentiment",
    "complaint",
    "spike",
    "__all__",
    "Select an option",
    "rows stored",
    "not an http(s) URL",
    "required value is empty",
)
TEXTS = [
    "El router no funciona desde hace tres días, es una vergüenza, voy a ir a la OCU",
    "Me habéis cobrado dos veces la factura, quiero mi dinero ya",
    "¿Cómo cambio mi tarifa?",
    "Gracias por arreglarlo tan rápido, sois geniales",
    "Hoy hace sol en Madrid",
]


def english_words_in(text: str) -> list[str]:
    return [
        word
        for word in ENGLISH
        if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
    ]


@pytest.fixture
def spanish_page(browser, request):
    context = browser.new_context(locale="es-ES", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"FAILED-{request.node.name}.png", full_page=True)
    context.close()


@pytest.fixture
def scored_mentions(transactional_db, redis_client):
    create_demo_users()
    now = timezone.now()
    ids = ingest_mentions(
        [
            MentionIn(
                platform="mastodon",
                external_id=f"es-{number}",
                url=f"https://masto.example/{number}",
                text=text,
                published_at=now - timezone.timedelta(hours=number + 1),
                author=AuthorIn(handle=f"persona{number}", followers=40_000 * number),
            )
            for number, text in enumerate(TEXTS)
        ],
        source_id=None,
    ).new_mention_ids
    score_and_store(ids, version=services.active_version())
    return ids


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(f"calma-{username}")
    page.locator("#id_password").press("Enter")
    page.wait_for_load_state()


def page_text(page) -> str:
    return page.locator("body").inner_text()


def test_explorer_and_why_this_score_read_in_spanish(spanish_page, live_server, scored_mentions):
    page = spanish_page
    sign_in(page, live_server.url, "supervisor")
    page.goto(live_server.url + reverse("monitoring:mentions"))
    for summary in page.locator("details.why-score summary").all():
        summary.click()  # open every "why this score"
    page.get_by_text("puntuación base").first.wait_for()
    screenshot(page, "spanish-explorer")
    assert page.locator("html").get_attribute("lang") == "es"
    assert english_words_in(page_text(page)) == []


def test_protocol_version_and_a_refused_section_read_in_spanish(
    spanish_page, live_server, scored_mentions
):
    page = spanish_page
    sign_in(page, live_server.url, "supervisor")
    version = services.active_version()
    page.goto(live_server.url + reverse("protocols:detail", args=[version.pk]))
    assert english_words_in(page_text(page)) == []

    draft = services.create_draft(actor=_supervisor())
    page.goto(
        live_server.url + reverse("protocols:edit_section", args=[draft.pk, "severity_thresholds"])
    )
    page.get_by_label("Media desde").fill("70")
    page.get_by_label("Alta desde").fill("60")
    page.get_by_role("button", name="Guardar").click()
    page.get_by_text("se solapa con media").wait_for()
    screenshot(page, "spanish-section-error")
    assert english_words_in(page_text(page)) == []


def test_finished_backtest_reads_in_spanish(spanish_page, live_server, scored_mentions):
    page = spanish_page
    supervisor = _supervisor()
    draft = services.update_draft(
        actor=supervisor,
        version=services.create_draft(actor=supervisor),
        section="severity_thresholds",
        value={"medium": 10, "high": 11, "critical": 12},
    )
    run = backtest.run_backtest(
        BacktestRun.objects.create(
            draft=draft, baseline=services.active_version(), days=7, created_by=supervisor
        )
    )
    assert run.result["changed"] >= 1
    sign_in(page, live_server.url, "supervisor")
    page.goto(live_server.url + reverse("protocols:backtest", args=[run.pk]))
    page.locator("table.changed-mentions").wait_for()
    screenshot(page, "spanish-backtest")
    assert english_words_in(page_text(page)) == []


def test_csv_import_with_bad_rows_reads_in_spanish(spanish_page, live_server, scored_mentions):
    page = spanish_page
    sign_in(page, live_server.url, "admin")
    page.goto(live_server.url + reverse("monitoring:import_csv"))
    csv = (
        "id,url,text,published_at,author\n"
        "ok-1,https://foro.example/1,La factura llegó duplicada,2026-01-05 10:00,marta\n"
        "bad-1,javascript:alert(1),Texto,2026-01-05 10:00,luis\n"
        "bad-2,https://foro.example/3,,2026-01-05 10:00,eva\n"
    )
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "menciones.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.get_by_role("button", name="Importar").click()
    page.locator("article table").wait_for()
    screenshot(page, "spanish-csv-import")
    text = page_text(page)
    assert "http(s)" in text  # the URL row error is shown, in Spanish
    assert english_words_in(text) == []


def _supervisor():
    return get_user_model().objects.get(username="supervisor")
