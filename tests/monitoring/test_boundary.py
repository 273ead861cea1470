"""The validation boundary on its own: what it cleans, bounds, drops and refuses."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitoring.connectors import boundary
from tests.monitoring.factories import mention_in

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_ids_sharing_their_first_512_characters_stay_distinct_and_fit_the_column():
    first = boundary.bounded_identifier("x" * 512 + "A", 512)
    second = boundary.bounded_identifier("x" * 512 + "B", 512)

    assert first != second
    assert len(first) == len(second) == 512


def test_a_short_id_is_kept_as_it_is():
    assert boundary.bounded_identifier("1790001", 512) == "1790001"


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "//x.org", "https://"]
)
def test_only_http_urls_with_a_host_survive(url):
    assert boundary.http_url_or_empty(url) == ""


def test_an_item_dated_just_inside_the_future_margin_is_admitted():
    mention = replace(mention_in(1), published_at=NOW + timedelta(seconds=599))

    assert boundary.admit(mention, now=NOW).published_at == NOW + timedelta(seconds=599)


def test_an_item_dated_beyond_the_future_margin_is_refused():
    mention = replace(mention_in(1), published_at=NOW + timedelta(seconds=601))

    with pytest.raises(boundary.Refused, match="ahead of the server clock"):
        boundary.admit(mention, now=NOW)


def test_a_negative_engagement_count_is_admitted_but_one_beyond_64_bits_is_not():
    assert boundary.admit(replace(mention_in(1), engagement={"score": -5}), now=NOW)
    with pytest.raises(boundary.Refused, match="engagement"):
        boundary.admit(replace(mention_in(1), engagement={"likes": 2**63}), now=NOW)


def test_storable_json_bounds_depth_and_drops_non_finite_numbers():
    deep: list = []
    cursor = deep
    for _ in range(200):
        cursor.append([])
        cursor = cursor[0]

    stored = boundary.storable_json({"n": float("nan"), "deep": deep, "s": "a\x00b"})

    assert stored["n"] is None
    assert stored["s"] == "ab"
    assert boundary.TOO_DEEP in str(stored["deep"])
