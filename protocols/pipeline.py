"""Scoring stored mentions with a protocol version: the live stage, rescoring, backtests.

One scoring path: everything here calls `protocols.scoring.engine.score_mention` with the
version's compiled protocol.

The live stage is at-least-once and idempotent (a task may be retried, delivered twice, or
redelivered after its worker was SIGKILLed):
1. each mention's velocity is read from the surge detector without counting it, or, when the
   mention already has a score, the velocity stored with that score is reused;
2. the scores (with their velocity) and the mention's topics are upserted in ONE transaction;
3. only after the commit: the mentions are handed to the incident stage by task name, counted
   in the surge detector exactly once each (`velocity.count_once`: a per-mention marker in the
   same Redis transaction as the count), every alert the detector raises is recorded
   (SurgeAlert, one row per topic and bucket), and crisis suggestions are raised (one open per
   topic, decided by a database constraint). A repeat of 1-3 writes the same rows, counts
   nothing twice and doubles no suggestion.
Mentions from a replay or drill (origin other than "live") never feed the live detector and
only raise suggestions of their own origin.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime, timedelta
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count
from django.utils import timezone
from kombu.exceptions import KombuError

from monitoring.models import Mention
from protocols import velocity
from protocols.models import (
    CrisisSuggestion,
    MentionScore,
    MentionTopic,
    ProtocolVersion,
    SurgeAlert,
)
from protocols.scoring.engine import CompiledProtocol, compile_protocol, score_mention
from protocols.scoring.types import AuthorContext, Score, ScoringContext, Severity
from protocols.services import raise_crisis_suggestion
from protocols.signals import mentions_scored
from protocols.spikes import Alert
from protocols.topics import topics_for

logger = logging.getLogger(__name__)
LIVE = "live"
_compiled: dict[int, CompiledProtocol] = {}


def compiled(version: ProtocolVersion) -> CompiledProtocol:
    """Compiled once per process per version; safe because a non-draft version never changes."""
    if not version.is_draft and version.pk in _compiled:
        return _compiled[version.pk]
    protocol = compile_protocol(version.config)
    if not version.is_draft:
        _compiled[version.pk] = protocol
    return protocol


def previous_complaints(author_ids: Iterable[int], batch: Iterable[int]) -> dict[int, int]:
    """Complaints already scored per author (one query for the whole batch), leaving out the
    batch's own mentions, so a redelivered batch scores exactly as its first delivery did."""
    rows = (
        MentionScore.objects.filter(mention__author_id__in=set(author_ids), is_complaint=True)
        .exclude(mention_id__in=list(batch))
        .values("mention__author_id")
        .annotate(count=Count("pk"))
    )
    return {row["mention__author_id"]: row["count"] for row in rows}


def author_context(mention: Mention, complaints: dict[int, int]) -> AuthorContext:
    return AuthorContext(
        followers=mention.author.followers,
        flags=frozenset(mention.author.flags or ()),
        previous_complaints=complaints.get(mention.author_id, 0),
    )


def score_and_store(
    mention_ids: list[int],
    *,
    version: ProtocolVersion,
    observe_spikes: bool = True,
    now: datetime | None = None,
) -> list[MentionScore]:
    """Score mentions with `version`, upsert their scores and topics, and after the commit
    run the stage's side effects (see the module docstring).

    `observe_spikes` is the live stage (count in the detector, hand off to incidents); a
    rescoring passes False. `now` is the caller's clock (replays and tests pass it); the
    detector ignores mentions dated far from the present.
    """
    protocol = compiled(version)
    mentions = list(
        Mention.objects.filter(pk__in=mention_ids)
        .select_related("author")
        .order_by("published_at", "pk")
    )
    stored = stored_velocity(mention.pk for mention in mentions)
    complaints = previous_complaints(
        (mention.author_id for mention in mentions), (mention.pk for mention in mentions)
    )
    now = now or timezone.now()
    rows, topics = [], {}
    for mention in mentions:
        context = stored.get(mention.pk) or velocity_before_scoring(version, mention, now=now)
        score = score_mention(
            mention.text,
            language=mention.language,
            author=author_context(mention, complaints),
            context=context,
            protocol=protocol,
        )
        rows.append(score_row(mention.pk, version, score, now, context=context))
        topics[mention.pk] = topics_for(mention.text, score.matched_groups)
    with transaction.atomic():
        upsert_scores(rows)
        store_topics(mentions, topics)
        after_commit = partial(
            after_scoring, version, mentions, rows, topics, live=observe_spikes, now=now
        )
        transaction.on_commit(after_commit)
    return rows


def present_of(mention: Mention, now: datetime) -> datetime:
    """The present of a mention is when Calma received it (our clock, not the platform's), so
    a queue that grows during a surge does not make its mentions look too old."""
    return min(mention.ingested_at, now)


