"""Regression tests of issue 8 (items 1, 2, 5, 6): hostile input never answers 500 nor loses
the valid item beside it; out-of-window rows never break pages; links are http(s) only;
work per item is bounded."""

import json
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring import services
from monitoring.connectors import feeds, mastodon, webhook
from monitoring.connectors.base import split_good_and_bad
from monitoring.ingest import ingest_mentions
from monitoring.models import Author, Mention, QuarantinedItem, SourceAlert
from monitoring.platforms import Platform, QueryKind
from monitoring.text import detect_language
from tests.monitoring.factories import make_source, mention_in

pytestmark = pytest.mark.django_db
SECRET = "hostile-input-secret"
LONG_PREFIX = "x" * 512


@pytest.fixture
def hook(monkeypatch):
    monkeypatch.setenv("CALMA_SECRET_HOSTILE_WEBHOOK_SECRET", SECRET)
    return make_source(
        name="Hostile relay",
        platform=Platform.WEBHOOK,
        kind=QueryKind.PUSH,
        query="",
        base_url="",
        credentials_ref="HOSTILE",
    )


def item(external_id: str, **overrides) -> dict:
    value = {
        "id": external_id,
        "url": f"https://example.org/{external_id[:40]}",
        "text": "Brisa me ha dejado sin luz otra vez",
        "published_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "author": {"handle": "@ana", "followers": 10},
    }
    value.update(overrides)
    return value


def push_raw(client, source, body: bytes):
    return client.post(
        reverse("monitoring:webhook", args=[source.pk]),
        data=body,
        content_type="application/json",
        headers={"X-Calma-Signature": webhook.sign(SECRET, body)},
    )


def push(client, source, *items):
    return push_raw(client, source, json.dumps({"mentions": list(items)}).encode())


def stored_ids() -> set[str]:
    return set(Mention.objects.values_list("external_id", flat=True))


def reasons() -> list[str]:
    return list(QuarantinedItem.objects.values_list("reason", flat=True))


# --- item 1: one bad item no longer loses the batch (webhook) ------------------------------
def test_nul_in_handle_is_cleaned_and_both_items_are_stored(client, hook):
    response = push(client, hook, item("nul-1", author={"handle": "@a\x00na"}), item("ok-1"))

    assert response.status_code == 202
    assert stored_ids() == {"nul-1", "ok-1"}
    assert Author.objects.filter(handle="@ana").exists()


def test_nul_in_id_is_cleaned_and_both_items_are_stored(client, hook):
    response = push(client, hook, item("nul\x00-2"), item("ok-2"))

    assert response.status_code == 202
    assert stored_ids() == {"nul-2", "ok-2"}


def test_nul_in_text_is_cleaned_and_both_items_are_stored(client, hook):
    response = push(client, hook, item("nul-3", text="sin\x00 luz"), item("ok-3"))

    assert response.status_code == 202
    assert Mention.objects.get(external_id="nul-3").text == "sin luz"
    assert "ok-3" in stored_ids()


def test_lone_surrogate_becomes_a_replacement_character(client, hook):
    body = json.dumps({"mentions": [item("sur-1", text="roto \ud800 aquí"), item("ok-4")]})

    response = push_raw(client, hook, body.encode())

    assert response.status_code == 202
    assert Mention.objects.get(external_id="sur-1").text == "roto \ufffd aquí"
    assert "ok-4" in stored_ids()


def test_followers_beyond_64_bits_are_quarantined_beside_a_stored_item(client, hook):
    response = push(
        client, hook, item("big-1", author={"handle": "@b", "followers": 2**63}), item("ok-5")
    )

    assert response.status_code == 202
    assert stored_ids() == {"ok-5"}
    assert "followers" in reasons()[0]


def test_two_ids_equal_in_their_first_512_characters_stay_two_mentions(client, hook):
    response = push(client, hook, item(LONG_PREFIX + "A"), item(LONG_PREFIX + "B"))

    assert response.status_code == 202
    assert response.json()["new"] == 2
    assert Mention.objects.count() == 2
    assert all(len(external_id) <= 512 for external_id in stored_ids())


