"""Backtest: what a draft would have said about stored mentions, against the active version.

Both versions score every mention of the last N days in time order through the same
scoring function; velocity is replayed per version with an in-memory surge detector (the
same detector code as live), and the one crisis rule (`protocols.crisis_rule`) is evaluated
at each mention's time with in-memory counts, exactly as live scoring evaluates it in SQL.
"""

from collections import Counter
from datetime import timedelta

from django.utils import timezone

from monitoring.models import Mention
from protocols import velocity
from protocols.crisis_rule import (
    SERIOUS,
    MemoryCounts,
    RuleSettings,
    is_negative_or_complaint,
    on_serious_mention,
    on_surge,
)
from protocols.models import BacktestRun, BacktestStatus, ProtocolVersion
from protocols.pipeline import compiled
from protocols.scoring.engine import score_mention
from protocols.scoring.types import AuthorContext, Score
from protocols.spikes import Alert
from protocols.topics import topics_for

CHUNK = 500
MAX_LISTED = 300  # changed mentions listed in the result; counts cover all of them


class _VersionReplay:
    """One version's live behaviour, replayed: velocity, repeat complainants, the crisis rule.

    `crossings` holds the first time each topic crossed the rule: key `topic` for serious
    mentions from distinct authors, `spike:<topic>` for a serious surge at the crisis factor
    (ISO times). `alerts` lists every surge alert with the rule's reading of it."""

    def __init__(self, version: ProtocolVersion):
        self.version = version
        self.protocol = compiled(version)
        self.velocity = velocity.Replay(version)
        self.complaints: Counter[int] = Counter()
        self.rule = RuleSettings.from_protocol(version.config)
        self.counts = MemoryCounts(self.rule)
        self.crossings: dict[str, str] = {}
        self.alerts: list[tuple[Alert, bool, str]] = []

    def score(self, mention: Mention) -> Score:
        # As live: the velocity is read before scoring, the mention counted on its stored
        # topics after, then the rule (surges first, then the serious mention).
        context = self.velocity.current(topics_for(mention.text, ()), mention.published_at)
        author = AuthorContext(
            followers=mention.author.followers,
            flags=frozenset(mention.author.flags or ()),
            previous_complaints=self.complaints[mention.author_id],
        )
        score = score_mention(
            mention.text,
            language=mention.language,
            author=author,
            context=context,
            protocol=self.protocol,
        )
        self.observe(mention, score)
        return score

    def observe(self, mention: Mention, score: Score) -> None:
        at = mention.published_at
        topics = topics_for(mention.text, score.matched_groups)
        serious = score.severity in SERIOUS
        negative = is_negative_or_complaint(score.sentiment, score.is_complaint)
        for topic in topics:
            self.counts.add(topic, at, mention.author_id, serious, negative)
        if score.is_complaint:
            self.complaints[mention.author_id] += 1
        for alert in self.velocity.count(topics, at):
            decision, is_serious, held_back = on_surge(
                self.rule, self.counts, alert, muted=False, after_gap=False
            )
            self.alerts.append((alert, is_serious, held_back))
            if decision is not None:
                self.crossings.setdefault(f"spike:{alert.topic}", at.isoformat())
        if serious:
            for topic in topics:
                if topic in self.crossings:
                    continue
                if on_serious_mention(self.rule, self.counts, topic=topic, at=at):
                    self.crossings[topic] = at.isoformat()


def run_backtest(run: BacktestRun) -> BacktestRun:
    since = timezone.now() - timedelta(days=run.days)
    mentions = (
        Mention.objects.filter(published_at__gte=since)
        .select_related("author")
        .defer("raw")
        .order_by("published_at", "id")
    )
    BacktestRun.objects.filter(pk=run.pk).update(
        status=BacktestStatus.RUNNING, total=mentions.count(), processed=0
    )
    baseline, draft = _VersionReplay(run.baseline), _VersionReplay(run.draft)
    severity_moves: Counter[str] = Counter()
    class_moves: Counter[str] = Counter()
    changed: list[dict] = []
    changed_count = processed = 0
    for mention in mentions.iterator(chunk_size=CHUNK):
        before, after = baseline.score(mention), draft.score(mention)
        severity_moves[f"{before.severity}>{after.severity}"] += 1
        if before.triage_class != after.triage_class:
            class_moves[f"{before.triage_class}>{after.triage_class}"] += 1
        if before.severity != after.severity or before.triage_class != after.triage_class:
            changed_count += 1
            if len(changed) < MAX_LISTED:
                changed.append(_change(mention, before, after))
        processed += 1
        if processed % CHUNK == 0:
            BacktestRun.objects.filter(pk=run.pk).update(processed=processed)
    run.result = {
        "mentions": processed,
        "changed": changed_count,
        "severity_moves": dict(severity_moves),
        "class_moves": dict(class_moves),
        "changed_mentions": changed,
        "crisis_crossings": {"active": baseline.crossings, "draft": draft.crossings},
    }
    run.processed = processed
    run.status = BacktestStatus.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["result", "processed", "status", "finished_at"])
    return run


def _change(mention: Mention, before: Score, after: Score) -> dict:
    return {
        "mention_id": mention.pk,
        "published_at": mention.published_at.isoformat(),
        "author": mention.author.handle,
        "text": mention.text[:200],
        "url": mention.url,
        "before": {
            "value": before.value,
            "severity": before.severity,
            "class": before.triage_class,
        },
        "after": {"value": after.value, "severity": after.severity, "class": after.triage_class},
    }
