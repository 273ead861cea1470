"""Pages of the plan slice of crisis rooms: tasks (add, edit, move), decisions, the timeline
(the whole of it, manual entries, pinned mentions) and the crisis's compensation budget.

An action sent by htmx from the room answers with the room's plan section (#plan); without
htmx it goes back to the room (or shows its form again, with the errors). Every action also has
a page of its own on GET, so the room works without JavaScript. A refusal is a message, never a
500."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from crisis.roles import Perm
from crisis.rooms import access, plan, timeline
from crisis.rooms.budget import can_set_budget, set_crisis_budget
from crisis.rooms.charts import chart_title, volume_chart
from crisis.rooms.forms_plan import (
    CrisisBudgetForm,
    DecisionForm,
    PinMentionForm,
    TaskForm,
    TaskStatusForm,
    TimelineEntryForm,
)
from crisis.rooms.models import Crisis, CrisisStatus, Task, TaskStatus
from crisis.rooms.templatetags.plan_tags import decorate_tasks, plan_context

TASKS_PER_PAGE = 25
DECISIONS_PER_PAGE = 20
SECTION_TEMPLATE = "rooms/partials/plan_section.html"
FORM_TEMPLATE = "rooms/plan_form.html"


# --- helpers ---------------------------------------------------------------------------------


def _crisis(request: HttpRequest, pk: int) -> Crisis:
    """The crisis if the viewer may see it: 404 when it does not exist, 403 otherwise."""
    try:
        crisis = Crisis.objects.select_related("commander", "budget", "suggestion").get(pk=pk)
    except Crisis.DoesNotExist as missing:
        raise Http404 from missing
    access.require_view(request.user, crisis)
    return crisis


def _acting_crisis(request: HttpRequest, pk: int) -> Crisis:
    crisis = _crisis(request, pk)
    access.require_act(request.user, crisis)
    return crisis


def _task(request: HttpRequest, pk: int) -> Task:
    try:
        task = Task.objects.select_related("crisis", "owner", "department").get(pk=pk)
    except Task.DoesNotExist as missing:
        raise Http404 from missing
    access.require_act(request.user, task.crisis)
    return task


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _refusal(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def _section(request: HttpRequest, crisis: Crisis, **extra) -> HttpResponse:
    """The room's plan section as htmx swaps it in (fresh from the database)."""
    crisis = Crisis.objects.select_related("commander", "budget", "suggestion").get(pk=crisis.pk)
    context = plan_context(crisis, request.user, now=timezone.now(), **extra)
    return render(request, SECTION_TEMPLATE, context)


def _back_to(crisis: Crisis, request: HttpRequest) -> str:
    """Where a plain (not htmx) action goes back to: the timeline or plan page it was sent
    from, else the room's plan section."""
    back = request.POST.get("return_to")
    if back == "timeline":
        return reverse("rooms:timeline", args=[crisis.pk])
    if back == "plan":
        return reverse("rooms:plan", args=[crisis.pk])
    return reverse("rooms:room", args=[crisis.pk]) + "#plan"


def _from_the_room(request: HttpRequest) -> bool:
    """An htmx request from the room's plan section (answered with the section)."""
    return _is_htmx(request) and not request.POST.get("return_to")


def _done(request: HttpRequest, crisis: Crisis, message: str) -> HttpResponse:
    if _from_the_room(request):
        return _section(request, crisis, notice=message)
    messages.success(request, message)
    return redirect(_back_to(crisis, request))


def _refused(request: HttpRequest, crisis: Crisis, message: str) -> HttpResponse:
    if _from_the_room(request):
        return _section(request, crisis, error=message)
    messages.error(request, message)
    return redirect(_back_to(crisis, request))


def _form_page(
    request: HttpRequest,
    crisis: Crisis,
    *,
    form,
    form_name: str,
    title: str,
    action: str,
    submit: str,
    intro: str = "",
) -> HttpResponse:
    """A form on a page of its own (GET, or a POST with errors); over htmx, the section with
    the form open and its errors."""
    if form.is_bound and _from_the_room(request):
        return _section(request, crisis, **{form_name: form, "error": gettext("Check the form.")})
    return render(
        request,
        FORM_TEMPLATE,
        {
            "crisis": crisis,
            "form": form,
            "title": title,
            "action": action,
            "submit": submit,
            "intro": intro,
        },
        status=400 if form.is_bound else 200,
    )


def _run(
    request: HttpRequest, crisis: Crisis, call: Callable[[], object], message: str
) -> HttpResponse:
    try:
        call()
    except ValidationError as error:
        return _refused(request, crisis, _refusal(error))
    return _done(request, crisis, message)


# --- the plan page ---------------------------------------------------------------------------