def test_a_date_given_as_a_huge_number_is_quarantined(client, hook):
    response = push(client, hook, item("huge-1", published_at=10**30), item("ok-6"))

    assert response.status_code == 202
    assert stored_ids() == {"ok-6"}
    assert "published_at" in reasons()[0]


def test_a_date_given_as_infinity_is_quarantined_and_never_a_float(client, hook):
    body = json.dumps({"mentions": [item("inf-1", published_at=float("inf")), item("ok-7")]})
    assert "Infinity" in body  # json.dumps writes the non-standard constant

    response = push_raw(client, hook, body.encode())

    assert response.status_code == 202
    assert stored_ids() == {"ok-7"}
    assert QuarantinedItem.objects.get().raw["published_at"] == "Infinity"


def test_a_date_in_year_9999_west_of_utc_is_quarantined(client, hook):
    response = push(
        client, hook, item("y9999", published_at="9999-12-31T23:59:59-05:00"), item("ok-8")
    )

    assert response.status_code == 202
    assert stored_ids() == {"ok-8"}


def test_a_date_in_year_1_east_of_utc_is_quarantined(client, hook):
    response = push(
        client, hook, item("y1", published_at="0001-01-01T00:00:00+14:00"), item("ok-9")
    )

    assert response.status_code == 202
    assert stored_ids() == {"ok-9"}


def test_a_date_ahead_of_the_server_clock_is_quarantined_with_its_reason(client, hook):
    ahead = (timezone.now() + timedelta(days=365 * 15)).isoformat()

    response = push(client, hook, item("future", published_at=ahead), item("ok-10"))

    assert response.status_code == 202
    assert stored_ids() == {"ok-10"}
    assert "ahead of the server clock" in reasons()[0]


def test_a_date_before_the_platform_existed_is_quarantined(client, hook):
    old = item("old-masto", platform="mastodon", published_at="2009-05-01T10:00:00Z")

    response = push(client, hook, old, item("ok-11"))

    assert response.status_code == 202
    assert stored_ids() == {"ok-11"}
    assert "before mastodon existed" in reasons()[0]


def test_mentions_that_is_not_a_list_gets_a_clear_400(client, hook):
    response = push_raw(client, hook, b'{"mentions": {"id": "1"}}')

    assert response.status_code == 400
    assert "'mentions' must be a list" in response.json()["error"]


def test_json_nested_10000_deep_gets_a_clear_400(client, hook):
    body = b'{"mentions": [' + b"[" * 10_000 + b"]" * 10_000 + b"]}"

    response = push_raw(client, hook, body)

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]


def test_an_item_nested_deep_but_readable_is_stored_beside_its_neighbour(client, hook):
    deep = item("deep-1", extra=json.loads("[" * 300 + "]" * 300))

    response = push(client, hook, deep, item("ok-12"))

    assert response.status_code == 202
    assert stored_ids() == {"deep-1", "ok-12"}


def test_a_non_numeric_content_length_is_not_a_500(client, hook):
    body = json.dumps(item("cl-1")).encode()
    response = client.post(
        reverse("monitoring:webhook", args=[hook.pk]),
        data=body,
        content_type="application/json",
        headers={"X-Calma-Signature": webhook.sign(SECRET, body)},
        CONTENT_LENGTH="lots",
    )

    assert response.status_code != 500


# --- item 6: a flood of junk is bounded ----------------------------------------------------
def test_300000_junk_items_in_one_body_are_refused_whole_and_quickly(client, hook):
    body = b'{"mentions": [' + b",".join([b"0"] * 300_000) + b"]}"
    started = time.perf_counter()

    response = push_raw(client, hook, body)

    assert response.status_code == 413
    assert QuarantinedItem.objects.count() == 0
    assert time.perf_counter() - started < 5


