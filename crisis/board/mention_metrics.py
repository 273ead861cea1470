"""The board's mention figures (volume, negative share, complaints, topics, channels,
agitators), read from the per-hour rollups only, never from the raw mention tables.

Every function takes the board's filters (crisis.board.filters.BoardFilters) and costs one or
two queries whatever the range. With no topic filter the volume, totals, platforms and
languages read MentionSliceHour (each mention once, a row per hour, platform and language) and
the other figures the MentionHour rows of topic "" (each mention once); with a topic, the
MentionHour rows of that topic. Only live mentions are in the rollups.

Baselines (what "usual" means next to each figure), both read from the rollups:
- hourly buckets (ranges of up to two days): for each hour, the mean of the same hour of the
  day (UTC, so 24-hour steps) over the 7 days before the range starts;
- coarser buckets (6 hours, days): the mean per bucket over the 28 days before the range
  starts (the 28-day total scaled to the bucket's length).
A total's baseline is the sum of its buckets' baselines (the same figure for a range of any
length: the baseline window's total scaled to the range's length). The baseline negative
share is negative / scored over the whole baseline window.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count as CountOf
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import get_language_info, gettext

from crisis.board.filters import HOUR, BoardFilters
from crisis.board.models import ALL_TOPICS, AuthorHour, MentionHour, MentionSliceHour
from monitoring.models import Author, Mention
from monitoring.platforms import Platform
from protocols.evaluation import NEGATIVE_BELOW
from protocols.models import ProtocolStatus, ProtocolVersion
from protocols.scoring.types import OVERALL_TOPIC, Severity, TriageClass

HOURLY_BASELINE_DAYS = 7
COARSE_BASELINE_DAYS = 28
# The topic filter suggests the topics of the last week: enough to find what is being talked
# about now, and a seventh of the rows of a month.
KNOWN_TOPICS_DAYS = 7
SERIOUS = (Severity.HIGH.value, Severity.CRITICAL.value)
UNKNOWN_LANGUAGE = "und"  # the filters' and links' name for mentions with no language
NEGATIVE = "negative"

# The mentions of MentionHour or MentionSliceHour rows (both count them in "mentions").
_MENTIONS = Sum("mentions", default=0)


# Which MentionHour rows each figure sums (MentionSliceHour has a column per figure instead).
_CUBE_CONDITIONS = {
    "mentions": Q(),
    "scored": ~Q(polarity=""),
    "negative": Q(polarity=NEGATIVE),
    "complaints": Q(is_complaint=True),
    "serious": Q(severity__in=SERIOUS),
}


def _share(part: int | float, whole: int | float) -> float | None:
    return part / whole if whole else None


# --- volume over time -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class VolumePoint:
    start: datetime
    mentions: int
    negative: int
    scored: int
    baseline_mentions: float
    baseline_negative_share: float | None

    @property
    def negative_share(self) -> float | None:
        return _share(self.negative, self.scored)


@dataclass(frozen=True, slots=True)
class HourCounts:
    """One hour's figures (every rollup read sums to these)."""

    mentions: int = 0
    scored: int = 0
    negative: int = 0
    complaints: int = 0
    serious: int = 0


NO_COUNTS = HourCounts()


def hourly_counts(f: BoardFilters) -> dict[datetime, HourCounts]:
    """The filters' figures per hour of the range and of its baseline window (hours with no
    mention are absent). One query, a row per hour: volume_series and totals both derive
    from it (volume_with_totals reads it once for both)."""
    rows = (
        count_rows(f, start=baseline_start(f))
        .values("hour")
        .annotate(
            n_mentions=figure_sum(f, "mentions"),
            n_scored=figure_sum(f, "scored"),
            n_negative=figure_sum(f, "negative"),
            n_complaints=figure_sum(f, "complaints"),
            n_serious=figure_sum(f, "serious"),
        )
        .order_by()
    )
    return {
        row["hour"]: HourCounts(
            row["n_mentions"],
            row["n_scored"],
            row["n_negative"],
            row["n_complaints"],
            row["n_serious"],
        )
        for row in rows
    }


def volume_with_totals(f: BoardFilters) -> tuple[list[VolumePoint], MentionTotals]:
    """volume_series(f) and totals(f) from one read of the hours (the volume block shows both)."""
    by_hour = hourly_counts(f)
    return volume_series(f, by_hour=by_hour), totals(f, by_hour=by_hour)