def velocity_before_scoring(
    version: ProtocolVersion, mention: Mention, *, now: datetime
) -> ScoringContext:
    """Read (never count) the live velocity of the mention's topics known before scoring."""
    if mention.origin != LIVE:
        return ScoringContext()  # a run never reads nor feeds the live detector
    return velocity.current(
        version, topics_for(mention.text, ()), mention.published_at, now=present_of(mention, now)
    )


def stored_velocity(mention_ids: Iterable[int]) -> dict[int, ScoringContext]:
    """The velocity each already-scored mention was scored with: rescoring reuses it."""
    rows = MentionScore.objects.filter(mention_id__in=list(mention_ids)).values_list(
        "mention_id", "velocity_factor", "velocity_topic"
    )
    return {
        mention_id: ScoringContext(velocity_factor=factor, velocity_topic=topic)
        for mention_id, factor, topic in rows
    }


SCORE_FIELDS = [
    "protocol_version",
    "value",
    "severity",
    "triage_class",
    "sentiment",
    "language",
    "matched_groups",
    "signals",
    "is_question",
    "is_abusive",
    "is_complaint",
    "scored_at",
    "velocity_factor",
    "velocity_topic",
]


def upsert_scores(rows: list[MentionScore]) -> None:
    # handed_off_at is the incident stage's: a rescore never touches it.
    MentionScore.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["mention"], update_fields=SCORE_FIELDS
    )


def store_topics(mentions: list[Mention], topics: dict[int, list[str]]) -> None:
    """Make each mention's stored topics exactly `topics` (a rescore may change its groups)."""
    wanted = {(mention.pk, topic) for mention in mentions for topic in topics[mention.pk]}
    existing = {
        (mention_id, topic): pk
        for pk, mention_id, topic in MentionTopic.objects.filter(
            mention_id__in=list(topics)
        ).values_list("pk", "mention_id", "topic")
    }
    stale = [pk for pair, pk in existing.items() if pair not in wanted]
    if stale:
        MentionTopic.objects.filter(pk__in=stale).delete()
    MentionTopic.objects.bulk_create(
        [
            MentionTopic(
                mention_id=mention.pk,
                topic=topic,
                published_at=mention.published_at,
                origin=mention.origin,
            )
            for mention in mentions
            for topic in topics[mention.pk]
            if (mention.pk, topic) not in existing
        ],
        ignore_conflicts=True,  # a concurrent delivery of the same mention stored it first
    )


def after_scoring(
    version: ProtocolVersion,
    mentions: list[Mention],
    rows: list[MentionScore],
    topics: dict[int, list[str]],
    *,
    live: bool,
    now: datetime,
) -> None:
    """The stage's side effects, once the scores are committed. Hand-off first: it never
    raises. A Redis error while counting propagates, so the task retries the batch (its
    scores are reused as they are, and what was already counted is not counted again)."""
    if live:
        hand_off(not_handed_off([mention.pk for mention in mentions]))
    # Before the surge count, which may raise for a retry (a repeat is harmless): the board's
    # rollups follow new scores, live or rescored; a receiver never fails the stage.
    mentions_scored.send_robust(sender=ProtocolVersion, mention_ids=[m.pk for m in mentions])
    if live:
        for mention in mentions:
            if mention.origin == LIVE:
                count_in_surge_detector(version, mention, topics[mention.pk], now=now)
    suggest_crisis_from_incidents(version, mentions, rows, topics, now=now)


def count_in_surge_detector(
    version: ProtocolVersion, mention: Mention, topics: list[str], *, now: datetime
) -> None:
    """Count a live mention once on each stored topic; every alert the detector raises is
    recorded (the board lists them) and a crisis-level surge suggests a crisis."""
    present = present_of(mention, now)
    for alert in velocity.count_once(
        version, mention.pk, topics, mention.published_at, now=present
    ):
        record_surge_alert(alert, version=version, origin=LIVE)
        if not alert.crisis_suggested:
            continue
        raise_crisis_suggestion(
            topic=alert.topic,
            reason=CrisisSuggestion.Reason.SPIKE,
            version=version,
            origin=LIVE,
            at=now,
            factor=round(alert.factor, 2),
            observed=alert.observed,
            expected=round(alert.expected, 2),
            detail=f"×{alert.factor:.1f} the usual rate since {alert.bucket_start:%H:%M} UTC",
        )


def record_surge_alert(alert: Alert, *, version: ProtocolVersion, origin: str) -> None:
    """Store one alert of the detector, once per (origin, topic, bucket): a repeat inserts
    nothing, and an escalation past the crisis factor in the same bucket upgrades the row.

    Never raises: the count is already in the detector (its marker makes a redelivery count
    nothing, so a retry could not bring the alert back) and the crisis suggestion must still
    be raised; a failure is logged and the board misses that one alert."""
    try:
        with transaction.atomic():  # a savepoint: a failure leaves any outer transaction usable
            _store_surge_alert(alert, version=version, origin=origin)
    except DatabaseError:
        logger.exception("surge alert on %r not recorded", alert.topic[:200])


