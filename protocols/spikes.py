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
- real topics are heavy-tailed: every day has its bursts, and a big brand's are far more
  "significant" than a small one's. So each topic is also calibrated to itself: a surge must be
  `peak_multiple` times as surprising (z) as the topic's usual daily peak (the 0.75 quantile of
  the highest z of each of its last 14 days). That multiple is the protocol's
  `velocity.sensitivity` (low / normal / high, `SENSITIVITY_KNOBS`); it is a ratio of z-scores
  and a day is a day, so it means the same at any bucket length. Until a topic has two days of
  history, `z_threshold` alone decides;
- after an alert the topic is *hot*; no new alert until it has been quiet for `cooldown`
  (a day: one surge and its aftershocks, one alert), except a single escalation when the
  factor later reaches the protocol's crisis factor ("crisis suggested"), and a new surge
  `bigger_surge` times as surprising as the one that alerted, after that one had calmed down
  for an hour (a surge that keeps growing is still one surge);
- a collection gap is not a surge: a run of empty buckets where the topic's hour of the week
  (once learned, else its level) expected `gap_expected` mentions is treated as missing (the
  baseline does not decay on it), and a surge within `gap_resume_minutes` of the traffic
  resuming is marked `after_gap` and never suggests a crisis. A quiet night that the
  hour-of-week profile expects is not a gap.

On the five labelled real streams (`make eval-spikes`, README "Surge detection") the normal
level finds 14 of 15 surges at 0.13 false alarms per stream-day (0.19 on the held-out 40 %).

Time always comes from the caller (`at`), never from the clock, so replays and tests drive it.
Live traffic goes through `observe_live(..., now=)`, which believes only the present: an
observation far ahead of `now` or too late for any window is ignored and counted, so no single
input (a feed item dated 2041) can move a topic's clock; and a gap of any length between two
observations costs bounded time and memory.
State lives in Redis in production (several worker processes share it; see
`protocols.spike_stores`) and in memory for replays and tests; the detector code is the same,
and its state a small JSON object (bounded: the ring, a few gap-folded buckets, 168 hourly
levels, 14 daily peaks).

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
    observation.alert.after_gap # the traffic was resuming after a collection gap
