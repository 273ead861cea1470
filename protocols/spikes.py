"""Surge (spike) detection per topic: mention rate against a rolling baseline, shared by workers.

A *topic* is a keyword group key, a hashtag or ``"__all__"`` (overall volume). For each topic
the detector keeps, behind a `SpikeStore`, the count of the bucket in progress, the last few
closed buckets and an exponentially weighted baseline (mean and variance of the count per
bucket). Every observation re-tests the recent windows, *including the bucket in progress*, so a
surge is flagged within its first minutes instead of when its bucket closes:

- the windows end at the observation time and span the in-progress part of the current bucket
  plus 0, 1, 3, 7 … closed buckets (`DetectorSettings.windows`); the expected count of a window
  is the baseline times its length in buckets, so a fraction of a bucket expects a fraction;
- a window is a surge when its count is at least `min_count`, its factor (observed / expected)
  at least `spike_factor`, and its quasi-Poisson z-score (Anscombe's transform, divided by the
  observed over-dispersion of the topic) at least `z_threshold`: relative, absolute and
  statistical thresholds together, so a topic with 1 mention a minute and one with 500 behave;
- closed buckets join the baseline only once they leave the window ring, and clipped at the
  baseline plus a few deviations, so a surge does not become its own baseline within minutes;
- the baseline is floored by a seasonal level: an EWMA per hour of the week (learned online from
  the same clipped buckets, trusted once that hour has been seen for an hour), so the daily rise
  and the weekday/weekend cycle of real traffic are expected rather than flagged;
- after an alert the topic is *hot*; no new alert until it has been quiet for `cooldown`
  (one surge, one alert), except a single escalation when the factor later reaches the
  protocol's crisis factor ("crisis suggested").

Time always comes from the caller (`at`), never from the clock, so replays and tests drive it.
Live traffic goes through `observe_live(..., now=)`, which believes only the present: an
observation far ahead of `now` or too late for any window is ignored and counted, so no single
input (a feed item dated 2041) can move a topic's clock; and a gap of any length between two
observations costs bounded time and memory.
State lives in Redis in production (several worker processes share it, updates are atomic
through WATCH/MULTI) and in memory for replays and tests; the detector code is the same.

Public API::

    settings = DetectorSettings.from_protocol(protocol.config)
    detector = SurgeDetector(settings, RedisSpikeStore())      # or MemorySpikeStore()
    observation = detector.observe("__all__", at=mention.published_at)
    observation.factor          # feeds the scorer's velocity signal (1.0 = normal)
    observation.alert           # an Alert when a surge starts (alert.crisis_suggested)
    detector.factor("billing", at=now)                          # read only
    detector.observe_live("__all__", at=mention.published_at, now=now)  # live: present only
    detector.ignored()          # live observations ignored for being far from the present
    replay([(bucket_start, count), ...], settings)              # -> list[Alert]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from protocols.spike_stores import (  # noqa: F401 - re-exported: the detector's stores
    IGNORED_COUNTER,
    REDIS_PREFIX,
    MemorySpikeStore,
    RedisSpikeStore,
    SpikeStore,
    State,
    Update,
)

ALL_TOPICS = "__all__"


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    """Every knob of the detector; build it from the protocol with `from_protocol`."""

    bucket_seconds: int = 60
    # Memory of the baseline: a bucket's weight halves after this long.
    half_life_minutes: float = 30.0
    # Windows tested at each observation, in buckets (the in-progress bucket counts as one).
    windows: tuple[int, ...] = (1, 2, 4, 8)
    z_threshold: float = 4.0
    min_count: int = 5
    # Closed buckets before the topic may alert (its baseline needs some history).
    warm_up_buckets: int = 20
    # Quiet time after a surge before the topic may alert again.
    cooldown_minutes: float = 60.0
    # A window must be at least this many times its expected count (protocol: velocity).
    spike_factor: float = 3.0
    # An alert at or above this factor suggests a crisis (protocol: crisis_threshold).
    crisis_factor: float = 4.0
    # Burstiness (variance / mean) of the topic, remembered much longer than its level: real
    # traffic is over-dispersed and the z-score is divided by it.
    dispersion_half_life_minutes: float = 24 * 60.0
    # Baseline updates are clipped at the baseline plus this many standard deviations.
    clip_deviations: float = 3.0
    # Floor of the baseline, in mentions per bucket, so a silent topic is not infinitely touchy.
    min_baseline: float = 0.2
    # Seasonal floor: an EWMA level per hour of the week (0 turns it off), so the daily and
    # weekly cycles are expected; a slot is trusted once it has seen `season_min_hours` of
    # traffic, and each slot forgets with this half-life (in weeks of that slot).
    season_slots: int = 168
    season_half_life_weeks: float = 2.0
    season_min_hours: float = 1.0
    # Keys in the store expire after this long without an observation.
    ttl_seconds: int = 7 * 24 * 3600
    # Live, the detector believes only the present: an observation more than this far ahead of
    # the current time is ignored (a platform's clock a little fast is counted at the present),
    # and one further behind than the longest window plus `late_margin_buckets` is ignored too
    # (too late to count in any window), so no single input can move a topic's clock.
    max_ahead_seconds: int = 10 * 60
    late_margin_buckets: int = 2

    @classmethod
    def from_protocol(cls, config: Mapping[str, Any], **overrides: Any) -> DetectorSettings:
        """Settings driven by the protocol's `velocity` and `crisis_threshold` sections."""
        velocity = config.get("velocity") or {}
        crisis = config.get("crisis_threshold") or {}
        values: dict[str, Any] = {}
        if "spike_factor" in velocity:
            values["spike_factor"] = float(velocity["spike_factor"])
        if "spike_factor" in crisis:
            values["crisis_factor"] = float(crisis["spike_factor"])
        values.update(overrides)
        return cls(**values)

    @property
    def bucket(self) -> timedelta:
        return timedelta(seconds=self.bucket_seconds)

    @property
    def smoothing(self) -> float:
        """EWMA weight of one bucket, from the half-life."""
        buckets = max(self.half_life_minutes * 60 / self.bucket_seconds, 1.0)
        return 1.0 - 0.5 ** (1.0 / buckets)

    @property
    def dispersion_smoothing(self) -> float:
        buckets = max(self.dispersion_half_life_minutes * 60 / self.bucket_seconds, 1.0)
        return 1.0 - 0.5 ** (1.0 / buckets)

    @property
    def ring_size(self) -> int:
        return max(self.windows) - 1 if self.windows else 0

    @property
    def max_behind_seconds(self) -> int:
        longest = max(self.windows) if self.windows else 1
        return (longest + self.late_margin_buckets) * self.bucket_seconds

    @property
    def folded_on_a_gap(self) -> int:
        """Closed buckets a gap folds into the baseline at most: older ones weigh under 2^-29."""
        return int(20 / self.smoothing)


