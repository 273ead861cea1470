"""The action plan and the decisions log of a crisis room (practices 12 and 13): tasks with an
owner, a department, a due time, a status and an indicator to follow; overdue tasks highlighted
and told to their owner once; decisions recorded with what, who and why, append-only.

Every write takes the acting user and `now`, runs in one transaction, checks `access`, and is
audited with the Crisis as target (the task or decision id in `after`) so the timeline reads it.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop

from crisis.notifications.models import NotificationKind
from crisis.notifications.services import notify
from crisis.rooms import access
from crisis.rooms.models import (
    CabinetMember,
    Crisis,
    CrisisStatus,
    Decision,
    Department,
    Task,
    TaskStatus,
)
from crisis.services.audit import record_audit_event

logger = logging.getLogger(__name__)

OPEN_TASK_STATES = (TaskStatus.TODO, TaskStatus.DOING)
TITLE_MAX_LENGTH = Task._meta.get_field("title").max_length
INDICATOR_MAX_LENGTH = Task._meta.get_field("indicator").max_length
DECIDED_BY_TEXT_MAX_LENGTH = Decision._meta.get_field("decided_by_text").max_length
DECISION_TEXT_MAX_LENGTH = 5_000
# What an audit event keeps of a long text.
AUDIT_TEXT_LIMIT = 500
# Due times and decision times inside a sane window (nothing decades away).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# One sweep tells at most this many owners; the next beat tick takes the rest.
OVERDUE_BATCH = 500


class PlanGroup:
    """How the plan list is grouped: overdue first, then in progress, to do, done, cancelled."""

    OVERDUE = 0
    DOING = 1
    TODO = 2
    DONE = 3
    CANCELLED = 4


# --- input -----------------------------------------------------------------------------------


def clean_text(value: Any, *, limit: int, required: bool = True, field: str = "text") -> str:
    """Text a person typed: no NUL, trimmed, within `limit`; required unless told."""
    text = str(value or "").replace("\x00", "").strip()
    # Lone surrogates cannot be stored or shown: drop them.
    text = text.encode("utf-8", "ignore").decode("utf-8") if text else text
    if required and not text:
        raise ValidationError(gettext("This field cannot be empty."), code=field)
    if len(text) > limit:
        raise ValidationError(
            gettext("Keep it under %(limit)s characters.") % {"limit": limit}, code=field
        )
    return text


def clean_moment(value: datetime | None, *, required: bool = False) -> datetime | None:
    """An aware time inside the sane window (None when allowed)."""
    if value is None:
        if required:
            raise ValidationError(gettext("Give a date and time."), code="when")
        return None
    if value.tzinfo is None or not EARLIEST <= value < LATEST:
        raise ValidationError(gettext("Choose a date between 2000 and 2100."), code="when")
    return value


def require_record_open(crisis: Crisis) -> None:
    if crisis.status == CrisisStatus.POST_MORTEM_DONE:
        raise ValidationError(
            gettext("The post-mortem of this crisis is done: its record is closed."),
            code="closed",
        )


def _require_owner_can_act(owner: AbstractBaseUser | None, crisis: Crisis) -> None:
    if owner is not None and not access.can_act(owner, crisis):
        raise ValidationError(
            gettext("%(name)s cannot act in this crisis room: give the task to someone in it.")
            % {"name": owner.get_username()},
            code="owner",
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _short(text: str) -> str:
    return text if len(text) <= AUDIT_TEXT_LIMIT else text[: AUDIT_TEXT_LIMIT - 1] + "…"


# --- reading ---------------------------------------------------------------------------------


def owner_choices(crisis: Crisis) -> QuerySet:
    """Who may own a task: the people seated in the cabinet (supervisors may name themselves;
    the form adds the acting supervisor)."""
    return (
        get_user_model()
        .objects.filter(
            cabinet_seats__crisis=crisis,
            cabinet_seats__removed_at__isnull=True,
            is_active=True,
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def plan_tasks(crisis: Crisis, *, now: datetime) -> QuerySet[Task]:
    """The crisis's tasks, grouped for the plan list (`group` as PlanGroup, `is_overdue`):
    overdue first, then in progress, to do, done, cancelled; soonest due first in each."""
    overdue = Q(status__in=OPEN_TASK_STATES, due_at__lt=now)
    return (
        Task.objects.filter(crisis=crisis)
        .select_related("owner", "department", "commitment")
        .annotate(
            group=Case(
                When(overdue, then=Value(PlanGroup.OVERDUE)),
                When(status=TaskStatus.DOING, then=Value(PlanGroup.DOING)),
                When(status=TaskStatus.TODO, then=Value(PlanGroup.TODO)),
                When(status=TaskStatus.DONE, then=Value(PlanGroup.DONE)),
                default=Value(PlanGroup.CANCELLED),
                output_field=IntegerField(),
            )
        )
        .order_by("group", "due_at", "id")
    )


@dataclass(frozen=True, slots=True)
class PlanCounts:
    total: int
    open: int
    overdue: int
    done: int
    cancelled: int


def plan_counts(crisis: Crisis, *, now: datetime) -> PlanCounts:
    """How many tasks in each state (one query)."""
    counts = Task.objects.filter(crisis=crisis).aggregate(
        total=Count("id"),
        open=Count("id", filter=Q(status__in=OPEN_TASK_STATES)),
        overdue=Count("id", filter=Q(status__in=OPEN_TASK_STATES, due_at__lt=now)),
        done=Count("id", filter=Q(status=TaskStatus.DONE)),
        cancelled=Count("id", filter=Q(status=TaskStatus.CANCELLED)),
    )
    return PlanCounts(**counts)


def is_overdue(task: Task, *, now: datetime) -> bool:
    return task.status in OPEN_TASK_STATES and task.due_at is not None and task.due_at < now


def crisis_decisions(crisis: Crisis) -> QuerySet[Decision]:
    """The decisions log, newest first."""
    return Decision.objects.filter(crisis=crisis).select_related("decided_by", "recorded_by")


def room_url(crisis: Crisis) -> str:
    return reverse("rooms:room", args=[crisis.pk])


# --- tasks -----------------------------------------------------------------------------------


def add_task(
    *,
    actor: AbstractBaseUser,
    crisis: Crisis,
    title: str,
    owner: AbstractBaseUser | None = None,
    department: Department | None = None,
    due_at: datetime | None = None,
    indicator: str = "",
    now: datetime,
) -> Task:
    """Whoever acts in the room adds a task to the plan. Without a department, the owner's
    cabinet seat gives it."""
    title = clean_text(title, limit=TITLE_MAX_LENGTH, field="title")
    indicator = clean_text(indicator, limit=INDICATOR_MAX_LENGTH, required=False)
    due_at = clean_moment(due_at)
    with transaction.atomic():
        crisis = locked_crisis(crisis)
        access.require_act(actor, crisis)
        require_record_open(crisis)
        _require_owner_can_act(owner, crisis)
        if department is None and owner is not None:
            department = _seat_department(owner, crisis)
        task = Task.objects.create(
            crisis=crisis,
            title=title,
            owner=owner,
            department=department,
            due_at=due_at,
            indicator=indicator,
            created_by=actor,
            created_at=now,
        )
        record_audit_event(
            actor=actor,
            verb="crisis.task_add",
            target=crisis,
            after={**_task_facts(task), "status": task.status},
        )
    return task


def update_task(
    *,
    actor: AbstractBaseUser,
    task: Task,
    title: str,
    owner: AbstractBaseUser | None,
    department: Department | None,
    due_at: datetime | None,
    indicator: str = "",
    now: datetime,
) -> Task:
    """Change what a task says (its status moves with `set_task_status`). A new due time
    re-arms the overdue notice, so a re-dated task is told again when it passes."""
    title = clean_text(title, limit=TITLE_MAX_LENGTH, field="title")
    indicator = clean_text(indicator, limit=INDICATOR_MAX_LENGTH, required=False)
    due_at = clean_moment(due_at)
    with transaction.atomic():
        task = _locked_task(task)
        crisis = task.crisis
        access.require_act(actor, crisis)
        require_record_open(crisis)
        if owner is not None and owner.pk != task.owner_id:
            _require_owner_can_act(owner, crisis)
        before = _task_facts(task)
        task.title, task.owner, task.department = title, owner, department
        task.indicator = indicator
        if due_at != task.due_at:
            task.due_at = due_at
            task.overdue_notified_at = None
        after = _task_facts(task)
        if after == before:
            return task
        task.save(
            update_fields=[
                "title",
                "owner",
                "department",
                "due_at",
                "indicator",
                "overdue_notified_at",
            ]
        )
        changed = [key for key in after if after[key] != before[key]]
        record_audit_event(
            actor=actor,
            verb="crisis.task_update",
            target=crisis,
            before={key: before[key] for key in changed},
            after={"task": task.pk, "title": task.title, "status": task.status}
            | {key: after[key] for key in changed},
        )
    return task


def set_task_status(*, actor: AbstractBaseUser, task: Task, status: str, now: datetime) -> Task:
    """Move a task to to-do, in progress, done or cancelled (done records when)."""
    if status not in TaskStatus.values:
        raise ValidationError(gettext("Choose one of the listed statuses."), code="status")
    with transaction.atomic():
        task = _locked_task(task)
        crisis = task.crisis
        access.require_act(actor, crisis)
        require_record_open(crisis)
        if task.status == status:
            raise ValidationError(
                gettext("This task is already %(status)s.")
                % {"status": str(TaskStatus(status).label).lower()},
                code="status",
            )
        before = task.status
        task.status = status
        task.done_at = now if status == TaskStatus.DONE else None
        task.save(update_fields=["status", "done_at"])
        record_audit_event(
            actor=actor,
            verb="crisis.task_status",
            target=crisis,
            before={"task": task.pk, "status": before},
            after={"task": task.pk, "title": task.title, "status": status},
        )
    return task


def locked_crisis(crisis: Crisis) -> Crisis:
    return Crisis.objects.select_for_update().get(pk=crisis.pk)


def _locked_task(task: Task) -> Task:
    return (
        Task.objects.select_for_update(of=("self",))
        .select_related("crisis", "owner", "department")
        .get(pk=task.pk)
    )


def _seat_department(user: AbstractBaseUser, crisis: Crisis) -> Department | None:
    seat = (
        CabinetMember.objects.select_related("department")
        .filter(crisis=crisis, user=user, removed_at__isnull=True)
        .first()
    )
    return seat.department if seat else None


def _task_facts(task: Task) -> dict[str, Any]:
    return {
        "task": task.pk,
        "title": task.title,
        "owner": task.owner.get_username() if task.owner_id else None,
        "department": task.department.key if task.department_id else None,
        "due_at": _iso(task.due_at),
        "indicator": task.indicator,
    }


# --- overdue ---------------------------------------------------------------------------------


def notify_overdue_tasks(*, now: datetime) -> int:
    """Tell the owner of each open task past its due time, once per due time (the commander
    when nobody owns it). Rows are claimed with SKIP LOCKED, so two sweeps never both tell."""
    with transaction.atomic():
        overdue = list(
            Task.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(
                status__in=OPEN_TASK_STATES,
                due_at__lt=now,
                overdue_notified_at__isnull=True,
            )
            .exclude(crisis__status=CrisisStatus.POST_MORTEM_DONE)
            .select_related("crisis")
            .order_by("due_at", "id")[:OVERDUE_BATCH]
        )
        if not overdue:
            return 0
        Task.objects.filter(pk__in=[task.pk for task in overdue]).update(overdue_notified_at=now)
        for task in overdue:
            recipient = task.owner_id or task.crisis.commander_id
            notify_after_commit(
                user_ids=[recipient],
                kind=NotificationKind.TASK_OVERDUE,
                title=(
                    gettext_noop("Crisis task overdue: %(title)s (%(crisis)s)"),
                    {"title": task.title[:120], "crisis": task.crisis.title[:80]},
                ),
                url=room_url(task.crisis) + "#plan",
                dedupe_key=f"task:{task.pk}:overdue:{int(task.due_at.timestamp())}",
                now=now,
                origin=task.crisis.origin,
            )
    return len(overdue)


def notify_after_commit(
    *,
    user_ids: list[int],
    kind: str,
    title: Any,
    url: str,
    dedupe_key: str,
    now: datetime,
    origin: str,
) -> None:
    """Tell people once the change is committed; a database error then is only logged."""
    ids = [pk for pk in user_ids if pk]
    if not ids:
        return

    def send() -> None:
        try:
            notify(
                users=get_user_model().objects.filter(pk__in=ids),
                kind=kind,
                title=title,
                url=url,
                dedupe_key=dedupe_key,
                now=now,
                origin=origin,
            )
        except DatabaseError as error:
            logger.error(
                "%s notification %s not stored (%s)", kind, dedupe_key, type(error).__name__
            )

    transaction.on_commit(send, robust=True)


# --- decisions -------------------------------------------------------------------------------


def record_decision(
    *,
    actor: AbstractBaseUser,
    crisis: Crisis,
    what: str,
    why: str,
    decided_by: AbstractBaseUser | None = None,
    decided_by_text: str = "",
    decided_at: datetime | None = None,
    now: datetime,
) -> Decision:
    """Append a decision to the log (what, who, why). A decision is never edited: a
    correction is a new decision."""
    what = clean_text(what, limit=DECISION_TEXT_MAX_LENGTH, field="what")
    why = clean_text(why, limit=DECISION_TEXT_MAX_LENGTH, field="why")
    decided_by_text = clean_text(
        decided_by_text, limit=DECIDED_BY_TEXT_MAX_LENGTH, required=False, field="decided_by"
    )
    if decided_by is None and not decided_by_text:
        raise ValidationError(
            gettext("Say who decided: a person in Calma, or as written."), code="decided_by"
        )
    decided_at = clean_moment(decided_at) or now
    if decided_at > now:
        raise ValidationError(gettext("A decision cannot be in the future."), code="when")
    with transaction.atomic():
        crisis = locked_crisis(crisis)
        access.require_act(actor, crisis)
        require_record_open(crisis)
        decision = Decision.objects.create(
            crisis=crisis,
            what=what,
            why=why,
            decided_by=decided_by,
            decided_by_text=decided_by_text if decided_by is None else "",
            decided_at=decided_at,
            recorded_by=actor,
        )
        record_audit_event(
            actor=actor,
            verb="crisis.decision",
            target=crisis,
            after={
                "decision": decision.pk,
                "what": _short(what),
                "why": _short(why),
                "decided_by": decided_by_name(decision),
                "decided_at": _iso(decided_at),
            },
        )
    return decision


def decided_by_name(decision: Decision) -> str:
    if decision.decided_by_id:
        user = decision.decided_by
        return user.get_full_name() or user.get_username()
    return decision.decided_by_text
