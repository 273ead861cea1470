"""The interface speaks Spanish and English, switchable by the user, everywhere a user reads."""

import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from monitoring.connectors.base import AuthorIn, MentionIn
from monitoring.ingest import ingest_mentions
from monitoring.models import Mention
from protocols import services
from protocols.defaults import default_config
from protocols.display import signal_explanation
from protocols.models import BacktestRun, BacktestStatus
from protocols.pipeline import score_and_store
from protocols.scoring.types import OVERALL_TOPIC, topic_label
from protocols.validation import validate_config


def test_login_page_follows_the_browser_language(client, db):
    spanish = client.get(reverse("login"), headers={"accept-language": "es"})
    english = client.get(reverse("login"), headers={"accept-language": "en"})
    assert "Inicia sesión en Calma" in spanish.content.decode()
    assert "Sign in to Calma" in english.content.decode()


def test_language_switcher_changes_the_interface_language(client, manager):
    client.force_login(manager)
    inbox = reverse("inbox")
    assert "Nothing to triage right now" in client.get(inbox).content.decode()

    response = client.post(reverse("set_language"), {"language": "es", "next": inbox})
    assert response.status_code == 302
    page = client.get(inbox).content.decode()
    assert "Nada que clasificar ahora mismo" in page
    assert '<html lang="es">' in page

    client.post(reverse("set_language"), {"language": "en", "next": inbox})
    assert "Nothing to triage right now" in client.get(inbox).content.decode()


def test_every_spanish_catalogue_entry_is_translated():
    catalogue = polib.pofile(str(settings.BASE_DIR / "locale/es/LC_MESSAGES/django.po"))
    assert catalogue.untranslated_entries() == []
    assert [entry.msgid for entry in catalogue.fuzzy_entries()] == []


# --- the catalogue covers the code --------------------------------------------------------

CATALOGUE = "locale/es/LC_MESSAGES/django.po"
# What makemessages walks besides the code: nothing of the machine, the venv or run data.
_NOT_SOURCE = shutil.ignore_patterns(
    ".venv", "var", ".git", "artifacts", "node_modules", "__pycache__", "*.mo", "static"
)


def _extracted_catalogue(copy: Path) -> polib.POFile:
    """The Spanish catalogue as `make messages` would leave it, built in a copy of the tree."""
    shutil.copytree(settings.BASE_DIR, copy, ignore=_NOT_SOURCE)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "es", "--no-obsolete"],
        cwd=copy,
        env={**os.environ, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "crisis.settings"},
        check=True,
        capture_output=True,
        timeout=300,
    )
    return polib.pofile(str(copy / CATALOGUE))


def _keys(catalogue: polib.POFile) -> set[tuple[str | None, str]]:
    return {(entry.msgctxt, entry.msgid) for entry in catalogue if not entry.obsolete}


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_every_translatable_string_in_the_code_is_translated_in_the_spanish_catalogue(tmp_path):
    committed = polib.pofile(str(settings.BASE_DIR / CATALOGUE))
    extracted = _extracted_catalogue(tmp_path / "tree")
    missing = sorted(msgid for _context, msgid in _keys(extracted) - _keys(committed))
    assert missing == [], "run `make messages` and translate these"
    # A string whose English changed comes back fuzzy (msgmerge's guess), a new one empty.
    assert [entry.msgid for entry in extracted.untranslated_entries()] == []
    assert [entry.msgid for entry in extracted.fuzzy_entries()] == []


# --- what a Spanish reader sees ------------------------------------------------------------


def _spanish(client, user):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    return client


def _scored(text: str, *, followers: int = 120_000) -> Mention:
    result = ingest_mentions(
        [
            MentionIn(
                platform="mastodon",
                external_id=text[:20],
                url="https://masto.example/1",
                text=text,
                published_at=timezone.now() - timedelta(minutes=5),
                author=AuthorIn(handle="ana", followers=followers),
            )
        ],
        source_id=None,
    )
    score_and_store(result.new_mention_ids, version=services.active_version())
    return Mention.objects.get(pk=result.new_mention_ids[0])


def _page_words(html: str) -> str:
    """The text a reader sees: no tags, no attribute values."""
    return unescape(re.sub(r"<[^>]*>", " ", html))


def test_explorer_shows_severity_class_and_why_this_score_in_spanish(
    client, supervisor, redis_client
):
    _scored("El router no funciona desde hace tres días, es una vergüenza, voy a ir a la OCU")
    page = _spanish(client, supervisor).get(reverse("monitoring:mentions")).content.decode()
    words = _page_words(page)
    assert "Queja: la empresa tiene la culpa" in words
    assert "puntuación base" in words
    assert "sentimiento negativo (-0," in words
    assert "alcance: 120k seguidores" in words
    assert 'grupo de palabras clave authority: "ocu"' in words
    for english in ("base score", "negative sentiment", "followers", "keyword group"):
        assert english not in words


