"""Per-hour rollups the board reads instead of the raw tables.

Each table is a pure function of the raw tables (mentions, scores, stored topics, incidents):
a bucket can be recomputed from scratch at any time and must then equal what it held. They
are maintained when mentions are ingested and scored and when incidents change, and a beat
task recomputes recent buckets to correct anything missed. Only live mentions and incidents
are counted (replays and drills have an origin of their own and never reach the board).

`hour` is always the UTC start of the hour. The organisation's "today" (settings.TIME_ZONE)
is a range of whole UTC hours, also for zones with a half-hour offset only approximately to
the hour; the board states the range it shows.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

ALL_TOPICS = ""  # MentionHour.topic for the row that counts every mention exactly once


class MentionHour(models.Model):
    """Live mentions published in one hour, counted per combination of the board's filters and
    of what the scorer said. `topic` = "" counts every mention once; a row per stored topic
    (protocols.MentionTopic) counts the mentions on that topic (a mention may have several)."""

    hour = models.DateTimeField(_("hour"))
    topic = models.CharField(_("topic"), max_length=200, blank=True)
    platform = models.CharField(_("platform"), max_length=16)
    language = models.CharField(_("language"), max_length=8, blank=True)
    # "" while the mention is not scored yet.
    severity = models.CharField(_("severity"), max_length=10, blank=True)
    triage_class = models.CharField(_("triage class"), max_length=32, blank=True)
    # negative / neutral / positive by protocols.evaluation's thresholds; "" when not scored.
    polarity = models.CharField(_("polarity"), max_length=8, blank=True)
    is_complaint = models.BooleanField(_("complaint"), default=False)
    mentions = models.PositiveIntegerField(_("mentions"))
    # Sum of the authors' followers at the time of the count (reach of the hour's mentions).
    reach = models.PositiveBigIntegerField(_("reach"), default=0)

    class Meta:
        verbose_name = _("mentions per hour")
        verbose_name_plural = _("mentions per hour")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "hour",
                    "topic",
                    "platform",
                    "language",
                    "severity",
                    "triage_class",
                    "polarity",
                    "is_complaint",
                ],
                name="mention_hour_unique_cell",
            )
        ]
        indexes = [models.Index(fields=["topic", "hour"], name="mention_hour_topic_hour")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.topic or '*'} {self.platform}: {self.mentions}"


class MentionSliceHour(models.Model):
    """Every live mention published in one hour, counted once per platform and language: the
    MentionHour rows of topic "" summed over severity, class, polarity and complaint. A few
    dozen rows an hour instead of a few hundred, for the figures that need no topic and no
    breakdown by those dimensions (volume, totals, platforms, languages). Recomputed in the
    same transaction as the hour's MentionHour rows, from them."""

    hour = models.DateTimeField(_("hour"))
    platform = models.CharField(_("platform"), max_length=16)
    language = models.CharField(_("language"), max_length=8, blank=True)
    mentions = models.PositiveIntegerField(_("mentions"))
    scored = models.PositiveIntegerField(_("scored mentions"), default=0)
    negative = models.PositiveIntegerField(_("negative mentions"), default=0)
    complaints = models.PositiveIntegerField(_("complaints"), default=0)
    serious = models.PositiveIntegerField(_("high or critical mentions"), default=0)
    reach = models.PositiveBigIntegerField(_("reach"), default=0)

    class Meta:
        verbose_name = _("mentions per hour, platform and language")
        verbose_name_plural = _("mentions per hour, platform and language")
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "platform", "language"], name="mention_slice_hour_unique_cell"
            )
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.platform} {self.language}: {self.mentions}"


class AuthorHour(models.Model):
    """Negative live mentions per author and hour: the top agitators are read from here.
    Only authors with at least one negative mention in the hour have a row."""

    hour = models.DateTimeField(_("hour"))
    author = models.ForeignKey(
        "monitoring.Author", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    platform = models.CharField(_("platform"), max_length=16)
    language = models.CharField(_("language"), max_length=8, blank=True)
    negative = models.PositiveIntegerField(_("negative mentions"))
    serious = models.PositiveIntegerField(_("high or critical mentions"), default=0)

    class Meta:
        verbose_name = _("negative mentions per author and hour")
        verbose_name_plural = _("negative mentions per author and hour")
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "author", "language"], name="author_hour_unique_cell"
            )
        ]
        # On Postgres migration 0002 makes it covering, (hour) INCLUDE (author_id, negative,
        # serious), so the top agitators of a range are an index-only scan; declared plain
        # here because SQLite (the embedded default) has no INCLUDE and would warn.
        indexes = [models.Index(fields=["hour"], name="author_hour_hour")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h author {self.author_id}: {self.negative}"


class IncidentHour(models.Model):
    """Live incidents per hour and severity: opened, first responses (and how fast), SLA due
    and met, and the snapshot at the end of the hour of what was still unanswered (count and
    exposure = reach x minutes unanswered)."""

    hour = models.DateTimeField(_("hour"))
    severity = models.CharField(_("severity"), max_length=10)
    opened = models.PositiveIntegerField(_("opened"), default=0)
    # First public responses given in this hour, and the sum of their response times.
    responded = models.PositiveIntegerField(_("first responses"), default=0)
    response_seconds = models.FloatField(_("response time, seconds in total"), default=0.0)
    # Incidents whose first response fell due in this hour, and of those the ones answered
    # by then.
    due = models.PositiveIntegerField(_("first responses due"), default=0)
    met = models.PositiveIntegerField(_("answered within the SLA"), default=0)
    unanswered_at_end = models.PositiveIntegerField(_("unanswered at the end"), default=0)
    exposure_at_end = models.FloatField(_("exposure at the end"), default=0.0)

    class Meta:
        verbose_name = _("incidents per hour")
        verbose_name_plural = _("incidents per hour")
        constraints = [
            models.UniqueConstraint(fields=["hour", "severity"], name="incident_hour_unique_cell")
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.severity}: {self.opened} opened"


class DailyFigure(models.Model):
    """A board figure that changes only when the organisation's day changes (the last 7 days'
    SLA), computed once for `day` (the organisation's calendar day it is shown on) and kept:
    the first reader of the day computes it, the beat's correction refreshes the current
    day's after late changes. `value` is the figure as JSON (see
    crisis.board.incident_metrics.week_sla)."""

    day = models.DateField(_("day"))
    name = models.CharField(_("figure"), max_length=40)
    value = models.JSONField(_("value"))
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("daily figure")
        verbose_name_plural = _("daily figures")
        constraints = [
            models.UniqueConstraint(fields=["day", "name"], name="daily_figure_unique_day_name")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class DigestSent(models.Model):
    """One daily digest sent to one person for one day (of the organisation's calendar): the
    beat task sends each digest at most once, however often it runs."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("recipient"),
    )
    day = models.DateField(_("day reported"))
    sent_at = models.DateTimeField(_("sent"))
    language = models.CharField(_("language"), max_length=8)

    class Meta:
        verbose_name = _("digest sent")
        verbose_name_plural = _("digests sent")
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="one_digest_per_user_and_day")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}"
