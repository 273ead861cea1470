"""The one crisis rule: when a topic's mentions make a crisis to suggest, and when a surge is not.

"N serious (high or critical) mentions from distinct authors on one topic within T minutes, or
a serious surge at the crisis factor" (the protocol's `crisis_threshold`: N = `incidents`,
T = `window_minutes`, the factor = `spike_factor`). Live scoring, rescoring, backtests and
replays all call the two entry points here; what differs is only how they count:

- `SqlCounts(origin)`: SQL aggregates over the stored topics (MentionTopic, indexed on
  (topic, published_at)) joined to their scores, bounded by the window; nothing is loaded
  into Python but the counts;
- `MemoryCounts`: the same counts kept in memory for backtests and tests, bounded by the
  windows (recent mentions one by one, the usual share as per-minute totals).

Everything is evaluated at the mention's time (`at`), never at the wall clock, so a replay, a
backtest and live scoring of the same mentions decide the same thing at the same mention.

A surge (the detector's alert with `crisis_suggested`, i.e. at the crisis factor) is
*serious* when, in the surge window (the `surge_window` before the alert, about the
detector's longest test window):
- its negative-or-complaint share is well above the topic's usual share over the day
  before: the odds of a negative mention (share / (1 - share)) at least `ODDS_RATIO` (3)
  times the usual odds, and the share never below `SHARE_FLOOR` (35 %), with at least
  `MIN_NEGATIVE` such mentions. Odds rather than "twice the share", which cannot work for a
  topic that is usually half negative: usually 5 % negative needs 35 % (the floor), 15 %
  needs 35 %, 25 % needs 50 %, 42 % (the simulator's brand traffic) needs 69 %, 60 % needs
  82 %. Or
- at least `surge_serious_authors` distinct authors wrote serious mentions in it (half the
  protocol's N, at least 2: a surge plus half the serious evidence is a crisis).
A burst of praise, a promotion or a hashtag campaign is therefore a spike (recorded,
shown, `held_back="not_serious"`), never a suggestion. A serious surge is still held back
when the topic is muted at that time (`held_back="muted"`) or when the traffic resumes
after a collection gap (`held_back="gap"`: a source recovering from failing, or the
detector's own `after_gap`).
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.db.models import Count, Q

from protocols.evaluation import NEGATIVE_BELOW
from protocols.models import CrisisSuggestion, HeldBack, MentionTopic
from protocols.scoring.types import Severity

SERIOUS = (Severity.HIGH, Severity.CRITICAL)
# What "negative or complaint" means in SQL (is_negative_or_complaint in Python).
NEGATIVE_Q = Q(mention__score__is_complaint=True) | Q(mention__score__sentiment__lte=NEGATIVE_BELOW)

# A surge is serious when the odds of its negative-or-complaint mentions are at least
# ODDS_RATIO times the topic's usual odds and their share at least SHARE_FLOOR, with at least
# MIN_NEGATIVE of them (see the module docstring).
ODDS_RATIO = 3.0
SHARE_FLOOR = 0.35
MIN_NEGATIVE = 3
# The topic's usual share: the day before the surge window, shrunk towards PRIOR_SHARE with
# the weight of PRIOR_MENTIONS mentions (a topic with little history reads close to the prior).
USUAL_WINDOW = timedelta(hours=24)
PRIOR_SHARE = 0.15
PRIOR_MENTIONS = 20
# The surge window: the detector's longest test window (8 one-minute buckets) and a margin.
SURGE_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """The protocol's crisis threshold, as the rule reads it."""

    serious_needed: int  # N (crisis_threshold.incidents)
    window: timedelta  # T (crisis_threshold.window_minutes)
    crisis_factor: float  # crisis_threshold.spike_factor
    surge_window: timedelta = SURGE_WINDOW

    @classmethod
    def from_protocol(cls, config: Mapping[str, Any]) -> RuleSettings:
        threshold = config.get("crisis_threshold") or {}
        return cls(
            serious_needed=max(int(threshold.get("incidents", 5)), 1),
            window=timedelta(minutes=max(int(threshold.get("window_minutes", 30)), 1)),
            crisis_factor=float(threshold.get("spike_factor", 4.0)),
        )

    @property
    def surge_serious_authors(self) -> int:
        """Distinct serious authors that make a surge serious by themselves."""
        return max(2, math.ceil(self.serious_needed / 2))


