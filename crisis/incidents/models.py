"""Incidents, the mentions attached to each one, and triage corrections kept as labelled data."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models.functions import Least
from django.utils.translation import gettext_lazy as _

from monitoring.models import LIVE_ORIGIN
from protocols.scoring.types import Severity, TriageClass


def reaches_platforms(origin: str) -> bool:
    """Only live work is ever written to a platform: a replay's or a drill's replies,
    statements and moderation are carried out by hand (nothing is posted, hidden or deleted)."""
    return origin == LIVE_ORIGIN


class IncidentState(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    REPLIED = "replied", _("Replied")
    PRIVATE_FOLLOW_UP = "private_follow_up", _("Private follow-up")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    ESCALATED = "escalated", _("Escalated")


# States in which an incident still needs work (attach targets, inbox queues, capacity).
OPEN_STATES = (
    IncidentState.NEW,
    IncidentState.ASSIGNED,
    IncidentState.IN_PROGRESS,
    IncidentState.AWAITING_APPROVAL,
    IncidentState.REPLIED,
    IncidentState.PRIVATE_FOLLOW_UP,
    IncidentState.REOPENED,
    IncidentState.ESCALATED,
)


class CloseReason(models.TextChoices):
    DUPLICATE = "duplicate", _("Duplicate")
    SPAM = "spam", _("Spam")
    NO_ACTION_NEEDED = "no_action_needed", _("No action needed")
    RESOLVED_ELSEWHERE = "resolved_elsewhere", _("Resolved elsewhere")
    OTHER = "other", _("Other")


class Incident(models.Model):
    """One case to handle: a mention or a thread of them, with one owner and an SLA clock."""

    team = models.ForeignKey(
        "people.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
    )
    # PROTECT: people are deactivated, never deleted, so an incident's history stays whole.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_incidents",
    )
    state = models.CharField(
        _("state"), max_length=20, choices=IncidentState.choices, default=IncidentState.NEW
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    triage_class = models.CharField(_("triage class"), max_length=32, choices=TriageClass.choices)
    # The primary topic: the matched keyword group or first hashtag, else "__all__".
    topic = models.CharField(_("topic"), max_length=200)
    author = models.ForeignKey(
        "monitoring.Author",
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    first_mention = models.ForeignKey(
        "monitoring.Mention",
        verbose_name=_("first mention"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened"))
    # The score the incident was opened and routed on (value, severity, class, signals), kept
    # as it was: a later rescore of the mention does not rewrite the incident's history.
    opened_score = models.JSONField(_("score when opened"), default=dict)
    protocol_version = models.ForeignKey(
        "protocols.ProtocolVersion",
        verbose_name=_("protocol version"),
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    sla_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    sla_warned_at = models.DateTimeField(_("SLA warning sent"), null=True, blank=True)
    sla_breached_at = models.DateTimeField(_("SLA breached"), null=True, blank=True)
    # The first public response ever (board metrics, exposure); a reopen does not clear it.
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    # Since when a public response is awaited: set on open and on reopen, cleared by the
    # response. A reopened incident runs a new first-response clock against `sla_due_at`.
    awaiting_response_since = models.DateTimeField(
        _("awaiting a response since"), null=True, blank=True
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    close_reason = models.CharField(
        _("close reason"), max_length=24, choices=CloseReason.choices, blank=True
    )
    close_note = models.TextField(_("close note"), blank=True)
    # The author's followers when the incident opened (for exposure).
    reach = models.PositiveBigIntegerField(_("reach"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"))
    origin = models.CharField(_("origin"), max_length=40, default=LIVE_ORIGIN)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["state", "sla_due_at"], name="incident_state_sla"),
            models.Index(fields=["owner", "state"], name="incident_owner_state"),
            models.Index(fields=["team", "state"], name="incident_team_state"),
            models.Index(fields=["origin"], name="incident_origin"),
            # The board (crisis.board.incident_rollups, incident_metrics, version): incidents
            # opened, answered and due in an hour or a day, the latest change, and those
            # still unanswered at a moment (LEAST skips NULLs on Postgres: NULL = never
            # answered, closed nor resolved).
            models.Index(fields=["opened_at"], name="incident_opened"),
            models.Index(fields=["first_response_at"], name="incident_first_response"),
            models.Index(fields=["sla_due_at"], name="incident_sla_due"),
            models.Index(fields=["updated_at"], name="incident_updated"),
            models.Index(
                Least("first_response_at", "closed_at", "resolved_at"),
                name="incident_unanswered_until",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.severity} {self.topic}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def minutes_unanswered(self, now: datetime) -> float:
        """Minutes the incident stayed unanswered in public (until the first response or now)."""
        until = self.first_response_at or now
        return max(0.0, (until - self.opened_at).total_seconds() / 60)

    def exposure(self, now: datetime) -> float:
        """Reach times minutes unanswered in public: how many eyes saw a complaint go unanswered."""
        return (self.reach or 0) * self.minutes_unanswered(now)


class IncidentMention(models.Model):
    """A mention attached to an incident; the unique mention makes attaching idempotent."""

    incident = models.ForeignKey(
        Incident, verbose_name=_("incident"), on_delete=models.CASCADE, related_name="links"
    )
    mention = models.OneToOneField(
        "monitoring.Mention",
        verbose_name=_("mention"),
        on_delete=models.PROTECT,
        related_name="incident_link",
    )
    # The mention's severity when it was attached (a rescore later does not change it).
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    attached_at = models.DateTimeField(_("attached"))

    class Meta:
        verbose_name = _("incident mention")
        verbose_name_plural = _("incident mentions")
        ordering = ["attached_at", "id"]

    def __str__(self) -> str:
        return f"{self.incident_id} <- {self.mention_id}"


class TriageCorrection(models.Model):
    """A person corrected an incident's triage class: kept as labelled data for evaluation."""

    incident = models.ForeignKey(
        Incident,
        verbose_name=_("incident"),
        on_delete=models.CASCADE,
        related_name="triage_corrections",
    )
    mention = models.ForeignKey(
        "monitoring.Mention",
        verbose_name=_("mention"),
        on_delete=models.PROTECT,
        related_name="triage_corrections",
    )
    from_class = models.CharField(_("from"), max_length=32, choices=TriageClass.choices)
    to_class = models.CharField(_("to"), max_length=32, choices=TriageClass.choices)
    reason = models.TextField(_("reason"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        related_name="triage_corrections",
    )
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("triage correction")
        verbose_name_plural = _("triage corrections")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.from_class} -> {self.to_class}"
