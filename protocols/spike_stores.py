"""Where the surge detector keeps its per-topic state: in this process (replays, backtests,
tests, the embedded default) or in Redis (shared by every worker). The detector
(`protocols.spikes`) is the same code over either store."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, Protocol

REDIS_PREFIX = "calma:spikes:"
IGNORED_COUNTER = "ignored_far_from_present"

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


class RedisSpikeStore:
    """State in Redis, shared by every worker; optimistic WATCH/MULTI transactions."""

    def __init__(self, client: Any = None, prefix: str = REDIS_PREFIX) -> None:
        if client is None:
            import redis
            from django.conf import settings

            client = redis.Redis.from_url(settings.REDIS_URL)
        self.client = client
        self.prefix = prefix

    def key(self, topic: str) -> str:
        return f"{self.prefix}{topic}"

    def update(self, topic: str, change: Update, ttl_seconds: int) -> Any:
        import redis

        key = self.key(topic)
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    state, result = change(None if raw is None else json.loads(raw))
                    pipe.multi()
                    pipe.set(key, json.dumps(state), ex=ttl_seconds)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another worker wrote first: recompute on its state

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
