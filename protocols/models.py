"""Protocol versions, the score each mention got, its topics, crisis suggestions and backtests."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from monitoring.models import LIVE_ORIGIN  # noqa: F401 - re-exported
from protocols.display import shipped_text
from protocols.scoring.types import Severity, TriageClass


class ProtocolStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    ARCHIVED = "archived", _("Archived")


class ProtocolIsImmutable(Exception):
    """An active or archived version's content never changes; edit a new draft instead."""


class ProtocolVersion(models.Model):
    number = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    notes = models.TextField(
        _("what changed and why"),
        blank=True,
        help_text=_("For example the lessons of a post-mortem that this version puts in place."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ProtocolStatus.choices, default=ProtocolStatus.DRAFT
    )
    config = models.JSONField(_("protocol"))
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    class Meta:
        verbose_name = _("protocol version")
        verbose_name_plural = _("protocol versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="active"),
                name="exactly_one_active_protocol",
            )
        ]

    def __str__(self) -> str:
        return f"v{self.number} · {shipped_text(self.name)}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding and not self.is_draft:
            stored = ProtocolVersion.objects.filter(pk=self.pk).values("config", "name").first()
            if stored and (stored["config"] != self.config or stored["name"] != self.name):
                raise ProtocolIsImmutable(f"v{self.number} is {self.status}; edit a new draft")
        super().save(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.status == ProtocolStatus.DRAFT


class MentionScore(models.Model):
    """What the protocol said about one mention: value, severity, class and why."""

    mention = models.OneToOneField(
        "monitoring.Mention", on_delete=models.CASCADE, related_name="score"
    )
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="scores"
    )
    value = models.PositiveSmallIntegerField(_("score"))
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    triage_class = models.CharField(_("triage class"), max_length=32, choices=TriageClass.choices)
    sentiment = models.FloatField(_("sentiment"))
    language = models.CharField(_("language"), max_length=8, blank=True)
    matched_groups = models.JSONField(_("keyword groups"), default=list, blank=True)
    signals = models.JSONField(_("why this score"), default=list, blank=True)
    is_question = models.BooleanField(default=False)
    is_abusive = models.BooleanField(default=False)
    is_complaint = models.BooleanField(default=False)
    scored_at = models.DateTimeField(_("scored"), default=timezone.now)
    # The velocity the score used, kept so that a rescore reuses it instead of today's rate.
    velocity_factor = models.FloatField(_("velocity factor"), default=1.0)
    velocity_topic = models.CharField(_("velocity topic"), max_length=200, blank=True)
    # Set by the incident stage (protocols.services.mark_handed_off) once it has seen the
    # mention; the sweeper re-sends scores still without it after a few minutes.
    handed_off_at = models.DateTimeField(_("handed off"), null=True, blank=True)

    class Meta:
        verbose_name = _("mention score")
        verbose_name_plural = _("mention scores")
        indexes = [
            models.Index(fields=["severity", "-scored_at"], name="score_severity_recent"),
            # The hand-off sweeper walks only the scores the incident stage has not seen yet.
            models.Index(
                fields=["scored_at"],
                condition=models.Q(handed_off_at__isnull=True),
                name="score_not_handed_off",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mention_id}: {self.value} {self.severity}"


class MentionTopic(models.Model):
    """One topic of a scored mention (protocols.topics.topics_for), stored so that incidents,
    the crisis room, the board and the crisis rule count and filter by topic with an index."""

    mention = models.ForeignKey(
        "monitoring.Mention", on_delete=models.CASCADE, related_name="topics"
    )
    topic = models.CharField(_("topic"), max_length=200)
    published_at = models.DateTimeField(_("published"))  # the mention's, for windows by topic
    origin = models.CharField(_("origin"), max_length=40, default="live")  # the mention's

    class Meta:
        verbose_name = _("mention topic")
        verbose_name_plural = _("mention topics")
        constraints = [
            models.UniqueConstraint(fields=["mention", "topic"], name="one_row_per_mention_topic")
        ]
        indexes = [models.Index(fields=["topic", "published_at"], name="topic_published")]

    def __str__(self) -> str:
        return f"{self.mention_id}: {self.topic}"


class CrisisSuggestion(models.Model):
    """The protocol's crisis threshold was crossed: the app suggests declaring a crisis."""

    class Reason(models.TextChoices):
        SPIKE = "spike", _("Mention rate far above its baseline")
        INCIDENTS = "incidents", _("Many high or critical mentions on one topic")

    topic = models.CharField(_("topic"), max_length=200)
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    factor = models.FloatField(_("spike factor"), null=True, blank=True)
    observed = models.FloatField(_("observed"), null=True, blank=True)
    expected = models.FloatField(_("expected"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="crisis_suggestions"
    )
    raised_at = models.DateTimeField(_("raised"), default=timezone.now, db_index=True)
    dismissed_at = models.DateTimeField(_("dismissed"), null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dismissed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    dismiss_reason = models.TextField(_("why it was dismissed"), blank=True)
    # "live", or "run:<id>" for a replay or drill: those never notify anyone.
    origin = models.CharField(_("origin"), max_length=40, default="live")

    class Meta:
        verbose_name = _("crisis suggestion")
        verbose_name_plural = _("crisis suggestions")
        ordering = ["-raised_at"]
        constraints = [
            # Race-safe: the second worker's insert fails instead of doubling the suggestion.
            models.UniqueConstraint(
                fields=["topic", "origin"],
                condition=models.Q(dismissed_at__isnull=True),
                name="one_open_suggestion_per_topic",
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} ({self.get_reason_display()})"


class HeldBack(models.TextChoices):
    """Why a surge at the crisis factor suggested no crisis."""

    NOT_SERIOUS = "not_serious", _("Not serious (a spike of ordinary or positive mentions)")
    COLLECTION_GAP = "gap", _("Traffic resuming after a collection gap")
    MUTED = "muted", _("Topic muted")


class SurgeAlert(models.Model):
    """One alert the live surge detector raised (protocols.spikes.Alert): every surge, also
    those below the crisis factor, so the board lists what the detector saw and not only
    what became a crisis suggestion. One row per (origin, topic, bucket): a count delivered
    twice records nothing twice, and an escalation of the same surge in the same bucket
    (past the crisis factor) upgrades the row instead of adding one."""

    topic = models.CharField(_("topic"), max_length=200)
    factor = models.FloatField(_("factor"))  # observed / expected
    observed = models.PositiveIntegerField(_("observed"))
    expected = models.FloatField(_("expected"))
    # Start of the detector's bucket in progress when the surge was flagged.
    bucket_start = models.DateTimeField(_("bucket start"))
    raised_at = models.DateTimeField(_("raised"))
    # "live" (only live mentions feed the live detector), or a run's origin.
    origin = models.CharField(_("origin"), max_length=40, default="live")
    protocol_version = models.ForeignKey(
        ProtocolVersion,
        verbose_name=_("protocol version"),
        on_delete=models.PROTECT,
        related_name="surge_alerts",
    )
    crisis_suggested = models.BooleanField(_("suggested a crisis"), default=False)
    # The crisis rule's reading of the surge: serious (negative or complaint share well above
    # the topic's usual, or serious mentions from distinct authors) or a plain spike (praise,
    # a promotion, a campaign); and, when it reached the crisis factor but suggested nothing,
    # why (HeldBack).
    serious = models.BooleanField(_("serious"), default=False)
    held_back = models.CharField(
        _("not suggested because"), max_length=16, choices=HeldBack.choices, blank=True
    )

    class Meta:
        verbose_name = _("surge alert")
        verbose_name_plural = _("surge alerts")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["origin", "topic", "bucket_start"], name="one_surge_alert_per_bucket"
            )
        ]
        # The board: the newest live alerts, and whether any was raised in the last hours.
        indexes = [models.Index(fields=["origin", "-raised_at"], name="surge_alert_newest")]

    def __str__(self) -> str:
        return f"{self.topic} ×{self.factor:.1f} at {self.raised_at:%Y-%m-%d %H:%M}"


class BacktestStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class BacktestRun(models.Model):
    """A draft scored against stored mentions, compared with the version active then."""

    draft = models.ForeignKey(ProtocolVersion, on_delete=models.CASCADE, related_name="backtests")
    baseline = models.ForeignKey(
        ProtocolVersion, on_delete=models.CASCADE, related_name="+", null=True
    )
    days = models.PositiveSmallIntegerField(_("days of history"), default=7)
    status = models.CharField(
        max_length=10, choices=BacktestStatus.choices, default=BacktestStatus.QUEUED
    )
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"backtest of {self.draft} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == BacktestStatus.DONE:
            return 100
        return int(100 * self.processed / self.total) if self.total else 0


class TopicMute(models.Model):
    """A supervisor silences crisis suggestions on a topic until a set time (a planned
    campaign, a launch): surges are still recorded and shown, none suggests a crisis.
    Created and ended through `protocols.services`, each audited."""

    topic = models.CharField(_("topic"), max_length=200)
    until = models.DateTimeField(_("muted until"))
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("muted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("muted at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended early at"), null=True, blank=True)

    class Meta:
        verbose_name = _("topic mute")
        verbose_name_plural = _("topic mutes")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["topic", "until"], name="topic_mute_active")]

    def __str__(self) -> str:
        return f"{self.topic} muted until {self.until:%Y-%m-%d %H:%M}"


class RunKind(models.TextChoices):
    REPLAY = "replay", _("Replay")
    DRILL = "drill", _("Drill")


class Run(models.Model):
    """A replay of stored history or a drill: its mentions, scores, incidents, alerts and
    suggestions carry `origin` "run:<id>" and never count toward live figures; its surge
    detector state is its own (never the live keys); its present is its own clock."""

    # What makes a run the same run: a replay's file hash, so replaying a file twice into
    # one database stores nothing twice; a drill's own id.
    key = models.CharField(_("key"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=RunKind.choices)
    label = models.CharField(_("label"), max_length=200, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Scenario time reached: the run's present.
    clock = models.DateTimeField(_("scenario clock"), null=True, blank=True)
    played = models.PositiveIntegerField(_("rows played"), default=0)
    total = models.PositiveIntegerField(_("rows"), default=0)
    # Who takes part (a drill notifies and routes to these people only).
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("participants"), related_name="+", blank=True
    )

    class Meta:
        verbose_name = _("replay or drill run")
        verbose_name_plural = _("replay and drill runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}: {self.label}"

    @property
    def origin(self) -> str:
        return run_origin(self.pk)


def run_origin(run_id: int) -> str:
    """The origin value a run's rows carry."""
    return f"run:{run_id}"


def run_id_of(origin: str) -> int | None:
    """The run id of an origin value, None for live (or anything else)."""
    prefix, _sep, number = origin.partition(":")
    return int(number) if prefix == "run" and number.isdigit() else None
