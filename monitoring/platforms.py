"""The platforms Calma watches and the kinds of query a source can make on each."""

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
