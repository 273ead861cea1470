"""The board's filters: a time range, a platform, a language and a topic, kept in the URL.

`parse_filters(request.GET, now=...)` never fails: a value it cannot read is dropped (and
reported in `errors`), so a shared link with a stale or hostile parameter still opens the
board. Every read of the board's metrics takes a `BoardFilters`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from monitoring.platforms import Platform

HOUR = timedelta(hours=1)
RANGES: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
RANGE_LABELS = {"24h": _("24 hours"), "7d": _("7 days"), "30d": _("30 days")}
DEFAULT_RANGE = "24h"
MAX_CUSTOM_DAYS = 92  # a custom range longer than this is cut to its last 92 days


def organisation_zone() -> ZoneInfo:
    """The organisation's time zone: its "today" and "yesterday" (settings.TIME_ZONE)."""
    return ZoneInfo(settings.TIME_ZONE)


def floor_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def local_day_start(value: datetime, zone: ZoneInfo | None = None) -> datetime:
    """Midnight of `value`'s day in the organisation's zone (an aware datetime)."""
    zone = zone or organisation_zone()
    local = value.astimezone(zone)
    return datetime.combine(local.date(), time.min, tzinfo=zone)


class BoardFilterForm(forms.Form):
    range = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[*RANGE_LABELS.items(), ("custom", _("Dates"))],
    )
    date_from = forms.DateField(label=_("From"), required=False)
    date_to = forms.DateField(label=_("To"), required=False)
    platform = forms.ChoiceField(
        label=_("Platform"), required=False, choices=[("", _("All platforms")), *Platform.choices]
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("All languages")), *settings.LANGUAGES, ("und", _("Unknown"))],
    )
    topic = forms.CharField(label=_("Topic"), required=False, max_length=200, strip=True)


@dataclass(frozen=True)
class BoardFilters:
    """What the board shows: mentions published in [start, end), both on whole UTC hours
    (end is the start of the hour after `now` for the preset ranges, so the hour in progress is
    included), optionally on one platform, one language ("und" = unknown, stored as "") and
    one topic."""

    start: datetime
    end: datetime
    range_key: str = DEFAULT_RANGE
    platform: str = ""
    language: str = ""
    topic: str = ""
    errors: tuple[str, ...] = field(default=(), compare=False)

    @property
    def language_value(self) -> str:
        """The value stored on mentions for the chosen language ("" for unknown)."""
        return "" if self.language == "und" else self.language

    @property
    def has_language(self) -> bool:
        return self.language != ""

    @property
    def bucket(self) -> timedelta:
        """Chart resolution: hours up to two days, six hours up to ten days, else days."""
        span = self.end - self.start
        if span <= timedelta(days=2):
            return HOUR
        if span <= timedelta(days=10):
            return timedelta(hours=6)
        return timedelta(days=1)

    def as_query(self, **changes: str) -> str:
        """The query string that reopens this view (with `changes` applied), for links."""
        params = {
            "range": self.range_key,
            "platform": self.platform,
            "language": self.language,
            "topic": self.topic,
        }
        if self.range_key == "custom":
            zone = organisation_zone()
            params["date_from"] = self.start.astimezone(zone).date().isoformat()
            params["date_to"] = (self.end - HOUR).astimezone(zone).date().isoformat()
        params.update(changes)
        return urlencode({key: value for key, value in params.items() if value})

    def cache_key(self) -> str:
        return (
            f"{self.start:%Y%m%d%H}-{self.end:%Y%m%d%H}-{self.range_key}-"
            f"{self.platform}-{self.language}-{self.topic}"
        )


def parse_filters(query: QueryDict | dict, *, now: datetime) -> BoardFilters:
    form = BoardFilterForm(query)
    form.is_valid()
    data = form.cleaned_data  # only the fields that validated
    errors = tuple(str(error) for errors in form.errors.values() for error in errors)
    range_key = data.get("range") or DEFAULT_RANGE
    end = floor_hour(now) + HOUR
    start = end - RANGES.get(range_key, RANGES[DEFAULT_RANGE])
    if range_key == "custom":
        zone = organisation_zone()
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_to is None or date_to > now.astimezone(zone).date():
            date_to = now.astimezone(zone).date()
        if date_from is None or date_from > date_to:
            date_from = date_to
        if (date_to - date_from).days >= MAX_CUSTOM_DAYS:
            date_from = date_to - timedelta(days=MAX_CUSTOM_DAYS - 1)
        start = floor_hour(datetime.combine(date_from, time.min, tzinfo=zone))
        end = min(
            floor_hour(datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone)),
            floor_hour(now) + HOUR,
        )
    return BoardFilters(
        start=start.astimezone(ZoneInfo("UTC")),
        end=end.astimezone(ZoneInfo("UTC")),
        range_key=range_key,
        platform=data.get("platform") or "",
        language=data.get("language") or "",
        topic=(data.get("topic") or "")[:200],
        errors=errors,
    )
