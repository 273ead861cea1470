"""Where the surge detector keeps its per-topic state: in this process (replays, backtests,
tests, the embedded default) or in Redis (shared by every worker). The detector
(`protocols.spikes`) is the same code over either store.

In Redis an update is read-compute-write of one topic's JSON state, the computation being the
detector's Python code. Workers serialise per topic with a short lock (`SET lock token NX
PX`), waited for with a bounded backoff; the write checks, in the same Lua script, that the
lock is still this worker's (a worker paused past the lock's expiry writes nothing and
raises, instead of overwriting a newer state). No unbounded retry loop on the busiest key
(`__all__` takes every mention): a worker that cannot have the lock within
`LOCK_WAIT_SECONDS` raises `SpikeStoreBusy`, which the scoring task retries like any Redis
timeout.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import redis

REDIS_PREFIX = "calma:spikes:"
IGNORED_COUNTER = "ignored_far_from_present"
# The lock expires on its own after this long (a worker killed while holding it blocks the
# topic this long at most); an update takes a millisecond or two.
LOCK_TTL_MS = 2_000
# How long an update waits for a topic's lock before giving up with SpikeStoreBusy.
LOCK_WAIT_SECONDS = 5.0
# Backoff between attempts: from the first to the last, doubling, with jitter.
LOCK_BACKOFF_SECONDS = (0.0005, 0.02)

# --- stores ---------------------------------------------------------------------------------
State = dict[str, Any]
Update = Callable[[State | None], tuple[State, Any]]


class SpikeStore(Protocol):
    """Per-topic state; `update` applies `change` atomically and returns its result."""

    def update(self, topic: str, change: Update, ttl_seconds: int) -> Any: ...

    def load(self, topic: str) -> State | None: ...

    def increment(self, counter: str) -> int: ...

    def counter(self, counter: str) -> int: ...


class MemorySpikeStore:
    """State in this process: replays, backtests and tests."""

    def __init__(self) -> None:
        self._states: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def update(self, topic: str, change: Update, ttl_seconds: int) -> Any:
        with self._lock:
            state, result = change(self.load(topic))
            # Stored as JSON, exactly like Redis, so both stores behave the same.
            self._states[topic] = json.dumps(state)
            return result

    def load(self, topic: str) -> State | None:
        raw = self._states.get(topic)
        return None if raw is None else json.loads(raw)

    def increment(self, counter: str) -> int:
        with self._lock:
            self._counters[counter] = self._counters.get(counter, 0) + 1
            return self._counters[counter]

    def counter(self, counter: str) -> int:
        return self._counters.get(counter, 0)

    def empty(self) -> bool:
        """Whether no topic was ever observed (a run's store in a new process)."""
        return not self._states


class SpikeStoreBusy(redis.exceptions.TimeoutError):
    """A topic's lock could not be had in time (another worker holds it, or held it and
    died: it expires by itself), or was lost before the write. Nothing was written.
    A `redis.TimeoutError`, so tasks that retry Redis timeouts retry this too."""


# --- one Redis client per process -----------------------------------------------------------
_CLIENTS: OrderedDict[tuple[str, int], redis.Redis] = OrderedDict()
_CLIENTS_LOCK = threading.Lock()
MAX_CLIENTS = 4  # distinct Redis URLs one process talks to (tests use one or two)


def _forget_clients_in_a_forked_child() -> None:
    # A fork copies the lock as it was (perhaps held by a thread that does not exist in the
    # child) and the parent's pools: start the child with neither.
    global _CLIENTS_LOCK
    _CLIENTS_LOCK = threading.Lock()
    _CLIENTS.clear()


os.register_at_fork(after_in_child=_forget_clients_in_a_forked_child)


def shared_redis_client(url: str | None = None) -> redis.Redis:
    """This process's client for `url` (settings.REDIS_URL when None): one connection pool
    per process and URL, built anew in a forked child (a pool must not cross a fork)."""
    if url is None:
        from django.conf import settings

        url = settings.REDIS_URL
    key = (url, os.getpid())
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            # A parent's clients are not this process's: drop them (their sockets are the
            # parent's; they are not closed here, which would close the parent's).
            for stale in [found for found in _CLIENTS if found[1] != key[1]]:
                del _CLIENTS[stale]
            client = _CLIENTS[key] = redis.Redis.from_url(url)
            while len(_CLIENTS) > MAX_CLIENTS:
                _CLIENTS.popitem(last=False)
        else:
            _CLIENTS.move_to_end(key)
        return client


# Release only our own lock: compare the token and delete in one step.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Write the state (and, when a marker key is given, add the member to it) only while the
# lock is still ours: both land or neither does.
_WRITE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'EX', tonumber(ARGV[3]))
if #KEYS > 2 then
    redis.call('SADD', KEYS[3], ARGV[4])
    redis.call('EXPIRE', KEYS[3], tonumber(ARGV[5]))
