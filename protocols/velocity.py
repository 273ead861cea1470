"""Velocity for scoring: topic rates from the spike detector, each mention counted exactly once.

Live, the detector's state is in Redis (shared by every worker process); in the embedded
default without Redis it is kept in this process (the demo runs one worker). Backtests
replay with an in-memory store of their own.

Exactly once. Scoring reads the velocity (`current`, no counting), commits the scores, and
only then counts the mentions (`count_once`, after the commit), so a score never exists
for a count that was rolled back. Scoring tasks are at-least-once (acks_late, retries,
redelivery after a SIGKILL), so the count must be idempotent per mention, and the claim
("this mention was counted on this topic") must not be able to diverge from the count. A
claim in Postgres (a `spike_counted_at` set by a conditional UPDATE) cannot give that: the
claim and the Redis count are two stores, so a crash between them either loses the count
(claim first) or doubles it (count first). Here the claim is a per-mention marker in Redis
(a set of the topics already counted, `calma:spikes:counted:<mention id>`) written in the
same WATCH/MULTI transaction as the topic's state: either both land or neither does, and a
second delivery (even concurrent: the WATCH fails and it re-reads) finds the marker and
counts nothing. Each topic is its own transaction, so a worker killed between two topics
leaves the rest to the redelivery, which counts only the topics not yet marked.

Failure window: the marker lives COUNTED_MARKER_TTL_SECONDS (a day by default), far longer
than any redelivery (visibility timeout, retries, sweeper); a delivery after that could only
add to a bucket its topic has not moved past (the detector drops counts older than its
windows), i.e. a topic silent since. Redis losing data loses the count and the marker
together, never one without the other. A mention scored but never counted (its task lost
between the commit and the count, and never redelivered) stays uncounted: counts are
observations of the present, and replaying them later would be wrong anyway.
"""

import json
import threading
from collections import OrderedDict
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings

from protocols.models import ProtocolVersion
from protocols.scoring.types import ScoringContext
from protocols.spikes import (
    REDIS_PREFIX,
    Alert,
    DetectorSettings,
    MemorySpikeStore,
    RedisSpikeStore,
    State,
    SurgeDetector,
    Update,
)

# Topics are words (hashtags, group keys): a ":" keeps the markers apart from them.
COUNTED_PREFIX = f"{REDIS_PREFIX}counted:"
# The embedded default (one process) remembers this many (mention, topic) claims.
EMBEDDED_CLAIMS = 200_000


def marker_ttl_seconds() -> int:
    return int(settings.PROTOCOLS["COUNTED_MARKER_TTL_SECONDS"])


class CountOnceRedisStore:
    """The Redis store seen by one mention: each topic (and counter) is updated at most once,
    the marker written in the same MULTI as the state (see the module docstring)."""

    def __init__(self, base: RedisSpikeStore, mention_id: int, marker_ttl: int) -> None:
        self.base = base
        self.marker = f"{COUNTED_PREFIX}{mention_id}"
        self.marker_ttl = marker_ttl

    def update(self, topic: str, change: Update, ttl_seconds: int) -> Any:
        """`change` applied once per (mention, topic); None when it was applied before."""
        import redis

        key = self.base.key(topic)
        with self.base.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key, self.marker)
                    if pipe.sismember(self.marker, topic):
                        pipe.unwatch()
                        return None
                    raw = pipe.get(key)
                    state, result = change(None if raw is None else json.loads(raw))
                    pipe.multi()
                    pipe.set(key, json.dumps(state), ex=ttl_seconds)
                    pipe.sadd(self.marker, topic)
                    pipe.expire(self.marker, self.marker_ttl)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another worker wrote first: re-read the marker and the state

    def load(self, topic: str) -> State | None:
        return self.base.load(topic)

    def increment(self, counter: str) -> int:
        """The ignored-far-from-present counter, also once per mention."""
        import redis

        key, member = self.base.counter_key(counter), f"counter:{counter}"
        with self.base.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key, self.marker)
                    if pipe.sismember(self.marker, member):
                        pipe.unwatch()
                        return self.base.counter(counter)
                    pipe.multi()
                    pipe.incr(key)
                    pipe.sadd(self.marker, member)
                    pipe.expire(self.marker, self.marker_ttl)
                    return int(pipe.execute()[0])
                except redis.WatchError:
                    continue

    def counter(self, counter: str) -> int:
        return self.base.counter(counter)


