"""Webhook pushes and CSV uploads: clear errors for bad input, nothing wrong stored."""

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crisis.models import AuditEvent
from monitoring.connectors import webhook
from monitoring.models import Mention, QuarantinedItem
from monitoring.platforms import Platform, QueryKind
from tests.monitoring.factories import make_source

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "s3cret-shared-with-the-relay"


@pytest.fixture
def hook(monkeypatch):
    monkeypatch.setenv("CALMA_SECRET_RELAY_WEBHOOK_SECRET", SECRET)
    return make_source(
        name="Relay",
        platform=Platform.WEBHOOK,
        kind=QueryKind.PUSH,
        query="",
        base_url="",
        credentials_ref="RELAY",
    )


def push(client, source, body: bytes, signature: str | None = None):
    headers = {}
    if signature is not None:
        headers["X-Calma-Signature"] = signature
    return client.post(
        reverse("monitoring:webhook", args=[source.pk]),
        data=body,
        content_type="application/json",
        headers=headers,
    )


def test_a_signed_push_is_stored(client, hook):
    body = (FIXTURES / "webhook" / "batch_es_en.json").read_bytes()
    response = push(client, hook, body, webhook.sign(SECRET, body))
    assert response.status_code == 202
    count = len(json.loads(body)["mentions"])
    assert response.json() == {
        "stored": count,
        "new": count,
        "quarantined": 0,
        "already_quarantined": 0,
        "dropped": 0,
    }
    assert Mention.objects.count() == count


def test_a_push_with_a_bad_signature_is_refused_and_stores_nothing(client, hook):
    body = (FIXTURES / "webhook" / "single_item.json").read_bytes()
    response = push(client, hook, body, webhook.sign("wrong secret", body))
    assert response.status_code == 401
    assert "X-Calma-Signature" in response.json()["error"]
    assert Mention.objects.count() == 0


def test_a_push_without_signature_is_refused(client, hook):
    body = (FIXTURES / "webhook" / "single_item.json").read_bytes()
    assert push(client, hook, body).status_code == 401
    assert Mention.objects.count() == 0


def test_an_oversized_push_is_refused_before_reading_it(client, hook):
    body = b'{"mentions": [' + b" " * (webhook.MAX_BODY_BYTES + 10) + b"]}"
    response = push(client, hook, body, webhook.sign(SECRET, body))
    assert response.status_code == 413
    assert Mention.objects.count() == 0


def test_a_signed_push_that_is_not_json_gets_400(client, hook):
    body = b"{not json"
    response = push(client, hook, body, webhook.sign(SECRET, body))
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def test_a_bad_item_is_quarantined_and_the_good_ones_stored(client, hook):
    body = (FIXTURES / "webhook" / "batch_with_bad_item.json").read_bytes()
    response = push(client, hook, body, webhook.sign(SECRET, body))
    assert response.status_code == 202
    result = response.json()
    assert result["quarantined"] >= 1
    assert Mention.objects.count() == result["stored"]
    assert QuarantinedItem.objects.filter(source=hook).count() == result["quarantined"]


def test_a_bad_item_pushed_again_is_reported_as_already_quarantined(client, hook):
    body = (FIXTURES / "webhook" / "batch_with_bad_item.json").read_bytes()
    first = push(client, hook, body, webhook.sign(SECRET, body)).json()
    again = push(client, hook, body, webhook.sign(SECRET, body)).json()
    assert (again["quarantined"], again["already_quarantined"]) == (0, first["quarantined"])
    assert QuarantinedItem.objects.filter(source=hook).count() == first["quarantined"]


def test_pushing_to_an_unknown_source_is_404(client, db):
    assert client.post("/monitoring/webhook/999/", data=b"{}", content_type="x").status_code == 404


def test_the_same_push_twice_stores_each_mention_once(client, hook):
    body = (FIXTURES / "webhook" / "batch_es_en.json").read_bytes()
    push(client, hook, body, webhook.sign(SECRET, body))
    second = push(client, hook, body, webhook.sign(SECRET, body)).json()
    assert second["new"] == 0
    assert Mention.objects.count() == len(json.loads(body)["mentions"])


def upload(client, name: str):
    data = (FIXTURES / "csv" / name).read_bytes()
    return client.post(
        reverse("monitoring:import_csv"),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def test_csv_import_stores_valid_rows_and_lists_each_bad_row(client, administrator):
    client.force_login(administrator)
    response = upload(client, "malformed_rows.csv")
    assert response.status_code == 200
    page = response.content.decode()
    assert "bad-url" not in set(Mention.objects.values_list("external_id", flat=True))
    assert Mention.objects.filter(external_id="ok-1").exists()
    assert "<td>3</td>" in page  # the line of the first bad row
    assert AuditEvent.objects.filter(verb="mentions.import_csv").exists()


def test_csv_missing_a_required_column_stores_nothing_and_says_which(client, administrator):
    client.force_login(administrator)
    response = upload(client, "missing_column.csv")
    assert Mention.objects.count() == 0
    assert "<td>1</td>" in response.content.decode()


def test_csv_that_is_not_utf8_is_refused_with_a_clear_message(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("monitoring:import_csv"),
        {"file": SimpleUploadedFile("latin1.csv", "id,texto\n1,canción".encode("latin-1"))},
    )
    assert "not UTF-8" in response.content.decode()
    assert Mention.objects.count() == 0


def test_community_managers_cannot_import(client, manager):
    client.force_login(manager)
    assert client.get(reverse("monitoring:import_csv")).status_code == 403
