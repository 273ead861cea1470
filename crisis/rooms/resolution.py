"""Resolving a crisis: the criteria computed from the data (volume back to baseline, incidents
answered, statement published, commitments met or re-dated) and the resolution itself.

Only the commander or a supervisor resolves (access.require_resolve). Resolving is allowed
with unmet criteria (the commander judges), but the criteria as they stood are recorded in
the audit event, so the timeline and the post-mortem show what was still open.

Status edges taken here (crisis.rooms.crises.ALLOWED_MOVES): active → resolved and
contained → resolved; the post-mortem takes resolved → post-mortem done.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext

from crisis.incidents.models import IncidentState
from crisis.rooms import access
from crisis.rooms.crises import check_move
from crisis.rooms.impact import first_serious_mention_at, linked_incidents
from crisis.rooms.models import (
    Commitment,
    Crisis,
    CrisisStatus,
    PublicationState,
    StatementState,
    StatementVersion,
    TaskStatus,
)
from crisis.services.audit import record_audit_event
from protocols.models import MentionTopic

# The usual rate is the hourly mean of this long before the crisis's first serious mention.
BASELINE_SPAN = timedelta(days=7)
NOTE_MAX_LENGTH = 2_000
UNANSWERED_LISTED = 10

VOLUME = "volume"
INCIDENTS = "incidents"
STATEMENT = "statement"
COMMITMENTS = "commitments"


def criterion_label(key: str) -> str:
    """A criterion's name in the reader's language (the audit event keeps only its key)."""
    labels = {
        VOLUME: gettext("Volume back to its usual rate"),
        INCIDENTS: gettext("Open incidents answered"),
        STATEMENT: gettext("Statement published"),
        COMMITMENTS: gettext("Commitments met or re-dated"),
    }
    return labels.get(key, key)


@dataclass(frozen=True, slots=True)
class Criterion:
    key: str
    label: str
    # True met, False not met, None cannot be measured (e.g. a crisis without topics).
    met: bool | None
    detail: str
    figures: dict[str, Any] = field(default_factory=dict)


def _crisis_topic_rows(crisis: Crisis):
    """The stored topic rows of the crisis's topics (index on topic and time), read directly,
    not from any rollup."""
    return MentionTopic.objects.filter(topic__in=list(crisis.topics or ()), origin=crisis.origin)


def _distinct(rows) -> int:
    return rows.aggregate(count=Count("mention_id", distinct=True))["count"]


def volume_criterion(crisis: Crisis, *, now: datetime) -> Criterion:
    """Mentions on the crisis's topics in the last hour, each once, against the hourly mean
    of the 7 days before the crisis's first serious mention (or its declaration)."""
    label = criterion_label(VOLUME)
    if not crisis.topics:
        return Criterion(VOLUME, label, None, gettext("The crisis has no topics to measure."))
    reference = first_serious_mention_at(crisis, until=now) or crisis.declared_at
    rows = _crisis_topic_rows(crisis)
    usual_count = _distinct(
        rows.filter(published_at__gte=reference - BASELINE_SPAN, published_at__lt=reference)
    )
    usual = usual_count / (BASELINE_SPAN.total_seconds() / 3600)
    last_hour = _distinct(
        rows.filter(published_at__gt=now - timedelta(hours=1), published_at__lte=now)
    )
    met = last_hour <= math.ceil(usual)
    detail = gettext(
        "%(count)s in the last hour; usual rate %(usual)s an hour (the 7 days before %(since)s)."
    ) % {
        "count": ngettext("%(n)s mention", "%(n)s mentions", last_hour) % {"n": last_hour},
        "usual": formats.number_format(round(usual, 2), 2),
        "since": formats.date_format(timezone.localtime(reference), "SHORT_DATETIME_FORMAT"),
    }
    return Criterion(
        VOLUME,
        label,
        met,
        detail,
        {
            "last_hour": last_hour,
            "usual_per_hour": round(usual, 2),
            "baseline_before": reference.isoformat(),
        },
    )


def incidents_criterion(crisis: Crisis) -> Criterion:
    label = criterion_label(INCIDENTS)
    incidents = linked_incidents(crisis)
    total = incidents.count()
    unanswered = list(
        incidents.filter(first_response_at__isnull=True)
        .exclude(state__in=(IncidentState.RESOLVED, IncidentState.CLOSED))
        .order_by("opened_at", "pk")
        .values_list("pk", flat=True)
    )
    if not total:
        detail = gettext("No incident is linked to the crisis.")
    elif unanswered:
        shown = ", ".join(f"#{pk}" for pk in unanswered[:UNANSWERED_LISTED])
        if len(unanswered) > UNANSWERED_LISTED:
            shown += " …"
        detail = ngettext(
            "%(count)s of %(total)s incidents still awaits a first response: %(ids)s.",
            "%(count)s of %(total)s incidents still await a first response: %(ids)s.",
            len(unanswered),
        ) % {"count": len(unanswered), "total": total, "ids": shown}
    else:
        detail = ngettext(
            "The incident was answered or closed.",
            "All %(total)s incidents were answered or closed.",
            total,
        ) % {"total": total}
    return Criterion(
        INCIDENTS,
        label,
        not unanswered,
        detail,
        {"incidents": total, "unanswered": len(unanswered), "unanswered_ids": unanswered[:50]},
    )


