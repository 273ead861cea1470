"""Property tests of the validation boundary: any input, no exception past it, and a valid
item beside any invalid one is always stored (issue 8, acceptance 2)."""

import csv
import io
import uuid

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring import services
from monitoring.connectors import bluesky, feeds, mastodon, reddit, webhook, youtube
from monitoring.connectors.base import split_good_and_bad
from monitoring.ingest import ingest_mentions, quarantine
from monitoring.models import Mention
from monitoring.platforms import Platform, QueryKind
from tests.monitoring.factories import make_source

pytestmark = pytest.mark.django_db
BOUNDED = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PUBLISHED = "2026-01-05T10:00:00Z"

# Text with NUL, lone surrogates and any other code point.
hostile_text = st.text(st.characters(exclude_categories=()), max_size=40)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**62, max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | hostile_text
    | st.sampled_from(["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00", "javascript:x"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4)
    ),
    max_leaves=12,
)
webhook_items = json_values | st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "url": json_values,
        "text": json_values,
        "published_at": json_values,
        "platform": json_values,
        "engagement": json_values,
        "author": json_values
        | st.fixed_dictionaries({}, optional={"handle": json_values, "followers": json_values}),
    },
)


def unique() -> str:
    return uuid.uuid4().hex


def valid_webhook_item() -> dict:
    key = unique()
    return {
        "id": key,
        "url": f"https://example.org/{key}",
        "text": "Brisa sin luz",
        "published_at": PUBLISHED,
        "author": {"handle": "@ana"},
    }


def valid_mastodon_status() -> dict:
    key = unique()
    return {
        "id": key,
        "url": f"https://masto.example/@eva/{key}",
        "content": "<p>Brisa</p>",
        "created_at": PUBLISHED,
        "account": {"acct": "eva"},
    }


def valid_bluesky_post() -> dict:
    return {
        "uri": f"at://did:plc:eva/app.bsky.feed.post/{unique()}",
        "record": {"text": "Brisa", "createdAt": PUBLISHED},
        "author": {"did": "did:plc:eva", "handle": "eva.bsky.social"},
    }


def valid_reddit_thing() -> dict:
    return {
        "kind": "t3",
        "data": {"name": f"t3_{unique()}", "title": "Brisa", "created_utc": 1767607200},
    }


def valid_youtube_comment() -> dict:
    return {
        "id": unique(),
        "snippet": {"textOriginal": "Brisa", "publishedAt": PUBLISHED, "authorDisplayName": "Eva"},
    }


def valid_feed_entry() -> dict:
    key = unique()
    return {
        "id": key,
        "title": "Brisa",
        "link": f"https://blog.example/{key}",
        "published": PUBLISHED,
    }


CONNECTORS = {
    "webhook": (webhook.parse_item, valid_webhook_item),
    "mastodon": (mastodon.parse_item, valid_mastodon_status),
    "bluesky": (bluesky.parse_item, valid_bluesky_post),
    "reddit": (reddit.parse_item, valid_reddit_thing),
    "youtube": (youtube.parse_item, valid_youtube_comment),
    "feed": (feeds.parse_item, valid_feed_entry),
}


@pytest.fixture
def hook():
    return make_source(
        name="Props", platform=Platform.WEBHOOK, kind=QueryKind.PUSH, query="", base_url=""
    )


@BOUNDED
@given(junk=webhook_items)
def test_any_webhook_item_beside_a_valid_one_leaves_the_valid_one_stored(hook, junk):
    valid = valid_webhook_item()

    services.accept_pushed_items(source=hook, items=[junk, valid], now=timezone.now())

    assert Mention.objects.filter(external_id=valid["id"]).exists()


@pytest.mark.parametrize("name", sorted(CONNECTORS))
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(junk=json_values | st.dictionaries(hostile_text, json_values, max_size=6))
def test_any_item_through_a_connector_parse_never_raises_and_the_valid_one_is_stored(
    db, name, junk
):
    parse_item, make_valid = CONNECTORS[name]
    valid = make_valid()

    good, bad = split_good_and_bad([junk, valid], parse_item, now=timezone.now())
    ingest_mentions(good, source_id=None)
    quarantine(bad, platform=Platform.WEBHOOK, source_id=None)

    assert len(good) + len(bad) == 2
    assert good[-1].raw == valid or good[-1].external_id in str(valid)
    assert Mention.objects.filter(external_id=good[-1].external_id).exists()


@BOUNDED
@given(cells=st.lists(hostile_text | st.text(max_size=3), min_size=0, max_size=8))
def test_any_csv_row_beside_a_valid_one_leaves_the_valid_one_stored(admin_user, cells):
    key = unique()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "url", "text", "published_at", "author", "author_followers"])
    writer.writerow(cells)
    writer.writerow([key, f"https://example.org/{key}", "Brisa", PUBLISHED, "ana", "3"])

    services.import_csv(actor=admin_user, text=buffer.getvalue(), source=None, now=timezone.now())

    assert Mention.objects.filter(external_id=key).exists()
