"""Builders of connector values and sources for monitoring tests."""

from datetime import UTC, datetime, timedelta

from monitoring.connectors.base import AuthorIn, MentionIn
from monitoring.models import Source
from monitoring.platforms import Platform, QueryKind

EPOCH = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def mention_in(
    number: int,
    *,
    platform: str = Platform.MASTODON,
    handle: str = "ana",
    followers: int | None = 120,
    language: str = "es",
    text: str | None = None,
    likes: int = 0,
) -> MentionIn:
    return MentionIn(
        platform=platform,
        external_id=str(1000 + number),
        url=f"https://masto.example/@{handle}/{1000 + number}",
        text=text if text is not None else f"Mensaje número {number} sobre Brisa",
        published_at=EPOCH + timedelta(minutes=number),
        author=AuthorIn(handle=handle, display_name=handle.title(), followers=followers),
        language=language,
        engagement={"likes": likes},
        raw={"id": str(1000 + number)},
    )


def make_source(**overrides) -> Source:
    values = {
        "name": "Brisa on Mastodon",
        "platform": Platform.MASTODON,
        "kind": QueryKind.HASHTAG,
        "query": "brisa",
        "base_url": "https://masto.example",
        "poll_interval_seconds": 60,
    }
    values.update(overrides)
    return Source.objects.create(**values)
