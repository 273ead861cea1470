"""Regression tests of issue 8 (item 6, and the quarantine cap it asked for): the same bad
item is quarantined once per source, however often it is polled or pushed (one chaos run
made 661 rows from a few dozen items)."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring import polling, services
from monitoring.connectors import webhook
from monitoring.connectors.base import QuarantinedIn
from monitoring.fingerprints import quarantine_fingerprint
from monitoring.ingest import quarantine
from monitoring.models import AlertKind, QuarantinedItem, QuarantineStatus, SourceAlert
from monitoring.platforms import Platform, QueryKind
from tests.monitoring.factories import make_source

SECRET = "dedupe-webhook-secret"
TAG_PATH = "/api/v1/timelines/tag/brisa"
BEFORE = [("monitoring", "0003_mention_ingested_index")]
AFTER = [("monitoring", "0005_quarantine_and_alert_constraints")]


@pytest.fixture
def hook(db, monkeypatch):
    monkeypatch.setenv("CALMA_SECRET_DEDUPE_WEBHOOK_SECRET", SECRET)
    return make_source(
        name="Dedupe relay",
        platform=Platform.WEBHOOK,
        kind=QueryKind.PUSH,
        query="",
        base_url="",
        credentials_ref="DEDUPE",
    )


def future_status(number: int) -> dict:
    """A Mastodon status dated 2041: refused by the boundary, so quarantined."""
    return {
        "id": str(120000000000000000 + number),
        "created_at": "2041-01-01T00:00:00.000Z",
        "uri": f"https://masto.example/users/ana/statuses/{number}",
        "url": f"https://masto.example/@ana/{number}",
        "content": "<p>Desde el futuro</p>",
        "account": {"id": "1", "username": "ana", "acct": "ana"},
    }


def pushed_item(external_id: str, **overrides) -> dict:
    value = {
        "id": external_id,
        "url": f"https://example.org/{external_id}",
        "text": "Brisa me ha dejado sin luz otra vez",
        "published_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "author": {"handle": "@ana"},
    }
    value.update(overrides)
    return value


def push(client, source, *items):
    body = json.dumps({"mentions": list(items)}).encode()
    return client.post(
        reverse("monitoring:webhook", args=[source.pk]),
        data=body,
        content_type="application/json",
        headers={"X-Calma-Signature": webhook.sign(SECRET, body)},
    )


def junk(reason: str, raw) -> QuarantinedIn:
    return QuarantinedIn(reason=reason, raw=raw)


# --- polled and pushed twice ----------------------------------------------------------------
@pytest.mark.django_db
def test_the_same_future_dated_item_polled_twice_is_quarantined_once(httpserver):
    source = make_source(base_url=httpserver.url_for("/").rstrip("/"))
    httpserver.expect_request(TAG_PATH).respond_with_json([future_status(1)])

    assert polling.poll(source.pk).status == "ok"
    source.refresh_from_db()
    source.next_poll_at = timezone.now()
    source.save()
    assert polling.poll(source.pk).status == "ok"

    assert QuarantinedItem.objects.filter(source=source).count() == 1


def test_the_same_bad_item_pushed_twice_is_quarantined_once(client, hook):
    bad = pushed_item("future-1", published_at="2041-01-01T00:00:00Z")

    first = push(client, hook, bad, pushed_item("ok-1"))
    second = push(client, hook, bad, pushed_item("ok-2"))

    assert (first.status_code, second.status_code) == (202, 202)
    assert (first.json()["quarantined"], second.json()["quarantined"]) == (1, 0)
    assert QuarantinedItem.objects.filter(source=hook).count() == 1


def test_a_repushed_bad_item_is_counted_as_already_quarantined(hook):
    bad = pushed_item("future-2", published_at="2041-01-01T00:00:00Z")
    services.accept_pushed_items(source=hook, items=[bad], now=timezone.now())

    again = services.accept_pushed_items(source=hook, items=[bad], now=timezone.now())

    assert (again.quarantined, again.already_quarantined, again.dropped) == (0, 1, 0)


def test_an_edited_copy_of_a_bad_item_is_the_same_item(hook):
    first = pushed_item("future-3", published_at="2041-01-01T00:00:00Z")
    edited = {**first, "text": "Editado, sigue en el futuro"}

    services.accept_pushed_items(source=hook, items=[first, edited], now=timezone.now())

    assert QuarantinedItem.objects.filter(source=hook).count() == 1


def test_two_bad_items_without_ids_are_two_unless_their_payloads_are_equal(hook):
    items = [{"text": "sin id"}, {"text": "otro sin id"}, {"text": "sin id"}]

    result = services.accept_pushed_items(source=hook, items=items, now=timezone.now())

    assert (result.quarantined, result.already_quarantined) == (2, 1)


def test_a_discarded_item_polled_again_waits_for_review_again(hook, administrator):
    bad = pushed_item("future-4", published_at="2041-01-01T00:00:00Z")
    services.accept_pushed_items(source=hook, items=[bad], now=timezone.now())
    services.discard_quarantined(
        actor=administrator, item=QuarantinedItem.objects.get(), justification="revisado"
    )

    again = services.accept_pushed_items(source=hook, items=[bad], now=timezone.now())

    assert again.quarantined == 1
    assert QuarantinedItem.objects.filter(status=QuarantineStatus.PENDING).count() == 1


def test_the_same_bad_item_from_two_sources_waits_once_for_each(hook):
    other = make_source(name="Second relay", platform=Platform.WEBHOOK, kind=QueryKind.PUSH)
    bad = pushed_item("future-5", published_at="2041-01-01T00:00:00Z")

    for source in (hook, other):
        services.accept_pushed_items(source=source, items=[bad, bad], now=timezone.now())

    assert QuarantinedItem.objects.filter(source=hook).count() == 1
    assert QuarantinedItem.objects.filter(source=other).count() == 1


@pytest.mark.django_db
def test_an_item_quarantined_twice_without_a_source_is_kept_once():
    item = junk("no id and no date", {"text": "huérfano"})

    quarantine([item], platform=Platform.WEBHOOK, source_id=None)
    again = quarantine([item], platform=Platform.WEBHOOK, source_id=None)

    assert (again.kept, again.already_quarantined) == (0, 1)
    assert QuarantinedItem.objects.filter(source=None).count() == 1


def test_deleting_two_sources_that_kept_the_same_item_leaves_one_copy_waiting(hook, administrator):
    other = make_source(name="Second relay", platform=Platform.WEBHOOK, kind=QueryKind.PUSH)
    bad = pushed_item("future-6", published_at="2041-01-01T00:00:00Z")
    for source in (hook, other):
        services.accept_pushed_items(source=source, items=[bad], now=timezone.now())

    services.delete_source(actor=administrator, source=hook)
    services.delete_source(actor=administrator, source=other)

    pending = QuarantinedItem.objects.filter(status=QuarantineStatus.PENDING)
    assert list(pending.values_list("source", flat=True)) == [None]
    assert QuarantinedItem.objects.filter(status=QuarantineStatus.DISCARDED).count() == 1


def test_items_already_waiting_take_no_room_under_the_cap(hook, settings):
    settings.MONITORING = {**settings.MONITORING, "QUARANTINE_CAP_PER_SOURCE": 2}
    bad = [junk("bad", {"id": "a"}), junk("bad", {"id": "b"})]
    quarantine(bad, platform=Platform.WEBHOOK, source_id=hook.pk)

    again = quarantine(bad, platform=Platform.WEBHOOK, source_id=hook.pk)

    assert (again.kept, again.already_quarantined, again.dropped) == (0, 2, 0)
    assert not SourceAlert.objects.filter(source=hook, kind=AlertKind.QUARANTINE_FULL).exists()


# --- the fingerprint ------------------------------------------------------------------------
def test_a_boost_of_a_bad_status_has_the_fingerprint_of_the_status():
    status = {"id": "9", "created_at": "2041-01-01T00:00:00Z"}
    boost = {"id": "10", "reblog": status}

    assert quarantine_fingerprint("mastodon", boost) == quarantine_fingerprint("mastodon", status)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text(st.characters(exclude_categories=()), max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(raw=json_values)
def test_any_payload_has_a_stable_fingerprint(raw):
    first = quarantine_fingerprint("webhook", raw)

    assert first == quarantine_fingerprint("webhook", raw)
    assert len(first) == 64


def test_an_integer_beyond_4300_digits_still_has_a_fingerprint():
    assert len(quarantine_fingerprint("webhook", {"followers": 10**5000})) == 64


# --- migration 0004 -------------------------------------------------------------------------
@pytest.fixture
def unmigrated(transactional_db):
    """The database as 0003 left it; migrated forward again whatever the test does."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    # Back to every app's latest migration: going back to 0003 also unapplied the later
    # migrations of other apps that depend on monitoring, and the next tests need them.
    latest = MigrationExecutor(connection)
    latest.migrate(latest.loader.graph.leaf_nodes())


