"""Crisis-room section tag (see templates/rooms/room.html): the action plan, the decisions
log, the crisis's compensation budget, the volume chart and the latest timeline events."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext

from crisis.roles import Perm
from crisis.rooms import access, plan
from crisis.rooms.budget import can_set_budget, crisis_budget
from crisis.rooms.charts import chart_title, volume_chart
from crisis.rooms.forms_plan import (
    CrisisBudgetForm,
    DecisionForm,
    TaskForm,
    TimelineEntryForm,
)
from crisis.rooms.models import Crisis, CrisisStatus, TaskStatus
from crisis.rooms.plan import PlanGroup
from crisis.rooms.timeline import LATEST_EVENTS, hourly_volume, latest_events

register = template.Library()

# The room shows this many tasks and decisions; the plan page lists them all, paginated.
TASKS_SHOWN = 50
DECISIONS_SHOWN = 10
# The statuses a task can be moved to with one button, from each status.
QUICK_MOVES = {
    TaskStatus.TODO: (TaskStatus.DOING, TaskStatus.DONE),
    TaskStatus.DOING: (TaskStatus.DONE, TaskStatus.TODO),
    TaskStatus.DONE: (TaskStatus.TODO,),
    TaskStatus.CANCELLED: (TaskStatus.TODO,),
}


def group_labels() -> dict[int, str]:
    return {
        PlanGroup.OVERDUE: gettext("Overdue"),
        PlanGroup.DOING: gettext("In progress"),
        PlanGroup.TODO: gettext("To do"),
        PlanGroup.DONE: gettext("Done"),
        PlanGroup.CANCELLED: gettext("Cancelled"),
    }


def decorate_tasks(tasks, *, now: datetime, can_act: bool) -> list:
    """Each task with what its row shows: its group's name, overdue or not, its quick moves."""
    labels = group_labels()
    decorated = []
    for task in tasks:
        task.group_label = labels.get(getattr(task, "group", None), "")
        task.overdue = plan.is_overdue(task, now=now)
        task.moves = [(status, TaskStatus(status).label) for status in QUICK_MOVES[task.status]]
        task.can_cancel = can_act and task.status in plan.OPEN_TASK_STATES
        decorated.append(task)
    return decorated


def plan_context(crisis: Crisis, user, *, now: datetime, **extra) -> dict:
    """What templates/rooms/partials/plan_section.html shows (fresh from the database)."""
    can_act = access.can_act(user, crisis)
    writable = can_act and crisis.status != CrisisStatus.POST_MORTEM_DONE
    tasks = list(plan.plan_tasks(crisis, now=now)[: TASKS_SHOWN + 1])
    decisions = list(plan.crisis_decisions(crisis)[: DECISIONS_SHOWN + 1])
    sets_budget = writable and can_set_budget(user)
    context = {
        "crisis": crisis,
        "now": now,
        "can_act": writable,
        "sees_incidents": bool(user is not None and user.has_perm(Perm.TRIAGE)),
        "counts": plan.plan_counts(crisis, now=now),
        "tasks": decorate_tasks(tasks[:TASKS_SHOWN], now=now, can_act=writable),
        "more_tasks": len(tasks) > TASKS_SHOWN,
        "decisions": decisions[:DECISIONS_SHOWN],
        "more_decisions": len(decisions) > DECISIONS_SHOWN,
        "budget": crisis_budget(crisis),
        "can_set_budget": sets_budget,
        "events": latest_events(crisis, limit=LATEST_EVENTS),
        "chart": volume_chart(
            hourly_volume(crisis, now=now),
            title=chart_title(crisis.title),
            chart_id=f"crisis-{crisis.pk}-volume",
        ),
    }
    if writable:
        context.setdefault(
            "task_form", TaskForm(crisis=crisis, actor=user, prefix="task", auto_id="plan-%s")
        )
        context.setdefault(
            "decision_form",
            DecisionForm(crisis=crisis, actor=user, prefix="decision", auto_id="plan-%s"),
        )
        context.setdefault("entry_form", TimelineEntryForm(prefix="entry", auto_id="plan-%s"))
    if sets_budget:
        context.setdefault(
            "budget_form",
            CrisisBudgetForm(
                now=now,
                prefix="budget",
                auto_id="plan-%s",
                initial={"budget": crisis.budget_id, "amount": crisis.budget_amount},
            ),
        )
    context.update({key: value for key, value in extra.items() if value is not None})
    return context


@register.inclusion_tag("rooms/partials/plan_section.html", takes_context=True)
def plan_section(context, crisis):
    """Action plan, decisions, timeline and the crisis's compensation budget."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return plan_context(crisis, user, now=timezone.now()) | {"request": request}