@dataclass(frozen=True, slots=True)
class Decision:
    """A crisis to suggest (CrisisSuggestion fields)."""

    topic: str
    reason: str  # CrisisSuggestion.Reason value
    at: datetime  # the mention's time
    detail: str
    observed: float | None = None
    factor: float | None = None
    expected: float | None = None


@dataclass(frozen=True, slots=True)
class TopicShares:
    """A topic's scored mentions in a window."""

    mentions: int = 0
    negative_or_complaint: int = 0
    serious: int = 0
    serious_authors: int = 0  # distinct authors of the serious ones

    @property
    def share(self) -> float:
        return self.negative_or_complaint / self.mentions if self.mentions else 0.0


def usual_share_of(mentions: int, negative: int) -> float:
    """The usual share, shrunk towards the prior (see PRIOR_MENTIONS)."""
    return (negative + PRIOR_SHARE * PRIOR_MENTIONS) / (mentions + PRIOR_MENTIONS)


def usual_window(before: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the usual share, on whole minutes (memory and SQL count alike)."""
    end = before.replace(second=0, microsecond=0)
    return end - USUAL_WINDOW, end


def is_negative_or_complaint(sentiment: float, is_complaint: bool) -> bool:
    return is_complaint or sentiment <= NEGATIVE_BELOW


class SeriousCounts(Protocol):
    """The counting interface of the rule (windows are [since, until], mention times)."""

    def distinct_serious_authors(self, topic: str, since: datetime, until: datetime) -> int: ...

    def shares(self, topic: str, since: datetime, until: datetime) -> TopicShares: ...

    def usual_share(self, topic: str, before: datetime) -> float: ...


# --- the rule ---------------------------------------------------------------------------------
def on_serious_mention(
    settings: RuleSettings,
    counts: SeriousCounts,
    *,
    topic: str,
    at: datetime,
    muted: bool = False,
) -> Decision | None:
    """A serious mention on `topic` at `at` (already counted): a crisis when N distinct
    authors wrote serious mentions on the topic in the T minutes up to `at`."""
    if muted:
        return None
    authors = counts.distinct_serious_authors(topic, at - settings.window, at)
    if authors < settings.serious_needed:
        return None
    minutes = int(settings.window.total_seconds() // 60)
    return Decision(
        topic=topic,
        reason=CrisisSuggestion.Reason.INCIDENTS,
        at=at,
        observed=authors,
        detail=f"{authors} authors of high or critical mentions in {minutes} min",
    )


def surge_is_serious(settings: RuleSettings, counts: SeriousCounts, alert: Any) -> bool:
    """Whether the surge's own mentions are serious (see the module docstring)."""
    since = alert.at - settings.surge_window
    shares = counts.shares(alert.topic, since, alert.at)
    if shares.serious_authors >= settings.surge_serious_authors:
        return True
    if shares.negative_or_complaint < MIN_NEGATIVE:
        return False
    return shares.share >= serious_share(counts.usual_share(alert.topic, since))


def serious_share(usual: float) -> float:
    """The negative-or-complaint share a surge needs, given the topic's usual share."""
    usual = min(max(usual, 0.0), 0.99)
    odds = ODDS_RATIO * usual / (1.0 - usual)
    return max(SHARE_FLOOR, odds / (1.0 + odds))


def on_surge(
    settings: RuleSettings,
    counts: SeriousCounts,
    alert: Any,
    *,
    muted: bool,
    after_gap: bool,
) -> tuple[Decision | None, bool, str]:
    """The detector's alert, read by the rule: (the crisis to suggest or None, whether the
    surge is serious, why a surge at the crisis factor suggested nothing ("" otherwise))."""
    serious = surge_is_serious(settings, counts, alert)
    if not alert.crisis_suggested:
        return None, serious, ""
    if after_gap or getattr(alert, "after_gap", False):
        return None, serious, HeldBack.COLLECTION_GAP
    if not serious:
        return None, serious, HeldBack.NOT_SERIOUS
    if muted:
        return None, serious, HeldBack.MUTED
    decision = Decision(
        topic=alert.topic,
        reason=CrisisSuggestion.Reason.SPIKE,
        at=alert.at,
        factor=round(alert.factor, 2),
        observed=alert.observed,
        expected=round(alert.expected, 2),
        detail=f"×{alert.factor:.1f} the usual rate since {alert.bucket_start:%H:%M} UTC",
    )
    return decision, serious, ""


# --- counting: in memory ----------------------------------------------------------------------
@dataclass(slots=True)
class _Recent:
    at: datetime
    author_id: int
    serious: bool
    negative: bool


class MemoryCounts:
    """The counts in memory, for backtests and tests. Mentions are added in time order; each
    topic keeps its mentions of the longest window one by one and its usual share as
    per-minute totals of the usual window, so memory is bounded by the windows."""

    def __init__(self, settings: RuleSettings) -> None:
        self.keep = max(settings.window, settings.surge_window)
        self.recent: dict[str, deque[_Recent]] = defaultdict(deque)
        # Per topic: (minute, mentions, negative) of the usual window, oldest first.
        self.minutes: dict[str, deque[list]] = defaultdict(deque)

    def add(
        self, topic: str, at: datetime, author_id: int, serious: bool, negative_or_complaint: bool
    ) -> None:
        recent = self.recent[topic]
        recent.append(_Recent(at, author_id, serious, negative_or_complaint))
        while recent and recent[0].at < at - self.keep:
            recent.popleft()
        minute = at.replace(second=0, microsecond=0)
        totals = self.minutes[topic]
        if totals and totals[-1][0] == minute:
            totals[-1][1] += 1
            totals[-1][2] += negative_or_complaint
        else:
            totals.append([minute, 1, int(negative_or_complaint)])
        while totals and totals[0][0] < minute - USUAL_WINDOW:
            totals.popleft()

    def _in(self, topic: str, since: datetime, until: datetime) -> list[_Recent]:
        return [item for item in self.recent.get(topic, ()) if since <= item.at <= until]

    def distinct_serious_authors(self, topic: str, since: datetime, until: datetime) -> int:
        return len({item.author_id for item in self._in(topic, since, until) if item.serious})

    def shares(self, topic: str, since: datetime, until: datetime) -> TopicShares:
        items = self._in(topic, since, until)
        serious = [item for item in items if item.serious]
        return TopicShares(
            mentions=len(items),
            negative_or_complaint=sum(item.negative for item in items),
            serious=len(serious),
            serious_authors=len({item.author_id for item in serious}),
        )

    def usual_share(self, topic: str, before: datetime) -> float:
        start, end = usual_window(before)
        mentions = negative = 0
        for minute, count, negatives in self.minutes.get(topic, ()):
            if start <= minute < end:
                mentions += count
                negative += negatives
        return usual_share_of(mentions, negative)


# --- counting: SQL on the stored topics --------------------------------------------------------
class SqlCounts:
    """The counts as SQL aggregates over MentionTopic (index on topic, published_at) joined
    to each mention's score, for one origin ("live" or a run's)."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def _rows(self, topic: str, since: datetime, until: datetime, *, before: bool = False):
        upper = {"published_at__lt": until} if before else {"published_at__lte": until}
        return MentionTopic.objects.filter(
            topic=topic, origin=self.origin, published_at__gte=since, **upper
        )

    def distinct_serious_authors(self, topic: str, since: datetime, until: datetime) -> int:
        return (
            self._rows(topic, since, until)
            .filter(mention__score__severity__in=SERIOUS)
            .aggregate(authors=Count("mention__author_id", distinct=True))["authors"]
        )

    def shares(self, topic: str, since: datetime, until: datetime) -> TopicShares:
        serious = Q(mention__score__severity__in=SERIOUS)
        row = self._rows(topic, since, until).aggregate(
            mentions=Count("pk", filter=Q(mention__score__isnull=False)),
            negative=Count("pk", filter=NEGATIVE_Q),
            serious=Count("pk", filter=serious),
            serious_authors=Count("mention__author_id", filter=serious, distinct=True),
        )
        return TopicShares(
            mentions=row["mentions"],
            negative_or_complaint=row["negative"],
            serious=row["serious"],
            serious_authors=row["serious_authors"],
        )

    def usual_share(self, topic: str, before: datetime) -> float:
        start, end = usual_window(before)
        row = self._rows(topic, start, end, before=True).aggregate(
            mentions=Count("pk", filter=Q(mention__score__isnull=False)),
            negative=Count("pk", filter=NEGATIVE_Q),
        )
        return usual_share_of(row["mentions"], row["negative"])
