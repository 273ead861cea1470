"""A small world of mentions with known counts, stored and scored through the real ingest and
scoring path, and the raw-table oracle the rollups and the board's figures are checked
against (issue 12, acceptance 2)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count

from django.db import transaction

from crisis.board.models import AuthorHour, MentionHour, MentionSliceHour
from monitoring.connectors.base import AuthorIn, MentionIn
from monitoring.ingest import ingest_mentions
from monitoring.models import Mention
from protocols.evaluation import NEGATIVE_BELOW, POSITIVE_ABOVE
from protocols.models import MentionTopic
from protocols.scoring.types import OVERALL_TOPIC
from protocols.tasks import score_new_mentions

NOW = datetime(2026, 11, 10, 12, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
SERIOUS = ("high", "critical")
LONG_TAG = "ñandú" + "x" * 55  # 60 word characters: the longest hashtag a topic can be

TEXTS = {
    # es: medium, company at fault, negative, complaint; hashtag topic "brisa"
    "complaint": "Pésimo servicio, me habéis cobrado dos veces y no contestáis #brisa",
    # es: critical, negative, complaint; groups authority + legal_threat
    "legal": "Voy a denunciar a Brisa ante la OCU, me han cobrado dos veces, es un robo",
    # es: low, praise, positive; hashtag "fans"
    "praise": "Gracias Brisa, el equipo fue genial y muy amable #fans",
    "question": "¿A qué hora abre la tienda de Brisa?",  # low, question, neutral
    "news": "Brisa publica su informe anual",  # low, neutral, neutral
    "troll": "Sois unos idiotas y unos inútiles",  # medium, troll, negative, no complaint
    "english": "Terrible customer service, you charged me twice and nobody answers",
    "emoji": "🙂🙂 \u200b💥 ¡¡!!",  # no language detected: stored ""
    # odd unicode and the longest hashtag a topic can be
    "tags": f"Brisa #{LONG_TAG} #ÑandúCafé 🙂\u200b",
}

_numbers = count(1)
# Each author keeps one follower count: reach is summed as of the count, so an author whose
# count changes later would (rightly) leave older buckets with the older reach.
FOLLOWERS = {"ana": 1000, "bea": 50, "carla": None, "dani": 7, "eva": 2_000_000}


def post(
    kind: str,
    at: datetime,
    *,
    platform: str = "bluesky",
    handle: str = "ana",
    language: str = "es",
) -> MentionIn:
    number = next(_numbers)
    followers = FOLLOWERS.get(handle, 100)
    return MentionIn(
        platform=platform,
        external_id=f"board-{number}",
        url=f"https://example.org/{platform}/{number}",
        text=TEXTS[kind],
        published_at=at,
        author=AuthorIn(handle=handle, display_name=handle.title(), followers=followers),
        language=language,
    )


def store(posts: list[MentionIn], capture, *, score: bool = True) -> list[int]:
    """Ingest (and score) through the real path, running what follows each commit (the
    rollup receivers among it)."""
    with capture(execute=True):
        ids = ingest_mentions(posts, source_id=None).new_mention_ids
    if score:
        with capture(execute=True):
            score_new_mentions(ids)
    return ids


@dataclass
class World:
    ids: dict[str, int] = field(default_factory=dict)


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def build_world(capture) -> World:
    """Mentions around NOW (2026-11-10 12:30 UTC): inside the default 24-hour range, on both
    sides of the 11:00 boundary, in the baselines of the 24-hour, 7-day and 30-day ranges, one
    never scored and one of a drill (origin run:7). Call it with the clock at NOW."""
    world = World()
    named = {
        "before_boundary": post("complaint", at(10, 10, 59, 59)),
        "on_boundary": post("legal", at(10, 11)),
        "praise": post("praise", at(10, 11), platform="mastodon", handle="bea"),
        "question": post("question", at(10, 11, 30), platform="mastodon", handle="carla"),
        "news": post("news", at(10, 12, 10), platform="reddit", handle="dani"),
        "troll": post("troll", at(10, 12, 20), handle="eva"),
        "english": post(
            "english", at(10, 9, 15), platform="mastodon", handle="fran", language="en"
        ),
        "emoji": post("emoji", at(10, 8), handle="gil", language=""),
        "tags": post("tags", at(10, 8, 30), handle="gil"),
        "yesterday": post("legal", at(9, 14), platform="reddit", handle="ana2"),
        "edge_of_range": post("complaint", at(9, 13), handle="hugo"),
        "just_before_range": post("complaint", at(9, 12, 59, 59), handle="hugo"),
        "baseline_1": post("complaint", at(5, 11, 10), handle="ana"),
        "baseline_2": post("praise", at(8, 11, 40), platform="mastodon", handle="bea"),
        "baseline_3": post("english", at(3, 20), handle="iris", language="en"),
        "baseline_4": post("troll", at(2, 14), handle="eva"),
        "week": post("legal", at(6, 3), handle="ana"),
        "month": post("complaint", at(20, 16, month=10), platform="mastodon", handle="bea"),
        "old": post("complaint", at(5, 9, month=10), handle="ana"),
        "older": post("troll", at(20, 9, month=9), handle="eva"),
    }
    ids = store(list(named.values()), capture)
    world.ids.update(_by_external_id(named, ids))
    unscored = {"unscored": post("news", at(10, 12, 25), handle="juan")}
    world.ids.update(
        _by_external_id(unscored, store(list(unscored.values()), capture, score=False))
    )
    # A drill's mention: stored and marked as the run's in one transaction, as a replay
    # stores its rows (what follows the commit sees its origin).
    drill = {"drill": post("complaint", at(10, 11, 5), handle="ana")}
    with capture(execute=True), transaction.atomic():
        drill_ids = ingest_mentions(list(drill.values()), source_id=None).new_mention_ids
        Mention.objects.filter(pk__in=drill_ids).update(origin="run:7")
    with capture(execute=True):
        score_new_mentions(drill_ids)
    world.ids.update(_by_external_id(drill, drill_ids))
    return world


def _by_external_id(named: dict[str, MentionIn], ids: list[int]) -> dict[str, int]:
    by_external = dict(Mention.objects.filter(pk__in=ids).values_list("external_id", "pk"))
    return {name: by_external[item.external_id] for name, item in named.items()}


# --- the oracle: the same figures straight from the raw tables -----------------------------
def polarity(sentiment: float | None) -> str:
    if sentiment is None:
        return ""
    if sentiment <= NEGATIVE_BELOW:
        return "negative"
    if sentiment >= POSITIVE_ABOVE:
        return "positive"
    return "neutral"


def hour_of(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def raw_mention_cells() -> Counter:
    """What MentionHour must hold, computed in Python from every live mention."""
    cells: Counter = Counter()
    topics: dict[int, list[str]] = {}
    for mention_id, topic in MentionTopic.objects.values_list("mention_id", "topic"):
        if topic != OVERALL_TOPIC:
            topics.setdefault(mention_id, []).append(topic)
    rows = Mention.objects.filter(origin="live").values_list(
        "pk",
        "published_at",
        "platform",
        "language",
        "author__followers",
        "score__severity",
        "score__triage_class",
        "score__sentiment",
        "score__is_complaint",
    )
    for (
        pk,
        published,
        platform,
        language,
        followers,
        severity,
        triage,
        sentiment,
        complaint,
    ) in rows:
        for topic in ["", *topics.get(pk, [])]:
            key = (
                hour_of(published),
                topic,
                platform,
                language,
                severity or "",
                triage or "",
                polarity(sentiment),
                bool(complaint),
            )
            cells[(*key, "mentions")] += 1
            cells[(*key, "reach")] += followers or 0
    return +cells


def stored_mention_cells() -> Counter:
    cells: Counter = Counter()
    for row in MentionHour.objects.values_list(
        "hour",
        "topic",
        "platform",
        "language",
        "severity",
        "triage_class",
        "polarity",
        "is_complaint",
        "mentions",
        "reach",
    ):
        key = (hour_of(row[0]), *row[1:8])
        assert (*key, "mentions") not in cells, f"two rows for one cell {key}"
        cells[(*key, "mentions")] += row[8]
        cells[(*key, "reach")] += row[9]
    return +cells


SLICE_FIGURES = ("mentions", "scored", "negative", "complaints", "serious", "reach")


def raw_slice_cells() -> Counter:
    """What MentionSliceHour must hold, computed in Python from every live mention: each
    mention once per (hour, platform, language)."""
    cells: Counter = Counter()
    rows = Mention.objects.filter(origin="live").values_list(
        "published_at",
        "platform",
        "language",
        "author__followers",
        "score__severity",
        "score__sentiment",
        "score__is_complaint",
        "score__id",
    )
    for published, platform, language, followers, severity, sentiment, complaint, score in rows:
        key = (hour_of(published), platform, language)
        cells[(*key, "mentions")] += 1
        cells[(*key, "scored")] += score is not None
        cells[(*key, "negative")] += polarity(sentiment) == "negative"
        cells[(*key, "complaints")] += bool(complaint)
        cells[(*key, "serious")] += severity in SERIOUS
        cells[(*key, "reach")] += followers or 0
    return +cells


def stored_slice_cells() -> Counter:
    cells: Counter = Counter()
    for row in MentionSliceHour.objects.values_list("hour", "platform", "language", *SLICE_FIGURES):
        key = (hour_of(row[0]), row[1], row[2])
        assert (*key, "mentions") not in cells, f"two rows for one cell {key}"
        for figure, value in zip(SLICE_FIGURES, row[3:], strict=True):
            cells[(*key, figure)] += value
    return +cells


def raw_author_cells() -> dict:
    cells: Counter = Counter()
    platforms = {}
    rows = Mention.objects.filter(origin="live", score__sentiment__lte=NEGATIVE_BELOW)
    for author_id, published, platform, language, severity in rows.values_list(
        "author_id", "published_at", "platform", "language", "score__severity"
    ):
        key = (hour_of(published), author_id, language)
        cells[(*key, "negative")] += 1
        cells[(*key, "serious")] += severity in SERIOUS
        platforms[key] = platform
    return {"counts": +cells, "platforms": platforms}


def stored_author_cells() -> dict:
    cells: Counter = Counter()
    platforms = {}
    for hour, author_id, language, platform, negative, serious in AuthorHour.objects.values_list(
        "hour", "author_id", "language", "platform", "negative", "serious"
    ):
        key = (hour_of(hour), author_id, language)
        assert key not in platforms, f"two rows for one cell {key}"
        cells[(*key, "negative")] += negative
        cells[(*key, "serious")] += serious
        platforms[key] = platform
    return {"counts": +cells, "platforms": platforms}


def assert_rollups_exact() -> None:
    """Every rollup row equals a fresh aggregate of the raw tables, and nothing else is
    stored."""
    stored, raw = stored_mention_cells(), raw_mention_cells()
    assert stored == raw, _difference(stored, raw)
    stored_slices, raw_slices = stored_slice_cells(), raw_slice_cells()
    assert stored_slices == raw_slices, _difference(stored_slices, raw_slices)
    stored_authors, raw_authors = stored_author_cells(), raw_author_cells()
    assert stored_authors == raw_authors, _difference(
        stored_authors["counts"], raw_authors["counts"]
    )


def _difference(stored: Counter, raw: Counter) -> str:
    keys = sorted(set(stored) ^ set(raw) | {k for k in stored if stored[k] != raw.get(k)}, key=str)
    return "\n".join(f"{key}: stored {stored.get(key)} raw {raw.get(key)}" for key in keys[:20])