@dataclass(frozen=True, slots=True)
class Alert:
    """A surge on one topic: the window ending at `at` had `observed` against `expected`."""

    topic: str
    bucket_start: datetime  # start of the bucket in progress when the surge was flagged
    at: datetime
    factor: float
    observed: int
    expected: float
    crisis_suggested: bool = False
    escalation: bool = False  # the same surge, now past the crisis factor


@dataclass(frozen=True, slots=True)
class Observation:
    factor: float  # observed / expected rate of the topic now (1.0 = normal)
    alert: Alert | None = None


# --- the detector ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Window:
    observed: int
    expected: float
    factor: float
    z: float


class SurgeDetector:
    """Tests each topic's recent mention rate against its baseline; see the module docstring."""

    def __init__(self, settings: DetectorSettings, store: SpikeStore) -> None:
        self.settings = settings
        self.store = store

    def observe(self, topic: str, at: datetime, count: int = 1) -> Observation:
        """Count `count` mentions of `topic` at `at` and test for a surge."""
        stamp = _timestamp(at)

        def change(state: State | None) -> tuple[State, Observation]:
            state = self._advance(state, stamp)
            self._add(state, stamp, count)
            return state, self._test(topic, state, stamp, record=True)

        return self.store.update(topic, change, self.settings.ttl_seconds)

    def factor(self, topic: str, at: datetime) -> float:
        """The topic's factor at `at` without counting anything (1.0 when unknown)."""
        state = self.store.load(topic)
        if state is None:
            return 1.0
        stamp = _timestamp(at)
        state = self._advance(state, stamp)
        return self._test(topic, state, stamp, record=False).factor

    # -- live: only the present --
    def present(self, at: datetime, now: datetime) -> datetime | None:
        """Where a live observation at `at` counts when the time is `now`: `at` itself, `now`
        for a clock a little fast, or None when `at` is too far from `now` to believe."""
        ahead = (at - now).total_seconds()
        if ahead > self.settings.max_ahead_seconds or -ahead > self.settings.max_behind_seconds:
            return None
        return min(at, now)

    def observe_live(
        self, topic: str, at: datetime, *, now: datetime, count: int = 1
    ) -> Observation:
        """`observe` for live traffic: an observation far from `now` is not counted (it is
        added to the `IGNORED_COUNTER` instead) and the topic is read as it is at `now`."""
        placed = self.present(at, now)
        if placed is None:
            self.store.increment(IGNORED_COUNTER)
            return Observation(self.factor(topic, now))
        return self.observe(topic, placed, count)

    def factor_live(self, topic: str, at: datetime, *, now: datetime) -> float:
        """`factor` for live traffic: a time far from `now` reads the topic at `now`."""
        return self.factor(topic, self.present(at, now) or now)

    def ignored(self) -> int:
        """Live observations ignored so far because their time was far from the present."""
        return self.store.counter(IGNORED_COUNTER)

    # -- state --
    def _advance(self, state: State | None, stamp: float) -> State:
        """Close the buckets that ended before `stamp` (the store holds JSON-able values)."""
        index = int(stamp // self.settings.bucket_seconds)
        if state is None:
            return {
                "bucket": index,
                "count": 0,
                "ring": [],
                "level": None,
                "var": 0.0,
                "dispersion": 1.0,
                "n": 0,
            }
        gap = index - state["bucket"]
        if gap <= 0:
            return state
        # Only the newest buckets matter (the ring, and those a gap folds into the baseline),
        # so a gap of centuries costs no more time or memory than one of a day.
        keep = self.settings.folded_on_a_gap
        newest = keep + self.settings.ring_size
        closed = [state["count"]] + [0] * min(gap - 1, newest)  # newest last
        ring = (state["ring"] + closed)[-newest:]
        overflow = len(ring) - self.settings.ring_size
        if overflow > 0:
            # Long silences: the oldest buckets beyond a few half-lives no longer matter.
            leaving = ring[:overflow][-keep:]
            first = index - len(ring) + max(overflow - keep, 0)
            for offset, value in enumerate(leaving):
                self._fold(state, value, first + offset)
            ring = ring[overflow:]
        state.update(bucket=index, count=0, ring=ring)
        return state

    def _slot(self, bucket: int) -> int:
        hours = bucket * self.settings.bucket_seconds // 3600
        return int(hours % self.settings.season_slots)

    def _season_level(self, state: State, bucket: int) -> float:
        """The learned level of this hour of the week; 0.0 while it is still unknown."""
        settings = self.settings
        season = state.get("season")
        if settings.season_slots <= 0 or not season or len(season[0]) != settings.season_slots:
            return 0.0
        slot = self._slot(bucket)
        needed = settings.season_min_hours * 3600 / settings.bucket_seconds
        return season[0][slot] if season[1][slot] >= needed else 0.0

    def _fold_season(self, state: State, value: float, bucket: int) -> None:
        """Fold a (clipped) closed bucket into the level of its hour of the week."""
        settings = self.settings
        slots = settings.season_slots
        if slots <= 0:
            return
        season = state.get("season")
        if not season or len(season[0]) != slots:
            # [levels, buckets seen] per slot; plain lists keep the JSON state small.
            season = state["season"] = [[0.0] * slots, [0] * slots]
        slot = self._slot(bucket)
        season[1][slot] += 1
        # A slot sees only its own hour: its memory is counted in weeks of that hour.
        per_week = 7 * 24 * 3600 / settings.bucket_seconds / slots
        buckets = max(settings.season_half_life_weeks * per_week, 1.0)
        weight = max(1.0 - 0.5 ** (1.0 / buckets), 1.0 / season[1][slot])
        # Rounded: 168 slots travel in the JSON state at every observation.
        season[0][slot] = round(season[0][slot] + weight * (value - season[0][slot]), 4)

    def _fold(self, state: State, value: float, bucket: int | None = None) -> None:
        """Move one closed bucket into the baseline (clipped, so a surge stays an outlier)."""
        settings = self.settings
        level = state["level"]
        state["n"] += 1
        if level is None:
            state["level"], state["var"] = float(value), float(value)
            return
        spread = math.sqrt(max(state["var"], level, settings.min_baseline))
        # Unclipped (up to a cap) for the burstiness: heavy tails are what it must remember.
        ratio = min((value - level) ** 2 / max(level, settings.min_baseline), 100.0)
        # A prior of Poisson traffic worth a warm-up of buckets, so a young topic is not jumpy.
        memory = max(settings.dispersion_smoothing, 1.0 / (state["n"] + settings.warm_up_buckets))
        state["dispersion"] += memory * (ratio - state["dispersion"])
        value = min(value, level + settings.clip_deviations * spread)
        if bucket is not None:
            self._fold_season(state, value, bucket)
        # Plain average while young, then the exponential memory.
        weight = max(settings.smoothing, 1.0 / state["n"])
        deviation = value - level
        state["level"] = level + weight * deviation
        state["var"] = (1 - weight) * (state["var"] + weight * deviation * deviation)

    def _add(self, state: State, stamp: float, count: int) -> None:
        index = int(stamp // self.settings.bucket_seconds)
        behind = state["bucket"] - index
        if behind == 0:
            state["count"] += count
        elif 0 < behind <= len(state["ring"]):
            state["ring"][-behind] += count  # late arrival, still inside the windows
        # Older than every window: too late to matter for a surge, and already in the baseline.

    # -- test --
    def _windows(self, state: State, stamp: float) -> list[_Window]:
        settings = self.settings
        level = max(
            state["level"] or 0.0, self._season_level(state, state["bucket"]), settings.min_baseline
        )
        dispersion = max(state["var"] / level, state["dispersion"], 1.0)
        elapsed = stamp / settings.bucket_seconds - state["bucket"]
        elapsed = min(max(elapsed, 0.1), 1.0)  # a bucket's first seconds expect a tenth of it
        found = []
        for size in settings.windows:
            closed = state["ring"][len(state["ring"]) - (size - 1) :] if size > 1 else []
            observed = state["count"] + sum(closed)
            expected = level * (elapsed + len(closed))
            z = 2 * (math.sqrt(observed + 0.375) - math.sqrt(expected + 0.375))
            found.append(
                _Window(observed, expected, observed / expected, z / math.sqrt(dispersion))
            )
        return found

    def _test(self, topic: str, state: State, stamp: float, *, record: bool) -> Observation:
        settings = self.settings
        if state["level"] is None or state["n"] < settings.warm_up_buckets:
            # Too little history to call anything fast: no velocity, no alert.
            return Observation(1.0)
        windows = self._windows(state, stamp)
        surging = [
            window
            for window in windows
            if window.observed >= settings.min_count
            and window.factor >= settings.spike_factor
            and window.z >= settings.z_threshold
        ]
        if not surging:
            # The longest window: steady traffic reads close to 1.0.
            return Observation(windows[-1].factor)
        strongest = max(surging, key=lambda window: window.factor)
        crisis = strongest.factor >= settings.crisis_factor
        hot_until = state.get("hot_until")
        quiet = hot_until is None or stamp >= hot_until
        escalate = not quiet and crisis and not state.get("crisis")
        if not record:
            return Observation(strongest.factor)
        state["hot_until"] = stamp + settings.cooldown_minutes * 60
        if not (quiet or escalate):
            return Observation(strongest.factor)
        state["crisis"] = crisis
        bucket_start = datetime.fromtimestamp(state["bucket"] * settings.bucket_seconds, tz=UTC)
        alert = Alert(
            topic=topic,
            bucket_start=bucket_start,
            at=datetime.fromtimestamp(stamp, tz=UTC),
            factor=round(strongest.factor, 3),
            observed=strongest.observed,
            expected=round(strongest.expected, 3),
            crisis_suggested=crisis,
            escalation=escalate,
        )
        return Observation(strongest.factor, alert)


def _timestamp(at: datetime) -> float:
    if at.tzinfo is None:
        raise ValueError("the detector needs aware datetimes")
    return at.timestamp()


def replay(
    series: Iterable[tuple[datetime, int]],
    settings: DetectorSettings,
    topic: str = ALL_TOPICS,
) -> list[Alert]:
    """Replay closed buckets `(bucket_start, count)` in time order; alerts carry file times.

    Each bucket is observed at its end (its whole count at once), so a surge is flagged in the
    bucket where it shows; the buckets need not be aligned to the epoch.
    """
    detector: SurgeDetector | None = None
    offset = timedelta(0)
    alerts = []
    for bucket_start, count in series:
        if detector is None:
            # Align the series' buckets to the detector's epoch buckets, and back for alerts.
            offset = timedelta(seconds=_timestamp(bucket_start) % settings.bucket_seconds)
            detector = SurgeDetector(settings, MemorySpikeStore())
        at = bucket_start - offset + settings.bucket - timedelta(microseconds=1)
        observation = detector.observe(topic, at, count)
        if observation.alert is not None:
            alerts.append(replace(observation.alert, bucket_start=bucket_start, at=at + offset))
    return alerts
