"""The scoring sweepers: mentions left unscored are scored again, and scores the incident stage
never saw are handed to it again.

The hand-off from monitoring is sent after commit; when the broker is unreachable at that
moment, or a scoring task runs out of retries, the mentions stay stored without a score.
Likewise the hand-off to incidents is sent after the score's commit and can be lost; the
incident stage marks what it has seen (MentionScore.handed_off_at). Beat runs both every
minute, so nothing is left unscored or unseen for good.
"""

import logging
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings

from monitoring.models import Mention
from protocols.models import MentionScore
from protocols.pipeline import LIVE, hand_off

logger = logging.getLogger(__name__)
SCORING_TASK = "protocols.tasks.score_new_mentions"


def unscored_mention_ids(
    *, now: datetime, stored_before: timedelta, lookback: timedelta, limit: int
) -> list[int]:
    """Mentions stored between `lookback` and `stored_before` ago without a score, oldest first.

    An anti-join (LEFT JOIN score … IS NULL) on the score's unique mention index, walking
    the mention ingestion index over the lookback window only, so a run costs the window,
    not the whole table.
    """
    return list(
        Mention.objects.filter(
            ingested_at__lte=now - stored_before,
            ingested_at__gte=now - lookback,
            score__isnull=True,
        )
        .order_by("ingested_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def sweep_unscored_mentions(*, now: datetime) -> int:
    """Enqueue scoring for one batch of mentions left unscored; returns how many."""
    config = settings.SCORING
    ids = unscored_mention_ids(
        now=now,
        stored_before=timedelta(seconds=config["SWEEP_AFTER_SECONDS"]),
        lookback=timedelta(hours=config["SWEEP_LOOKBACK_HOURS"]),
        limit=config["SWEEP_BATCH"],
    )
    chunk = config["CHUNK"]
    for start in range(0, len(ids), chunk):
        current_app.send_task(SCORING_TASK, args=[ids[start : start + chunk]])
    if ids:
        logger.warning("scoring sweeper: %d stored mentions had no score; enqueued", len(ids))
    return len(ids)


def scores_not_handed_off(
    *, now: datetime, scored_before: timedelta, lookback: timedelta, limit: int
) -> list[int]:
    """Live mentions scored between `lookback` and `scored_before` ago that the incident stage
    has not marked as seen, oldest first (the partial index on scores not handed off)."""
    return list(
        MentionScore.objects.filter(
            handed_off_at__isnull=True,
            scored_at__lte=now - scored_before,
            scored_at__gte=now - lookback,
            mention__origin=LIVE,
        )
        .order_by("scored_at", "mention_id")
        .values_list("mention_id", flat=True)[:limit]
    )


def sweep_scores_not_handed_off(*, now: datetime) -> int:
    """Re-send one batch of scored mentions the incident stage never saw; returns how many."""
    config = settings.PROTOCOLS
    ids = scores_not_handed_off(
        now=now,
        scored_before=timedelta(seconds=config["HANDOFF_SWEEP_AFTER_SECONDS"]),
        lookback=timedelta(hours=config["HANDOFF_SWEEP_LOOKBACK_HOURS"]),
        limit=config["HANDOFF_SWEEP_BATCH"],
    )
    chunk = settings.SCORING["CHUNK"]
    sent = 0
    for start in range(0, len(ids), chunk):
        if hand_off(ids[start : start + chunk]):
            sent += len(ids[start : start + chunk])
    if sent:
        logger.warning("hand-off sweeper: %d scored mentions not seen by incidents; re-sent", sent)
    return sent
