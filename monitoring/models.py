"""Sources (what to watch), authors, mentions, quarantined items and source alerts."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from monitoring.fingerprints import quarantine_fingerprint
from monitoring.platforms import Platform, QueryKind

# Every live row's origin; a replay's or drill's rows have "run:<id>" and never count toward
# live figures, notify outside the run or reach a platform.
LIVE_ORIGIN = "live"


class SourceHealth(models.TextChoices):
    HEALTHY = "healthy", _("Healthy")
    DEGRADED = "degraded", _("Degraded")
    FAILING = "failing", _("Failing")


credentials_ref_validator = RegexValidator(
    r"^[A-Z0-9_]*$", _("Use capital letters, digits and underscores only, e.g. MASTODON_MAIN.")
)


class Source(models.Model):
    # What people edit (form) and what the audit log records of a change (services).
    EDITABLE_FIELDS = (
        "name",
        "platform",
        "kind",
        "query",
        "base_url",
        "poll_interval_seconds",
        "enabled",
        "credentials_ref",
    )

    name = models.CharField(_("name"), max_length=120)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    kind = models.CharField(_("what to watch"), max_length=16, choices=QueryKind.choices)
    query = models.CharField(
        _("query"),
        max_length=500,
        blank=True,
        help_text=_(
            "Hashtag without #, search terms, account, subreddit, feed URL, or channel/video id."
        ),
    )
    base_url = models.URLField(
        _("instance or API URL"),
        blank=True,
        max_length=500,
        help_text=_("Mastodon instance (required there); leave empty for the platform default."),
    )
    poll_interval_seconds = models.PositiveIntegerField(
        _("poll every (seconds)"),
        default=60,
        validators=[MinValueValidator(10), MaxValueValidator(86_400)],
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    credentials_ref = models.CharField(
        _("credentials reference"),
        max_length=64,
        blank=True,
        validators=[credentials_ref_validator],
        help_text=_(
            "Name of the secret kept in the server environment, never here: REF reads "
            "CALMA_SECRET_REF_ACCESS_TOKEN, CALMA_SECRET_REF_API_KEY or "
            "CALMA_SECRET_REF_WEBHOOK_SECRET."
        ),
    )
    # Polling state, written only by monitoring.polling.
    cursor = models.JSONField(_("cursor"), default=dict, blank=True)
    next_poll_at = models.DateTimeField(_("next poll"), null=True, blank=True, db_index=True)
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    health = models.CharField(
        _("health"), max_length=10, choices=SourceHealth.choices, default=SourceHealth.HEALTHY
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Author(models.Model):
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    handle = models.CharField(_("handle"), max_length=255)
    display_name = models.CharField(_("display name"), max_length=255, blank=True)
    followers = models.PositiveBigIntegerField(_("followers"), null=True, blank=True)
    verified = models.BooleanField(_("verified"), default=False)
    url = models.CharField(_("profile URL"), max_length=2000, blank=True)
    # Set by people (influencer, ambassador, known_troll, customer); the protocol weighs them.
    flags = models.JSONField(_("flags"), default=list, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)

    class Meta:
        verbose_name = _("author")
        verbose_name_plural = _("authors")
        constraints = [
            models.UniqueConstraint(fields=["platform", "handle"], name="author_unique_handle")
        ]

    def __str__(self) -> str:
        return f"{self.handle} ({self.get_platform_display()})"


class Mention(models.Model):
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    external_id = models.CharField(_("platform id"), max_length=512)
    source = models.ForeignKey(
        Source,
        verbose_name=_("source"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mentions",
    )
    author = models.ForeignKey(
        Author, verbose_name=_("author"), on_delete=models.PROTECT, related_name="mentions"
    )
    url = models.CharField(_("URL"), max_length=2000, blank=True)
    text = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=8, blank=True)
    published_at = models.DateTimeField(_("published"))
    ingested_at = models.DateTimeField(_("ingested"), default=timezone.now)
    reply_to_id = models.CharField(_("in reply to"), max_length=512, blank=True)
    thread_id = models.CharField(_("thread"), max_length=512, blank=True)
    engagement = models.JSONField(_("engagement"), default=dict, blank=True)
    raw = models.JSONField(_("raw payload"), default=dict, blank=True)
    # "live", or "run:<id>" for a replay or drill, whose rows never count toward live figures.
    # Also a database default: ingest inserts with its own SQL (monitoring.ingest).
    origin = models.CharField(
        _("origin"), max_length=40, default=LIVE_ORIGIN, db_default=LIVE_ORIGIN, db_index=True
    )

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], name="mention_unique_platform_id"
            )
        ]
        indexes = [
            models.Index(fields=["-published_at", "-id"], name="mention_newest"),
            models.Index(fields=["source", "-published_at"], name="mention_source_newest"),
            models.Index(fields=["language", "-published_at"], name="mention_language_newest"),
            # The scoring sweeper walks recently stored mentions (protocols.sweeper).
            models.Index(fields=["ingested_at"], name="mention_ingested"),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.external_id}"


class QuarantineStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    REPROCESSED = "reprocessed", _("Reprocessed")
    DISCARDED = "discarded", _("Discarded")


class QuarantinedItem(models.Model):
    """An item a connector could not parse, kept with its reason and payload for review."""

    source = models.ForeignKey(
        Source,
        verbose_name=_("source"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quarantined_items",
    )
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    reason = models.TextField(_("reason"))
    raw = models.JSONField(_("raw payload"), null=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=QuarantineStatus.choices,
        default=QuarantineStatus.PENDING,
        db_index=True,
    )
    attempts = models.PositiveIntegerField(_("reprocessing attempts"), default=0)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mention = models.ForeignKey(
        Mention, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The same bad item waits for review once per source (monitoring.fingerprints).
    fingerprint = models.CharField(_("fingerprint"), max_length=64, editable=False)

    class Meta:
        verbose_name = _("quarantined item")
        verbose_name_plural = _("quarantined items")
        ordering = ["-received_at", "-id"]
        constraints = [
            # Two constraints because Postgres treats NULLs as distinct: items kept without
            # a source (or left by a deleted one) are deduplicated among themselves.
            models.UniqueConstraint(
                fields=["source", "fingerprint"],
                condition=models.Q(status=QuarantineStatus.PENDING, source__isnull=False),
                name="quarantine_one_pending_per_source",
            ),
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=models.Q(status=QuarantineStatus.PENDING, source__isnull=True),
                name="quarantine_one_pending_without_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.reason[:60]}"

    def save(self, *args, **kwargs) -> None:
        if not self.fingerprint:
            self.fingerprint = quarantine_fingerprint(self.platform, self.raw)
        super().save(*args, **kwargs)


class AlertKind(models.TextChoices):
    POLLING_FAILING = "polling_failing", _("Polling failing")
    QUARANTINE_FULL = "quarantine_full", _("Quarantine full")


class SourceAlert(models.Model):
    """Something about a source that needs a person; at most one open alert per kind.

    A polling-failing alert is resolved by the source's next successful poll; a
    quarantine-full alert when its pending items fall below the cap again.
    """

    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=AlertKind.choices, default=AlertKind.POLLING_FAILING
    )
    message = models.TextField(_("message"))
    # Quarantine full: items refused since the alert was raised, across deliveries.
    dropped_count = models.PositiveBigIntegerField(_("items dropped"), default=0)
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("source alert")
        verbose_name_plural = _("source alerts")
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_alert_per_source_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.message[:60]}"
