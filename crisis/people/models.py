"""Teams, people's profiles (language, time zone, skills, capacity), weekly shifts and on-call."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


def default_time_zone() -> str:
    return settings.TIME_ZONE


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default=default_time_zone)
    is_default = models.BooleanField(
        _("default team"),
        default=False,
        help_text=_("Incidents that routing cannot place in another team go to this one."),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_team",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """What Calma knows about a person beyond their account; created lazily by `profile_for`."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="profile",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    # "" means the organisation's language (settings.LANGUAGE_CODE).
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    # "" means the team's time zone, or the organisation's.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    # Skills used by routing: the languages they answer in, and the platforms they work
    # (an empty list of platforms means every platform).
    languages = models.JSONField(_("languages they answer in"), default=list, blank=True)
    platforms = models.JSONField(_("platforms"), default=list, blank=True)
    # None means the protocol's default ("routing.max_open_per_manager").
    max_open_incidents = models.PositiveSmallIntegerField(
        _("maximum open incidents"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)


class Shift(models.Model):
    """A weekly working window of a team, in the team's time zone.

    `ends_at <= starts_at` means the shift crosses midnight into the next day.
    """

    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="shifts"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["team", "weekday", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6), name="shift_weekday_0_6"
            ),
        ]

    def __str__(self) -> str:
        window = f"{self.starts_at:%H:%M}-{self.ends_at:%H:%M}"
        return f"{self.team} {self.get_weekday_display()} {window}"


class OnCallSlot(models.Model):
    """A weekly slot in which a supervisor is on call, in `time_zone`."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("supervisor"),
        on_delete=models.CASCADE,
        related_name="on_call_slots",
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))
    time_zone = models.CharField(_("time zone"), max_length=64, default=default_time_zone)

    class Meta:
        verbose_name = _("on-call slot")
        verbose_name_plural = _("on-call slots")
        ordering = ["weekday", "starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6), name="oncall_weekday_0_6"
            ),
        ]

    def __str__(self) -> str:
        window = f"{self.starts_at:%H:%M}-{self.ends_at:%H:%M}"
        return f"{self.user} {self.get_weekday_display()} {window}"