def _store_surge_alert(alert: Alert, *, version: ProtocolVersion, origin: str) -> None:
    topic = alert.topic[:200]
    SurgeAlert.objects.bulk_create(
        [
            SurgeAlert(
                topic=topic,
                bucket_start=alert.bucket_start,
                raised_at=alert.at,
                origin=origin,
                protocol_version=version,
                factor=alert.factor,
                observed=alert.observed,
                expected=alert.expected,
                crisis_suggested=alert.crisis_suggested,
            )
        ],
        ignore_conflicts=True,  # recorded already (a repeated or concurrent count)
    )
    if alert.crisis_suggested:
        SurgeAlert.objects.filter(
            origin=origin, topic=topic, bucket_start=alert.bucket_start, crisis_suggested=False
        ).update(
            factor=alert.factor,
            observed=alert.observed,
            expected=alert.expected,
            crisis_suggested=True,
        )


# --- the hand-off to the incident stage -----------------------------------------------------
_unknown_task_logged: set[str] = set()


def not_handed_off(mention_ids: list[int]) -> list[int]:
    """Of these scored mentions, those the incident stage has not seen yet (a redelivered
    batch re-sends only what was never received)."""
    return list(
        MentionScore.objects.filter(
            mention_id__in=mention_ids, handed_off_at__isnull=True
        ).values_list("mention_id", flat=True)
    )


def hand_off(mention_ids: list[int]) -> bool:
    """Send scored mentions to the incident stage by task name; never raises (one log line),
    since the scores are committed and the sweeper re-sends what was not received.

    A task name no worker registers (the incident stage not deployed yet) is not sent at all:
    a worker would log an error for every batch and every sweep."""
    task_name = settings.PROTOCOLS["SCORED_MENTIONS_TASK"]
    if not mention_ids or not task_name:
        return False
    if task_name not in current_app.tasks:
        if task_name not in _unknown_task_logged:
            _unknown_task_logged.add(task_name)
            logger.warning("scoring hand-off: no task %s is registered; not sent", task_name)
        return False
    try:
        current_app.send_task(task_name, args=[list(mention_ids)])
    except (KombuError, OSError) as error:
        logger.warning(
            "scoring hand-off of %d mentions to %s failed (%s); left to the sweeper",
            len(mention_ids),
            task_name,
            str(error).splitlines()[0] if str(error) else type(error).__name__,
        )
        return False
    return True


def score_row(
    mention_id: int,
    version: ProtocolVersion,
    score: Score,
    now: datetime,
    *,
    context: ScoringContext,
) -> MentionScore:
    return MentionScore(
        velocity_factor=context.velocity_factor,
        velocity_topic=context.velocity_topic[:200],
        mention_id=mention_id,
        protocol_version=version,
        value=score.value,
        severity=score.severity,
        triage_class=score.triage_class,
        sentiment=score.sentiment,
        language=score.language,
        matched_groups=list(score.matched_groups),
        signals=[asdict(signal) for signal in score.signals],
        is_question=score.is_question,
        is_abusive=score.is_abusive,
        is_complaint=score.is_complaint,
        scored_at=now,
    )


SERIOUS = (Severity.HIGH, Severity.CRITICAL)


def suggest_crisis_from_incidents(
    version: ProtocolVersion,
    mentions: list[Mention],
    rows: list[MentionScore],
    topics: dict[int, list[str]],
    *,
    now: datetime,
) -> None:
    """The protocol's crisis threshold: N high-or-critical mentions on one topic in T minutes,
    counted per origin over the stored topics (index on topic, published_at)."""
    threshold = version.config["crisis_threshold"]
    window = timedelta(minutes=threshold["window_minutes"])
    origin_of = {mention.pk: mention.origin for mention in mentions}
    serious: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.severity in SERIOUS:
            serious[origin_of[row.mention_id]].update(topics[row.mention_id])
    for origin, candidate_topics in serious.items():
        # A read to skip topics already suggested; the constraint still decides a race.
        already_open = set(
            CrisisSuggestion.objects.filter(
                origin=origin, topic__in=candidate_topics, dismissed_at__isnull=True
            ).values_list("topic", flat=True)
        )
        counts = (
            MentionTopic.objects.filter(
                origin=origin,
                topic__in=candidate_topics - already_open,
                published_at__gte=now - window,
                published_at__lte=now,
                mention__score__severity__in=SERIOUS,
            )
            .values("topic")
            .annotate(count=Count("pk"))
        )
        for row in counts:
            if row["count"] >= threshold["incidents"]:
                raise_crisis_suggestion(
                    topic=row["topic"],
                    reason=CrisisSuggestion.Reason.INCIDENTS,
                    version=version,
                    origin=origin,
                    at=now,
                    observed=row["count"],
                    detail=(
                        f"{row['count']} high or critical mentions"
                        f" in {threshold['window_minutes']} min"
                    ),
                )