def volume_series(
    f: BoardFilters, *, by_hour: dict[datetime, HourCounts] | None = None
) -> list[VolumePoint]:
    """One point per f.bucket from f.start to f.end (the last may be shorter), each with its
    baseline (module docstring). One query (hourly_counts), none when `by_hour` is given."""
    window_start = baseline_start(f)
    by_hour = hourly_counts(f) if by_hour is None else by_hour
    base = {hour: counts for hour, counts in by_hour.items() if hour < f.start}
    base_negative = sum(counts.negative for counts in base.values())
    base_share = _share(base_negative, sum(counts.scored for counts in base.values()))
    expected = _hourly_expectation(f, base) if f.bucket == HOUR else None
    base_total = sum(counts.mentions for counts in base.values())
    points = []
    for start, end in bucket_bounds(f):
        counts = [by_hour.get(hour, NO_COUNTS) for hour in _hours(start, end)]
        if expected is not None:
            baseline = float(sum(expected[hour] for hour in _hours(start, end)))
        else:
            baseline = base_total * ((end - start) / (f.start - window_start))
        points.append(
            VolumePoint(
                start=start,
                mentions=sum(count.mentions for count in counts),
                negative=sum(count.negative for count in counts),
                scored=sum(count.scored for count in counts),
                baseline_mentions=baseline,
                baseline_negative_share=base_share,
            )
        )
    return points


def _hourly_expectation(f: BoardFilters, base: dict[datetime, tuple]) -> dict[datetime, float]:
    """For each hour of the range, the mean of the same hour of the day over the baseline
    days (a day with no mentions counts as zero)."""
    per_hour_of_day: dict[int, int] = defaultdict(int)
    for hour, counts in base.items():
        per_hour_of_day[_hour_of_day(f, hour)] += counts.mentions
    return {
        hour: per_hour_of_day[_hour_of_day(f, hour)] / HOURLY_BASELINE_DAYS
        for hour in _hours(f.start, f.end)
    }


def _hour_of_day(f: BoardFilters, hour: datetime) -> int:
    return int((hour - f.start) / HOUR) % 24


# --- totals ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MentionTotals:
    mentions: int
    scored: int
    negative: int
    complaints: int
    serious: int
    baseline_mentions: float
    baseline_negative_share: float | None

    @property
    def negative_share(self) -> float | None:
        return _share(self.negative, self.scored)


def totals(f: BoardFilters, *, by_hour: dict[datetime, HourCounts] | None = None) -> MentionTotals:
    """The range's counts and their baseline (module docstring). One query (hourly_counts),
    none when `by_hour` is given."""
    window_start = baseline_start(f)
    by_hour = hourly_counts(f) if by_hour is None else by_hour
    in_range = [counts for hour, counts in by_hour.items() if hour >= f.start]
    in_base = [counts for hour, counts in by_hour.items() if hour < f.start]
    base_mentions = sum(counts.mentions for counts in in_base)
    if f.bucket == HOUR:
        # The sum of the hourly baselines: every hour of the day once per whole day of the
        # range, plus the hours of the day of its last, partial day.
        whole_days = (f.end - f.start) // timedelta(days=1)
        partial_day = sum(
            counts.mentions
            for hour, counts in by_hour.items()
            if hour < f.start and _in_partial_day(f, hour)
        )
        baseline = (whole_days * base_mentions + partial_day) / HOURLY_BASELINE_DAYS
    else:
        baseline = base_mentions * ((f.end - f.start) / (f.start - window_start))
    return MentionTotals(
        mentions=sum(counts.mentions for counts in in_range),
        scored=sum(counts.scored for counts in in_range),
        negative=sum(counts.negative for counts in in_range),
        complaints=sum(counts.complaints for counts in in_range),
        serious=sum(counts.serious for counts in in_range),
        baseline_mentions=baseline,
        baseline_negative_share=_share(
            sum(counts.negative for counts in in_base), sum(counts.scored for counts in in_base)
        ),
    )


def _in_partial_day(f: BoardFilters, hour: datetime) -> bool:
    """Whether a baseline hour has one of the hours of the day of the range's partial last
    day (a 38-hour range: the first 14 hours from f.start's hour of the day, on each baseline
    day); never when the range is whole days."""
    partial = (f.end - f.start) % timedelta(days=1)
    if not partial:
        return False
    return (hour - f.start) % timedelta(days=1) < partial


# --- breakdowns -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Count:
    key: str
    label: str  # translated display text
    count: int


def complaint_classes(f: BoardFilters) -> list[Count]:
    """Triage classes of the scored mentions in the range, most first."""
    rows = _grouped(mention_rows(f).exclude(triage_class=""), "triage_class")
    return [Count(key, _choice_label(TriageClass, key), count) for key, count in rows]


