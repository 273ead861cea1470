"""Ingest benchmark: 100,000 mentions through the real upsert path vs naive per-row save().

Run with `make bench-ingest` (Postgres at DATABASE_URL; a scratch database `calma_bench` is
created and dropped). Prints figures; it asserts nothing. Not collected by pytest.
"""

import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
TOTAL = int(os.environ.get("BENCH_MENTIONS", "100000"))
NAIVE_SAMPLE = int(os.environ.get("BENCH_NAIVE_SAMPLE", "5000"))
PAGE = 1000
BENCH_DB = "calma_bench"
SERVER_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def scratch_database_url() -> str:
    with psycopg.connect(SERVER_URL, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        connection.execute(f"CREATE DATABASE {BENCH_DB}")
    return SERVER_URL.rsplit("/", 1)[0] + f"/{BENCH_DB}"


def drop_scratch_database() -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


WORDS_ES = tuple("el servicio de brisa no funciona hoy llevo dos horas sin fibra gracias".split())
WORDS_EN = tuple("my brisa bill is wrong again and support never answers thanks".split())


def synthetic_mentions(count: int, platform: str, seed: int):
    from monitoring.connectors.base import AuthorIn, MentionIn

    rng = random.Random(seed)  # noqa: S311 - benchmark data
    start = datetime(2026, 1, 1, tzinfo=UTC)
    mentions = []
    for index in range(count):
        spanish = rng.random() < 0.5
        words = WORDS_ES if spanish else WORDS_EN
        handle = f"user{rng.randrange(count // 5)}"
        mentions.append(
            MentionIn(
                platform=platform,
                external_id=f"{seed}-{index}",
                url=f"https://example.social/@{handle}/{seed}{index}",
                text=" ".join(rng.choices(words, k=rng.randint(6, 30))),
                published_at=start + timedelta(seconds=index),
                author=AuthorIn(handle=handle, display_name=handle.title(), followers=index % 5000),
                # Most platforms state the language; one in five is detected at ingest.
                language="" if index % 5 == 0 else ("es" if spanish else "en"),
                engagement={"likes": index % 17, "reposts": index % 5},
                raw={"id": index, "content": "…"},
            )
        )
    return mentions


def bench_bulk(mentions) -> float:
    from django.db import transaction

    from monitoring.ingest import ingest_mentions

    started = time.perf_counter()
    for start in range(0, len(mentions), PAGE):
        with transaction.atomic():
            ingest_mentions(mentions[start : start + PAGE], source_id=None)
    return time.perf_counter() - started


def bench_naive(mentions) -> float:
    """What a first version would do: one ORM save() per author and per mention."""
    from monitoring.models import Author, Mention
    from monitoring.text import detect_language

    started = time.perf_counter()
    for mention in mentions:
        author, _created = Author.objects.get_or_create(
            platform=mention.platform, handle=mention.author.handle
        )
        author.display_name = mention.author.display_name
        author.followers = mention.author.followers
        author.save()
        stored = Mention.objects.filter(
            platform=mention.platform, external_id=mention.external_id
        ).first() or Mention(platform=mention.platform, external_id=mention.external_id)
        stored.author = author
        stored.url = mention.url
        stored.text = mention.text
        stored.language = mention.language or detect_language(mention.text)
        stored.published_at = mention.published_at
        stored.engagement = mention.engagement
        stored.raw = mention.raw
        stored.save()
    return time.perf_counter() - started


def main() -> None:
    os.environ["DATABASE_URL"] = scratch_database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisis.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    from django.core.management import call_command

    try:
        call_command("migrate", verbosity=0)
        from monitoring.text import detect_language

        detect_language("warm up the language detector once")
        bulk = synthetic_mentions(TOTAL, "mastodon", seed=1)
        bulk_seconds = bench_bulk(bulk)
        again_seconds = bench_bulk(bulk)  # every row already stored: the re-poll path
        naive = synthetic_mentions(NAIVE_SAMPLE, "bluesky", seed=2)
        naive_seconds = bench_naive(naive)
        from monitoring.models import Mention

        stored = Mention.objects.count()
        bulk_rate = TOTAL / bulk_seconds
        naive_rate = NAIVE_SAMPLE / naive_seconds
        print(
            f"ingest: {TOTAL:,} new mentions in {bulk_seconds:.2f} s = {bulk_rate:,.0f} mentions/s"
        )
        print(
            f"ingest: {TOTAL:,} already-stored mentions (re-poll) in {again_seconds:.2f} s "
            f"= {TOTAL / again_seconds:,.0f} mentions/s"
        )
        print(
            f"naive per-row ORM save(): {NAIVE_SAMPLE:,} mentions in {naive_seconds:.2f} s "
            f"= {naive_rate:,.0f} mentions/s"
        )
        print(f"speed-up: {bulk_rate / naive_rate:.1f}x   (rows stored: {stored:,})")
    finally:
        from django.db import connections

        connections.close_all()
        drop_scratch_database()


if __name__ == "__main__":
    main()
