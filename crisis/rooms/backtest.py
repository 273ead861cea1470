"""The crisis backtest of a post-mortem's protocol draft: the crisis's own mentions, with the
week of history before them on the same topics (so the surge detector has its baseline),
replayed in time order through the one scoring path with the draft AND with the protocol the
crisis ran on (protocols.backtest's per-version replay: velocity, repeat complainants, the
crisis threshold per topic, exactly as a protocol backtest replays them).

It reports when each version would first have suggested a crisis on the crisis's topics
("with this draft the crisis would have been suggested N minutes earlier", or later, or
never) and the replayed mentions whose severity would change: counted all (those of the
crisis's window and those of the week before it, where an earlier suggestion comes from),
the newest MAX_LISTED listed, each marked as before the crisis or in it.

Bounded: at most MAX_MENTIONS mentions (the newest, so the crisis itself is always in; the
oldest history is what is left out). Up to SYNC_LIMIT it runs in the request; beyond, as the
Celery task crisis.rooms.tasks.run_crisis_backtest.
"""

import logging
from collections import Counter, deque
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from crisis.incidents.models import IncidentMention
from crisis.roles import Perm
from crisis.rooms import access
from crisis.rooms.impact import window_of
from crisis.rooms.models import Crisis, PostMortem
from crisis.rooms.postmortem import PostMortemError
from crisis.services.audit import record_audit_event
from crisis.services.permissions import require_permission
from monitoring.models import Mention
from protocols.backtest import _change as change_row
from protocols.backtest import _VersionReplay as VersionReplay
from protocols.models import MentionTopic

logger = logging.getLogger(__name__)

HISTORY = timedelta(days=7)
MAX_MENTIONS = 20_000
SYNC_LIMIT = 2_000
MAX_LISTED = 100
CHUNK = 500
# A backtest queued or running for longer than this was lost (a worker died): start afresh.
STALE_AFTER = timedelta(minutes=30)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


def replayed_mentions(crisis: Crisis, *, now: datetime) -> tuple[QuerySet[Mention], datetime]:
    """The mentions to replay (history + the crisis's own, oldest first, uncapped) and when
    the crisis's own begin (the start of its window)."""
    window = window_of(crisis, now=now)
    on_topics = MentionTopic.objects.filter(
        topic__in=list(crisis.topics or ()),
        origin=crisis.origin,
        published_at__gte=window.start - HISTORY,
        published_at__lte=window.end,
    ).values("mention_id")
    on_incidents = IncidentMention.objects.filter(
        incident__crisis_links__crisis=crisis, mention__published_at__lte=window.end
    ).values("mention_id")
    mentions = Mention.objects.filter(Q(pk__in=on_topics) | Q(pk__in=on_incidents))
    return mentions, window.start


def _first_crossing(crossings: dict[str, str], topics: list[str]) -> tuple[str | None, str]:
    """The earliest crisis suggestion a replay raised on one of the topics (by incidents or
    by a surge): (ISO time or None, the crossing's key)."""
    keys = {*topics, *(f"spike:{topic}" for topic in topics)}
    found = sorted((at, key) for key, at in crossings.items() if key in keys)
    return found[0] if found else (None, "")


def run_crisis_backtest(post_mortem: PostMortem, *, now: datetime) -> dict:
    """Replay and compare (see the module docstring); returns the result as stored."""
    crisis = post_mortem.crisis
    draft = post_mortem.protocol_draft
    mentions, crisis_start = replayed_mentions(crisis, now=now)
    total = mentions.count()
    if total > MAX_MENTIONS:
        newest = mentions.order_by("-published_at", "-id").values_list("pk", flat=True)
        mentions = Mention.objects.filter(pk__in=list(newest[:MAX_MENTIONS]))
    original, proposed = VersionReplay(crisis.protocol_version), VersionReplay(draft)
    moves: Counter[str] = Counter()
    # The newest changes are kept: those of the crisis and of the hours that led to it.
    listed: deque[dict] = deque(maxlen=MAX_LISTED)
    replayed = own = changed = changed_before = 0
    ordered = mentions.select_related("author").defer("raw").order_by("published_at", "id")
    for mention in ordered.iterator(chunk_size=CHUNK):
        before, after = original.score(mention), proposed.score(mention)
        replayed += 1
        in_crisis = mention.published_at >= crisis_start
        own += in_crisis
        if before.severity == after.severity:
            continue
        changed += 1
        changed_before += not in_crisis
        moves[f"{before.severity}>{after.severity}"] += 1
        listed.append({**change_row(mention, before, after), "before_crisis": not in_crisis})
    topics = list(crisis.topics or ())
    original_at, original_key = _first_crossing(original.crossings, topics)
    draft_at, draft_key = _first_crossing(proposed.crossings, topics)
    earlier = None
    if original_at and draft_at:
        earlier = round(
            (datetime.fromisoformat(original_at) - datetime.fromisoformat(draft_at)).total_seconds()
            / 60,
            1,
        )
    return {
        "status": DONE,
        "computed_at": now.isoformat(),
        "draft": {
            "pk": draft.pk,
            "number": draft.number,
            "updated_at": draft.updated_at.isoformat(),
        },
        "original": {"pk": crisis.protocol_version_id, "number": crisis.protocol_version.number},
        "mentions": replayed,
        "crisis_mentions": own,
        "history_mentions": replayed - own,
        "left_out": max(0, total - MAX_MENTIONS),
        "suggested": {
            "original": original_at,
            "original_by": original_key,
            "draft": draft_at,
            "draft_by": draft_key,
            "live": crisis.suggestion.raised_at.isoformat() if crisis.suggestion_id else None,
        },
        "minutes_earlier": earlier,
        "changed": changed,
        "changed_before_crisis": changed_before,
        "severity_moves": dict(moves),
        "changed_mentions": list(listed),
    }