@require_GET
def plan_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Every task (grouped, overdue first) and every decision, paginated; over htmx, the
    room's plan section."""
    crisis = _crisis(request, pk)
    if _is_htmx(request):
        return _section(request, crisis)
    now = timezone.now()
    writable = access.can_act(request.user, crisis) and (
        crisis.status != CrisisStatus.POST_MORTEM_DONE
    )
    tasks = Paginator(plan.plan_tasks(crisis, now=now), TASKS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    decisions = Paginator(plan.crisis_decisions(crisis), DECISIONS_PER_PAGE).get_page(
        request.GET.get("decisions")
    )
    return render(
        request,
        "rooms/plan.html",
        {
            "crisis": crisis,
            "now": now,
            "can_act": writable,
            "counts": plan.plan_counts(crisis, now=now),
            "page": tasks,
            "tasks": decorate_tasks(tasks.object_list, now=now, can_act=writable),
            "decisions_page": decisions,
            "decisions": decisions.object_list,
        },
    )


# --- tasks -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def add_task(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _acting_crisis(request, pk)
    form = TaskForm(
        request.POST if request.method == "POST" else None,
        crisis=crisis,
        actor=request.user,
        prefix="task",
        auto_id="plan-%s",
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        return _run(
            request,
            crisis,
            lambda: plan.add_task(
                actor=request.user,
                crisis=crisis,
                title=data["title"],
                owner=data["owner"],
                department=data["department"],
                due_at=data["due_at"],
                indicator=data["indicator"],
                now=timezone.now(),
            ),
            gettext("Task “%(title)s” added to the plan.") % {"title": data["title"]},
        )
    return _form_page(
        request,
        crisis,
        form=form,
        form_name="task_form",
        title=gettext("Add a task"),
        action=reverse("rooms:add_task", args=[crisis.pk]),
        submit=gettext("Add the task"),
    )


@require_http_methods(["GET", "POST"])
def edit_task(request: HttpRequest, task_pk: int) -> HttpResponse:
    task = _task(request, task_pk)
    crisis = task.crisis
    initial = {
        "title": task.title,
        "owner": task.owner_id,
        "department": task.department_id,
        "due_at": timezone.localtime(task.due_at) if task.due_at else None,
        "indicator": task.indicator,
    }
    form = TaskForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        crisis=crisis,
        actor=request.user,
        prefix="task",
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan.update_task(
                actor=request.user,
                task=task,
                title=data["title"],
                owner=data["owner"],
                department=data["department"],
                due_at=data["due_at"],
                indicator=data["indicator"],
                now=timezone.now(),
            )
        except ValidationError as error:
            form.add_error(None, _refusal(error))
        else:
            messages.success(request, gettext("Task “%(title)s” saved.") % {"title": data["title"]})
            return redirect(reverse("rooms:room", args=[crisis.pk]) + f"#task-{task.pk}")
    return render(
        request,
        FORM_TEMPLATE,
        {
            "crisis": crisis,
            "form": form,
            "title": gettext("Edit the task"),
            "action": reverse("rooms:edit_task", args=[task.pk]),
            "submit": gettext("Save the task"),
        },
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
def task_status(request: HttpRequest, task_pk: int) -> HttpResponse:
    """Move a task (the quick buttons post here); GET asks to confirm, e.g. a cancellation
    without JavaScript."""
    task = _task(request, task_pk)
    crisis = task.crisis
    form = TaskStatusForm(
        request.POST if request.method == "POST" else None,
        initial={"status": request.GET.get("status") or task.status},
    )
    if request.method == "POST" and form.is_valid():
        status = form.cleaned_data["status"]
        return _run(
            request,
            crisis,
            lambda: plan.set_task_status(
                actor=request.user, task=task, status=status, now=timezone.now()
            ),
            gettext("Task “%(title)s”: %(status)s.")
            % {"title": task.title, "status": str(TaskStatus(status).label).lower()},
        )
    if request.method == "POST":
        return _refused(request, crisis, gettext("Choose one of the listed statuses."))
    return render(
        request,
        FORM_TEMPLATE,
        {
            "crisis": crisis,
            "form": form,
            "title": gettext("Change the status of “%(title)s”") % {"title": task.title},
            "action": reverse("rooms:task_status", args=[task.pk]),
            "submit": gettext("Change the status"),
        },
    )


# --- decisions -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def record_decision(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _acting_crisis(request, pk)
    form = DecisionForm(
        request.POST if request.method == "POST" else None,
        crisis=crisis,
        actor=request.user,
        prefix="decision",
        auto_id="plan-%s",
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        return _run(
            request,
            crisis,
            lambda: plan.record_decision(
                actor=request.user,
                crisis=crisis,
                what=data["what"],
                why=data["why"],
                decided_by=data["decided_by"],
                decided_by_text=data["decided_by_text"],
                decided_at=data["decided_at"],
                now=timezone.now(),
            ),
            gettext("Decision recorded."),
        )
    return _form_page(
        request,
        crisis,
        form=form,
        form_name="decision_form",
        title=gettext("Record a decision"),
        action=reverse("rooms:record_decision", args=[crisis.pk]),
        submit=gettext("Record the decision"),
        intro=gettext("A decision is not edited afterwards: a correction is a new decision."),
    )


# --- timeline --------------------------------------------------------------------------------


@require_GET
def timeline_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole timeline, paginated (one query per page), newest or oldest first, with the
    chart (and its table) and, for those who act, the forms to add an entry or pin a mention;
    over htmx, the events only."""
    crisis = _crisis(request, pk)
    newest_first = request.GET.get("order") != "oldest"
    try:
        number = int(request.GET.get("page") or 1)
    except ValueError:
        number = 1
    page = timeline.timeline_page(crisis, page=number, newest_first=newest_first)
    context = {
        "crisis": crisis,
        "page": page,
        "items": page.items,
        "order_query": "" if newest_first else "order=oldest",
        "sees_incidents": request.user.has_perm(Perm.TRIAGE),
    }
    if _is_htmx(request) and not request.htmx.boosted:
        return render(request, "rooms/partials/timeline_page_events.html", context)
    now = timezone.now()
    writable = access.can_act(request.user, crisis) and (
        crisis.status != CrisisStatus.POST_MORTEM_DONE
    )
    context |= {
        "now": now,
        "can_act": writable,
        "chart": volume_chart(
            timeline.hourly_volume(crisis, now=now),
            title=chart_title(crisis.title),
            chart_id=f"crisis-{crisis.pk}-timeline-volume",
        ),
    }
    if writable:
        context |= {
            "entry_form": TimelineEntryForm(prefix="entry"),
            "pin_form": PinMentionForm(prefix="pin"),
            "pinnable": timeline.pinnable_mentions(crisis),
        }
    return render(request, "rooms/timeline.html", context)


@require_http_methods(["GET", "POST"])
def add_timeline_entry(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _acting_crisis(request, pk)
    form = TimelineEntryForm(
        request.POST if request.method == "POST" else None, prefix="entry", auto_id="plan-%s"
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        return _run(
            request,
            crisis,
            lambda: timeline.add_timeline_entry(
                actor=request.user,
                crisis=crisis,
                text=data["text"],
                at=data["at"],
                now=timezone.now(),
            ),
            gettext("Added to the timeline."),
        )
    return _form_page(
        request,
        crisis,
        form=form,
        form_name="entry_form",
        title=gettext("Add a timeline entry"),
        action=reverse("rooms:add_timeline_entry", args=[crisis.pk]),
        submit=gettext("Add to the timeline"),
    )


@require_http_methods(["GET", "POST"])
def pin_mention(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _acting_crisis(request, pk)
    form = PinMentionForm(request.POST if request.method == "POST" else None, prefix="pin")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        return _run(
            request,
            crisis,
            lambda: timeline.pin_mention(
                actor=request.user,
                crisis=crisis,
                mention=data["mention"],
                note=data["note"],
                now=timezone.now(),
            ),
            gettext("Mention pinned to the timeline."),
        )
    return _form_page(
        request,
        crisis,
        form=form,
        form_name="pin_form",
        title=gettext("Pin a mention to the timeline"),
        action=reverse("rooms:pin_mention", args=[crisis.pk]),
        submit=gettext("Pin the mention"),
        intro=gettext("A mention of one of the crisis's incidents, or on one of its topics."),
    )


# --- budget ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def crisis_budget(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _acting_crisis(request, pk)
    if not can_set_budget(request.user):
        raise PermissionDenied(gettext("Only a supervisor sets a crisis's compensation budget."))
    now = timezone.now()
    form = CrisisBudgetForm(
        request.POST if request.method == "POST" else None,
        now=now,
        prefix="budget",
        auto_id="plan-%s",
        initial={"budget": crisis.budget_id, "amount": crisis.budget_amount},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        return _run(
            request,
            crisis,
            lambda: set_crisis_budget(
                actor=request.user,
                crisis=crisis,
                budget=data["budget"],
                amount=data["amount"],
                now=now,
            ),
            gettext("%(amount)s %(currency)s set aside for this crisis's compensations.")
            % {"amount": data["amount"], "currency": data["budget"].currency},
        )
    return _form_page(
        request,
        crisis,
        form=form,
        form_name="budget_form",
        title=gettext("Compensation budget of the crisis"),
        action=reverse("rooms:crisis_budget", args=[crisis.pk]),
        submit=gettext("Set aside"),
        intro=gettext(
            "Part of a period budget that covers today, at most what it has left; the room "
            "shows it beside what the crisis's incidents were granted."
        ),
    )
