"""The time axis of the board's series charts: labels never overlap, however narrow the chart
(issue 12: the exposure chart in a half-width column read "1 Dec 17:0020:00")."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from crisis.board.charts import (
    CHAR_EM,
    GAP_EM,
    HALF_WIDTH,
    LEFT,
    MAX_TIME_LABELS,
    PLOT_WIDTH,
    RIGHT,
    WALL_AXIS_FONT,
    exposure_chart,
    time_ticks,
)

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
START = datetime(2026, 12, 1, 6, tzinfo=UTC)  # 07:00 in Madrid: the day changes in 24 hours


def _estimated_width(label: str) -> float:
    return len(label) * CHAR_EM * WALL_AXIS_FONT


def _assert_no_overlap(ticks):
    for left, right in pairwise(ticks):
        half_widths = (_estimated_width(left.label) + _estimated_width(right.label)) / 2
        assert right.position - left.position >= half_widths + GAP_EM * WALL_AXIS_FONT / 2, (
            left,
            right,
        )


@pytest.mark.parametrize("plot_width", [PLOT_WIDTH, HALF_WIDTH - LEFT - RIGHT, 150])
@pytest.mark.parametrize(("count", "bucket"), [(24, HOUR), (48, HOUR), (7, DAY), (30, DAY)])
def test_time_labels_fit_the_plot_width(settings, plot_width, count, bucket):
    settings.LANGUAGE_CODE = "en"
    ticks = time_ticks([START + bucket * index for index in range(count)], bucket, plot_width)
    assert 1 <= len(ticks) <= MAX_TIME_LABELS
    _assert_no_overlap(ticks)


def test_a_wide_chart_keeps_more_labels_than_a_narrow_one():
    starts = [START + HOUR * index for index in range(24)]
    wide = time_ticks(starts, HOUR, PLOT_WIDTH)
    narrow = time_ticks(starts, HOUR, HALF_WIDTH - LEFT - RIGHT)
    assert len(wide) > len(narrow) >= 2
    assert wide[0].label == narrow[0].label  # the first label names the day


def test_the_exposure_chart_is_drawn_for_a_half_width_column():
    points = [(START + HOUR * index, float(index * 100)) for index in range(24)]
    chart = exposure_chart(points, bucket=HOUR, chart_id="x", url="/inbox/")
    assert chart.width == HALF_WIDTH
    assert chart.plot_right == HALF_WIDTH - RIGHT
    assert chart.columns[-1].x + chart.columns[-1].width == pytest.approx(chart.plot_right)
    assert all(LEFT <= tick.position <= chart.plot_right for tick in chart.time_ticks)
    _assert_no_overlap(chart.time_ticks)