def keyword_groups(f: BoardFilters, limit: int = 10) -> list[Count]:
    """The topics mentioned most in the range (keyword groups and hashtags), most first;
    a keyword group is labelled as the active protocol names it, a hashtag with its #.
    Two queries (the rollups, the active protocol's group names)."""
    rows = _filtered(MentionHour.objects.filter(hour__gte=f.start, hour__lt=f.end), f)
    rows = rows.exclude(topic=ALL_TOPICS)
    if topic_filter(f):
        rows = rows.filter(topic=topic_filter(f))
    top = _grouped(rows, "topic")[: max(0, limit)]
    names = _keyword_group_names() if top else {}
    return [Count(topic, names.get(topic) or f"#{topic}", count) for topic, count in top]


def by_platform(f: BoardFilters) -> list[Count]:
    rows = _grouped(count_rows(f), "platform")
    return [Count(key, _choice_label(Platform, key), count) for key, count in rows]


def by_language(f: BoardFilters) -> list[Count]:
    """Mentions per language, most first; mentions of no known language are "und"."""
    rows = _grouped(count_rows(f), "language")
    return [Count(key or UNKNOWN_LANGUAGE, language_label(key), count) for key, count in rows]


def language_label(code: str) -> str:
    """The interface's name of a language (settings.LANGUAGES first, then Django's list)."""
    if not code or code == UNKNOWN_LANGUAGE:
        return gettext("Unknown")
    names = dict(settings.LANGUAGES)
    if code in names:
        return str(names[code])
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


# --- agitators ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Agitator:
    author_id: int
    handle: str
    display_name: str
    platform: str
    followers: int | None
    flags: list[str] = field(default_factory=list)
    negative: int = 0
    serious: int = 0
    profile_url: str = ""


def top_agitators(f: BoardFilters, limit: int = 10) -> list[Agitator]:
    """The authors with the most negative mentions in the range (then the most serious ones),
    with their reach (followers) and flags. Two queries.

    Read from AuthorHour, except with a topic filter: AuthorHour has no topic, so the raw
    tables are read then (live negative mentions on that topic published in the range; the
    topic and published_at index bounds the work to the range)."""
    limit = max(0, limit)
    read = _agitators_on_topic if topic_filter(f) else _agitators_from_rollups
    counts = read(f, limit)
    authors = Author.objects.in_bulk([author_id for author_id, _, _ in counts])
    return [
        _agitator(authors[author_id], negative, serious)
        for author_id, negative, serious in counts
        if author_id in authors
    ]


def _agitators_from_rollups(f: BoardFilters, limit: int) -> list[tuple[int, int, int]]:
    rows = _filtered(AuthorHour.objects.filter(hour__gte=f.start, hour__lt=f.end), f)
    ranked = (
        rows.values("author_id")
        .annotate(negative=Sum("negative"), serious=Sum("serious"))
        .order_by("-negative", "-serious", "author_id")
    )
    return [(row["author_id"], row["negative"], row["serious"]) for row in ranked[:limit]]


def _agitators_on_topic(f: BoardFilters, limit: int) -> list[tuple[int, int, int]]:
    rows = Mention.objects.filter(
        origin="live",
        topics__topic=topic_filter(f),
        topics__published_at__gte=f.start,
        topics__published_at__lt=f.end,
        published_at__gte=f.start,
        published_at__lt=f.end,
        score__sentiment__lte=NEGATIVE_BELOW,
    )
    ranked = (
        _filtered(rows, f)
        .values("author_id")
        .annotate(
            negative=CountOf("pk"),
            serious=CountOf("pk", filter=Q(score__severity__in=SERIOUS)),
        )
        .order_by("-negative", "-serious", "author_id")
    )
    return [(row["author_id"], row["negative"], row["serious"]) for row in ranked[:limit]]


def _agitator(author: Author, negative: int, serious: int) -> Agitator:
    flags = author.flags if isinstance(author.flags, list) else []
    return Agitator(
        author_id=author.pk,
        handle=author.handle,
        display_name=author.display_name,
        platform=author.platform,
        followers=author.followers,
        flags=[str(flag) for flag in flags],
        negative=negative,
        serious=serious,
        profile_url=safe_profile_url(author.url),
    )


def safe_profile_url(url: str) -> str:
    """The author's profile link if it is http(s); anything else is not linked."""
    return url if url.lower().startswith(("https://", "http://")) else ""


