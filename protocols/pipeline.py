"""Scoring stored mentions with a protocol version: live hand-off, rescoring, backtests.

One scoring path: everything here calls `protocols.scoring.engine.score_mention` with the
version's compiled protocol.
"""

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from monitoring.models import Mention
from protocols.models import CrisisSuggestion, MentionScore, ProtocolVersion
from protocols.scoring.engine import CompiledProtocol, compile_protocol, score_mention
from protocols.scoring.types import AuthorContext, Score, Severity

OVERALL_TOPIC = "__all__"
_HASHTAG = re.compile(r"#(\w{2,60})")
_compiled: dict[int, CompiledProtocol] = {}


def compiled(version: ProtocolVersion) -> CompiledProtocol:
    """Compiled once per process per version; safe because a non-draft version never changes."""
    if not version.is_draft and version.pk in _compiled:
        return _compiled[version.pk]
    protocol = compile_protocol(version.config)
    if not version.is_draft:
        _compiled[version.pk] = protocol
    return protocol


def topics_of(text: str) -> list[str]:
    """What the mention is about before scoring: overall volume and its hashtags."""
    hashtags = dict.fromkeys(tag.lower() for tag in _HASHTAG.findall(text))
    return [OVERALL_TOPIC, *list(hashtags)[:5]]


def previous_complaints(author_ids: Iterable[int]) -> dict[int, int]:
    """Complaints already scored per author (one query for the whole batch)."""
    rows = (
        MentionScore.objects.filter(mention__author_id__in=set(author_ids), is_complaint=True)
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
    """Score mentions with `version` and upsert their scores. Mentions scored for the first
    time also feed the spike detector (so a task run twice never counts them twice), which
    ignores those dated far from the present (`now`, which replays and tests may pass)."""
    from protocols import velocity

    protocol = compiled(version)
    mentions = list(
        Mention.objects.filter(pk__in=mention_ids).select_related("author").order_by("published_at")
    )
    already_scored = set(
        MentionScore.objects.filter(mention_id__in=mention_ids).values_list("mention_id", flat=True)
    )
    complaints = previous_complaints(mention.author_id for mention in mentions)
    now = now or timezone.now()
    rows = []
    for mention in mentions:
        # The present of a mention is when Calma received it (our clock, not the platform's),
        # so a queue that grows during a surge does not make its mentions look too old.
        present = min(mention.ingested_at, now)
        topics = topics_of(mention.text)
        if observe_spikes and mention.pk not in already_scored:
            context = velocity.observe(version, topics, mention.published_at, now=present)
        else:
            context = velocity.current(version, topics, mention.published_at, now=present)
        score = score_mention(
            mention.text,
            language=mention.language,
            author=author_context(mention, complaints),
            context=context,
            protocol=protocol,
        )
        rows.append(score_row(mention.pk, version, score, now))
    with transaction.atomic():
        MentionScore.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["mention"],
            update_fields=[
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
            ],
        )
        suggest_crisis_from_incidents(version, rows)
    return rows


def score_row(mention_id: int, version: ProtocolVersion, score: Score, now) -> MentionScore:
    return MentionScore(
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


def suggest_crisis_from_incidents(version: ProtocolVersion, rows: list[MentionScore]) -> None:
    """The protocol's crisis threshold: N high-or-critical mentions on one topic in T minutes."""
    threshold = version.config["crisis_threshold"]
    window = timedelta(minutes=threshold["window_minutes"])
    topics = Counter(
        group for row in rows if row.severity in SERIOUS for group in row.matched_groups
    )
    if any(row.severity in SERIOUS for row in rows):
        topics[OVERALL_TOPIC] += 1
    if not topics:
        return
    now = timezone.now()
    # Counted in Python: JSON containment lookups are not portable to the embedded SQLite.
    recent = Counter()
    for groups in MentionScore.objects.filter(
        severity__in=SERIOUS, mention__published_at__gte=now - window
    ).values_list("matched_groups", flat=True):
        recent[OVERALL_TOPIC] += 1
        recent.update(groups)
    open_topics = set(
        CrisisSuggestion.objects.filter(
            raised_at__gte=now - window, dismissed_at__isnull=True
        ).values_list("topic", flat=True)
    )
    for topic in topics:
        count = recent[topic]
        if count >= threshold["incidents"] and topic not in open_topics:
            CrisisSuggestion.objects.create(
                topic=topic,
                reason=CrisisSuggestion.Reason.INCIDENTS,
                observed=count,
                detail=f"{count} high or critical mentions in {threshold['window_minutes']} min",
                protocol_version=version,
            )