def statement_criterion(crisis: Crisis) -> Criterion:
    label = criterion_label(STATEMENT)
    approved = (
        StatementVersion.objects.filter(statement__crisis=crisis, state=StatementState.APPROVED)
        .order_by("-number")
        .first()
    )
    if approved is None:
        return Criterion(
            STATEMENT, label, False, gettext("No approved statement yet."), {"approved": None}
        )
    states = list(approved.publications.values_list("state", flat=True))
    published = sum(1 for state in states if state == PublicationState.PUBLISHED)
    if not states:
        detail = gettext("Version %(number)s is approved but has no channel to publish on.") % {
            "number": approved.number
        }
    else:
        detail = gettext(
            "Version %(number)s: published on %(published)s of %(total)s channels."
        ) % {
            "number": approved.number,
            "published": published,
            "total": len(states),
        }
    return Criterion(
        STATEMENT,
        label,
        bool(states) and published == len(states),
        detail,
        {"approved": approved.number, "channels": len(states), "published": published},
    )


def commitments_criterion(crisis: Crisis, *, now: datetime) -> Criterion:
    label = criterion_label(COMMITMENTS)
    commitments = list(
        Commitment.objects.filter(version__statement__crisis=crisis).select_related("task")
    )
    open_states = (TaskStatus.TODO, TaskStatus.DOING)
    done = sum(1 for item in commitments if item.task.status == TaskStatus.DONE)
    overdue = [
        item
        for item in commitments
        if item.task.status in open_states and item.task.due_at and item.task.due_at < now
    ]
    redated = sum(
        1
        for item in commitments
        if item.task.status in open_states
        and item.task.due_at
        and item.task.due_at > item.due_at
        and item not in overdue
    )
    if not commitments:
        detail = gettext("The statement made no commitment.")
    else:
        detail = gettext(
            "%(done)s of %(total)s met, %(redated)s re-dated, %(overdue)s overdue."
        ) % {
            "done": done,
            "total": len(commitments),
            "redated": redated,
            "overdue": len(overdue),
        }
    return Criterion(
        COMMITMENTS,
        label,
        not overdue,
        detail,
        {
            "commitments": len(commitments),
            "met": done,
            "redated": redated,
            "overdue": len(overdue),
        },
    )


def resolution_criteria(crisis: Crisis, *, now: datetime) -> list[Criterion]:
    """The four criteria, in the order the room shows them (a handful of queries)."""
    return [
        volume_criterion(crisis, now=now),
        incidents_criterion(crisis),
        statement_criterion(crisis),
        commitments_criterion(crisis, now=now),
    ]


def criteria_record(criteria: list[Criterion]) -> dict[str, dict[str, Any]]:
    """The criteria as the audit event keeps them (keys and figures, no translated text)."""
    return {item.key: {"met": item.met, **item.figures} for item in criteria}


def _locked(crisis: Crisis) -> Crisis:
    return Crisis.objects.select_for_update().get(pk=crisis.pk)


def clean_note(note: str) -> str:
    return (note or "").replace("\x00", "").strip()[:NOTE_MAX_LENGTH]


def resolve_crisis(
    *, actor: AbstractBaseUser, crisis: Crisis, note: str = "", now: datetime
) -> Crisis:
    """Resolve an active or contained crisis (the commander or a supervisor). Unmet criteria
    do not stop it; they are recorded in the audit event with the figures of every criterion."""
    with transaction.atomic():
        crisis = _locked(crisis)
        access.require_resolve(actor, crisis)
        check_move(crisis, CrisisStatus.RESOLVED)
        criteria = resolution_criteria(crisis, now=now)
        before = {"status": crisis.status}
        crisis.status = CrisisStatus.RESOLVED
        crisis.resolved_at = now
        crisis.resolved_by = actor
        crisis.save(update_fields=["status", "resolved_at", "resolved_by", "updated_at"])
        record_audit_event(
            actor=actor,
            verb="crisis.resolve",
            target=crisis,
            before=before,
            after={
                "status": CrisisStatus.RESOLVED.value,
                "at": now.isoformat(),
                "note": clean_note(note),
                "unmet": [item.key for item in criteria if item.met is False],
                "criteria": criteria_record(criteria),
            },
        )
    return crisis