def test_scores_stored_before_signals_had_parameters_are_worded_in_spanish():
    old_rows = [
        {"name": "base", "label": "base score", "contribution": 5.0},
        {"name": "negative_sentiment", "label": 'negative sentiment (-0.45): "fatal"'},
        {"name": "velocity", "label": "spike ×4.2 on topic __all__"},
        {"name": "author:influencer", "label": "author flagged influencer"},
        {"name": "cap", "label": "capped at 100 (total was 112)"},
    ]
    with translation.override("es"):
        worded = [signal_explanation(row) for row in old_rows]
    assert worded == [
        "puntuación base",
        'sentimiento negativo (-0,45): "fatal"',
        "pico ×4,2 en el tema todas las menciones",
        "autor marcado como Influencer",
        "limitado a 100 (el total era 112)",
    ]


def test_overall_topic_reads_all_mentions_in_each_language():
    with translation.override("es"):
        assert topic_label(OVERALL_TOPIC) == "todas las menciones"
    with translation.override("en"):
        assert topic_label(OVERALL_TOPIC) == "all mentions"


def test_protocol_version_page_names_severities_and_weights_in_spanish(client, supervisor):
    version = services.active_version()
    page = _spanish(client, supervisor).get(reverse("protocols:detail", args=[version.pk]))
    words = _page_words(page.content.decode())
    assert "Protocolo predeterminado de Calma" in words
    assert "Crítica" in words and "Puntuación base" in words and "Ritmo sobre la base" in words
    for english in ("critical", "base score", "spike", "complaint markers", "Shipped with"):
        assert re.search(rf"\b{english}\b", words, re.IGNORECASE) is None, english


def test_protocol_validation_error_in_spanish_names_the_other_severity(client, supervisor):
    draft = services.create_draft(actor=supervisor)
    url = reverse("protocols:edit_section", args=[draft.pk, "severity_thresholds"])
    page = _spanish(client, supervisor).post(url, {"medium": 70, "high": 60, "critical": 80})
    words = _page_words(page.content.decode())
    assert "se solapa con media: tiene que ser mayor que media (70)" in words
    assert "overlaps" not in words


def test_protocol_validation_keeps_the_field_path_in_any_language():
    config = default_config()
    config["velocity"]["spike_factor"] = 1
    with translation.override("es"):
        errors = validate_config(config)
    assert [str(error) for error in errors] == [
        "velocity.spike_factor: tiene que ser mayor que 1 (1 es el ritmo normal)"
    ]


def test_backtest_page_shows_times_in_madrid_in_the_spanish_format(client, supervisor):
    draft = services.create_draft(actor=supervisor)
    run = BacktestRun.objects.create(
        draft=draft,
        baseline=services.active_version(),
        status=BacktestStatus.DONE,
        created_by=supervisor,
        result={
            "mentions": 1,
            "changed": 1,
            "severity_moves": {"low>high": 1},
            "class_moves": {"neutral>complaint_company_fault": 1},
            "changed_mentions": [
                {
                    "mention_id": 1,
                    "published_at": "2026-07-01T10:30:00+00:00",
                    "author": "ana",
                    "text": "texto",
                    "url": "",
                    "before": {"value": 10, "severity": "low", "class": "neutral"},
                    "after": {"value": 60, "severity": "high", "class": "praise"},
                }
            ],
            "crisis_crossings": {"active": {}, "draft": {"__all__": "2026-07-01T10:30:00+00:00"}},
        },
    )
    page = _spanish(client, supervisor).get(reverse("protocols:backtest", args=[run.pk]))
    words = _page_words(page.content.decode())
    assert "01/07/2026 12:30" in words  # 10:30 UTC is 12:30 in Madrid in summer
    assert "Baja → Alta" in words and "Neutro → Queja: la empresa tiene la culpa" in words
    assert "todas las menciones" in words
    for english in ("low", "high", "Neutral", "Praise", "__all__", "+00:00"):
        assert re.search(rf"(?<!\w){re.escape(english)}(?!\w)", words, re.I) is None, english


def test_dates_read_in_one_format_per_language():
    moment = datetime(2026, 3, 5, 14, 7, tzinfo=UTC)
    with translation.override("es"):
        assert date_format(moment, "SHORT_DATETIME_FORMAT") == "05/03/2026 14:07"
        assert date_format(moment, "DATE_FORMAT") == "5 de marzo de 2026"
    with translation.override("en"):
        assert date_format(moment, "SHORT_DATETIME_FORMAT") == "5 Mar 2026, 14:07"


def test_error_pages_are_spanish_for_a_spanish_reader(client, manager):
    _spanish(client, manager)
    missing = client.get("/no-such-page/")
    refused = client.get(reverse("protocols:activate", args=[services.active_version().pk]))
    assert missing.status_code == 404
    assert "Página no encontrada" in missing.content.decode()
    assert refused.status_code in (403, 404)
    assert "Page not found" not in refused.content.decode()
    assert "You do not have access" not in refused.content.decode()
