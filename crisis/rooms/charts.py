"""Server-side, accessible SVG of the crisis's mention volume (bars) and negative share (line)
per hour: role="img" with a <title> and a <desc> that say the peak and the latest values, and a
<table> of the same figures. Colours come from CSS classes (currentColor by default), so the
chart follows the light and dark themes; no inline style, no script.

The geometry is computed here (plain numbers, tested); templates/rooms/partials/
timeline_chart.html draws it. The post-mortem export reuses `render_volume_chart`.
"""

import math
from dataclasses import dataclass
from datetime import datetime

from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext

from crisis.rooms.timeline import VolumeBucket, VolumeSeries

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 48, 16, 44
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
MAX_X_LABELS = 8


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # "12 mentions, 5 negative, from 14 h" for the bar's own <title>


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True, slots=True)
class Row:
    start: datetime
    label: str
    volume: int
    negative: int
    share: str  # "42 %", or "—" for an hour without mentions


@dataclass(frozen=True, slots=True)
class VolumeChart:
    chart_id: str
    title: str
    desc: str
    width: int
    height: int
    plot_left: int
    plot_top: int
    plot_right: int
    plot_bottom: int
    bars: list[Bar]
    # The negative share as separate runs of points: an hour without mentions breaks the line.
    lines: list[list[Point]]
    points: list[Point]
    volume_ticks: list[Tick]
    share_ticks: list[Tick]
    time_ticks: list[Tick]
    declared_x: float | None
    rows: list[Row]
    hours_per_bar: int

    @property
    def polylines(self) -> list[str]:
        return [" ".join(f"{point.x},{point.y}" for point in line) for line in self.lines]


def nice_ceiling(peak: int) -> tuple[int, int]:
    """(top of the volume axis, step between its ticks): a round step (1, 2 or 5 times a
    power of ten) so that at most four steps reach the peak."""
    if peak <= 4:
        return 4, 1 if peak > 2 else 2
    raw = peak / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return step * math.ceil(peak / step), step


def _percent(share: float | None) -> str:
    if share is None:
        return "—"
    return gettext("%(value)s %%") % {"value": formats.number_format(round(share * 100), 0)}


def _local(moment: datetime, format_name: str = "SHORT_DATETIME_FORMAT") -> str:
    return formats.date_format(timezone.localtime(moment), format_name)


def _bucket_phrase(bucket: VolumeBucket) -> str:
    return ngettext(
        "%(count)s mention, %(negative)s negative (%(share)s), from %(time)s",
        "%(count)s mentions, %(negative)s negative (%(share)s), from %(time)s",
        bucket.volume,
    ) % {
        "count": bucket.volume,
        "negative": bucket.negative,
        "share": _percent(bucket.negative_share),
        "time": _local(bucket.start),
    }


def describe(series: VolumeSeries) -> str:
    """The <desc>: the span, the total, the peak and the latest values."""
    parts = []
    span = {"start": _local(series.start), "end": _local(series.end)}
    if series.peak is None:
        parts.append(
            gettext("No mentions on the crisis's topics from %(start)s to %(end)s.") % span
        )
    else:
        parts.append(
            ngettext(
                "%(total)s mention on the crisis's topics from %(start)s to %(end)s.",
                "%(total)s mentions on the crisis's topics from %(start)s to %(end)s.",
                series.total,
            )
            % {"total": series.total, **span}
        )
        parts.append(gettext("Peak: %(what)s.") % {"what": _bucket_phrase(series.peak)})
        parts.append(gettext("Latest: %(what)s.") % {"what": _bucket_phrase(series.latest)})
    if series.hours_per_bar > 1:
        parts.append(gettext("Each bar covers %(hours)s hours.") % {"hours": series.hours_per_bar})
    return " ".join(parts)


def volume_chart(series: VolumeSeries, *, title: str, chart_id: str) -> VolumeChart:
    """The chart's geometry in SVG user units (WIDTH by HEIGHT)."""
    count = max(1, len(series.buckets))
    slot = PLOT_WIDTH / count
    bar_width = max(1.0, round(slot * 0.8, 2))
    top, step = nice_ceiling(max((bucket.volume for bucket in series.buckets), default=0))
    bottom = TOP + PLOT_HEIGHT

    def x_of(index: int) -> float:
        return round(LEFT + index * slot + (slot - bar_width) / 2, 2)

    def centre_of(index: int) -> float:
        return round(LEFT + index * slot + slot / 2, 2)

    bars, lines, points, run = [], [], [], []
    for index, bucket in enumerate(series.buckets):
        height = round(PLOT_HEIGHT * bucket.volume / top, 2)
        bars.append(
            Bar(
                x=x_of(index),
                y=round(bottom - height, 2),
                width=bar_width,
                height=height,
                label=_bucket_phrase(bucket),
            )
        )
        share = bucket.negative_share
        if share is None:
            if run:
                lines.append(run)
            run = []
            continue
        point = Point(x=centre_of(index), y=round(bottom - PLOT_HEIGHT * share, 2))
        run.append(point)
        points.append(point)
    if run:
        lines.append(run)

    volume_ticks = [
        Tick(position=round(bottom - PLOT_HEIGHT * value / top, 2), label=str(value))
        for value in range(0, top + 1, step)
    ]
    share_ticks = [
        Tick(position=round(bottom - PLOT_HEIGHT * share, 2), label=_percent(share))
        for share in (0.0, 0.5, 1.0)
    ]
    every = max(1, math.ceil(count / MAX_X_LABELS))
    time_ticks, last_day = [], None
    for index in range(0, len(series.buckets), every):
        local = timezone.localtime(series.buckets[index].start)
        label = formats.date_format(local, "H:i")
        if local.date() != last_day:
            label = f"{formats.date_format(local, 'j M')} {label}"
            last_day = local.date()
        time_ticks.append(Tick(position=centre_of(index), label=label))

    span = (series.buckets[-1].end - series.start).total_seconds() if series.buckets else 0
    declared_x = None
    if span and series.start <= series.declared_at <= series.start + (
        series.buckets[-1].end - series.start
    ):
        offset = (series.declared_at - series.start).total_seconds() / span
        declared_x = round(LEFT + PLOT_WIDTH * offset, 2)

    rows = [
        Row(
            start=bucket.start,
            label=_local(bucket.start),
            volume=bucket.volume,
            negative=bucket.negative,
            share=_percent(bucket.negative_share),
        )
        for bucket in series.buckets
    ]
    return VolumeChart(
        chart_id=chart_id,
        title=title,
        desc=describe(series),
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_top=TOP,
        plot_right=LEFT + PLOT_WIDTH,
        plot_bottom=bottom,
        bars=bars,
        lines=lines,
        points=points,
        volume_ticks=volume_ticks,
        share_ticks=share_ticks,
        time_ticks=time_ticks,
        declared_x=declared_x,
        rows=rows,
        hours_per_bar=series.hours_per_bar,
    )


def chart_title(crisis_title: str) -> str:
    return gettext("Mentions per hour and negative share: %(crisis)s") % {"crisis": crisis_title}


def render_volume_chart(
    series: VolumeSeries, *, crisis_title: str, chart_id: str, table_open: bool = False
) -> str:
    """The <figure> with the SVG and its table (escaped by the template)."""
    chart = volume_chart(series, title=chart_title(crisis_title), chart_id=chart_id)
    return render_to_string(
        "rooms/partials/timeline_chart.html", {"chart": chart, "table_open": table_open}
    )
