"""Velocity for scoring: topic rates from the spike detector, each mention counted exactly once.

Whose state. Live mentions (origin "live") share one detector state: in Redis under
`calma:spikes:` (every worker process), or in this process in the embedded default without
Redis (the demo runs one worker). A replay or drill (origin "run:<id>") has its own state,
never the live keys: under `calma:spikes:run:<id>:` in Redis, or its own store in this
process in the embedded default (the few most recently used runs are kept, `EMBEDDED_RUNS`).
`detector_for(version, origin)` is the detector of either; the detector is the same code.
Backtests replay with an in-memory store of their own (`Replay`).

Exactly once. Scoring reads the velocity (`current`, no counting), commits the scores, and
only then counts the mentions (`count_once`, after the commit), so a score never exists
for a count that was rolled back. Scoring tasks are at-least-once (acks_late, retries,
redelivery after a SIGKILL), so the count must be idempotent per mention, and the claim
("this mention was counted on this topic") must not be able to diverge from the count. A
claim in Postgres (a `spike_counted_at` set by a conditional UPDATE) cannot give that: the
claim and the Redis count are two stores, so a crash between them either loses the count
(claim first) or doubles it (count first). Here the claim is a per-mention marker in Redis
(a set of the topics already counted, `<prefix>counted:<mention id>`), checked and written
under the topic's short lock (`spike_stores.RedisSpikeStore.locked`): the marker and the
topic's new state are written by one Lua script that first checks the lock is still ours,
so either both land or neither does. A second delivery, even a concurrent one, waits for
the lock, finds the marker and counts nothing. Each topic is its own locked update, so a
worker killed between two topics leaves the rest to the redelivery, which counts only the
topics not yet marked; a worker killed while holding a lock blocks that topic until the
lock expires (`LOCK_TTL_MS`), and a worker that cannot have a lock in time
(`LOCK_WAIT_SECONDS`) raises `SpikeStoreBusy`, a Redis timeout the scoring task retries.

Failure window: the marker lives COUNTED_MARKER_TTL_SECONDS (a day by default), far longer
than any redelivery (visibility timeout, retries, sweeper); a delivery after that could only
add to a bucket its topic has not moved past (the detector drops counts older than its
windows), i.e. a topic silent since. Redis losing data loses the count and the marker
together, never one without the other. A mention scored but never counted (its task lost
between the commit and the count, and never redelivered) stays uncounted: counts are
observations of the present, and replaying them later would be wrong anyway.

Per-process memory is bounded: Redis clients (one per URL, `shared_redis_client`), the
embedded runs' stores (`EMBEDDED_RUNS`) and the embedded claims (`EMBEDDED_CLAIMS`).
"""

import threading
from collections import OrderedDict
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings

from protocols.models import LIVE_ORIGIN, ProtocolVersion, run_id_of
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
# ... and keeps the detector state of this many runs (the most recently used).
EMBEDDED_RUNS = 4


def marker_ttl_seconds() -> int:
    return int(settings.PROTOCOLS["COUNTED_MARKER_TTL_SECONDS"])


def run_prefix(run_id: int) -> str:
    """A run's own Redis keys (a live topic is a word without ":", so never one of these)."""
    return f"{REDIS_PREFIX}run:{run_id}:"


# Count a counter once per mention: the marker checked and written with the increment.
_INCREMENT_ONCE = """
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
    return tonumber(redis.call('GET', KEYS[1]) or '0')
end
local count = redis.call('INCR', KEYS[1])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
return count
"""


class CountOnceRedisStore:
    """The Redis store seen by one mention: each topic (and counter) is updated at most once,
    the marker checked under the topic's lock and written with its state (module docstring)."""

    def __init__(self, base: RedisSpikeStore, mention_id: int, marker_ttl: int) -> None:
        self.base = base
        self.marker = f"{base.prefix}counted:{mention_id}"
        self.marker_ttl = marker_ttl

    def update(self, topic: str, change: Update, ttl_seconds: int) -> Any:
        """`change` applied once per (mention, topic); None when it was applied before."""
        with self.base.locked(topic) as token:
            # Only a holder of this topic's lock adds the topic to a marker: the check holds.
            if self.base.client.sismember(self.marker, topic):
                return None
            state, result = change(self.base.load(topic))
            self.base.write(
                topic, token, state, ttl_seconds, marker=(self.marker, topic, self.marker_ttl)
            )
            return result

    def load(self, topic: str) -> State | None:
        return self.base.load(topic)

    def increment(self, counter: str) -> int:
        """The ignored-far-from-present counter, also once per mention."""
        script = self.base.client.register_script(_INCREMENT_ONCE)
        keys = [self.base.counter_key(counter), self.marker]
        return int(script(keys=keys, args=[f"counter:{counter}", self.marker_ttl]))

    def counter(self, counter: str) -> int:
        return self.base.counter(counter)


class CountOnceMemoryStore:
    """The embedded default's equivalent: claims kept in this process (it runs one worker).
    Mention ids are unique across origins, so live and runs share the claims."""

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


