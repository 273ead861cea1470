"""The platforms Calma watches and the kinds of query a source can make on each."""

from datetime import UTC, datetime

from django.db import models
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    MASTODON = "mastodon", "Mastodon"
    BLUESKY = "bluesky", "Bluesky"
    REDDIT = "reddit", "Reddit"
    FEED = "feed", _("RSS/Atom feed")
    YOUTUBE = "youtube", "YouTube"
    WEBHOOK = "webhook", _("Webhook")
    CSV = "csv", _("CSV import")


class QueryKind(models.TextChoices):
    HASHTAG = "hashtag", _("Hashtag")
    SEARCH = "search", _("Keyword search")
    ACCOUNT = "account", _("Account")
    SUBREDDIT = "subreddit", _("Subreddit")
    FEED_URL = "feed_url", _("Feed URL")
    CHANNEL = "channel", _("Channel")
    VIDEO = "video", _("Video")
    PUSH = "push", _("Pushed to Calma")


# Which query kinds each platform's connector can poll.
SUPPORTED_QUERIES: dict[str, tuple[str, ...]] = {
    Platform.MASTODON: (QueryKind.HASHTAG, QueryKind.SEARCH, QueryKind.ACCOUNT),
    Platform.BLUESKY: (QueryKind.SEARCH, QueryKind.HASHTAG),
    Platform.REDDIT: (QueryKind.SEARCH, QueryKind.SUBREDDIT),
    Platform.FEED: (QueryKind.FEED_URL,),
    Platform.YOUTUBE: (QueryKind.CHANNEL, QueryKind.VIDEO),
    Platform.WEBHOOK: (QueryKind.PUSH,),
    Platform.CSV: (QueryKind.PUSH,),
}

# Platforms that Calma polls on a schedule (the others push or are uploaded).
POLLED_PLATFORMS = (
    Platform.MASTODON,
    Platform.BLUESKY,
    Platform.REDDIT,
    Platform.FEED,
    Platform.YOUTUBE,
)

# The earliest date a post on each platform can carry. An older date is a bad date, not
# history: the validation boundary quarantines it (monitoring.connectors.boundary). Webhook
# and CSV items may come from any platform Calma does not know, so they get the early web.
PLATFORM_EPOCHS: dict[str, datetime] = {
    Platform.MASTODON: datetime(2016, 3, 16, tzinfo=UTC),  # first public release
    Platform.BLUESKY: datetime(2022, 11, 1, tzinfo=UTC),  # first posts on the AT Protocol
    Platform.REDDIT: datetime(2005, 6, 23, tzinfo=UTC),  # launch
    Platform.FEED: datetime(1999, 3, 15, tzinfo=UTC),  # RSS 0.90 (Netscape)
    Platform.YOUTUBE: datetime(2005, 2, 14, tzinfo=UTC),  # founded
    Platform.WEBHOOK: datetime(1991, 8, 6, tzinfo=UTC),  # the first public web page
    Platform.CSV: datetime(1991, 8, 6, tzinfo=UTC),
}
EARLIEST_EPOCH = min(PLATFORM_EPOCHS.values())


def platform_epoch(platform: str) -> datetime:
    """When ``platform`` began; the earliest of all for an unknown or empty platform."""
    return PLATFORM_EPOCHS.get(platform, EARLIEST_EPOCH)
