"""What a user was told: one Notification row per user and event, read in the bell; how each
user wants to be told (channel preferences); and the outgoing webhooks that carry it out."""

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from monitoring.models import LIVE_ORIGIN


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned to you")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACH = "sla_breach", _("SLA breached")
    CRITICAL = "critical", _("Critical incident")
    ESCALATION = "escalation", _("Escalation")
    CRISIS_SUGGESTION = "crisis_suggestion", _("Crisis suggestion")
    HANDBACK = "handback", _("Handed back")
    HAND_OVER_REQUEST = "hand_over_request", _("Hand-over requested")
    APPROVAL_REQUESTED = "approval_requested", _("Approval requested")
    APPROVAL_DECIDED = "approval_decided", _("Approval decided")
    APPROVAL_OVERDUE = "approval_overdue", _("Approval overdue")
    REPLY_FAILED = "reply_failed", _("Reply failed to send")
    FOLLOW_UP_DUE = "follow_up_due", _("Follow-up due")
    MODERATION_REQUESTED = "moderation_requested", _("Moderation requested")
    MODERATION_DECIDED = "moderation_decided", _("Moderation decided")
    COMPENSATION_APPROVAL = "compensation_approval", _("Compensation needs approval")
    CRISIS_DECLARED = "crisis_declared", _("Crisis declared")
    CABINET_ADDED = "cabinet_added", _("Added to a crisis cabinet")
    COMMAND_HANDED_OVER = "command_handed_over", _("Crisis command handed over")
    TASK_OVERDUE = "task_overdue", _("Crisis task overdue")
    STATEMENT_APPROVAL = "statement_approval", _("Statement to approve")
    STATEMENT_UPDATE_DUE = "statement_update_due", _("Statement update due")
    # The board's daily digest e-mail (crisis.board.digest): only its e-mail channel means
    # anything, and turning it off is how a supervisor or executive opts out.
    DAILY_DIGEST = "daily_digest", _("Daily digest")