def test_quarantine_stops_at_the_cap_and_an_alert_says_how_many_were_dropped(
    client, hook, settings
):
    settings.MONITORING = {**settings.MONITORING, "QUARANTINE_CAP_PER_SOURCE": 50}
    junk = [{"id": f"junk-{n}"} for n in range(80)]

    response = push(client, hook, *junk, item("ok-13"))

    assert response.status_code == 202
    assert response.json()["quarantined"] == 50
    assert response.json()["dropped"] == 30
    assert QuarantinedItem.objects.filter(source=hook).count() == 50
    assert "30" in SourceAlert.objects.get(source=hook, resolved_at=None).message
    assert "ok-13" in stored_ids()


def test_language_detection_of_a_300k_character_token_is_fast():
    token = "a" * 300_000
    started = time.perf_counter()

    detect_language(token)

    assert time.perf_counter() - started < 0.5


def test_sources_list_takes_the_same_queries_for_one_source_or_many(admin_client):
    make_source(name="one")
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(reverse("monitoring:sources")).status_code == 200
    for number in range(5):
        source = make_source(name=f"more {number}")
        ingest_mentions([mention_in(number * 10 + 1)], source_id=source.pk)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(reverse("monitoring:sources")).status_code == 200

    assert len(many) == len(few)
    assert not any(
        "monitoring_quarantineditem" in query["sql"]
        and "JOIN" in query["sql"]
        and "monitoring_mention" in query["sql"]
        for query in many.captured_queries
    )


# --- item 1: CSV -----------------------------------------------------------------------------
HEADER = "id,url,text,published_at,author,author_followers\n"


def good_row(external_id: str) -> str:
    return f"{external_id},https://example.org/{external_id},Sin luz,2026-01-05 10:00,ana,5\n"


def import_text(admin_user, text: str):
    return services.import_csv(actor=admin_user, text=text, source=None, now=timezone.now())


def test_csv_row_with_nul_bytes_is_stored_cleaned(admin_user):
    result = import_text(
        admin_user,
        HEADER
        + "n\x001,https://example.org/1,Sin\x00 luz,2026-01-05 10:00,ana,5\n"
        + good_row("g1"),
    )

    assert result.errors == []
    assert stored_ids() == {"n1", "g1"}


def test_csv_huge_integer_is_a_row_error_by_line_and_column(admin_user):
    result = import_text(
        admin_user,
        HEADER
        + good_row("g2")
        + "h2,https://example.org/2,Hola,2026-01-05 10:00,ana,"
        + "9" * 5000
        + "\n",
    )

    assert [(error.line, error.field) for error in result.errors] == [(3, "author_followers")]
    assert stored_ids() == {"g2"}


