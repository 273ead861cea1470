"""Drills: stored scenarios (a CSV of mentions) and the drills played from them as runs."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# Speeds a drill may be played at: real time up to an hour of scenario per second.
MIN_SPEED = 1
MAX_SPEED = 3600
DEFAULT_SPEED = 60


class ScenarioKind(models.TextChoices):
    CSV = "csv", _("Uploaded CSV")
    SIMULATOR = "simulator", _("Simulator's billing crisis")


class Scenario(models.Model):
    """Mentions to play, in the CSV import format (validated when stored)."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=ScenarioKind.choices)
    data = models.TextField(_("CSV"))
    rows = models.PositiveIntegerField(_("rows"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("drill scenario")
        verbose_name_plural = _("drill scenarios")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class DrillStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    PLAYED = "played", _("Played")
    CLOSED = "closed", _("Closed")


class Drill(models.Model):
    """A scenario played as a run at a chosen speed: scenario time advances `speed` times as
    fast as the wall clock from `started_at`."""

    run = models.OneToOneField(
        "protocols.Run", verbose_name=_("run"), on_delete=models.PROTECT, related_name="drill"
    )
    scenario = models.ForeignKey(
        Scenario, verbose_name=_("scenario"), on_delete=models.PROTECT, related_name="drills"
    )
    speed = models.PositiveIntegerField(_("speed"), default=DEFAULT_SPEED)
    status = models.CharField(
        _("status"), max_length=10, choices=DrillStatus.choices, default=DrillStatus.RUNNING
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started"))
    # Scenario time of the first row: scenario time = this + (wall - started_at) * speed.
    scenario_start = models.DateTimeField(_("scenario start"))
    played_at = models.DateTimeField(_("played"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    # A tick's claim (a conditional UPDATE), so two workers never play one drill at once; a
    # claim left by a dead worker lapses.
    ticking_until = models.DateTimeField(_("tick claimed until"), null=True, blank=True)
    # The last tick's wall time: the beat restarts a drill whose chain of ticks was lost.
    ticked_at = models.DateTimeField(_("last tick"), null=True, blank=True)

    class Meta:
        verbose_name = _("drill")
        verbose_name_plural = _("drills")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(speed__gte=MIN_SPEED, speed__lte=MAX_SPEED), name="drill_speed_range"
            )
        ]
        indexes = [models.Index(fields=["status"], name="drill_status")]

    def __str__(self) -> str:
        return f"{self.scenario} ×{self.speed}"

    @property
    def origin(self) -> str:
        return self.run.origin
