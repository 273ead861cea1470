"""`eval_spikes`: the same lines as before, then the tuned and held-out parts and the curve."""

# ruff: noqa: S311 - simulated traffic, not security

import random
import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from protocols.management.commands.eval_spikes import (
    WARM_UP,
    LabelledSurge,
    Stream,
    score,
)
from protocols.spikes import SENSITIVITIES

START = datetime(2025, 3, 3, 0, 2, 53, tzinfo=UTC)  # buckets not aligned to the hour
DAYS = 10
STEP = timedelta(minutes=5)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_stream(folder, name, seed, surge_at):
    """Ten days of five-minute buckets with a daily cycle, and one 40-minute surge."""
    rng = random.Random(seed)
    lines = ["bucket_start,mentions"]
    for i in range(DAYS * 288):
        moment = START + i * STEP
        mean = 20.0 if 8 <= moment.hour < 20 else 8.0
        count = max(int(rng.gauss(mean, mean**0.5) + 0.5), 0)
        if surge_at <= moment < surge_at + timedelta(minutes=40):
            count *= 12
        lines.append(f"{_iso(moment)},{count}")
    (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def streams(tmp_path):
    # The cut between the tuned part (first 60 %) and the held-out part is at day 6.
    tuned_surge = START + timedelta(days=4, hours=10)
    held_surge = START + timedelta(days=8, hours=14)
    write_stream(tmp_path, "ACME", 1, tuned_surge)
    write_stream(tmp_path, "GLOBEX", 2, held_surge)
    labels = ["stream,labelled_at,window_start,window_end"]
    for name, surge in (("ACME", tuned_surge), ("GLOBEX", held_surge)):
        labelled = surge + timedelta(minutes=20)
        labels.append(
            f"{name},{_iso(labelled)},{_iso(surge - timedelta(hours=6))},"
            f"{_iso(surge + timedelta(hours=6))}"
        )
    (tmp_path / "surges.csv").write_text("\n".join(labels) + "\n", encoding="utf-8")
    return tmp_path


def run(folder) -> list[str]:
    out = StringIO()
    call_command("eval_spikes", str(folder), stdout=out)
    return out.getvalue().splitlines()


def test_the_output_keeps_the_alert_and_whole_stream_lines_then_parts_then_the_curve(streams):
    lines = run(streams)
    alerts = [line for line in lines if line.startswith("alert ")]
    assert alerts, "the surges raised no alert"
    assert all(
        re.fullmatch(r"alert (ACME|GLOBEX) \d{4}-\d\d-\d\dT\d\d:\d\d:53Z", a) for a in alerts
    )
    rest = lines[len(alerts) :]
    assert lines[: len(alerts)] == alerts  # every alert line comes first
    assert rest[0] == "recall 2/2 1.000"
    assert re.fullmatch(r"false_alarms_per_stream_day \d+\.\d{3}", rest[1])
    assert re.fullmatch(r"median_lead_minutes -?\d+", rest[2])
    assert re.fullmatch(
        r"part tuned recall 1/1 1\.000 false_alarms_per_stream_day \d+\.\d{3}", rest[3]
    )
    assert re.fullmatch(
        r"part held_out recall 1/1 1\.000 false_alarms_per_stream_day \d+\.\d{3}", rest[4]
    )
    curve = rest[5:]
    assert [line.split()[1] for line in curve[: len(SENSITIVITIES)]] == list(SENSITIVITIES)
    for line in curve:
        assert re.fullmatch(
            r"curve \S+ recall \d\.\d{3} false_alarms_per_stream_day \d+\.\d{3} "
            r"median_lead_minutes (-?\d+|n/a)",
            line,
        )


def test_the_surges_alert_inside_their_windows_at_normal_sensitivity(streams):
    lines = run(streams)
    normal = next(line for line in lines if line.startswith("curve normal "))
    assert normal.split()[3] == "1.000"
    whole = next(line for line in lines if line.startswith("false_alarms_per_stream_day"))
    assert normal.split()[5] == whole.split()[1]  # the curve's normal point is the report


def test_a_folder_without_labels_prints_only_alerts(streams):
    (streams / "surges.csv").unlink()
    lines = run(streams)
    assert lines
    assert all(line.startswith("alert ") for line in lines)


def test_an_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=re.escape("no <name>.csv streams")):
        run(tmp_path)


# --- the scoring itself, on alerts placed by hand ----------------------------------------------
FIRST = datetime(2025, 1, 1, tzinfo=UTC)
STREAM = Stream("S", FIRST, FIRST + timedelta(days=10))  # cut at day 6


def _surge(day: float) -> LabelledSurge:
    at = FIRST + timedelta(days=day)
    return LabelledSurge("S", at, at - timedelta(hours=12), at + timedelta(hours=12))


def test_a_surge_belongs_to_the_part_holding_its_labelled_time():
    surges = [_surge(4), _surge(8)]
    alerts = {"S": [FIRST + timedelta(days=8, hours=-1)]}  # only the held-out one is found
    tuned = score(alerts, {"S": STREAM}, surges, "tuned")
    held = score(alerts, {"S": STREAM}, surges, "held_out")
    assert (tuned.found, tuned.surges) == (0, 1)
    assert (held.found, held.surges) == (1, 1)
    assert held.leads == (60.0,)


def test_false_alarms_count_per_part_over_its_days_after_the_warm_up():
    alerts = {
        "S": [
            FIRST + timedelta(days=1),  # warm-up: not counted
            FIRST + timedelta(days=5),  # tuned
            FIRST + timedelta(days=7),  # held out
            FIRST + timedelta(days=9),  # held out
        ]
    }
    tuned = score(alerts, {"S": STREAM}, [], "tuned")
    held = score(alerts, {"S": STREAM}, [], "held_out")
    whole = score(alerts, {"S": STREAM}, [])
    assert (tuned.false_alarms, tuned.days) == (1, 6 - WARM_UP.days)
    assert (held.false_alarms, held.days) == (2, 4)
    assert (whole.false_alarms, whole.days) == (3, 10 - WARM_UP.days)
    assert whole.false_alarm_rate == pytest.approx(3 / 7)


def test_an_alert_at_the_cut_is_held_out_only():
    alerts = {"S": [STREAM.cut]}
    assert score(alerts, {"S": STREAM}, [], "tuned").false_alarms == 0
    assert score(alerts, {"S": STREAM}, [], "held_out").false_alarms == 1
