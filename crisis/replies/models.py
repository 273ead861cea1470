"""Replies and everything a person does to answer a mention: drafts and their approvals,
publishing accounts and sends, private follow-ups (with the personal data kept apart),
compensation against budgets, and moderation requests.

State changes go through `crisis.replies.services` (one module per concern); nothing here
writes the audit log.
"""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from monitoring.platforms import Platform

credentials_ref_validator = RegexValidator(
    r"^[A-Z0-9_]{1,64}$",
    _("Use capital letters, digits and underscores only (e.g. MASTODON_REPLIES)."),
)


# --- Publishing -----------------------------------------------------------------------------
class PublishingAccount(models.Model):
    """An identity that can write on a platform (sources only read). Its secrets live in the
    server environment: REF reads CALMA_SECRET_REF_ACCESS_TOKEN (Mastodon, Reddit, YouTube
    OAuth) or CALMA_SECRET_REF_IDENTIFIER and CALMA_SECRET_REF_APP_PASSWORD (Bluesky)."""

    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    name = models.CharField(_("name"), max_length=120)
    # The account's own handle on the platform: how Calma recognises its own replies on a
    # thread when it must check whether a retried send already went out.
    handle = models.CharField(_("handle"), max_length=200)
    base_url = models.URLField(
        _("instance or API URL"),
        blank=True,
        max_length=500,
        help_text=_("Mastodon instance (required there); leave empty for the platform default."),
    )
    credentials_ref = models.CharField(
        _("credentials reference"),
        max_length=64,
        validators=[credentials_ref_validator],
        help_text=_("Name of the secret kept in the server environment, never here."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("publishing account")
        verbose_name_plural = _("publishing accounts")
        ordering = ["platform", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"


class SourceAccount(models.Model):
    """Which publishing account answers mentions found by a source (one per source)."""

    source = models.OneToOneField(
        "monitoring.Source",
        verbose_name=_("source"),
        on_delete=models.CASCADE,
        related_name="answering",
    )
    account = models.ForeignKey(
        PublishingAccount,
        verbose_name=_("publishing account"),
        on_delete=models.CASCADE,
        related_name="source_links",
    )

    class Meta:
        verbose_name = _("source's publishing account")
        verbose_name_plural = _("sources' publishing accounts")

    def __str__(self) -> str:
        return f"{self.source_id} -> {self.account_id}"


# --- Replies --------------------------------------------------------------------------------
class ReplyVisibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    PRIVATE = "private", _("Private")


class ReplyPurpose(models.TextChoices):
    ANSWER = "answer", _("Answer")
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement (taken private)")
    CORRECTION = "correction", _("Correction")


class ReplyState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    SENDING = "sending", _("Sending")
    FAILED = "failed", _("Failed to send")
    SENT = "sent", _("Sent")
    DELETED = "deleted", _("Deleted on the platform")
    DISCARDED = "discarded", _("Discarded")


# A draft is being worked on or decided; at most one per incident.
LIVE_DRAFT_STATES = (
    ReplyState.DRAFT,
    ReplyState.AWAITING_APPROVAL,
    ReplyState.APPROVED,
    ReplyState.SENDING,
    ReplyState.FAILED,
)


class Reply(models.Model):
    """One reply to an incident, from draft to the platform. Its text is stored on the server
    (a draft survives a reload and another device); `revision` grows with every edit, and an
    approval holds for the revision it was given to."""

    incident = models.ForeignKey(
        "incidents.Incident",
        verbose_name=_("incident"),
        on_delete=models.CASCADE,
        related_name="replies",
    )
    # The mention answered (the platform thread the reply goes to).
    in_reply_to = models.ForeignKey(
        "monitoring.Mention",
        verbose_name=_("in reply to"),
        on_delete=models.PROTECT,
        related_name="calma_replies",
    )
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drafted by"),
        on_delete=models.PROTECT,
        related_name="drafted_replies",
    )
    visibility = models.CharField(
        _("visibility"),
        max_length=10,
        choices=ReplyVisibility.choices,
        default=ReplyVisibility.PUBLIC,
    )
    purpose = models.CharField(
        _("purpose"), max_length=20, choices=ReplyPurpose.choices, default=ReplyPurpose.ANSWER
    )
    language = models.CharField(_("language"), max_length=8, default="es")
    # "<class>:<language>:<index>" of the protocol template it started from, or "".
    template_key = models.CharField(_("template"), max_length=80, blank=True)
    text = models.TextField(_("text"))
    revision = models.PositiveIntegerField(_("revision"), default=1)
    state = models.CharField(
        _("state"), max_length=20, choices=ReplyState.choices, default=ReplyState.DRAFT
    )
    # Who must approve, decided from the protocol when submitted: [], ["supervisor"] or
    # ["supervisor", "legal"].
    approvers_required = models.JSONField(_("approvers required"), default=list, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approval_escalated_at = models.DateTimeField(_("approval escalated"), null=True, blank=True)
    # The last "sent back" comment, shown to the author in the editor.
    sent_back_comment = models.TextField(_("sent back with"), blank=True)
    protocol_version = models.ForeignKey(
        "protocols.ProtocolVersion",
        verbose_name=_("protocol version"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Sending.
    account = models.ForeignKey(
        PublishingAccount,
        verbose_name=_("publishing account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replies",
    )
    # Stable for one send (Mastodon's Idempotency-Key); a correction is a new reply.
    idempotency_key = models.UUIDField(_("idempotency key"), default=uuid.uuid4, editable=False)
    send_attempts = models.PositiveIntegerField(_("send attempts"), default=0)
    sending_started_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    external_id = models.CharField(_("platform id"), max_length=512, blank=True)
    url = models.CharField(_("link"), max_length=2000, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Marked sent by a person (copied by hand) rather than posted by Calma.
    sent_by_hand = models.BooleanField(_("sent by hand"), default=False)
    # A correction replaces a wrong reply already sent.
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
    )
    deleted_at = models.DateTimeField(_("deleted on the platform"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident"],
                condition=Q(state__in=[state.value for state in LIVE_DRAFT_STATES]),
                name="one_live_reply_per_incident",
            )
        ]
        indexes = [
            # The approval queue, oldest first.
            models.Index(
                fields=["submitted_at"],
                condition=Q(state="awaiting_approval"),
                name="reply_awaiting_approval",
            ),
            models.Index(fields=["incident", "-created_at"], name="reply_incident_newest"),
        ]

    def __str__(self) -> str:
        return f"reply {self.pk} on #{self.incident_id} ({self.state})"


class ApprovalDecision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    SENT_BACK = "sent_back", _("Sent back")


class ReplyApproval(models.Model):
    """One decision on one revision of a reply, in one approving role."""

    reply = models.ForeignKey(
        Reply, verbose_name=_("reply"), on_delete=models.CASCADE, related_name="approvals"
    )
    revision = models.PositiveIntegerField(_("revision"))
    role = models.CharField(_("as"), max_length=20)  # "supervisor" or "legal"
    decision = models.CharField(_("decision"), max_length=12, choices=ApprovalDecision.choices)
    comment = models.TextField(_("comment"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="reply_decisions",
    )
    decided_at = models.DateTimeField(_("decided"))

    class Meta:
        verbose_name = _("reply approval")
        verbose_name_plural = _("reply approvals")
        ordering = ["decided_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reply", "revision", "role"],
                condition=Q(decision="approved"),
                name="one_approval_per_reply_revision_role",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reply_id} r{self.revision} {self.role}: {self.decision}"


# --- Take private -----------------------------------------------------------------------------
class FollowUpChannel(models.TextChoices):
    DIRECT_MESSAGE = "dm", _("Direct message")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")


class FollowUpState(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class ContactDetails(models.Model):
    """A person's e-mail address or phone number for a private follow-up: kept apart from the
    append-only audit log (which records only this row's id) and erased after the retention
    period (`RetentionSettings`)."""

    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created"))
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact details")
        verbose_name_plural = _("contact details")

    def __str__(self) -> str:
        return f"contact {self.pk}"


class FollowUp(models.Model):
    """The private part of "take it private": its own owner, due date and outcome."""

    incident = models.ForeignKey(
        "incidents.Incident",
        verbose_name=_("incident"),
        on_delete=models.CASCADE,
        related_name="follow_ups",
    )
    channel = models.CharField(_("channel"), max_length=8, choices=FollowUpChannel.choices)
    contact = models.OneToOneField(
        ContactDetails,
        verbose_name=_("contact details"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_up",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    due_at = models.DateTimeField(_("due"))
    state = models.CharField(
        _("state"), max_length=8, choices=FollowUpState.choices, default=FollowUpState.OPEN
    )
    note = models.TextField(_("note"), blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    overdue_notified_at = models.DateTimeField(_("overdue notice sent"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("private follow-up")
        verbose_name_plural = _("private follow-ups")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(state="open"), name="follow_up_open_due")
        ]

    def __str__(self) -> str:
        return f"follow-up {self.pk} on #{self.incident_id}"


class RetentionSettings(models.Model):
    """One row: how long personal data of private follow-ups is kept (set by an admin)."""

    contact_retention_days = models.PositiveIntegerField(
        _("keep contact details for (days)"),
        default=90,
        validators=[MinValueValidator(1)],
        help_text=_("E-mail addresses and phone numbers are erased this long after the follow-up."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("retention settings")
        verbose_name_plural = _("retention settings")

    def __str__(self) -> str:
        return "retention"


# --- Compensation -------------------------------------------------------------------------------
class Budget(models.Model):
    """Money set aside for compensations over a period (practice 17). A crisis's budget (the
    crisis-room issue) is part of one."""

    name = models.CharField(_("name"), max_length=120)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("compensation budget")
        verbose_name_plural = _("compensation budgets")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="budget_period_in_order"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class CompensationKind(models.TextChoices):
    REFUND = "refund", _("Refund")
    CREDIT = "credit", _("Credit or voucher")
    DISCOUNT = "discount", _("Discount")
    GIFT = "gift", _("Gift")
    OTHER = "other", _("Other")


class CompensationState(models.TextChoices):
    OFFERED = "offered", _("Offered")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval (over budget)")
    GRANTED = "granted", _("Granted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Compensation(models.Model):
    incident = models.ForeignKey(
        "incidents.Incident",
        verbose_name=_("incident"),
        on_delete=models.CASCADE,
        related_name="compensations",
    )
    budget = models.ForeignKey(
        Budget,
        verbose_name=_("budget"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="compensations",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=CompensationKind.choices)
    amount = models.DecimalField(
        _("amount"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    note = models.TextField(_("note"), blank=True)
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=CompensationState.choices,
        default=CompensationState.OFFERED,
    )
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("offered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    offered_at = models.DateTimeField(_("offered"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("granted"), null=True, blank=True)

    class Meta:
        verbose_name = _("compensation")
        verbose_name_plural = _("compensations")
        ordering = ["-offered_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="compensation_amount_not_negative"
            )
        ]
        indexes = [models.Index(fields=["budget", "state"], name="compensation_budget_state")]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on #{self.incident_id}"


# --- Moderation ---------------------------------------------------------------------------------
class ModerationAction(models.TextChoices):
    HIDE = "hide", _("Hide")
    UNHIDE = "unhide", _("Show again")
    DELETE = "delete", _("Delete on the platform")


class ModerationState(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")
    APPROVED = "approved", _("Approved, to carry out")
    REJECTED = "rejected", _("Rejected")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ModerationRequest(models.Model):
    """Hiding or deleting a mention on its platform: always justified, approved when the
    protocol says so (deleting always), audited. Calma's own copy of the mention stays."""

    mention = models.ForeignKey(
        "monitoring.Mention",
        verbose_name=_("mention"),
        on_delete=models.PROTECT,
        related_name="moderation_requests",
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        verbose_name=_("incident"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_requests",
    )
    action = models.CharField(_("action"), max_length=8, choices=ModerationAction.choices)
    justification = models.TextField(_("justification"))
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=ModerationState.choices,
        default=ModerationState.REQUESTED,
    )
    needs_approval = models.BooleanField(_("needs approval"), default=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_comment = models.TextField(_("decision comment"), blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by_hand = models.BooleanField(_("done by hand"), default=False)
    last_error = models.TextField(_("last error"), blank=True)
    # An "unhide" reverses a "hide".
    reverses = models.ForeignKey(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversals",
    )

    class Meta:
        verbose_name = _("moderation request")
        verbose_name_plural = _("moderation requests")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(justification=""), name="moderation_needs_justification"
            )
        ]
        indexes = [
            models.Index(
                fields=["requested_at"], condition=Q(state="requested"), name="moderation_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} mention {self.mention_id} ({self.state})"