_embedded_runs: "OrderedDict[int, MemorySpikeStore]" = OrderedDict()
_embedded_runs_lock = threading.Lock()


def _embedded_run_store(run_id: int) -> MemorySpikeStore:
    """A run's own store in this process; the least recently used run beyond EMBEDDED_RUNS
    is forgotten (a run played again later starts that detector afresh)."""
    with _embedded_runs_lock:
        store = _embedded_runs.get(run_id)
        if store is None:
            store = _embedded_runs[run_id] = MemorySpikeStore()
            while len(_embedded_runs) > EMBEDDED_RUNS:
                _embedded_runs.popitem(last=False)
        else:
            _embedded_runs.move_to_end(run_id)
        return store


def store_for(origin: str = LIVE_ORIGIN) -> RedisSpikeStore | MemorySpikeStore:
    """The detector state of `origin`: live, or a run's own (module docstring)."""
    if origin == LIVE_ORIGIN:
        return RedisSpikeStore() if settings.REDIS_URL else _embedded_store()
    run_id = run_id_of(origin)
    if run_id is None:
        raise ValueError(f"no detector state for origin {origin[:80]!r}")
    if settings.REDIS_URL:
        return RedisSpikeStore(prefix=run_prefix(run_id))
    return _embedded_run_store(run_id)


def forget_run(run_id: int) -> int:
    """Drop a run's detector state (a closed drill, a replay started afresh); returns the
    number of Redis keys deleted (0 in the embedded default). Live keys are never touched."""
    if not settings.REDIS_URL:
        with _embedded_runs_lock:
            _embedded_runs.pop(run_id, None)
        return 0
    store = RedisSpikeStore(prefix=run_prefix(run_id))
    deleted, batch = 0, []
    for key in store.client.scan_iter(match=f"{store.prefix}*", count=500):
        batch.append(key)
        if len(batch) >= 500:
            deleted += store.client.delete(*batch)
            batch = []
    if batch:
        deleted += store.client.delete(*batch)
    return deleted


def detector_for(version: ProtocolVersion, origin: str = LIVE_ORIGIN) -> SurgeDetector:
    """The detector of `origin` ("live" or "run:<id>") with `version`'s settings."""
    return SurgeDetector(DetectorSettings.from_protocol(version.config), store_for(origin))


def live_detector(version: ProtocolVersion) -> SurgeDetector:
    """The detector live scoring shares: Redis when configured, else this process's store."""
    return detector_for(version, LIVE_ORIGIN)


def count_once(
    version: ProtocolVersion,
    mention_id: int,
    topics: list[str],
    at: datetime,
    *,
    now: datetime,
    origin: str = LIVE_ORIGIN,
) -> list[Alert]:
    """Count one mention on each of its topics in `origin`'s detector, at most once per topic
    whatever the number of deliveries; returns every alert this count raised (a surge, and
    `crisis_suggested` when it reached the crisis factor). A mention dated far from `now`
    is not counted (the detector believes only the present; a run's present is its clock)."""
    base = store_for(origin)
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


def counted_topics(mention_id: int, origin: str = LIVE_ORIGIN) -> set[str]:
    """The topics `origin`'s detector has counted this mention on (tests, support)."""
    base = store_for(origin)
    if not isinstance(base, RedisSpikeStore):
        return {topic for claimed, topic in CountOnceMemoryStore._claims if claimed == mention_id}
    members = base.client.smembers(f"{base.prefix}counted:{mention_id}")
    return {member.decode() for member in members if not member.startswith(b"counter:")}


def current(
    version: ProtocolVersion,
    topics: list[str],
    at: datetime,
    *,
    now: datetime,
    origin: str = LIVE_ORIGIN,
) -> ScoringContext:
    """The same reading without counting (rescoring must not count a mention twice)."""
    detector = detector_for(version, origin)
    factor, fastest = 1.0, ""
    for topic in topics:
        topic_factor = detector.factor_live(topic, at, now=now)
        if topic_factor > factor:
            factor, fastest = topic_factor, topic
    return ScoringContext(velocity_factor=factor, velocity_topic=fastest)


class Replay:
    """A version's velocity over a replayed history (backtests), in memory: the same detector
    code as live, each mention read before its score and counted after it."""

    def __init__(self, version: ProtocolVersion):
        self.detector = SurgeDetector(
            DetectorSettings.from_protocol(version.config), MemorySpikeStore()
        )

    def current(self, topics: list[str], at: datetime) -> ScoringContext:
        """The velocity a mention is scored with, read before it is counted (as live)."""
        factor, fastest = 1.0, ""
        for topic in topics:
            topic_factor = self.detector.factor(topic, at)
            if topic_factor > factor:
                factor, fastest = topic_factor, topic
        return ScoringContext(velocity_factor=factor, velocity_topic=fastest)

    def count(self, topics: list[str], at: datetime) -> list[Alert]:
        """Count a scored mention on its stored topics (as live, after its score); returns
        the alerts it raised, for the crisis rule to read."""
        alerts = []
        for topic in topics:
            observation = self.detector.observe(topic, at)
            if observation.alert is not None:
                alerts.append(observation.alert)
        return alerts