def migrate_forward() -> None:
    MigrationExecutor(connection).migrate(AFTER)


def test_migration_fingerprints_old_rows_and_keeps_the_newest_pending_copy(unmigrated):
    Source = unmigrated.get_model("monitoring", "Source")
    Item = unmigrated.get_model("monitoring", "QuarantinedItem")
    source = Source.objects.create(name="Old", platform="mastodon", kind="hashtag")
    now = timezone.now()
    for minutes in (3, 1, 2):  # three polls of the same item
        Item.objects.create(
            source=source,
            platform="mastodon",
            reason="future",
            raw={"id": "7"},
            received_at=now - timedelta(minutes=minutes),
        )
    Item.objects.create(source=source, platform="mastodon", reason="other", raw={"id": "8"})

    migrate_forward()

    pending = QuarantinedItem.objects.filter(status=QuarantineStatus.PENDING)
    assert sorted(pending.values_list("raw__id", flat=True)) == ["7", "8"]
    assert pending.get(raw__id="7").received_at == now - timedelta(minutes=1)
    assert QuarantinedItem.objects.filter(status=QuarantineStatus.DISCARDED).count() == 2
    assert pending.get(raw__id="7").fingerprint == quarantine_fingerprint("mastodon", {"id": "7"})


def test_migration_gives_an_old_quarantine_full_alert_its_kind(unmigrated):
    Source = unmigrated.get_model("monitoring", "Source")
    Alert = unmigrated.get_model("monitoring", "SourceAlert")
    source = Source.objects.create(name="Old", platform="webhook", kind="push")
    Alert.objects.create(source=source, message="Quarantine full: 10000 items are waiting")

    migrate_forward()

    assert SourceAlert.objects.get().kind == AlertKind.QUARANTINE_FULL
