"""A declared crisis and the room that runs it: its cabinet, action plan and decisions, the
one public statement (versions, approvals, per-channel texts, publication checklist,
commitments), the timeline's manual entries, and the post-mortem.

State changes go through `crisis.rooms.services` (one module per concern); the timeline's
automatic entries are read from the audit log, so every service audits with the crisis as
the event's target (or names the crisis in `after["crisis"]`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from monitoring.models import LIVE_ORIGIN


# --- The crisis ------------------------------------------------------------------------------
class CrisisStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CONTAINED = "contained", _("Contained")
    RESOLVED = "resolved", _("Resolved")
    POST_MORTEM_DONE = "post_mortem_done", _("Post-mortem done")


OPEN_CRISIS_STATES = (CrisisStatus.ACTIVE, CrisisStatus.CONTAINED)


class Crisis(models.Model):
    title = models.CharField(_("title"), max_length=200)
    # A level of the protocol's crisis levels (crisis.levels): 1 watch, 2 serious, 3 critical.
    level = models.PositiveSmallIntegerField(_("level"))
    # Affected topics (keyword group keys or hashtags, as incidents and suggestions name them):
    # new incidents on these topics link to the crisis while it is open.
    topics = models.JSONField(_("topics"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=CrisisStatus.choices, default=CrisisStatus.ACTIVE
    )
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("commander"),
        on_delete=models.PROTECT,
        related_name="commanded_crises",
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("declared by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    declared_at = models.DateTimeField(_("declared"))
    # The suggestion it was accepted from, if any.
    suggestion = models.OneToOneField(
        "protocols.CrisisSuggestion",
        verbose_name=_("suggestion"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="crisis",
    )
    protocol_version = models.ForeignKey(
        "protocols.ProtocolVersion",
        verbose_name=_("protocol version"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    contained_at = models.DateTimeField(_("contained"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The crisis's compensation budget: a part of a period budget (crisis.replies.Budget).
    budget = models.ForeignKey(
        "replies.Budget",
        verbose_name=_("compensation budget"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crises",
    )
    budget_amount = models.DecimalField(
        _("amount set aside"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    origin = models.CharField(_("origin"), max_length=40, default=LIVE_ORIGIN)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("crisis")
        verbose_name_plural = _("crises")
        ordering = ["-declared_at", "-id"]
        indexes = [models.Index(fields=["status", "-declared_at"], name="crisis_status_newest")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CRISIS_STATES


class CrisisIncident(models.Model):
    """An incident handled as part of a crisis (linked automatically by topic, or by hand)."""

    crisis = models.ForeignKey(
        Crisis, verbose_name=_("crisis"), on_delete=models.CASCADE, related_name="incident_links"
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        verbose_name=_("incident"),
        on_delete=models.CASCADE,
        related_name="crisis_links",
    )
    linked_at = models.DateTimeField(_("linked"))
    # None: linked automatically (its topic is one of the crisis's).
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("linked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("crisis incident")
        verbose_name_plural = _("crisis incidents")
        ordering = ["linked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["crisis", "incident"], name="one_link_per_crisis_incident"
            )
        ]

    def __str__(self) -> str:
        return f"{self.crisis_id} <- #{self.incident_id}"


# --- Cabinet ---------------------------------------------------------------------------------
class Department(models.Model):
    """A department that sits in crisis cabinets (communications, customer service, legal,
    strategic direction, and any an admin adds)."""

    key = models.SlugField(_("key"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    # The department whose member gives the legal approval of the statement.
    is_legal = models.BooleanField(_("legal department"), default=False)
    ordering = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["ordering", "name"]

    def __str__(self) -> str:
        return self.name


class CabinetRole(models.TextChoices):
    COMMANDER = "commander", _("Commander")
    SPOKESPERSON = "spokesperson", _("Spokesperson")
    SCRIBE = "scribe", _("Scribe")
    MEMBER = "member", _("Member")


class CabinetMember(models.Model):
    crisis = models.ForeignKey(
        Crisis, verbose_name=_("crisis"), on_delete=models.CASCADE, related_name="members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="cabinet_seats",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="members",
    )
    role = models.CharField(
        _("crisis role"), max_length=16, choices=CabinetRole.choices, default=CabinetRole.MEMBER
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    added_at = models.DateTimeField(_("added"))
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)

    class Meta:
        verbose_name = _("cabinet member")
        verbose_name_plural = _("cabinet members")
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["crisis", "user"],
                condition=Q(removed_at__isnull=True),
                name="one_seat_per_person_and_crisis",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.crisis_id} ({self.role})"


# --- Action plan and decisions ---------------------------------------------------------------
class TaskStatus(models.TextChoices):
    TODO = "todo", _("To do")
    DOING = "doing", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Task(models.Model):
    crisis = models.ForeignKey(
        Crisis, verbose_name=_("crisis"), on_delete=models.CASCADE, related_name="tasks"
    )
    title = models.CharField(_("task"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crisis_tasks",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.TODO
    )
    # What tells whether it worked (e.g. "negative share under 30 %").
    indicator = models.CharField(_("indicator to follow"), max_length=300, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(_("overdue notice sent"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(status__in=["todo", "doing"]), name="task_open_due"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Decision(models.Model):
    """The decisions log: what, who, why."""

    crisis = models.ForeignKey(
        Crisis, verbose_name=_("crisis"), on_delete=models.CASCADE, related_name="decisions"
    )
    what = models.TextField(_("what was decided"))
    why = models.TextField(_("why"))
    # Who decided: a person in Calma, or as written (e.g. "management committee").
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by_text = models.CharField(_("decided by (as written)"), max_length=200, blank=True)
    decided_at = models.DateTimeField(_("decided"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return self.what[:80]


# --- The public statement --------------------------------------------------------------------
class Statement(models.Model):
    """The crisis's one public statement; its text lives in versions."""

    crisis = models.OneToOneField(
        Crisis, verbose_name=_("crisis"), on_delete=models.CASCADE, related_name="statement"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")

    def __str__(self) -> str:
        return f"statement of {self.crisis_id}"


class StatementState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    SUPERSEDED = "superseded", _("Superseded")


class StatementVersion(models.Model):
    """One version of the statement: the full text plus a short text per channel. An update is
    a new version; the approved one in force is the newest approved."""

    statement = models.ForeignKey(
        Statement, verbose_name=_("statement"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    text = models.TextField(_("text"))
    # {channel key: short text} within each channel's length (crisis.channels of the protocol).
    channel_texts = models.JSONField(_("per-channel texts"), default=dict, blank=True)
    # Bumped on every edit; approvals hold for the revision they were given to.
    revision = models.PositiveIntegerField(_("revision"), default=1)
    state = models.CharField(
        _("state"), max_length=20, choices=StatementState.choices, default=StatementState.DRAFT
    )
    # ["supervisor"] or ["supervisor", "legal"], decided when submitted.
    approvers_required = models.JSONField(_("approvers required"), default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drafted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"))
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    sent_back_comment = models.TextField(_("sent back with"), blank=True)

    class Meta:
        verbose_name = _("statement version")
        verbose_name_plural = _("statement versions")
        ordering = ["statement", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "number"], name="one_statement_version_number"
            ),
            # One version being written or decided at a time.
            models.UniqueConstraint(
                fields=["statement"],
                condition=Q(state__in=["draft", "awaiting_approval"]),
                name="one_open_statement_version",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.number} of statement {self.statement_id}"


class StatementApproval(models.Model):
    version = models.ForeignKey(
        StatementVersion,
        verbose_name=_("version"),
        on_delete=models.CASCADE,
        related_name="approvals",
    )
    revision = models.PositiveIntegerField(_("revision"))
    role = models.CharField(_("as"), max_length=20)  # "supervisor" or "legal"
    decision = models.CharField(_("decision"), max_length=12)  # "approved" or "sent_back"
    comment = models.TextField(_("comment"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"))

    class Meta:
        verbose_name = _("statement approval")
        verbose_name_plural = _("statement approvals")
        ordering = ["decided_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "revision", "role"],
                condition=Q(decision="approved"),
                name="one_statement_approval_per_revision_role",
            )
        ]

    def __str__(self) -> str:
        return f"{self.version_id} r{self.revision} {self.role}: {self.decision}"


class PublicationState(models.TextChoices):
    PENDING = "pending", _("To publish")
    PUBLISHING = "publishing", _("Publishing")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")


class Publication(models.Model):
    """One line of the publication checklist: an approved version on one channel."""

    version = models.ForeignKey(
        StatementVersion,
        verbose_name=_("version"),
        on_delete=models.CASCADE,
        related_name="publications",
    )
    channel = models.CharField(_("channel"), max_length=40)  # a key of crisis.channels
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=PublicationState.choices,
        default=PublicationState.PENDING,
    )
    url = models.CharField(_("link"), max_length=2000, blank=True)
    external_id = models.CharField(_("platform id"), max_length=512, blank=True)
    # Posted by Calma through a publishing account, or marked published by a person.
    account = models.ForeignKey(
        "replies.PublishingAccount",
        verbose_name=_("publishing account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_error = models.TextField(_("last error"), blank=True)
    # Publishing through a connector (statement slice): claims taken (names the attempt that
    # holds the claim), when the attempt in flight started (None: none in flight), and when the
    # task was last queued (the sweep re-queues what a dead worker or a lost message left).
    publish_attempts = models.PositiveIntegerField(_("attempts"), default=0)
    publishing_started_at = models.DateTimeField(_("publishing since"), null=True, blank=True)
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)

    class Meta:
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        ordering = ["version", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "channel"], name="one_publication_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.version_id} on {self.channel}"


class Commitment(models.Model):
    """A promise the statement makes ("refunds by Friday"), tracked as a task."""

    version = models.ForeignKey(
        StatementVersion,
        verbose_name=_("statement version"),
        on_delete=models.CASCADE,
        related_name="commitments",
    )
    sentence = models.TextField(_("sentence"))
    due_at = models.DateTimeField(_("due"))
    task = models.OneToOneField(
        Task, verbose_name=_("task"), on_delete=models.CASCADE, related_name="commitment"
    )
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    marked_at = models.DateTimeField(_("marked"))

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return self.sentence[:80]


# --- Timeline (manual part) ------------------------------------------------------------------
class TimelineEntry(models.Model):
    """A manual timeline entry or a pinned mention; the rest of the timeline is read from the
    audit log and the crisis's own records."""

    crisis = models.ForeignKey(
        Crisis, verbose_name=_("crisis"), on_delete=models.CASCADE, related_name="timeline_entries"
    )
    at = models.DateTimeField(_("when"))
    text = models.TextField(_("text"), blank=True)
    mention = models.ForeignKey(
        "monitoring.Mention",
        verbose_name=_("pinned mention"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.crisis_id} @ {self.at:%Y-%m-%d %H:%M}"


# --- Post-mortem -----------------------------------------------------------------------------
class PostMortemState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    DONE = "done", _("Done")


class PostMortem(models.Model):
    """The blameless review after a crisis. Impact figures are computed from the data (stored
    as computed, with the time they were computed), never typed."""

    crisis = models.OneToOneField(
        Crisis, verbose_name=_("crisis"), on_delete=models.CASCADE, related_name="post_mortem"
    )
    state = models.CharField(
        _("state"), max_length=8, choices=PostMortemState.choices, default=PostMortemState.DRAFT
    )
    summary = models.TextField(_("summary"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    processes = models.TextField(_("processes and policies involved"), blank=True)
    what_worked = models.TextField(_("what worked"), blank=True)
    what_did_not = models.TextField(_("what did not"), blank=True)
    impact = models.JSONField(_("impact"), default=dict, blank=True)
    impact_computed_at = models.DateTimeField(_("impact computed"), null=True, blank=True)
    # The protocol draft its proposed changes created, and that draft's backtest on the crisis.
    protocol_draft = models.ForeignKey(
        "protocols.ProtocolVersion",
        verbose_name=_("proposed protocol version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="post_mortems",
    )
    backtest = models.JSONField(_("backtest on the crisis"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("post-mortem")
        verbose_name_plural = _("post-mortems")

    def __str__(self) -> str:
        return f"post-mortem of {self.crisis_id}"


class FollowUpItem(models.Model):
    """A post-mortem follow-up item, tracked until done."""

    post_mortem = models.ForeignKey(
        PostMortem, verbose_name=_("post-mortem"), on_delete=models.CASCADE, related_name="items"
    )
    title = models.CharField(_("item"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    due_on = models.DateField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("post-mortem follow-up item")
        verbose_name_plural = _("post-mortem follow-up items")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title