# --- topics for the filter ------------------------------------------------------------------
def known_topics(limit: int = 200, *, now: datetime | None = None) -> list[str]:
    """Topics seen in the last KNOWN_TOPICS_DAYS days, the most used first (the topic filter's
    suggestions, fetched by the board's /board/topics/ when the field is first focused)."""
    now = now or timezone.now()
    rows = (
        MentionHour.objects.filter(hour__gte=now - timedelta(days=KNOWN_TOPICS_DAYS))
        .exclude(topic=ALL_TOPICS)
        .values("topic")
        .annotate(count=Sum("mentions"))
        .order_by("-count", "topic")
    )
    return [row["topic"] for row in rows[: max(0, limit)]]


# --- shared pieces --------------------------------------------------------------------------
def mention_rows(f: BoardFilters, *, start: datetime | None = None) -> QuerySet[MentionHour]:
    """MentionHour rows of the filters' topic ("" = every mention once), platform and language,
    from `start` (the range's start, unless a baseline window is read too) to f.end."""
    rows = MentionHour.objects.filter(
        hour__gte=start or f.start, hour__lt=f.end, topic=topic_filter(f)
    )
    return _filtered(rows, f)


def count_rows(
    f: BoardFilters, *, start: datetime | None = None
) -> QuerySet[MentionSliceHour] | QuerySet[MentionHour]:
    """The narrowest rows that count every mention of the filters once, from `start` (else
    f.start) to f.end: MentionSliceHour without a topic filter (a row per hour, platform and
    language), else that topic's MentionHour rows. Sum them with figure_sum."""
    if topic_filter(f):
        return mention_rows(f, start=start)
    rows = MentionSliceHour.objects.filter(hour__gte=start or f.start, hour__lt=f.end)
    return _filtered(rows, f)


def figure_sum(f: BoardFilters, figure: str, within: Q | None = None) -> Sum:
    """SUM of one figure ("mentions", "scored", "negative", "complaints", "serious") over
    count_rows(f), of the rows `within` only if given: a column of its own in the slices, the
    matching cells' mentions in MentionHour. Name the aggregate apart from the columns
    (n_negative, not negative)."""
    if topic_filter(f):
        column, condition = "mentions", _CUBE_CONDITIONS[figure] & (within or Q())
    else:
        column, condition = figure, within or Q()
    return Sum(column, filter=condition or None, default=0)


def topic_filter(f: BoardFilters) -> str:
    """The topic rows to read: "" for none, and for the overall topic (every mention)."""
    return "" if f.topic == OVERALL_TOPIC else f.topic


def _filtered(rows: QuerySet, f: BoardFilters) -> QuerySet:
    """`rows` (of a rollup or of mentions) on the filters' platform and language."""
    if f.platform:
        rows = rows.filter(platform=f.platform)
    if f.has_language:
        rows = rows.filter(language=f.language_value)
    return rows


def baseline_start(f: BoardFilters) -> datetime:
    days = HOURLY_BASELINE_DAYS if f.bucket == HOUR else COARSE_BASELINE_DAYS
    return f.start - timedelta(days=days)


def bucket_bounds(f: BoardFilters) -> list[tuple[datetime, datetime]]:
    """[start, end) of each chart bucket from f.start to f.end; the last may be shorter."""
    bounds, start = [], f.start
    while start < f.end:
        bounds.append((start, min(start + f.bucket, f.end)))
        start += f.bucket
    return bounds


def _hours(start: datetime, end: datetime) -> list[datetime]:
    return [start + HOUR * index for index in range(int((end - start) / HOUR))]


def _grouped(rows: QuerySet[MentionHour], column: str) -> list[tuple[str, int]]:
    """(value, mentions) per value of `column`, most first (ties by value, stable)."""
    counted = rows.values(column).annotate(count=_MENTIONS).order_by("-count", column)
    return [(row[column], row["count"]) for row in counted if row["count"]]


def _choice_label(choices, key: str) -> str:
    try:
        return str(choices(key).label)
    except ValueError:
        return key


def _keyword_group_names() -> dict[str, str]:
    """Keyword group key -> the name the active protocol gives it (typed by supervisors). Only
    that section of the configuration is read (the whole one is tens of kilobytes of JSON)."""
    groups = (
        ProtocolVersion.objects.filter(status=ProtocolStatus.ACTIVE)
        .order_by("-number")
        .values_list("config__keyword_groups", flat=True)
        .first()
    )
    if not isinstance(groups, list):
        groups = []
    return {
        str(group.get("key")): str(group.get("label") or group.get("key"))
        for group in groups
        if isinstance(group, dict) and group.get("key")
    }
