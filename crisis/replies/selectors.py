"""Reads of drafts and approvals: the approval queue (counts and one page of items, in a
constant number of queries) and the incident page's reply panel."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.utils import formats, timezone

from crisis.incidents import sla
from crisis.incidents.models import Incident, IncidentState
from crisis.incidents.selectors import SlaStatus
from crisis.incidents.transitions import can_act
from crisis.incidents.views.inbox import countdown
from crisis.models import AuditEvent
from crisis.replies import drafts
from crisis.replies.approvals import (
    AUTHORING_VERBS,
    approver_roles,
    escalate_minutes_by_version,
)
from crisis.replies.models import (
    LIVE_DRAFT_STATES,
    ApprovalDecision,
    Reply,
    ReplyApproval,
    ReplyPurpose,
    ReplyState,
)
from protocols import replies as rules
from protocols.schema import upgrade

QUEUE_PAGE_SIZE = 25
# Seconds between two refreshes of the approval queue.
QUEUE_REFRESH_SECONDS = 15
# Sent replies the incident panel lists (newest first).
HISTORY_LIMIT = 20


# --- The approval queue -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueItem:
    reply: Reply
    incident: Incident
    missing: list[str]
    approved_by: dict[str, str]  # role -> username, for the current revision
    waiting_since: datetime
    overdue: bool  # waiting longer than the protocol's approval_escalate_minutes
    sla_status: str
    sla_label: str
    due_iso: str
    due_local: str
    countdown: str
    is_own: bool  # the viewer wrote it: they may not decide on it
    already_approved: bool  # the viewer gave one of its approvals
    can_approve: bool
    can_send_back: bool


@dataclass(frozen=True, slots=True)
class ApprovalQueue:
    waiting: int
    overdue: int
    breached: int
    page: Page
    roles: list[str] = field(default_factory=list)


def waiting_for(viewer: AbstractBaseUser) -> QuerySet[Reply]:
    """Replies waiting for approval that the viewer sees: a supervisor every one, a legal
    reviewer those that need a legal approval."""
    roles = approver_roles(viewer)
    replies = Reply.objects.filter(state=ReplyState.AWAITING_APPROVAL)
    if rules.SUPERVISOR in roles:
        return replies
    if rules.LEGAL in roles:
        return replies.filter(approvers_required=[rules.SUPERVISOR, rules.LEGAL])
    return replies.none()


def _overdue_condition(minutes: dict[int, int], now: datetime) -> Q:
    condition = Q(pk__in=[])
    for version_id, limit in minutes.items():
        condition |= Q(
            protocol_version_id=version_id, submitted_at__lte=now - timedelta(minutes=limit)
        )
    return condition


def _breached_condition(now: datetime) -> Q:
    awaiting = Q(incident__awaiting_response_since__isnull=False) | Q(
        incident__first_response_at__isnull=True
    )
    return awaiting & (
        Q(incident__sla_breached_at__isnull=False) | Q(incident__sla_due_at__lte=now)
    )


def approval_queue(viewer: AbstractBaseUser, *, now: datetime, page: Any = 1) -> ApprovalQueue:
    """Counts (waiting, of which overdue for approval, of which the incident's SLA breached)
    and one page of items, oldest first."""
    replies = waiting_for(viewer)
    # approval_escalate_minutes of every protocol version the waiting replies use (one query).
    minutes = escalate_minutes_by_version(replies.values("protocol_version_id"))
    overdue = _overdue_condition(minutes, now)
    counts = replies.aggregate(
        waiting=Count("pk"),
        overdue=Count("pk", filter=overdue),
        breached=Count("pk", filter=_breached_condition(now)),
    )
    ordered = replies.select_related(
        "incident__author", "incident__first_mention", "drafted_by"
    ).order_by("submitted_at", "pk")
    paginator = Paginator(ordered, QUEUE_PAGE_SIZE)
    # The count is known already: no second COUNT query.
    paginator.__dict__["count"] = counts["waiting"]
    current = paginator.get_page(page)
    replies_on_page = list(current.object_list)
    given = _approvals_of(replies_on_page)
    roles = approver_roles(viewer)
    authored = _authored_by(viewer, replies_on_page)
    policy = sla.sla_policy()
    labels = dict(SlaStatus.choices)
    current.object_list = [
        _item(reply, viewer, roles, given, minutes, authored, policy, labels, now=now)
        for reply in replies_on_page
    ]
    return ApprovalQueue(
        waiting=counts["waiting"],
        overdue=counts["overdue"],
        breached=counts["breached"],
        page=current,
        roles=roles,
    )


def _approvals_of(replies: list[Reply]) -> dict[int, dict[str, tuple[int, str]]]:
    """reply id -> role -> (approver id, username), for each reply's current revision."""
    revisions = {reply.pk: reply.revision for reply in replies}
    given: dict[int, dict[str, tuple[int, str]]] = {pk: {} for pk in revisions}
    if not replies:
        return given
    rows = ReplyApproval.objects.filter(
        reply_id__in=list(revisions), decision=ApprovalDecision.APPROVED
    ).values_list("reply_id", "revision", "role", "decided_by_id", "decided_by__username")
    for reply_id, revision, role, user_id, username in rows:
        if revisions.get(reply_id) == revision:
            given[reply_id][role] = (user_id, username)
    return given


def _authored_by(viewer: AbstractBaseUser, replies: list[Reply]) -> set[int]:
    """The replies of the page the viewer wrote (drafted, or saved an edit of): one query."""
    own = {reply.pk for reply in replies if reply.drafted_by_id == viewer.pk}
    others = [str(reply.pk) for reply in replies if reply.pk not in own]
    if others:
        edited = AuditEvent.objects.filter(
            object_type=Reply._meta.label_lower,
            object_id__in=others,
            actor_id=viewer.pk,
            verb__in=AUTHORING_VERBS,
        ).values_list("object_id", flat=True)
        own.update(int(pk) for pk in edited)
    return own


def _item(
    reply: Reply,
    viewer: AbstractBaseUser,
    roles: list[str],
    given: dict[int, dict[str, tuple[int, str]]],
    minutes: dict[int, int],
    authored: set[int],
    policy: sla.SlaPolicy,
    labels: dict[str, Any],
    *,
    now: datetime,
) -> QueueItem:
    incident = reply.incident
    approvals = given.get(reply.pk, {})
    missing = [role for role in reply.approvers_required if role not in approvals]
    seconds_left = sla.seconds_left(incident, now=now)
    due = incident.sla_due_at if seconds_left is not None else None
    status = sla.sla_status(incident, now=now, policy=policy)
    limit = minutes.get(reply.protocol_version_id)
    overdue = bool(limit and reply.submitted_at + timedelta(minutes=limit) <= now)
    is_own = reply.pk in authored
    already = viewer.pk in {user_id for user_id, _name in approvals.values()}
    return QueueItem(
        reply=reply,
        incident=incident,
        missing=missing,
        approved_by={role: name for role, (_pk, name) in approvals.items()},
        waiting_since=reply.submitted_at,
        overdue=overdue,
        sla_status=status,
        sla_label=str(labels.get(status, status)),
        due_iso=due.isoformat() if due else "",
        due_local=formats.date_format(timezone.localtime(due), "SHORT_DATETIME_FORMAT")
        if due
        else "",
        countdown=countdown(seconds_left),
        is_own=is_own,
        already_approved=already,
        can_approve=not is_own and not already and any(role in roles for role in missing),
        can_send_back=bool(roles) and reply.drafted_by_id != viewer.pk,
    )


# --- The incident page's panel ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplyPanel:
    incident: Incident
    live: Reply | None
    history: list[Reply]
    can_act: bool
    can_start: bool
    checks: drafts.DraftChecks | None
    missing: list[str]
    approved_by: dict[str, str]
    template_choices: list[drafts.TemplateChoice]
    default_language: str
    character_limit: int | None
    sent_back_by: str


def reply_panel(incident: Incident, viewer: AbstractBaseUser) -> ReplyPanel:
    """What the incident page's reply panel shows: the live reply (editable if the viewer may
    act), the replies already sent, and what a new reply could start from."""
    replies = list(
        Reply.objects.filter(incident=incident)
        .exclude(state=ReplyState.DISCARDED)
        .select_related("drafted_by", "sent_by", "account", "in_reply_to")
        .order_by("-created_at", "-pk")[: HISTORY_LIMIT + 1]
    )
    live = next((reply for reply in replies if reply.state in LIVE_DRAFT_STATES), None)
    history = [reply for reply in replies if reply is not live][:HISTORY_LIMIT]
    acting = can_act(viewer, incident)
    config = upgrade(incident.protocol_version.config)
    language = drafts.default_language(incident)
    checks = None
    missing: list[str] = []
    approved_by: dict[str, str] = {}
    sent_back_by = ""
    if live is not None:
        live.incident = incident
        checks = drafts.checks_for(live, config)
        decisions = list(
            live.approvals.filter(revision__lte=live.revision)
            .select_related("decided_by")
            .order_by("-decided_at", "-pk")
        )
        approved_by = {
            decision.role: decision.decided_by.get_username()
            for decision in decisions
            if decision.revision == live.revision and decision.decision == ApprovalDecision.APPROVED
        }
        missing = [role for role in live.approvers_required if role not in approved_by]
        if live.sent_back_comment:
            sent_back_by = next(
                (
                    decision.decided_by.get_username()
                    for decision in decisions
                    if decision.decision == ApprovalDecision.SENT_BACK
                ),
                "",
            )
    choices = []
    for choice_language in drafts.LANGUAGES:
        choices += drafts.template_choices(
            config, incident, language=choice_language, purpose=ReplyPurpose.ANSWER
        )
    return ReplyPanel(
        incident=incident,
        live=live,
        history=history,
        can_act=acting,
        can_start=acting
        and live is None
        and incident.state not in (IncidentState.RESOLVED, IncidentState.CLOSED),
        checks=checks,
        missing=missing,
        approved_by=approved_by,
        template_choices=choices,
        default_language=language,
        character_limit=drafts.character_limit(incident.first_mention.platform),
        sent_back_by=sent_back_by,
    )
