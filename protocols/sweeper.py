"""The scoring sweeper: stored mentions that never got a score are enqueued for scoring again.

The hand-off from monitoring is sent after commit; when the broker is unreachable at that
moment, or a scoring task runs out of retries, the mentions stay stored without a score.
Beat runs this every minute, so nothing is left unscored for good.
"""

import logging
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings

from monitoring.models import Mention

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
