"""Velocity for scoring: topic rates from the spike detector, and crisis suggestions.

Live, the detector's state is in Redis (shared by every worker process); in the embedded
default without Redis it is kept in this process (the demo runs one worker). Backtests
replay with an in-memory store of their own.
"""

from datetime import datetime
from functools import lru_cache

from django.conf import settings

from protocols.models import CrisisSuggestion, ProtocolVersion
from protocols.scoring.types import ScoringContext
from protocols.spikes import (
    Alert,
    DetectorSettings,
    MemorySpikeStore,
    RedisSpikeStore,
    SurgeDetector,
)


@lru_cache(maxsize=1)
def _embedded_store() -> MemorySpikeStore:
    return MemorySpikeStore()


def live_detector(version: ProtocolVersion) -> SurgeDetector:
    """The detector live scoring shares: Redis when configured, else this process's store."""
    store = RedisSpikeStore() if settings.REDIS_URL else _embedded_store()
    return SurgeDetector(DetectorSettings.from_protocol(version.config), store)


def observe(
    version: ProtocolVersion, topics: list[str], at: datetime, *, now: datetime
) -> ScoringContext:
    """Count one mention on each topic; the fastest-moving topic gives the velocity. A mention
    dated far from `now` is not counted (the detector believes only the present)."""
    detector = live_detector(version)
    factor, fastest = 1.0, ""
    for topic in topics:
        observation = detector.observe_live(topic, at, now=now)
        if observation.factor > factor:
            factor, fastest = observation.factor, topic
        if observation.alert is not None and observation.alert.crisis_suggested:
            suggest_crisis_from_spike(version, observation.alert)
    return ScoringContext(velocity_factor=factor, velocity_topic=fastest)


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


def suggest_crisis_from_spike(version: ProtocolVersion, alert: Alert) -> CrisisSuggestion:
    return CrisisSuggestion.objects.create(
        topic=alert.topic,
        reason=CrisisSuggestion.Reason.SPIKE,
        factor=round(alert.factor, 2),
        observed=alert.observed,
        expected=round(alert.expected, 2),
        detail=f"×{alert.factor:.1f} the usual rate since {alert.bucket_start:%H:%M} UTC",
        protocol_version=version,
    )


class Replay:
    """A version's velocity over a replayed history (backtests), in memory."""

    def __init__(self, version: ProtocolVersion):
        self.detector = SurgeDetector(
            DetectorSettings.from_protocol(version.config), MemorySpikeStore()
        )
        self._crisis_topics: list[str] = []

    def observe(self, topics: list[str], at: datetime) -> ScoringContext:
        factor, fastest = 1.0, ""
        for topic in topics:
            observation = self.detector.observe(topic, at)
            if observation.factor > factor:
                factor, fastest = observation.factor, topic
            if observation.alert is not None and observation.alert.crisis_suggested:
                self._crisis_topics.append(topic)
        return ScoringContext(velocity_factor=factor, velocity_topic=fastest)

    def crisis_topics_since_last_call(self) -> list[str]:
        topics, self._crisis_topics = self._crisis_topics, []
        return topics
