"""The board's charts as geometry: server-rendered, accessible SVG with no script and no inline
style.

Two shapes, both drawn by templates/board/partials/ (series_chart.html, bar_chart.html):
- a series over time (mention volume as an area, its usual level as a dashed line, the
  negative share on a right-hand axis; exposure as an area), one link per bucket;
- horizontal bars (severities, platforms, languages, classes, topics), one link per bar.

Every chart carries a <title> and a <desc> that say what it shows in words, and the same
figures as table rows (with the same links) for a <details> table view. Colours are CSS
classes (static/css/board.css maps them to Pico's variables), so light and dark both work.
The geometry is plain numbers computed here (tested); nothing here queries the database.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext

from crisis.rooms.charts import nice_ceiling

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 52, 14, 40
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
MAX_TIME_LABELS = 8
# A series in a half-width column (exposure) is drawn narrower, so its axis type is not
# shrunk to half size on the board nor its labels crowded on the wall.
HALF_WIDTH = 400
# The time axis' type: 11 in series_chart.html, 15 px on the wall (board.css); a label is
# estimated at CHAR_EM of the type per character, with GAP_EM between two labels.
WALL_AXIS_FONT, CHAR_EM, GAP_EM = 15, 0.6, 1.0

# Bars sit in half-width columns: a narrower drawing keeps their text legible once scaled.
BAR_ROW, BAR_LABEL, BAR_VALUE, BAR_WIDTH = 24, 150, 56, 380


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True, slots=True)
class Column:
    """One bucket's hit area: a link (keyboard-focusable) to the list behind the bucket."""

    x: float
    width: float
    label: str  # what the bucket holds, in words (the link's <title>)
    url: str


@dataclass(frozen=True, slots=True)
class TableRow:
    start: datetime | None
    label: str
    cells: list[str]
    url: str = ""