end
return 1
"""


class RedisSpikeStore:
    """State in Redis, shared by every worker; per-topic short locks (module docstring)."""

    def __init__(
        self,
        client: Any = None,
        prefix: str = REDIS_PREFIX,
        *,
        lock_wait_seconds: float = LOCK_WAIT_SECONDS,
        lock_ttl_ms: int = LOCK_TTL_MS,
    ) -> None:
        self.client = client if client is not None else shared_redis_client()
        self.prefix = prefix
        self.lock_wait_seconds = lock_wait_seconds
        self.lock_ttl_ms = lock_ttl_ms
        self._release = self.client.register_script(_RELEASE)
        self._write = self.client.register_script(_WRITE)

    def key(self, topic: str) -> str:
        return f"{self.prefix}{topic}"

    def lock_key(self, topic: str) -> str:
        # Topics are words (hashtags, group keys), so a ":" keeps locks apart from them.
        return f"{self.prefix}lock:{topic}"

    @contextmanager
    def locked(self, topic: str) -> Iterator[str]:
        """Hold the topic's lock; yields the token that proves it. Raises SpikeStoreBusy
        when it cannot be had within `lock_wait_seconds`."""
        key, token = self.lock_key(topic), secrets.token_hex(16)
        deadline = time.monotonic() + self.lock_wait_seconds
        pause, longest = LOCK_BACKOFF_SECONDS
        while not self.client.set(key, token, nx=True, px=self.lock_ttl_ms):
            left = deadline - time.monotonic()
            if left <= 0:
                raise SpikeStoreBusy(
                    f"surge detector: topic {topic[:200]!r} stayed locked for more than "
                    f"{self.lock_wait_seconds:g} s (lock {key[:300]!r}); nothing was written"
                )
            time.sleep(min(left, pause * random.uniform(0.5, 1.5)))  # noqa: S311 - jitter
            pause = min(pause * 2, longest)
        try:
            yield token
        finally:
            self._release(keys=[key], args=[token])

    def write(
        self,
        topic: str,
        token: str,
        state: State,
        ttl_seconds: int,
        marker: tuple[str, str, int] | None = None,
    ) -> None:
        """Store the topic's state, and `marker` (key, member, ttl) with it, while holding
        the lock `token`; SpikeStoreBusy (nothing written) when the lock was lost."""
        keys = [self.lock_key(topic), self.key(topic)]
        args: list[Any] = [token, json.dumps(state), int(ttl_seconds)]
        if marker is not None:
            keys.append(marker[0])
            args += [marker[1], int(marker[2])]
        if not self._write(keys=keys, args=args):
            raise SpikeStoreBusy(
                f"surge detector: the lock on topic {topic[:200]!r} expired before the write "
                f"(over {self.lock_ttl_ms} ms); nothing was written"
            )

    def update(self, topic: str, change: Update, ttl_seconds: int) -> Any:
        with self.locked(topic) as token:
            state, result = change(self.load(topic))
            self.write(topic, token, state, ttl_seconds)
            return result

    def load(self, topic: str) -> State | None:
        raw = self.client.get(self.key(topic))
        return None if raw is None else json.loads(raw)

    def counter_key(self, counter: str) -> str:
        # Topics are words (hashtags, group keys), so a ":" keeps counters apart from them.
        return f"{self.prefix}counter:{counter}"

    def increment(self, counter: str) -> int:
        return int(self.client.incr(self.counter_key(counter)))

    def counter(self, counter: str) -> int:
        return int(self.client.get(self.counter_key(counter)) or 0)