class CountOnceMemoryStore:
    """The embedded default's equivalent: claims kept in this process (it runs one worker)."""

    _claims: "OrderedDict[tuple[int, str], None]" = OrderedDict()
    _lock = threading.Lock()

    def __init__(self, base: MemorySpikeStore, mention_id: int) -> None:
        self.base = base
        self.mention_id = mention_id

    def _claim(self, name: str) -> bool:
        with self._lock:
            claim = (self.mention_id, name)
            if claim in self._claims:
                return False
            self._claims[claim] = None
            while len(self._claims) > EMBEDDED_CLAIMS:
                self._claims.popitem(last=False)
            return True

    def update(self, topic: str, change: Update, ttl_seconds: int) -> Any:
        return self.base.update(topic, change, ttl_seconds) if self._claim(topic) else None

    def load(self, topic: str) -> State | None:
        return self.base.load(topic)

    def increment(self, counter: str) -> int:
        if self._claim(f"counter:{counter}"):
            return self.base.increment(counter)
        return self.base.counter(counter)

    def counter(self, counter: str) -> int:
        return self.base.counter(counter)


@lru_cache(maxsize=1)
def _embedded_store() -> MemorySpikeStore:
    return MemorySpikeStore()


def _live_store() -> RedisSpikeStore | MemorySpikeStore:
    return RedisSpikeStore() if settings.REDIS_URL else _embedded_store()


def live_detector(version: ProtocolVersion) -> SurgeDetector:
    """The detector live scoring shares: Redis when configured, else this process's store."""
    return SurgeDetector(DetectorSettings.from_protocol(version.config), _live_store())


def count_once(
    version: ProtocolVersion, mention_id: int, topics: list[str], at: datetime, *, now: datetime
) -> list[Alert]:
    """Count one mention on each of its topics, at most once per topic whatever the number of
    deliveries; returns every alert this count raised (a surge, and `crisis_suggested` when it
    reached the crisis factor). A mention dated far from `now` is not counted (the detector
    believes only the present)."""
    base = _live_store()
    if isinstance(base, RedisSpikeStore):
        store: Any = CountOnceRedisStore(base, mention_id, marker_ttl_seconds())
    else:
        store = CountOnceMemoryStore(base, mention_id)
    detector = SurgeDetector(DetectorSettings.from_protocol(version.config), store)
    alerts = []
    for topic in topics:
        observation = detector.observe_live(topic, at, now=now)
        # None: this mention was already counted on this topic by an earlier delivery.
        alert = observation.alert if observation is not None else None
        if alert is not None:
            alerts.append(alert)
    return alerts


def counted_topics(mention_id: int) -> set[str]:
    """The topics the live detector has counted this mention on (Redis only; tests, support)."""
    base = _live_store()
    if not isinstance(base, RedisSpikeStore):
        return {topic for claimed, topic in CountOnceMemoryStore._claims if claimed == mention_id}
    members = base.client.smembers(f"{COUNTED_PREFIX}{mention_id}")
    return {member.decode() for member in members if not member.startswith(b"counter:")}


def current(
    version: ProtocolVersion, topics: list[str], at: datetime, *, now: datetime
) -> ScoringContext:
    """The same reading without counting (rescoring must not count a mention twice)."""
    detector = live_detector(version)
    factor, fastest = 1.0, ""
    for topic in topics:
        topic_factor = detector.factor_live(topic, at, now=now)
        if topic_factor > factor:
            factor, fastest = topic_factor, topic
    return ScoringContext(velocity_factor=factor, velocity_topic=fastest)


class Replay:
    """A version's velocity over a replayed history (backtests), in memory."""

    def __init__(self, version: ProtocolVersion):
        self.detector = SurgeDetector(
            DetectorSettings.from_protocol(version.config), MemorySpikeStore()
        )
        self._crisis_topics: list[str] = []

    def current(self, topics: list[str], at: datetime) -> ScoringContext:
        """The velocity a mention is scored with, read before it is counted (as live)."""
        factor, fastest = 1.0, ""
        for topic in topics:
            topic_factor = self.detector.factor(topic, at)
            if topic_factor > factor:
                factor, fastest = topic_factor, topic
        return ScoringContext(velocity_factor=factor, velocity_topic=fastest)

    def count(self, topics: list[str], at: datetime) -> None:
        """Count a scored mention on its stored topics (as live, after its score)."""
        for topic in topics:
            observation = self.detector.observe(topic, at)
            if observation.alert is not None and observation.alert.crisis_suggested:
                self._crisis_topics.append(topic)

    def crisis_topics_since_last_call(self) -> list[str]:
        topics, self._crisis_topics = self._crisis_topics, []
        return topics