@dataclass(frozen=True, slots=True)
class SeriesChart:
    chart_id: str
    title: str
    desc: str
    columns_header: list[str]  # the table's value columns
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_top: int = TOP
    plot_right: int = LEFT + PLOT_WIDTH
    plot_bottom: int = TOP + PLOT_HEIGHT
    plot_height: int = PLOT_HEIGHT
    area: str = ""  # polygon points of the main series (closed to the baseline of the plot)
    line: str = ""  # polyline points of the main series
    dashed: str = ""  # polyline points of the usual level (baseline), "" when none
    share_lines: list[str] = field(default_factory=list)  # runs of the negative share
    value_ticks: list[Tick] = field(default_factory=list)
    share_ticks: list[Tick] = field(default_factory=list)
    time_ticks: list[Tick] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    rows: list[TableRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Bar:
    key: str
    label: str
    value_text: str
    y: float
    width: float
    url: str
    css: str  # a class naming the bar's colour (e.g. "severity-critical")
    text_y: float


@dataclass(frozen=True, slots=True)
class BarChart:
    chart_id: str
    title: str
    desc: str
    value_header: str
    bars: list[Bar]
    width: int
    height: int
    bar_left: int
    bar_height: float
    value_x: float


# --- words and numbers -----------------------------------------------------------------------
def number(value: float | int) -> str:
    """A whole number with the reader's grouping (12,345 / 12.345)."""
    return formats.number_format(round(value), 0, force_grouping=True)


def percent(share: float | None) -> str:
    if share is None:
        return "—"
    return gettext("%(value)s %%") % {"value": formats.number_format(round(share * 100), 0)}


def local(moment: datetime, format_name: str = "SHORT_DATETIME_FORMAT") -> str:
    return formats.date_format(timezone.localtime(moment), format_name)


def bucket_label(start: datetime, bucket: timedelta) -> str:
    """A bucket's start as a reader names it: the day for daily buckets, else day and hour."""
    if bucket >= timedelta(days=1):
        return local(start, "SHORT_DATE_FORMAT")
    return local(start)


def _time_label(start: datetime, bucket: timedelta, previous_day) -> tuple[str, object]:
    moment = timezone.localtime(start)
    if bucket >= timedelta(days=1):
        return formats.date_format(moment, "j M"), moment.date()
    label = formats.date_format(moment, "H:i")
    if moment.date() != previous_day:
        label = f"{formats.date_format(moment, 'j M')} {label}"
    return label, moment.date()


def time_ticks(
    starts: Sequence[datetime], bucket: timedelta, plot_width: float = PLOT_WIDTH
) -> list[Tick]:
    """Labels under every n-th bucket, the day named when it changes: at most
    MAX_TIME_LABELS, and as many as fit the plot's width without two labels overlapping
    ("1 Dec 17:0020:00" on a narrow chart), so n grows until the longest label fits."""
    count = max(1, len(starts))
    slot = plot_width / count
    every = max(1, math.ceil(count / MAX_TIME_LABELS))
    while True:
        ticks = _ticks_every(starts, bucket, every, slot)
        if every >= count or _labels_fit(ticks, every * slot):
            return ticks
        every += 1


def _ticks_every(
    starts: Sequence[datetime], bucket: timedelta, every: int, slot: float
) -> list[Tick]:
    ticks, day = [], None
    for index in range(0, len(starts), every):
        label, day = _time_label(starts[index], bucket, day)
        ticks.append(Tick(position=round(LEFT + index * slot + slot / 2, 2), label=label))
    return ticks


def _labels_fit(ticks: Sequence[Tick], spacing: float) -> bool:
    """Whether centred labels `spacing` apart leave a gap, at the largest type the axis
    is shown in (an estimate: SVG text is not measured on the server)."""
    longest = max((len(tick.label) for tick in ticks), default=0)
    return (longest * CHAR_EM + GAP_EM) * WALL_AXIS_FONT <= spacing


# --- series over time ------------------------------------------------------------------------
def _scale(peak: float) -> tuple[int, int]:
    return nice_ceiling(max(0, math.ceil(peak)))


def _y(value: float, top: float) -> float:
    return round(TOP + PLOT_HEIGHT - PLOT_HEIGHT * (value / top if top else 0), 2)


def _centres(count: int, plot_width: float = PLOT_WIDTH) -> list[float]:
    slot = plot_width / max(1, count)
    return [round(LEFT + index * slot + slot / 2, 2) for index in range(count)]


def _polyline(xs: Sequence[float], ys: Sequence[float]) -> str:
    return " ".join(f"{x},{y}" for x, y in zip(xs, ys, strict=True))


def _area(xs: Sequence[float], ys: Sequence[float]) -> str:
    """The series closed down to the plot's floor, so it fills as an area."""
    if not xs:
        return ""
    floor = TOP + PLOT_HEIGHT
    return f"{xs[0]},{floor} {_polyline(xs, ys)} {xs[-1]},{floor}"


def _share_runs(xs: Sequence[float], shares: Sequence[float | None]) -> list[str]:
    """The negative share as separate runs: a bucket with nothing scored breaks the line."""
    runs, run = [], []
    for x, share in zip(xs, shares, strict=True):
        if share is None:
            if run:
                runs.append(" ".join(run))
            run = []
            continue
        run.append(f"{x},{round(TOP + PLOT_HEIGHT - PLOT_HEIGHT * share, 2)}")
    if run:
        runs.append(" ".join(run))
    return runs


def _columns(
    labels: Sequence[str], urls: Sequence[str], plot_width: float = PLOT_WIDTH
) -> list[Column]:
    slot = plot_width / max(1, len(labels))
    return [
        Column(x=round(LEFT + index * slot, 2), width=round(slot, 2), label=label, url=url)
        for index, (label, url) in enumerate(zip(labels, urls, strict=True))
    ]


@dataclass(frozen=True, slots=True)
class VolumeBucket:
    """What the volume chart needs of a bucket (mention_metrics.VolumePoint has it)."""

    start: datetime
    mentions: int
    negative: int
    baseline_mentions: float
    negative_share: float | None


def volume_chart(
    points: Sequence[VolumeBucket],
    *,
    bucket: timedelta,
    chart_id: str,
    link: Callable[[datetime, datetime], str],
    end: datetime,
) -> SeriesChart:
    """Mentions per bucket (area), the usual level (dashed) and the negative share (right
    axis, 0-100 %). `link(start, end)` is the mention list behind a bucket."""
    top, step = _scale(
        max([point.mentions for point in points] + [point.baseline_mentions for point in points])
        if points
        else 0
    )
    xs = _centres(len(points))
    ends = [min(point.start + bucket, end) for point in points]
    # Each bucket's link and time label once: the columns and the table share them.
    urls = [link(point.start, stop) for point, stop in zip(points, ends, strict=True)]
    times = [bucket_label(point.start, bucket) for point in points]
    labels = [_volume_phrase(point, time) for point, time in zip(points, times, strict=True)]
    return SeriesChart(
        chart_id=chart_id,
        title=gettext("Mentions and negative share over time, against the usual level"),
        desc=describe_volume(points, bucket),
        columns_header=[gettext("Mentions"), gettext("Usual"), gettext("Negative share")],
        area=_area(xs, [_y(point.mentions, top) for point in points]),
        line=_polyline(xs, [_y(point.mentions, top) for point in points]),
        dashed=_polyline(xs, [_y(point.baseline_mentions, top) for point in points]),
        share_lines=_share_runs(xs, [point.negative_share for point in points]),
        value_ticks=[
            Tick(position=_y(value, top), label=number(value)) for value in range(0, top + 1, step)
        ],
        share_ticks=[Tick(position=_y(share, 1), label=percent(share)) for share in (0, 0.5, 1)],
        time_ticks=time_ticks([point.start for point in points], bucket),
        columns=_columns(labels, urls),
        rows=[
            TableRow(
                start=point.start,
                label=time,
                cells=[
                    number(point.mentions),
                    number(point.baseline_mentions),
                    percent(point.negative_share),
                ],
                url=url,
            )
            for point, time, url in zip(points, times, urls, strict=True)
        ],
    )


def _volume_phrase(point: VolumeBucket, time: str) -> str:
    return ngettext(
        "%(time)s: %(mentions)s mention (usually %(usual)s), %(share)s negative",
        "%(time)s: %(mentions)s mentions (usually %(usual)s), %(share)s negative",
        point.mentions,
    ) % {
        "time": time,
        "mentions": number(point.mentions),
        "usual": number(point.baseline_mentions),
        "share": percent(point.negative_share),
    }


def describe_volume(points: Sequence[VolumeBucket], bucket: timedelta) -> str:
    """The <desc>: the total against the usual, the peak bucket and the latest one."""
    if not points:
        return gettext("No period to show.")
    total = sum(point.mentions for point in points)
    usual = sum(point.baseline_mentions for point in points)
    parts = [
        ngettext(
            "%(total)s mention from %(start)s (usually %(usual)s).",
            "%(total)s mentions from %(start)s (usually %(usual)s).",
            total,
        )
        % {
            "total": number(total),
            "start": bucket_label(points[0].start, bucket),
            "usual": number(usual),
        }
    ]
    if total:
        peak = max(points, key=lambda point: (point.mentions, point.start))
        peak_phrase = _volume_phrase(peak, bucket_label(peak.start, bucket))
        parts.append(gettext("Peak: %(what)s.") % {"what": peak_phrase})
    latest_phrase = _volume_phrase(points[-1], bucket_label(points[-1].start, bucket))
    parts.append(gettext("Latest: %(what)s.") % {"what": latest_phrase})
    return " ".join(parts)


def exposure_chart(
    points: Sequence[tuple[datetime, float]],
    *,
    bucket: timedelta,
    chart_id: str,
    url: str,
) -> SeriesChart:
    """Exposure (reach x minutes unanswered) at the end of each bucket, as an area; every
    bucket links to the open incidents by exposure (`url`: the history is not a list).
    Drawn HALF_WIDTH wide: it sits in a half-width column."""
    values = [value for _start, value in points]
    top, step = _scale(max(values, default=0))
    plot_width = HALF_WIDTH - LEFT - RIGHT
    xs = _centres(len(points), plot_width)
    times = [bucket_label(start, bucket) for start, _value in points]  # labels and table
    labels = [
        gettext("%(time)s: exposure %(value)s") % {"time": time, "value": number(value)}
        for time, (_start, value) in zip(times, points, strict=True)
    ]
    peak = max(points, key=lambda point: (point[1], point[0]), default=None)
    if peak is None:
        desc = gettext("No period to show.")
    else:
        desc = gettext(
            "Exposure at the end of each period. Peak: %(peak)s. Latest: %(latest)s."
        ) % {
            "peak": labels[points.index(peak)],
            "latest": labels[-1],
        }
    return SeriesChart(
        chart_id=chart_id,
        title=gettext("Exposure over time (reach × minutes unanswered)"),
        desc=desc,
        columns_header=[gettext("Exposure")],
        width=HALF_WIDTH,
        plot_right=LEFT + plot_width,
        area=_area(xs, [_y(value, top) for value in values]),
        line=_polyline(xs, [_y(value, top) for value in values]),
        value_ticks=[
            Tick(position=_y(value, top), label=_short(value)) for value in range(0, top + 1, step)
        ],
        time_ticks=time_ticks([start for start, _value in points], bucket, plot_width),
        columns=_columns(labels, [url] * len(points), plot_width),
        rows=[
            TableRow(start=start, label=time, cells=[number(value)], url=url)
            for time, (start, value) in zip(times, points, strict=True)
        ],
    )


def _short(value: float) -> str:
    """An axis label that fits: 12k, 3.4M."""
    if value >= 1_000_000:
        return gettext("%(value)sM") % {"value": formats.number_format(value / 1_000_000, 1)}
    if value >= 10_000:
        return gettext("%(value)sk") % {"value": formats.number_format(round(value / 1000), 0)}
    return number(value)


# --- bars ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BarItem:
    key: str
    label: str
    count: int
    url: str
    css: str = ""


def bar_chart(
    items: Sequence[BarItem], *, chart_id: str, title: str, value_header: str
) -> BarChart:
    """Horizontal bars, longest for the largest count; each bar, label and number is one link."""
    peak = max((item.count for item in items), default=0)
    span = BAR_WIDTH - BAR_LABEL - BAR_VALUE
    bars = [
        Bar(
            key=item.key,
            label=item.label,
            value_text=number(item.count),
            y=index * BAR_ROW + 4,
            width=round(span * item.count / peak, 2) if peak else 0,
            url=item.url,
            css=item.css,
            text_y=index * BAR_ROW + BAR_ROW / 2 + 4,
        )
        for index, item in enumerate(items)
    ]
    described = "; ".join(f"{item.label}: {number(item.count)}" for item in items)
    return BarChart(
        chart_id=chart_id,
        title=title,
        desc=described or gettext("Nothing to count."),
        value_header=value_header,
        bars=bars,
        width=BAR_WIDTH,
        height=max(1, len(items)) * BAR_ROW + 8,
        bar_left=BAR_LABEL,
        bar_height=BAR_ROW - 8,
        value_x=BAR_WIDTH - BAR_VALUE + 8,
    )
