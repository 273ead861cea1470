"""What a user was told: one Notification row per user and event, read in the bell."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

LIVE_ORIGIN = "live"


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
    # "live", or "run:<id>" for a replay or drill: kept for the run's report, never shown
    # in the bell nor e-mailed.
    origin = models.CharField(_("origin"), max_length=40, default=LIVE_ORIGIN, db_index=True)
    # The event's identity ("incident:12:assigned:7"), so a retried task notifies once.
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, blank=True)

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
            # The bell's unread COUNT, polled by every open page.
            models.Index(
                fields=["user"],
                condition=Q(read_at__isnull=True, origin=LIVE_ORIGIN),
                name="notification_unread_live",
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