"""

from __future__ import annotations

import copy
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

# The protocol's `velocity.sensitivity`, like the listening suites' three levels. One knob
# moves: how much more surprising than the topic's usual daily peak a surge must be
# (`peak_multiple`); `z_threshold` is the floor for young topics. `eval_spikes` prints the
# resulting recall / false-alarm curve.
SENSITIVITIES = ("low", "normal", "high")
DEFAULT_SENSITIVITY = "normal"
SENSITIVITY_KNOBS: dict[str, dict[str, float]] = {
    "low": {"peak_multiple": 1.4, "z_threshold": 5.0},
    "normal": {"peak_multiple": 1.15, "z_threshold": 4.0},
    "high": {"peak_multiple": 0.9, "z_threshold": 4.0},
}


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
    # Quiet time after a surge before the topic may alert again: one surge (and its
    # aftershocks) is one alert, unless it reaches the crisis factor or gets much bigger.
    cooldown_minutes: float = 24 * 60.0
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
    # Self-calibration to the topic's own heavy tails (the sensitivity knob): a surge must
    # also be `peak_multiple` times as surprising (z) as the topic's usual daily peak, the
    # `peak_quantile` of the highest z of each of its last `peak_days` days (0 turns it off;
    # with fewer than `peak_min_days` days seen, `z_threshold` alone decides).
    peak_multiple: float = 1.15
    peak_quantile: float = 0.75
    peak_days: int = 14
    peak_min_days: int = 2
    # Within the cooldown, a surge this many times as surprising as the one that alerted is
    # a new alert (0 turns it off), so a small alert never hides a big surge.
    bigger_surge: float = 2.0
    # A collection gap: a run of empty buckets where the topic's level (or its hour of the
    # week, once learned) expected at least this many mentions. Its buckets are treated as
    # missing (the baseline does not decay on them) and a surge within `gap_resume_minutes`
    # of the traffic resuming is marked `after_gap` (never a crisis suggestion). A quiet night
    # that the hour-of-week profile expects is not a gap.
    gap_expected: float = 30.0
    gap_resume_minutes: float = 60.0

    @classmethod
    def from_protocol(cls, config: Mapping[str, Any], **overrides: Any) -> DetectorSettings:
        """Settings driven by the protocol's `velocity` (spike factor, sensitivity) and
        `crisis_threshold` sections; a stored version without a sensitivity reads "normal"."""
        velocity = config.get("velocity") or {}
        crisis = config.get("crisis_threshold") or {}
        sensitivity = velocity.get("sensitivity") or DEFAULT_SENSITIVITY
        values: dict[str, Any] = dict(SENSITIVITY_KNOBS.get(sensitivity, {}))
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
    # Traffic resuming after a collection gap (an unexpected silence): never a crisis.
    after_gap: bool = False


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
            state = self._advance(state or self._born_watched(topic, stamp), stamp)
            if count > 0 and state["bucket"] * self.settings.bucket_seconds <= stamp:
                if state.get("silent", 0.0) >= self.settings.gap_expected:
                    state["resumed"] = stamp  # traffic is back after a collection gap
                state["silent"] = 0.0
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
    def _born_watched(self, topic: str, stamp: float) -> State | None:
        """The first state of a topic never seen before, when the watch has been counting long
        enough (the overall volume is past its warm-up): nobody mentioned the topic while it
        was watched, so its baseline is known, the floor, and it starts warmed up with a
        silent ring instead of spending its first minutes, often the surge's own, learning a
        baseline. A hashtag born with a crisis ("#cobroduplicado") alerts within its first
        dozen mentions; one seen at the first light of a new watch (no overall history yet)
        still warms up. None: start from nothing."""
        settings = self.settings
        if topic == ALL_TOPICS:
            return None
        watch = self.store.load(ALL_TOPICS)
        if watch is None or (watch.get("n") or 0) < settings.warm_up_buckets:
            return None
        return {
            "bucket": int(stamp // settings.bucket_seconds),
            "count": 0,
            "ring": [0] * settings.ring_size,
            "level": 0.0,
            "var": 0.0,
            "dispersion": 1.0,
            "n": settings.warm_up_buckets,
        }

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
        closed = self._mark_silence(state, index, gap, newest)  # newest last
        ring = (state["ring"] + closed)[-newest:]
        overflow = len(ring) - self.settings.ring_size
        if overflow > 0:
            # Long silences: the oldest buckets beyond a few half-lives no longer matter.
            leaving = ring[:overflow][-keep:]
            first = index - len(ring) + max(overflow - keep, 0)
            for offset, value in enumerate(leaving):
                if value is not None:  # a bucket of a collection gap is missing, not zero
                    self._fold(state, value, first + offset)
            ring = ring[overflow:]
        state.update(bucket=index, count=0, ring=ring)
        return state

    def _mark_silence(self, state: State, index: int, gap: int, newest: int) -> list[int | None]:
        """The buckets closing now (the one that was in progress, then `gap - 1` empty ones),
        with the empty buckets of a collection gap as None: once a run of empty buckets has
        expected `gap_expected` mentions, the silence is a gap, not a quiet topic."""
        settings = self.settings
        closed: list[int | None] = [state["count"]]
        silent = 0.0 if state["count"] else state.get("silent", 0.0)
        empty = gap - 1
        shown = min(empty, newest)
        if empty > shown:  # the empty buckets too old to keep still count as silence
            silent += (empty - shown) * self._rate(state, index - shown - 1)
        for bucket in range(index - shown, index):
            silent += self._rate(state, bucket)
            closed.append(None if silent >= settings.gap_expected else 0)
        if closed[0] == 0 and silent >= settings.gap_expected:
            closed[0] = None
        state["silent"] = round(silent, 3)
        return closed

    def _rate(self, state: State, bucket: int) -> float:
        """Mentions a bucket is expected to hold: its hour of the week once learned (so a
        quiet night is expected), else the topic's level."""
        season = self._season_level(state, bucket, known=True)
        return season if season is not None else (state["level"] or 0.0)

    def _slot(self, bucket: int) -> int:
        hours = bucket * self.settings.bucket_seconds // 3600
        return int(hours % self.settings.season_slots)

    def _season_level(self, state: State, bucket: int, *, known: bool = False) -> Any:
        """The learned level of this hour of the week; 0.0 (None if `known`) while unknown."""
        settings = self.settings
        unknown = None if known else 0.0
        season = state.get("season")
        if settings.season_slots <= 0 or not season or len(season[0]) != settings.season_slots:
            return unknown
        slot = self._slot(bucket)
        needed = settings.season_min_hours * 3600 / settings.bucket_seconds
        return season[0][slot] if season[1][slot] >= needed else unknown

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
            # A late arrival, still inside the windows (into a gap's bucket: it was not empty).
            state["ring"][-behind] = (state["ring"][-behind] or 0) + count
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
            observed = state["count"] + sum(value or 0 for value in closed)
            expected = level * (elapsed + len(closed))
            z = 2 * (math.sqrt(observed + 0.375) - math.sqrt(expected + 0.375))
            found.append(
                _Window(observed, expected, observed / expected, z / math.sqrt(dispersion))
            )
        return found

    def _z_needed(self, state: State, stamp: float, peak: float, *, record: bool) -> float:
        """The z a surge needs now: `z_threshold`, or more for a topic whose every day has its
        bursts (`peak_multiple` times its typical daily peak); records today's peak."""
        settings = self.settings
        if settings.peak_multiple <= 0:
            return settings.z_threshold
        day = int(stamp // 86400)
        # [day, today's highest z, the last `peak_days` days' highest z (oldest first)]
        peaks = state.get("peaks") or [day, 0.0, []]
        history = peaks[2]
        if record and day > peaks[0]:
            history = [*history, peaks[1]][-settings.peak_days :]
            peaks = [day, 0.0, history]
        needed = settings.z_threshold
        if history and len(history) >= settings.peak_min_days:
            usual = _quantile(history, settings.peak_quantile)
            needed = max(needed, settings.peak_multiple * usual)
        if record and day >= peaks[0]:
            state["peaks"] = [peaks[0], round(max(peaks[1], peak), 3), history]
        return needed

    def _test(self, topic: str, state: State, stamp: float, *, record: bool) -> Observation:
        settings = self.settings
        if state["level"] is None or state["n"] < settings.warm_up_buckets:
            # Too little history to call anything fast: no velocity, no alert.
            return Observation(1.0)
        windows = self._windows(state, stamp)
        z_needed = self._z_needed(state, stamp, max(w.z for w in windows), record=record)
        surging = [
            window
            for window in windows
            if window.observed >= settings.min_count
            and window.factor >= settings.spike_factor
            and window.z >= z_needed
        ]
        if not surging:
            if record and state.get("hot_until") and state.get("calm_from") is None:
                state["calm_from"] = stamp  # the surge that alerted has passed
            # The longest window: steady traffic reads close to 1.0.
            return Observation(windows[-1].factor)
        strongest = max(surging, key=lambda window: window.factor)
        resumed = state.get("resumed")
        after_gap = resumed is not None and stamp - resumed <= settings.gap_resume_minutes * 60
        # Traffic resuming after a collection gap is never a crisis (nor one that escalates).
        crisis = strongest.factor >= settings.crisis_factor and not after_gap
        hot_until = state.get("hot_until")
        quiet = hot_until is None or stamp >= hot_until
        escalate = not quiet and crisis and not state.get("crisis")
        surprise = max(window.z for window in surging)
        # A new surge, much bigger than the one that alerted, after that one had calmed down
        # for an hour, is news even within the cooldown (a surge that keeps growing is not).
        calm_from = state.get("calm_from")
        bigger = (
            not quiet
            and settings.bigger_surge > 0
            and calm_from is not None
            and stamp - calm_from >= 3600
            and surprise >= settings.bigger_surge * state.get("alert_z", math.inf)
        )
        if not record:
            return Observation(strongest.factor)
        state["hot_until"] = stamp + settings.cooldown_minutes * 60
        if not (quiet or escalate or bigger):
            return Observation(strongest.factor)
        state["crisis"] = crisis
        if quiet or bigger:
            state["alert_z"] = round(surprise, 3)
            state["calm_from"] = None
        bucket_start = datetime.fromtimestamp(state["bucket"] * settings.bucket_seconds, tz=UTC)
        alert = Alert(
            topic=topic,
            bucket_start=bucket_start,
            at=datetime.fromtimestamp(stamp, tz=UTC),
            factor=round(strongest.factor, 3),
            observed=strongest.observed,
            expected=round(strongest.expected, 3),
            crisis_suggested=crisis,
            escalation=escalate and not bigger,
            after_gap=after_gap,
        )
        return Observation(strongest.factor, alert)


def _quantile(values: list[float], q: float) -> float:
    """The `q` quantile of `values` (linear between the two nearest ranks)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def _timestamp(at: datetime) -> float:
    if at.tzinfo is None:
        raise ValueError("the detector needs aware datetimes")
    return at.timestamp()


class _ReplayStore:
    """One replay's state, in this process and as it is: `MemorySpikeStore` without the JSON
    round trip of every update (the state is the same JSON-able dict; the stores' tests check
    that Redis and memory agree), so replaying weeks of buckets takes seconds."""

    def __init__(self) -> None:
        self._states: dict[str, State] = {}

    def update(self, topic: str, change: Update, ttl_seconds: int) -> Any:
        state, result = change(self._states.get(topic))
        self._states[topic] = state
        return result

    def load(self, topic: str) -> State | None:
        state = self._states.get(topic)
        return None if state is None else copy.deepcopy(state)

    def increment(self, counter: str) -> int:
        return 0

    def counter(self, counter: str) -> int:
        return 0


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
    store = _ReplayStore()
    offset = timedelta(0)
    alerts = []
    for bucket_start, count in series:
        if detector is None:
            # Align the series' buckets to the detector's epoch buckets, and back for alerts.
            offset = timedelta(seconds=_timestamp(bucket_start) % settings.bucket_seconds)
            detector = SurgeDetector(settings, store)
        at = bucket_start - offset + settings.bucket - timedelta(microseconds=1)
        observation = detector.observe(topic, at, count)
        if observation.alert is not None:
            alerts.append(replace(observation.alert, bucket_start=bucket_start, at=at + offset))
    return alerts
