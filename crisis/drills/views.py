"""Pages of drills: the list, a new scenario, starting a drill, a drill's page (its progress
polled by htmx, its report) and closing it."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from crisis.drills import selectors, services
from crisis.drills.forms import ScenarioForm, StartDrillForm
from crisis.drills.models import Drill, DrillStatus, Scenario, ScenarioKind
from crisis.drills.report import drill_report, offset_label
from crisis.roles import Perm
from crisis.views.rendering import render_page_or_partial

POLL_SECONDS = 3


@permission_required(Perm.SUPERVISE_INCIDENTS, raise_exception=True)
def drill_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "drills/list.html",
        {"drills": list(selectors.drills()[:100]), "scenarios": list(selectors.scenarios()[:100])},
    )


@permission_required(Perm.SUPERVISE_INCIDENTS, raise_exception=True)
@require_http_methods(["GET", "POST"])
def scenario_new(request: HttpRequest) -> HttpResponse:
    form = ScenarioForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            now = timezone.now()
            try:
                if data["kind"] == ScenarioKind.SIMULATOR:
                    scenario = services.create_simulator_scenario(
                        actor=request.user, name=data["name"], now=now, hours=data["hours"] or 2
                    )
                else:
                    scenario = services.create_csv_scenario(
                        actor=request.user, name=data["name"], data=data["file"].read(), now=now
                    )
            except services.DrillError as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(
                    request,
                    gettext("Scenario “%(name)s” stored: %(rows)s mentions.")
                    % {"name": scenario.name, "rows": scenario.rows},
                )
                return redirect(f"{_start_url()}?scenario={scenario.pk}")
    return render(request, "drills/scenario_new.html", {"form": form}, status=status)


def _start_url() -> str:
    from django.urls import reverse

    return reverse("drills:start")


@permission_required(Perm.SUPERVISE_INCIDENTS, raise_exception=True)
@require_http_methods(["GET", "POST"])
def drill_start(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = StartDrillForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                drill = services.start_drill(
                    actor=request.user,
                    scenario=data["scenario"],
                    speed=data["speed"],
                    participants=list(data["participants"]) or None,
                    now=timezone.now(),
                )
            except services.DrillError as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(request, gettext("Drill started."))
                return redirect("drills:detail", pk=drill.pk)
        status = 400
    else:
        initial = {"participants": list(services.default_participants(request.user))}
        scenario = request.GET.get("scenario", "")
        if scenario.isascii() and scenario.isdigit():
            initial["scenario"] = Scenario.objects.filter(pk=int(scenario)).first()
        form = StartDrillForm(initial=initial)
        status = 200
    has_scenarios = Scenario.objects.exists()
    return render(
        request,
        "drills/start.html",
        {"form": form, "has_scenarios": has_scenarios},
        status=status,
    )


def _context(drill: Drill) -> dict:
    now = timezone.now()
    run = drill.run
    report = drill_report(drill, now=now)
    return {
        "drill": drill,
        "run": run,
        "running": drill.status == DrillStatus.RUNNING,
        "percent": round(100 * run.played / run.total) if run.total else 100,
        "events": selectors.events(
            drill, scenario_at=lambda wall: services.scenario_time(drill, wall)
        ),
        "suggestions": selectors.open_suggestions(drill),
        "report": report,
        "milestones": [
            (milestone, offset_label(milestone.since_start)) for milestone in report.milestones
        ],
        "poll_seconds": POLL_SECONDS,
    }


@permission_required(Perm.SUPERVISE_INCIDENTS, raise_exception=True)
def drill_detail(request: HttpRequest, pk: int) -> HttpResponse:
    drill = get_object_or_404(selectors.drills(), pk=pk)
    return render_page_or_partial(
        request, "drills/drill.html", "drills/partials/progress.html", _context(drill)
    )


@permission_required(Perm.SUPERVISE_INCIDENTS, raise_exception=True)
@require_http_methods(["GET", "POST"])
def drill_close(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST closes."""
    drill = get_object_or_404(selectors.drills(), pk=pk)
    if request.method == "POST":
        try:
            services.close_drill(actor=request.user, drill=drill, now=timezone.now())
        except services.DrillError as refused:
            messages.info(request, str(refused))
        else:
            messages.success(request, gettext("Drill closed. Its report stays on this page."))
        return redirect("drills:detail", pk=drill.pk)
    if drill.status == DrillStatus.CLOSED:
        messages.info(request, gettext("This drill is already closed."))
        return redirect("drills:detail", pk=drill.pk)
    return render(request, "drills/close.html", {"drill": drill})