def test_csv_field_over_131072_characters_is_a_row_error_not_a_500(admin_client):
    text = (
        HEADER
        + good_row("g3")
        + "long,https://example.org/l,"
        + "z" * 140_000
        + ",2026-01-05 10:00,ana,1\n"
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = admin_client.post(
        reverse("monitoring:import_csv"),
        {"file": SimpleUploadedFile("m.csv", text.encode(), content_type="text/csv")},
    )

    assert response.status_code == 200
    [error] = response.context["result"].errors
    assert (error.line, error.field) == (3, "text")
    assert stored_ids() == {"g3"}


def test_csv_date_outside_the_window_is_a_row_error(admin_user):
    result = import_text(
        admin_user,
        HEADER + good_row("g4") + "f4,https://example.org/4,Hola,9999-12-31T23:59:59-05:00,ana,1\n",
    )

    assert [(error.line, error.field) for error in result.errors] == [(3, "published_at")]
    assert stored_ids() == {"g4"}


def test_csv_javascript_url_is_a_row_error(admin_user):
    result = import_text(
        admin_user, HEADER + "j5,javascript:alert(1),Hola,2026-01-05 10:00,ana,1\n"
    )

    assert [(error.line, error.field) for error in result.errors] == [(2, "url")]


# --- item 2: dates outside reality never break pages ---------------------------------------
def insert_raw_mention(source_id: int | None, published_at: str, external_id: str) -> None:
    author = Author.objects.create(platform=Platform.WEBHOOK, handle=f"raw-{external_id}")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO monitoring_mention (platform, external_id, source_id, author_id, url,"
            " text, language, published_at, ingested_at, reply_to_id, thread_id, engagement, raw)"
            " VALUES ('webhook', %s, %s, %s, '', 'hola', '', %s::timestamptz, now(), '', '',"
            " '{}', '{}')",
            [external_id, source_id, author.pk, published_at],
        )


@pytest.mark.parametrize("published_at", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00"])
def test_explorer_answers_200_with_an_out_of_reality_row_in_the_database(
    admin_client, settings, published_at
):
    settings.TIME_ZONE = "Europe/Madrid"
    insert_raw_mention(None, published_at, "bad-date")
    ingest_mentions([mention_in(1)], source_id=None)

    response = admin_client.get(reverse("monitoring:mentions"))

    assert response.status_code == 200
    assert "bad-date" not in response.content.decode()


@pytest.mark.parametrize("published_at", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00"])
def test_source_page_answers_200_with_an_out_of_reality_row_in_the_database(
    admin_client, settings, hook, published_at
):
    settings.TIME_ZONE = "Europe/Madrid"
    insert_raw_mention(hook.pk, published_at, "bad-date")

    response = admin_client.get(reverse("monitoring:source_detail", args=[hook.pk]))

    assert response.status_code == 200


# --- item 5: links are http(s) only ----------------------------------------------------------
def test_explorer_renders_no_live_link_for_a_javascript_url_already_stored(admin_client):
    ingest_mentions([mention_in(2)], source_id=None)
    Mention.objects.update(url="javascript:alert(document.cookie)")

    content = admin_client.get(reverse("monitoring:mentions")).content.decode()

    assert "javascript:" not in content


@pytest.mark.parametrize(
    "scheme_url", ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>"]
)
def test_feed_link_with_an_unsafe_scheme_is_dropped_and_the_entry_kept(scheme_url):
    xml = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>
    <item><guid>e1</guid><title>Brisa cae</title><link>{scheme_url.replace("<", "&lt;")}</link>
    <pubDate>Mon, 05 Jan 2026 10:00:00 GMT</pubDate></item></channel></rss>"""

    [mention], bad = split_good_and_bad(feeds.split(xml), feeds.parse_item)

    assert bad == []
    assert mention.url == ""


@pytest.mark.parametrize(
    "scheme_url", ["javascript:alert(1)", "data:text/html;base64,PHNjcmlwdD4="]
)
def test_atom_href_with_an_unsafe_scheme_is_dropped_and_the_entry_kept(scheme_url):
    xml = f"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>F</title>
    <entry><id>urn:e2</id><title>Brisa cae</title><link rel="alternate" href="{scheme_url}"/>
    <author><name>Eva</name><uri>{scheme_url}</uri></author>
    <updated>2026-01-05T10:00:00Z</updated></entry></feed>"""

    [mention], bad = split_good_and_bad(feeds.split(xml), feeds.parse_item)

    assert bad == []
    assert mention.url == ""
    assert mention.author.url == ""


@pytest.mark.parametrize("scheme_url", ["javascript:alert(1)", "data:text/html,x"])
def test_mastodon_url_and_uri_with_unsafe_schemes_are_dropped_and_the_status_kept(scheme_url):
    status = {
        "id": "111",
        "url": scheme_url,
        "uri": scheme_url,
        "content": "<p>Brisa cae</p>",
        "created_at": "2026-01-05T10:00:00Z",
        "account": {"acct": "eva", "url": scheme_url},
    }

    [mention], bad = split_good_and_bad([status], mastodon.parse_item)

    assert bad == []
    assert (mention.url, mention.author.url) == ("", "")


def test_mastodon_falls_back_to_an_http_uri_when_url_is_unsafe():
    status = {
        "id": "112",
        "url": "javascript:alert(1)",
        "uri": "https://masto.example/users/eva/statuses/112",
        "content": "<p>Brisa</p>",
        "created_at": "2026-01-05T10:00:00Z",
        "account": {"acct": "eva"},
    }

    [mention], _bad = split_good_and_bad([status], mastodon.parse_item)

    assert mention.url == "https://masto.example/users/eva/statuses/112"
