"""Webhook connector: HMAC signatures and Calma's push format."""

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitoring.connectors import base, webhook
from monitoring.platforms import Platform

FIXTURES = Path(__file__).parent / "fixtures" / "webhook"
SECRET = "s3cret-shared-with-the-relay"


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def body_of(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- signatures ---------------------------------------------------------------------------
def test_valid_signature_is_accepted():
    body = body_of("batch_es_en.json")

    assert webhook.verify_signature(SECRET, body, signature(SECRET, body)) is True


def test_sign_produces_the_documented_header():
    body = body_of("single_item.json")

    assert webhook.sign(SECRET, body) == signature(SECRET, body)


def test_uppercase_hex_is_accepted():
    body = body_of("single_item.json")
    header = "sha256=" + signature(SECRET, body).removeprefix("sha256=").upper()

    assert webhook.verify_signature(SECRET, body, header) is True


def test_signature_of_another_body_is_rejected():
    body = body_of("batch_es_en.json")
    tampered = body.replace(b"1842", b"9842")

    assert webhook.verify_signature(SECRET, tampered, signature(SECRET, body)) is False


def test_signature_with_another_secret_is_rejected():
    body = body_of("batch_es_en.json")

    assert webhook.verify_signature(SECRET, body, signature("other", body)) is False


@pytest.mark.parametrize(
    "header",
    [None, "", "sha256=", "sha1=abc", "deadbeef", "sha256=zz", "sha256=ñandú", "sha256 = x"],
)
def test_missing_or_garbled_signature_is_rejected(header):
    assert webhook.verify_signature(SECRET, b"{}", header) is False


def test_empty_secret_never_verifies():
    assert webhook.verify_signature("", b"{}", signature("", b"{}")) is False


# --- bodies -------------------------------------------------------------------------------
def test_decode_body_refuses_oversized_bodies():
    with pytest.raises(base.MalformedPayload):
        webhook.decode_body(b" " * (webhook.MAX_BODY_BYTES + 1))


def test_decode_body_refuses_invalid_json():
    with pytest.raises(base.MalformedPayload):
        webhook.decode_body(b"{not json")


def test_batch_gives_one_mention_per_item():
    mentions = webhook.parse(webhook.decode_body(body_of("batch_es_en.json")))

    assert [m.external_id for m in mentions] == ["1790012345678901234", "t1_kq3v9zx", "889201"]


def test_spanish_item_fields():
    first = webhook.parse(load("batch_es_en.json"))[0]

    assert first.platform == Platform.WEBHOOK  # "twitter" is not a platform Calma knows
    assert first.text.startswith("Llevo 3 días sin luz en casa y @ElectraSur")
    assert first.published_at == datetime(2025, 5, 14, 7, 31, 7, tzinfo=UTC)
    assert first.author.handle == "@lucia_gm"
    assert first.author.display_name == "Lucía García Montes"
    assert first.author.followers == 1842
    assert first.language == "es"
    assert first.engagement == {"likes": 57, "reposts": 23, "replies": 9, "views": 4120}
    assert first.raw["platform"] == "twitter"


def test_known_platform_keeps_its_name_and_html_is_stripped():
    reddit = webhook.parse(load("batch_es_en.json"))[1]

    assert reddit.platform == Platform.REDDIT
    assert reddit.text == (
        'Same here on Calle Betis. The support line says "48 hours" & hangs up.\n'
        "Anyone filed a complaint with the consumer office?"
    )
    assert reddit.language == "en"
    assert reddit.reply_to_id == "t3_1cr8x2a"
    assert reddit.thread_id == "t3_1cr8x2a"


def test_minimal_item_gets_defaults():
    forum = webhook.parse(load("batch_es_en.json"))[2]

    assert forum.external_id == "889201"
    assert forum.platform == Platform.WEBHOOK
    assert forum.author.followers is None
    assert forum.author.verified is False
    assert forum.language == ""
    assert forum.engagement == {}
    assert forum.raw["relay"] == "forum-scraper/2.3"


def test_single_item_body_is_accepted():
    [mention] = webhook.parse(load("single_item.json"))

    assert mention.platform == Platform.MASTODON
    assert mention.text == (
        "Acabo de leer el comunicado de @ElectraSur: compensarán a los afectados. Por fin 👏"
    )
    assert mention.author.display_name == "Ana Ruiz 🌻"


def test_bad_item_is_rejected_alone():
    good, bad = base.split_good_and_bad(
        webhook.split(load("batch_with_bad_item.json")), webhook.parse_item
    )

    assert [m.external_id for m in good] == ["C6xYz1234Ab"]
    assert good[0].author.followers == 15800
    assert len(bad) == 1
    assert "author.handle" in bad[0].reason


def test_parse_raises_on_a_bad_item():
    with pytest.raises(base.MalformedItem, match=r"author\.handle"):
        webhook.parse(load("batch_with_bad_item.json"))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda item: item.pop("id"), "id"),
        (lambda item: item.update(id=True), "id"),
        (lambda item: item.pop("url"), "url"),
        (lambda item: item.update(url="javascript:alert(1)"), "url"),
        (lambda item: item.pop("text"), "text"),
        (lambda item: item.update(text="<p> </p>"), "text"),
        (lambda item: item.pop("published_at"), "published_at"),
        (lambda item: item.update(published_at="ayer"), "published_at"),
        (lambda item: item.pop("author"), "author"),
        (lambda item: item["author"].update(followers="many"), "followers"),
        (lambda item: item.update(engagement={"likes": "lots"}), "engagement.likes"),
        (lambda item: item.update(engagement=[1, 2]), "engagement"),
    ],
)
def test_invalid_item_names_the_problem(change, reason):
    item = copy.deepcopy(load("single_item.json"))
    change(item)

    with pytest.raises(base.MalformedItem, match=reason):
        webhook.parse_item(item)


@pytest.mark.parametrize("payload", ["text", 42, None, {"mentions": "not a list"}])
def test_body_of_the_wrong_shape_is_malformed(payload):
    with pytest.raises(base.MalformedPayload):
        webhook.parse(payload)