def start_crisis_backtest(
    *, actor: AbstractBaseUser, post_mortem: PostMortem, now: datetime
) -> PostMortem:
    """A protocol editor backtests the post-mortem's draft on the crisis: at once when the
    replay is small, else queued for a worker (the page polls for the result)."""
    require_permission(actor, Perm.EDIT_PROTOCOL)
    with transaction.atomic():
        post_mortem = (
            PostMortem.objects.select_for_update(of=("self",))
            .select_related("crisis__protocol_version", "crisis__suggestion", "protocol_draft")
            .get(pk=post_mortem.pk)
        )
        crisis = post_mortem.crisis
        access.require_view(actor, crisis)
        if post_mortem.protocol_draft is None:
            raise PostMortemError(gettext("Create the protocol draft first."))
        if in_progress(post_mortem.backtest, now=now):
            return post_mortem
        mentions, _start = replayed_mentions(crisis, now=now)
        size = min(mentions.count(), MAX_MENTIONS)
        if size <= SYNC_LIMIT:
            post_mortem.backtest = run_crisis_backtest(post_mortem, now=now)
        else:
            post_mortem.backtest = {"status": QUEUED, "requested_at": now.isoformat(), "size": size}
            from crisis.rooms.tasks_postmortem import run_crisis_backtest as task

            pk = post_mortem.pk
            transaction.on_commit(lambda: task.delay(pk))
        post_mortem.save(update_fields=["backtest"])
        record_audit_event(
            actor=actor,
            verb="crisis.post_mortem.backtest",
            target=crisis,
            after={
                "post_mortem": post_mortem.pk,
                "protocol_version": post_mortem.protocol_draft_id,
                "mentions": size,
                "queued": post_mortem.backtest["status"] == QUEUED,
            },
        )
    return post_mortem


def in_progress(backtest: dict, *, now: datetime) -> bool:
    """Queued or running, and not lost (see STALE_AFTER)."""
    if backtest.get("status") not in (QUEUED, RUNNING):
        return False
    since = backtest.get("started_at") or backtest.get("requested_at")
    return bool(since) and datetime.fromisoformat(since) > now - STALE_AFTER


def run_queued_backtest(post_mortem_id: int, *, now: datetime) -> str:
    """The worker's part: run a queued backtest once (a second delivery finds it running or
    done; one left running by a worker that died is taken again once stale)."""
    stale = (now - STALE_AFTER).isoformat()
    claimed = (
        PostMortem.objects.filter(pk=post_mortem_id)
        .filter(
            Q(backtest__status=QUEUED) | Q(backtest__status=RUNNING, backtest__started_at__lt=stale)
        )
        .update(backtest={"status": RUNNING, "started_at": now.isoformat()})
    )
    if not claimed:
        return "skipped"
    post_mortem = PostMortem.objects.select_related(
        "crisis__protocol_version", "crisis__suggestion", "protocol_draft"
    ).get(pk=post_mortem_id)
    try:
        result = run_crisis_backtest(post_mortem, now=now)
    except Exception as error:
        logger.exception("crisis backtest of post-mortem %s failed", post_mortem_id)
        PostMortem.objects.filter(pk=post_mortem_id).update(
            backtest={"status": FAILED, "error": str(error)[:500], "at": now.isoformat()}
        )
        return FAILED
    PostMortem.objects.filter(pk=post_mortem_id).update(backtest=result)
    return DONE