# Kinds that only ever travel by e-mail: the preferences page offers no other channel for them.
EMAIL_ONLY_KINDS = frozenset({NotificationKind.DAILY_DIGEST})


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=40, choices=NotificationKind.choices)
    # Rendered once, in the recipient's language, when the notification is created.
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("body"), blank=True)
    # A path inside Calma (services pass reverse(...)); never an outside address.
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    # "live", or "run:<id>" for a replay or drill: never e-mailed; shown in the bell of the
    # run's participants only (born read for anyone else).
    origin = models.CharField(_("origin"), max_length=40, default=LIVE_ORIGIN, db_index=True)
    # The event's identity ("incident:12:assigned:7"), so a retried task notifies once.
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, blank=True)
    # The recipient's channel choices when it was created. The row is always stored (the
    # record, and the anchor of dedupe_key); with in-app off it is born read and the bell and
    # the list leave it out; with e-mail off no e-mail is sent, now or by the sweeper.
    in_app = models.BooleanField(_("shown in Calma"), default=True)
    by_email = models.BooleanField(_("sent by e-mail"), default=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="one_notification_per_user_and_dedupe_key",
            )
        ]
        indexes = [
            # The bell's unread COUNT, polled by every open page (live rows, and a drill's for
            # its participants: a run's other rows are born read).
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            # The sweeper's scan for e-mails that never went out.
            models.Index(
                fields=["created_at"],
                condition=Q(emailed_at__isnull=True, origin=LIVE_ORIGIN),
                name="notification_email_pending",
            ),
            # The notifications page, newest first.
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_newest"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


# --- Channel preferences ----------------------------------------------------------------------


class NotificationChannel(models.TextChoices):
    IN_APP = "in_app", _("In Calma")
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


# What a user gets without having chosen: the bell and e-mail, no webhook.
CHANNEL_DEFAULTS: dict[str, bool] = {
    NotificationChannel.IN_APP: True,
    NotificationChannel.EMAIL: True,
    NotificationChannel.WEBHOOK: False,
}


class NotificationPreference(models.Model):
    """One user's choice for one kind on one channel, stored only where it differs from
    CHANNEL_DEFAULTS (so a new kind or channel needs no data migration)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(_("kind"), max_length=40, choices=NotificationKind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=NotificationChannel.choices)
    enabled = models.BooleanField(_("enabled"))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "channel"], name="one_preference_per_user_kind_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.channel}={self.enabled}"


# --- Outgoing webhooks ------------------------------------------------------------------------

secret_ref_validator = RegexValidator(
    r"^[A-Z0-9_]{0,64}$",
    _("Use capital letters, digits and underscores only (e.g. SLACK_ALERTS)."),
)

# The kind of the admin's "send a test event" deliveries (not a notification kind).
TEST_EVENT_KIND = "test"


class WebhookSettings(models.Model):
    """One row: what every outgoing webhook may reach (set by an admin)."""

    allow_private_addresses = models.BooleanField(
        _("allow private and loopback addresses"),
        default=False,
        help_text=_(
            "Off: Calma refuses to send to private, loopback, link-local, multicast, reserved "
            "and unspecified addresses (checked again on every send). Turn on only for a "
            "receiver inside your own network."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("webhook settings")
        verbose_name_plural = _("webhook settings")

    def __str__(self) -> str:
        return "webhooks"

    @classmethod
    def load(cls) -> "WebhookSettings":
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row


class WebhookEndpoint(models.Model):
    """An address Calma POSTs notification events to (Slack-compatible JSON, signed)."""

    EDITABLE_FIELDS = ("name", "url", "secret_ref", "enabled", "kinds")

    name = models.CharField(_("name"), max_length=120)
    url = models.URLField(_("address"), max_length=500)
    secret_ref = models.CharField(
        _("signing secret reference"),
        max_length=64,
        blank=True,
        validators=[secret_ref_validator],
        help_text=_(
            "Name of the secret kept in the server environment, never here: REF reads "
            "CALMA_SECRET_REF_WEBHOOK_SECRET. Empty: events are sent unsigned."
        ),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    # NotificationKind values this endpoint receives (a list: works on SQLite too).
    kinds = models.JSONField(_("events"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def receives(self, kind: str) -> bool:
        return self.enabled and kind in self.kinds

    def kind_labels(self) -> list[str]:
        return [kind_label(kind) for kind in self.kinds]


def kind_label(kind: str) -> str:
    """What a delivery's kind is called on screen (a notification kind, or the test event)."""
    if kind == TEST_EVENT_KIND:
        return str(_("Test event"))
    labels = dict(NotificationKind.choices)
    return str(labels.get(kind, kind))


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event for one endpoint, written in the notification's transaction and sent at least
    once. `event_id` is the same on every attempt, so a receiver drops duplicates by it."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhook_deliveries",
    )
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=40)
    # The JSON sent, fixed at creation: every attempt sends the same bytes.
    payload = models.JSONField(_("payload"))
    state = models.CharField(
        _("state"), max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"))
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)
    # While a worker sends, no other one may (a conditional UPDATE claims it until then).
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the sweeper may hand a still-pending delivery to a worker again: past the task's
    # own hand-off on commit, or past the longest back-off of its next retry.
    sweep_after = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A retried notify() (same dedupe_key, same rows) adds no second delivery.
            models.UniqueConstraint(
                fields=["endpoint", "notification"],
                condition=Q(notification__isnull=False),
                name="one_delivery_per_endpoint_and_notification",
            )
        ]
        indexes = [
            models.Index(
                fields=["endpoint", "-created_at", "-id"], name="delivery_endpoint_newest"
            ),
            # The sweeper's scan of what is still pending.
            models.Index(
                fields=["sweep_after"],
                condition=Q(state="pending"),
                name="delivery_pending_sweep",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id}"

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)
