"""The post-mortem's exports: Markdown (every stored text escaped) and PDF (WeasyPrint; the
rendered first page is not blank and its text holds the crisis title), in the reader's
language, and the PDF renderer's URL fetcher, which serves Calma's static files only."""

from datetime import date, timedelta

import pypdfium2
import pytest
from django.utils import translation

from crisis.rooms import backtest, export, postmortem
from crisis.rooms.models import CabinetRole
from tests.incidents.factories import NOW
from tests.rooms.factories import a_crisis, cabinet_member_user, seat
from tests.rooms.postmortem_fixtures import incident_on, on_topics, resolve

pytestmark = pytest.mark.django_db

DECLARED = NOW
RESOLVED = NOW + timedelta(hours=4)
LATER = RESOLVED + timedelta(days=1)
TITLE = "Cobros dobles en tarjetas"


@pytest.fixture
def written():
    """A resolved crisis with mentions, a linked incident, a written post-mortem, an item, a
    protocol draft and its backtest."""
    first = on_topics(("billing",), at=DECLARED - timedelta(minutes=45), severity="high")
    for minutes in (10, 70, 130):
        on_topics(("billing",), at=DECLARED + timedelta(minutes=minutes), severity="medium")
    crisis = resolve(a_crisis(title=TITLE, topics=("billing",), declared_at=DECLARED), RESOLVED)
    incident = incident_on(first, first_response_at=first.published_at + timedelta(minutes=25))
    from tests.rooms.factories import link

    link(crisis, incident)
    boss = crisis.commander
    member = cabinet_member_user("legal-export")
    seat(crisis, member, "legal", CabinetRole.MEMBER)
    started = postmortem.start_post_mortem(actor=boss, crisis=crisis, now=LATER)
    postmortem.update_post_mortem(
        actor=boss,
        post_mortem=started,
        now=LATER,
        summary="Cards were charged twice.\n- not a list\n# not a heading",
        root_cause="A retried job without an idempotency key <script>alert(1)</script>",
        what_worked="[a link](javascript:alert(1)) and *stars*",
    )
    postmortem.add_follow_up_item(
        actor=boss,
        post_mortem=started,
        title="Add | an idempotency key",
        owner=member,
        due_on=date(2026, 3, 20),
        now=LATER,
    )
    postmortem.create_protocol_draft_from_post_mortem(actor=boss, post_mortem=started, now=LATER)
    started.refresh_from_db()
    return backtest.start_crisis_backtest(actor=boss, post_mortem=started, now=LATER)


def test_markdown_holds_the_post_mortem_with_every_stored_text_escaped(written):
    text = export.markdown(written, language="en", now=LATER)
    assert text.startswith(f"# Post-mortem: {TITLE}\n")
    assert "| Mentions | 4 |" in text
    assert "| First response, median | 25 min |" in text
    assert "| From it to the declaration | 45 min |" in text
    assert "Cards were charged twice.\n\\- not a list\n\\# not a heading" in text
    assert "\\<script\\>alert(1)\\</script\\>" in text
    assert "\\[a link\\](javascript:alert(1)) and \\*stars\\*" in text
    assert "| Add \\| an idempotency key | legal-export |" in text
    assert "## Proposed protocol changes" in text
    assert f"Draft protocol version v{written.protocol_draft.number}." in text
    assert "Neither version would have suggested a crisis on its topics." in text
    assert "<script>" not in text


def test_markdown_is_in_the_readers_language(written):
    text = export.markdown(written, language="es", now=LATER)
    assert "Borrador" in text  # the post-mortem's state
    assert translation.get_language() == "en-us" or translation.get_language().startswith("en")


def test_the_pdf_renders_its_first_page_with_the_crisis_title(written):
    document = export.pdf(written, language="en", now=LATER)
    assert document.startswith(b"%PDF")
    pdf = pypdfium2.PdfDocument(document)
    try:
        page = pdf[0]
        text = page.get_textpage().get_text_range()
        assert TITLE in text
        image = page.render(scale=1).to_pil().convert("L")
        darkest, _lightest = image.getextrema()
        assert darkest < 128  # something is drawn: not a white page
        assert len(pdf) >= 1
    finally:
        pdf.close()


def test_the_pdf_draws_the_timeline_chart(written):
    context = export.document_context(written, now=LATER)
    assert "<svg" in context["chart"]
    assert "chart-bar" in context["chart"]


def test_the_pdf_fetcher_serves_calmas_static_files_only():
    css = export.static_file_for(f"{export.PRINT_BASE_URL}static/css/postmortem_print.css")
    assert css.name == "postmortem_print.css"
    refused = [
        "https://example.org/static/css/postmortem_print.css",
        "http://calma.invalid/static/css/postmortem_print.css",
        "file:///etc/passwd",
        f"{export.PRINT_BASE_URL}etc/passwd",
        f"{export.PRINT_BASE_URL}static/../crisis/settings.py",
        f"{export.PRINT_BASE_URL}static/%2e%2e/crisis/settings.py",
        f"{export.PRINT_BASE_URL}static/css/no-such-file.css",
        "data:text/css,body{}",
    ]
    for url in refused:
        with pytest.raises(export.StaticFilesOnly):
            export.static_file_for(url)
    fetcher = export.url_fetcher()
    response = fetcher.fetch(f"{export.PRINT_BASE_URL}static/css/postmortem_print.css")
    assert response.read().startswith(b"/*")
    with pytest.raises(export.StaticFilesOnly):
        fetcher.fetch("https://example.org/tracker.png")


def test_a_post_mortem_without_figures_or_draft_still_exports():
    crisis = resolve(a_crisis(title=TITLE, topics=(), declared_at=DECLARED), RESOLVED)
    started = postmortem.start_post_mortem(actor=crisis.commander, crisis=crisis, now=LATER)
    text = export.markdown(started, language="en", now=LATER)
    assert "No protocol draft was proposed." in text
    assert export.pdf(started, language="en", now=LATER).startswith(b"%PDF")


def test_minutes_read_as_hours_and_days():
    assert export.minutes_label(None) == "—"
    assert export.minutes_label(12.4) == "12 min"
    assert export.minutes_label(95) == "1 h 35 min"
    assert export.minutes_label(-20) == "−20 min"
    assert export.minutes_label(60 * 50) == "2 d 2 h"


def test_markdown_escaping_keeps_text_literal():
    assert export.md_text("1. first") == "1\\. first"
    assert export.md_text("  12) twelfth") == "  12\\) twelfth"
    assert export.md_text("+ plus\n> quote\n===") == "\\+ plus\n\\> quote\n\\==="
    assert export.md_cell("a\nb | c") == "a b \\| c"
