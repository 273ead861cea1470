"""Slow snowballs through the surge detector: live 1-minute buckets against the evaluation's 5.

Run with `DEBUG=true python tests/bench/ramp_snowballs.py`. Each case is 48 hours of Poisson
traffic at a baseline rate, then a linear ramp to a peak rate over some hours, held for three
more, counted on one topic by the detector alone (default protocol, in memory). Prints one
line per case and bucket length:

    ramp <base>-><peak>/h over <h>h bucket=<s>s early_alerts=<n> first_alert=<minutes into the
    ramp | none> factor=<x> crisis=<yes|no>

What it shows (README, "Crisis rule …"; the closing note of issue 13): with live 1-minute
buckets (windows of at most 8 minutes, a 30-minute baseline) a snowball that takes hours to
build never alerts, while the evaluation's 5-minute buckets catch it. Asserts nothing; not
collected by pytest.
"""

# ruff: noqa: S311 - simulated traffic, not security

import os
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisis.settings")

import django  # noqa: E402

django.setup()

from protocols.defaults import default_config  # noqa: E402
from protocols.spikes import DetectorSettings, MemorySpikeStore, SurgeDetector  # noqa: E402

# (baseline per hour, peak per hour, hours of ramp)
CASES = [(3, 30, 3), (3, 60, 3), (3, 120, 2), (10, 100, 3), (10, 300, 1), (30, 300, 2)]
START = datetime(2025, 3, 1, tzinfo=UTC)
BASELINE = timedelta(hours=48)
HELD = timedelta(hours=3)


def rate_at(at: datetime, base: float, peak: float, ramp_hours: float) -> float:
    ramp_start = START + BASELINE
    if at < ramp_start:
        return base
    progress = min((at - ramp_start).total_seconds() / 3600 / ramp_hours, 1.0)
    return base + (peak - base) * progress


def play(base: float, peak: float, ramp_hours: float, bucket_seconds: int, seed: int = 1):
    """(alerts before the ramp, the first alert in it as (minutes, factor, crisis) or None)."""
    rng = random.Random(seed)
    settings = DetectorSettings.from_protocol(default_config(), bucket_seconds=bucket_seconds)
    detector = SurgeDetector(settings, MemorySpikeStore())
    ramp_start = START + BASELINE
    end = ramp_start + timedelta(hours=ramp_hours) + HELD
    at, early, first = START, 0, None
    while at < end:
        at += timedelta(seconds=rng.expovariate(rate_at(at, base, peak, ramp_hours) / 3600))
        alert = detector.observe("__all__", at).alert
        if alert is None:
            continue
        if at < ramp_start:
            early += 1
        elif first is None:
            minutes = (at - ramp_start).total_seconds() / 60
            first = (minutes, alert.factor, alert.crisis_suggested)
    return early, first


def main() -> None:
    for base, peak, hours in CASES:
        for bucket_seconds in (60, 300):
            early, first = play(base, peak, hours, bucket_seconds)
            found = (
                f"first_alert={first[0]:.0f} factor={first[1]:.1f} "
                f"crisis={'yes' if first[2] else 'no'}"
                if first
                else "first_alert=none"
            )
            print(
                f"ramp {base}->{peak}/h over {hours}h bucket={bucket_seconds}s "
                f"early_alerts={early} {found}"
            )


if __name__ == "__main__":
    main()
