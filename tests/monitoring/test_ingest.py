"""Ingest is an idempotent bulk upsert on (platform, external_id)."""

from dataclasses import replace

import pytest
from django.db import transaction

from monitoring import ingest
from monitoring.connectors.base import AuthorIn
from monitoring.ingest import ingest_mentions
from monitoring.models import Author, Mention
from tests.monitoring.factories import make_source, mention_in

pytestmark = pytest.mark.django_db


def test_new_mentions_are_stored_and_their_ids_returned():
    result = ingest_mentions([mention_in(1), mention_in(2)], source_id=None)
    assert sorted(result.new_mention_ids) == sorted(Mention.objects.values_list("pk", flat=True))
    assert result.seen == 2


def test_ingesting_the_same_page_twice_stores_nothing_new():
    ingest_mentions([mention_in(1), mention_in(2)], source_id=None)
    again = ingest_mentions([mention_in(1), mention_in(2)], source_id=None)
    assert again.new_mention_ids == []
    assert Mention.objects.count() == 2


def test_a_repeat_refreshes_engagement_but_keeps_identity():
    ingest_mentions([mention_in(1, likes=1)], source_id=None)
    ingest_mentions([mention_in(1, likes=40)], source_id=None)
    stored = Mention.objects.get()
    assert stored.engagement == {"likes": 40}
    assert stored.external_id == "1001"


def test_duplicates_within_one_batch_become_one_row():
    result = ingest_mentions([mention_in(1), mention_in(1), mention_in(2)], source_id=None)
    assert len(result.new_mention_ids) == 2
    assert Mention.objects.count() == 2


def test_the_same_id_on_two_platforms_is_two_mentions():
    ingest_mentions([mention_in(1), mention_in(1, platform="bluesky")], source_id=None)
    assert Mention.objects.count() == 2


def test_authors_are_upserted_with_reach_and_first_and_last_seen():
    ingest_mentions([mention_in(1, followers=10)], source_id=None)
    first = Author.objects.get()
    ingest_mentions([mention_in(2, followers=25)], source_id=None)
    author = Author.objects.get()
    assert author.followers == 25
    assert author.first_seen_at == first.first_seen_at
    assert author.last_seen_at >= first.last_seen_at
    assert author.mentions.count() == 2


def test_an_unknown_follower_count_does_not_erase_a_known_one():
    ingest_mentions([mention_in(1, followers=5000)], source_id=None)
    ingest_mentions([mention_in(2, followers=None)], source_id=None)
    assert Author.objects.get().followers == 5000


def test_missing_language_is_detected():
    ingest_mentions(
        [
            mention_in(1, language="", text="El servicio de atención al cliente no me responde"),
            mention_in(2, language="", text="Customer support has not answered me for days"),
        ],
        source_id=None,
    )
    languages = dict(Mention.objects.values_list("external_id", "language"))
    assert languages == {"1001": "es", "1002": "en"}


def test_nul_characters_are_dropped_instead_of_failing_the_batch():
    ingest_mentions([mention_in(1, text="hola\x00 mundo")], source_id=None)
    assert Mention.objects.get().text == "hola mundo"


def test_mentions_remember_the_source_that_found_them():
    source = make_source()
    ingest_mentions([mention_in(1)], source_id=source.pk)
    assert Mention.objects.get().source == source


def test_ingest_inside_a_rolled_back_transaction_leaves_nothing(django_db_blocker):
    with pytest.raises(RuntimeError), transaction.atomic():
        ingest_mentions([mention_in(1)], source_id=None)
        raise RuntimeError("page commit failed")
    assert Mention.objects.count() == 0
    assert Author.objects.count() == 0


def test_a_follower_count_stated_earlier_in_the_same_batch_is_kept():
    ingest_mentions([mention_in(1, followers=77), mention_in(2, followers=None)], source_id=None)
    assert Author.objects.get().followers == 77


@pytest.mark.parametrize("path", ["postgres", "portable"])
def test_a_replays_rows_add_unknown_authors_but_never_overwrite_known_ones(path, monkeypatch):
    # A replay of years-old history names real accounts: it must not write their old names and
    # follower counts over what live polling knows (the portable path is the embedded SQLite's).
    if path == "portable":
        monkeypatch.setattr(ingest, "_postgres_copy_upsert", ingest._orm_upsert)
    ingest_mentions([mention_in(1, followers=5000)], source_id=None)
    old = replace(mention_in(2, followers=12), author=AuthorIn(handle="ana", display_name="Old"))
    new_author = mention_in(3, handle="bea", followers=40)
    ingest_mentions(
        [replace(old, origin="run:9"), replace(new_author, origin="run:9")], source_id=None
    )
    authors = {a.handle: (a.display_name, a.followers) for a in Author.objects.all()}
    assert authors == {"ana": ("Ana", 5000), "bea": ("Bea", 40)}
    assert Mention.objects.filter(origin="run:9").count() == 2
    # A live mention of the same account describes it anew, as always.
    ingest_mentions([mention_in(4, followers=6000)], source_id=None)
    assert Author.objects.get(handle="ana").followers == 6000
