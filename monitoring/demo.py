"""Demo sources: one per platform, all pointing at the local platform simulator."""

from monitoring.models import Source
from monitoring.platforms import Platform, QueryKind

DEMO_CREDENTIALS_REF = "SIMULATOR"
# The simulator accepts any well-formed key; make run exports it as
# CALMA_SECRET_SIMULATOR_API_KEY so the secret never sits in the database.
DEMO_YOUTUBE_API_KEY = "AIzaSyCalmaSimulatorDemoKey-000000000000"


DEMO_SIMULATOR_SEED = 7


def simulator_channel_id(seed: int = DEMO_SIMULATOR_SEED) -> str:
    """The YouTube channel the simulator's world of this seed is about (seed-determined)."""
    from datetime import UTC, datetime

    from monitoring.simulator.world import World

    tiny = World.generate(seed, datetime(2026, 1, 1, tzinfo=UTC), 0.01, 1.0, None)
    return tiny.channel_id


def demo_source_specs(simulator_url: str, youtube_channel_id: str) -> list[dict]:
    base = simulator_url.rstrip("/")
    return [
        {
            "name": "Mastodon #brisa",
            "platform": Platform.MASTODON,
            "kind": QueryKind.HASHTAG,
            "query": "brisa",
            "base_url": f"{base}/mastodon",
        },
        {
            "name": "Bluesky “brisa”",
            "platform": Platform.BLUESKY,
            "kind": QueryKind.SEARCH,
            "query": "brisa",
            "base_url": f"{base}/bluesky",
        },
        {
            "name": "Reddit “brisa”",
            "platform": Platform.REDDIT,
            "kind": QueryKind.SEARCH,
            "query": "brisa",
            "base_url": f"{base}/reddit",
        },
        {
            "name": "YouTube channel comments",
            "platform": Platform.YOUTUBE,
            "kind": QueryKind.CHANNEL,
            "query": youtube_channel_id,
            "base_url": f"{base}/youtube/v3",
            "credentials_ref": DEMO_CREDENTIALS_REF,
        },
        {
            "name": "Google Alerts: Brisa",
            "platform": Platform.FEED,
            "kind": QueryKind.FEED_URL,
            "query": f"{base}/feeds/google-alerts.atom",
        },
        {
            "name": "Talkwalker Alerts: Brisa",
            "platform": Platform.FEED,
            "kind": QueryKind.FEED_URL,
            "query": f"{base}/feeds/talkwalker.rss",
        },
    ]


def create_demo_sources(
    simulator_url: str, youtube_channel_id: str, poll_interval_seconds: int = 15
) -> list[Source]:
    """Create or update the demo sources (idempotent, matched by name)."""
    sources = []
    for spec in demo_source_specs(simulator_url, youtube_channel_id):
        source, _created = Source.objects.update_or_create(
            name=spec["name"],
            defaults={**spec, "poll_interval_seconds": poll_interval_seconds, "enabled": True},
        )
        sources.append(source)
    return sources
