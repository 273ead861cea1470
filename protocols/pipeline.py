"""Scoring stored mentions with a protocol version: the live stage, rescoring, backtests.

One scoring path: everything here calls `protocols.scoring.engine.score_mention` with the
version's compiled protocol.

The live stage is at-least-once and idempotent (a task may be retried, delivered twice, or
redelivered after its worker was SIGKILLed):
1. each mention's velocity is read from the surge detector without counting it, or, when the
   mention already has a score, the velocity stored with that score is reused;
2. the scores (with their velocity) and the mention's topics are upserted in ONE transaction;
3. only after the commit: the mentions are handed to the incident stage by task name, counted
   in the surge detector exactly once each (`velocity.count_once`: a per-mention marker
   written with the count), every alert the detector raises is recorded with the crisis
   rule's reading of it (SurgeAlert, one row per topic and bucket: serious or a plain spike,
   and why a surge at the crisis factor suggested nothing), and crisis suggestions are raised
   by the one crisis rule (`protocols.crisis_rule`, counting in SQL over the stored topics;
   one open suggestion per topic and origin, decided by a database constraint). A repeat of
   1-3 writes the same rows, counts nothing twice and doubles no suggestion.
Mentions from a replay or drill (origin "run:<id>") never feed nor read the live detector:
they are counted in their run's own detector and raise suggestions of their own origin.
A rescoring never counts in a detector (it reuses the velocity stored with each score) and
evaluates the rule at each mention's time: an old mention rescored today suggests nothing.
"""

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime, timedelta
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.module_loading import import_string
from kombu.exceptions import KombuError

from monitoring.models import Mention, Source, SourceHealth
from protocols import velocity
from protocols.crisis_rule import (
    SERIOUS,
    Decision,
    RuleSettings,
    SqlCounts,
    on_serious_mention,
    on_surge,
)
from protocols.models import (
    LIVE_ORIGIN,
    CrisisSuggestion,
    MentionScore,
    MentionTopic,
    ProtocolVersion,
    SurgeAlert,
)
from protocols.scoring.engine import CompiledProtocol, compile_protocol, score_mention
from protocols.scoring.types import AuthorContext, Score, ScoringContext
from protocols.services import is_muted, raise_crisis_suggestion
from protocols.signals import mentions_scored
from protocols.spikes import Alert
from protocols.topics import topics_for

logger = logging.getLogger(__name__)
LIVE = LIVE_ORIGIN
# Compiled protocols kept per process, keyed by (version, content): a draft edited since is
# a new key, and the least recently used beyond COMPILED_CACHE_SIZE are dropped.
COMPILED_CACHE_SIZE = 16
_compiled: "OrderedDict[tuple[int | None, str], CompiledProtocol]" = OrderedDict()
_compiled_lock = threading.Lock()
# A source that failed this recently and is healthy again may have left a backlog: a surge
# of its mentions is traffic resuming after a collection gap, not a crisis.
RECOVERY_WINDOW = timedelta(minutes=30)


def config_digest(config) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:20]


def compiled(version: ProtocolVersion) -> CompiledProtocol:
    """Compiled once per process per version and content (a bounded LRU)."""
    key = (version.pk, config_digest(version.config))
    with _compiled_lock:
        protocol = _compiled.get(key)
        if protocol is not None:
            _compiled.move_to_end(key)
            return protocol
    protocol = compile_protocol(version.config)
    with _compiled_lock:
        _compiled[key] = protocol
        while len(_compiled) > COMPILED_CACHE_SIZE:
            _compiled.popitem(last=False)
    return protocol


def previous_complaints(
    author_ids: Iterable[int], batch: Iterable[int], *, origin: str = LIVE_ORIGIN
) -> dict[int, int]:
    """Complaints already scored per author (one query for the whole batch) among the mentions
    of the same origin, leaving out the batch's own mentions, so a redelivered batch scores
    exactly as its first delivery did. A drill's or replay's complaints never make a live
    author a repeat complainant, and live history never does inside a run."""
    rows = (
        MentionScore.objects.filter(
            mention__author_id__in=set(author_ids), mention__origin=origin, is_complaint=True
        )
        .exclude(mention_id__in=list(batch))
        .values("mention__author_id")
        .annotate(count=Count("pk"))
    )
    return {row["mention__author_id"]: row["count"] for row in rows}


