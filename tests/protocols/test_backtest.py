"""Backtesting a draft against stored mentions shows what would change, and when."""

import time

import pytest
from django.urls import reverse
from django.utils import timezone

from monitoring.connectors.base import AuthorIn, MentionIn
from monitoring.ingest import ingest_mentions
from protocols import backtest, services
from protocols.models import BacktestRun, BacktestStatus

TEXTS = [
    "Me habéis cobrado dos veces la factura, es una vergüenza, quiero mi dinero ya",
    "Three days without internet and nobody answers, worst service ever",
    "No me gusta nada el nuevo router, va fatal",
    "El servicio de atención al cliente no responde, pésimo",
    "Gracias por arreglarlo tan rápido, sois geniales",
    "¿Cómo cambio mi tarifa?",
    "Voy a poner una hoja de reclamaciones y llamar a la OCU por el cobro duplicado",
    "Hoy hace sol en Madrid",
]


@pytest.fixture
def stored_mentions(db, redis_client):
    now = timezone.now()
    mentions = [
        MentionIn(
            platform="mastodon",
            external_id=str(index),
            url=f"https://masto.example/{index}",
            text=text,
            published_at=now - timezone.timedelta(hours=index + 1),
            author=AuthorIn(handle=f"author{index}", followers=50 * index),
        )
        for index, text in enumerate(TEXTS)
    ]
    return ingest_mentions(mentions, source_id=None).new_mention_ids


def lowered_high_threshold_draft(supervisor):
    draft = services.create_draft(actor=supervisor)
    return services.update_draft(
        actor=supervisor,
        version=draft,
        section="severity_thresholds",
        value={"medium": 10, "high": 11, "critical": 99},
    )


def test_lowering_the_high_threshold_lists_the_mentions_that_would_become_high(
    stored_mentions, supervisor
):
    draft = lowered_high_threshold_draft(supervisor)
    run = BacktestRun.objects.create(
        draft=draft, baseline=services.active_version(), days=7, created_by=supervisor
    )
    run = backtest.run_backtest(run)
    result = run.result
    assert run.status == BacktestStatus.DONE
    assert result["mentions"] == len(TEXTS)
    assert result["changed"] >= 1
    assert len(result["changed_mentions"]) == result["changed"]
    for change in result["changed_mentions"]:
        assert change["mention_id"] in stored_mentions
        assert change["after"]["severity"] in ("high", "critical")
        assert change["before"]["severity"] in ("low", "medium")
        assert change["before"]["value"] == change["after"]["value"]  # only thresholds moved
    moved_up = sum(
        count
        for move, count in result["severity_moves"].items()
        if move.split(">")[0] in ("low", "medium") and move.split(">")[1] == "high"
    )
    assert moved_up == result["changed"]


def test_an_identical_draft_changes_nothing(stored_mentions, supervisor):
    draft = services.create_draft(actor=supervisor)
    run = BacktestRun.objects.create(draft=draft, baseline=services.active_version(), days=7)
    result = backtest.run_backtest(run).result
    assert result["changed"] == 0
    assert result["changed_mentions"] == []


@pytest.mark.celery_worker
def test_a_backtest_runs_on_the_worker_and_its_page_shows_progress_then_changes(
    celery_worker, stored_mentions, client, supervisor
):
    draft = lowered_high_threshold_draft(supervisor)
    client.force_login(supervisor)
    response = client.post(reverse("protocols:start_backtest", args=[draft.pk]), {"days": 7})
    run = BacktestRun.objects.get()
    assert response.url == reverse("protocols:backtest", args=[run.pk])
    deadline = time.monotonic() + 30
    while BacktestRun.objects.get().status != BacktestStatus.DONE:
        assert time.monotonic() < deadline, "backtest did not finish"
        time.sleep(0.1)
    page = client.get(response.url, headers={"hx-request": "true"}).content.decode()
    assert "would change" in page
    assert "hoja de reclamaciones" in page or "cobrado" in page or "pésimo" in page