def previous_complaints_by_origin(mentions: list[Mention]) -> dict[str, dict[int, int]]:
    """`previous_complaints` for each origin in the batch (one query per origin; a batch
    holds one in practice)."""
    batch = [mention.pk for mention in mentions]
    return {
        origin: previous_complaints(
            (mention.author_id for mention in mentions if mention.origin == origin),
            batch,
            origin=origin,
        )
        for origin in {mention.origin for mention in mentions}
    }


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
    hand_off: bool = True,
) -> list[MentionScore]:
    """Score mentions with `version`, upsert their scores and topics, and after the commit
    run the stage's side effects (see the module docstring).

    `observe_spikes` is the live stage (count in the detector, hand off to incidents); a
    rescoring passes False. `now` is the caller's clock (replays and tests pass it); the
    detector ignores mentions dated far from the present. `hand_off=False`: the caller runs
    the incident stage itself (a replay, with its own clock).
    """
    protocol = compiled(version)
    mentions = list(
        Mention.objects.filter(pk__in=mention_ids)
        .select_related("author")
        .order_by("published_at", "pk")
    )
    stored = stored_velocity(mention.pk for mention in mentions)
    complaints = previous_complaints_by_origin(mentions)
    now = now or timezone.now()
    rows, topics = [], {}
    for mention in mentions:
        context = stored.get(mention.pk) or velocity_before_scoring(version, mention, now=now)
        score = score_mention(
            mention.text,
            language=mention.language,
            author=author_context(mention, complaints[mention.origin]),
            context=context,
            protocol=protocol,
        )
        rows.append(score_row(mention.pk, version, score, now, context=context))
        topics[mention.pk] = topics_for(mention.text, score.matched_groups)
    with transaction.atomic():
        upsert_scores(rows)
        store_topics(mentions, topics)
        after_commit = partial(
            after_scoring,
            version,
            mentions,
            rows,
            topics,
            live=observe_spikes,
            now=now,
            hand_off_mentions=hand_off,
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
    """Read (never count) the velocity of the mention's topics known before scoring, in the
    detector of its origin (a run never reads nor feeds the live detector)."""
    return velocity.current(
        version,
        topics_for(mention.text, ()),
        mention.published_at,
        now=present_of(mention, now),
        origin=mention.origin,
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
    hand_off_mentions: bool = True,
) -> None:
    """The stage's side effects, once the scores are committed. Hand-off first: it never
    raises. A Redis error while counting propagates, so the task retries the batch (its
    scores are reused as they are, and what was already counted is not counted again)."""
    if live and hand_off_mentions:
        hand_off(not_handed_off([mention.pk for mention in mentions]))
    # Before the surge count, which may raise for a retry (a repeat is harmless): the board's
    # rollups follow new scores, live or rescored; a receiver never fails the stage.
    mentions_scored.send_robust(sender=ProtocolVersion, mention_ids=[m.pk for m in mentions])
    rule = RuleSettings.from_protocol(version.config)
    if live:
        for mention in mentions:
            count_in_surge_detector(version, mention, topics[mention.pk], now=now, rule=rule)
    suggest_crisis_from_serious_mentions(version, mentions, rows, topics, now=now, rule=rule)


def count_in_surge_detector(
    version: ProtocolVersion,
    mention: Mention,
    topics: list[str],
    *,
    now: datetime,
    rule: RuleSettings | None = None,
) -> None:
    """Count a mention once on each stored topic in its origin's detector; every alert the
    detector raises is recorded with the rule's reading of it, and a serious surge at the
    crisis factor (not muted, not after a collection gap, on a topic no open crisis already
    handles) suggests a crisis."""
    origin = mention.origin
    rule = rule or RuleSettings.from_protocol(version.config)
    present = present_of(mention, now)
    alerts = velocity.count_once(
        version, mention.pk, topics, mention.published_at, now=present, origin=origin
    )
    counts = SqlCounts(origin)
    for alert in alerts:
        crisis = alert.crisis_suggested
        decision, serious, held_back = on_surge(
            rule,
            counts,
            alert,
            muted=crisis and origin == LIVE and is_muted(alert.topic, alert.at),
            after_gap=crisis and after_collection_gap(origin, alert, rule),
        )
        record_surge_alert(
            alert, version=version, origin=origin, serious=serious, held_back=held_back
        )
        if decision is not None and (origin, decision.topic) not in covered_topics({origin}):
            suggest(decision, version=version, origin=origin, now=now)


def after_collection_gap(origin: str, alert: Alert, rule: RuleSettings) -> bool:
    """Whether the surge's mentions come from a source that failed within the surge window
    or the last RECOVERY_WINDOW and is healthy again (its backlog, not a surge). Live only:
    a run knows its gaps from its detector (`alert.after_gap`)."""
    if origin != LIVE:
        return False
    since = alert.at - max(RECOVERY_WINDOW, rule.surge_window)
    recovered = list(
        Source.objects.filter(
            health=SourceHealth.HEALTHY, last_error_at__gte=since, last_error_at__lte=alert.at
        ).values_list("pk", flat=True)
    )
    if not recovered:
        return False
    return MentionTopic.objects.filter(
        origin=origin,
        topic=alert.topic[:200],
        published_at__gte=alert.at - rule.surge_window,
        published_at__lte=alert.at,
        mention__source_id__in=recovered,
    ).exists()


def suggest(decision: Decision, *, version: ProtocolVersion, origin: str, now: datetime) -> None:
    """Raise the rule's decision (one open per topic and origin: the constraint decides)."""
    raise_crisis_suggestion(
        topic=decision.topic[:200],
        reason=decision.reason,
        version=version,
        origin=origin,
        at=now,
        detail=decision.detail,
        observed=decision.observed,
        factor=decision.factor,
        expected=decision.expected,
    )


def record_surge_alert(
    alert: Alert,
    *,
    version: ProtocolVersion,
    origin: str,
    serious: bool = False,
    held_back: str = "",
) -> None:
    """Store one alert of the detector, once per (origin, topic, bucket): a repeat inserts
    nothing, and an escalation past the crisis factor in the same bucket upgrades the row.

    Never raises: the count is already in the detector (its marker makes a redelivery count
    nothing, so a retry could not bring the alert back) and the crisis suggestion must still
    be raised; a failure is logged and the board misses that one alert."""
    try:
        with transaction.atomic():  # a savepoint: a failure leaves any outer transaction usable
            _store_surge_alert(
                alert, version=version, origin=origin, serious=serious, held_back=held_back
            )
    except DatabaseError:
        logger.exception("surge alert on %r not recorded", alert.topic[:200])


def _store_surge_alert(
    alert: Alert, *, version: ProtocolVersion, origin: str, serious: bool, held_back: str
) -> None:
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
                serious=serious,
                held_back=held_back,
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
            serious=serious,
            held_back=held_back,
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


def suggest_crisis_from_serious_mentions(
    version: ProtocolVersion,
    mentions: list[Mention],
    rows: list[MentionScore],
    topics: dict[int, list[str]],
    *,
    now: datetime,
    rule: RuleSettings | None = None,
) -> None:
    """The rule's first half for each serious mention of the batch, at the mention's time
    (`crisis_rule.on_serious_mention`, counted in SQL per origin). A mention received longer
    ago than the rule's window (a rescoring of old mentions) suggests nothing today, while one
    that arrives late from its platform still counts at its own time; a topic with an open
    suggestion of its origin, or that an open crisis already handles, is skipped (one read
    each; the constraint still decides a race), and a live topic muted at the mention's time
    is not suggested."""
    rule = rule or RuleSettings.from_protocol(version.config)
    by_pk = {mention.pk: mention for mention in mentions}
    candidates: dict[tuple[str, str], list[datetime]] = {}
    for row in rows:
        mention = by_pk[row.mention_id]
        if row.severity not in SERIOUS or present_of(mention, now) < now - rule.window:
            continue
        for topic in topics[row.mention_id]:
            candidates.setdefault((mention.origin, topic), []).append(mention.published_at)
    if not candidates:
        return
    origins = {origin for origin, _topic in candidates}
    already_open = _open_suggestions(origins, candidates) | covered_topics(origins)
    for (origin, topic), times in candidates.items():
        if (origin, topic) in already_open:
            continue
        counts = SqlCounts(origin)
        for at in sorted(set(times)):
            decision = on_serious_mention(rule, counts, topic=topic, at=at)
            if decision is None:
                continue
            if origin == LIVE and is_muted(topic, at):
                continue  # muted at this mention's time; a later one may come after the mute
            suggest(decision, version=version, origin=origin, now=now)
            break


def covered_topics(origins: set[str]) -> set[tuple[str, str]]:
    """(origin, topic) pairs an open crisis already handles: never suggested again while it
    is open (settings.PROTOCOLS["COVERED_TOPICS"], the crisis room's answer)."""
    path = settings.PROTOCOLS.get("COVERED_TOPICS") or ""
    return set(import_string(path)(origins)) if path and origins else set()


def _open_suggestions(
    origins: set[str], candidates: dict[tuple[str, str], list[datetime]]
) -> set[tuple[str, str]]:
    return set(
        CrisisSuggestion.objects.filter(
            origin__in=origins,
            topic__in={topic for _origin, topic in candidates},
            dismissed_at__isnull=True,
        ).values_list("origin", "topic")
    )
