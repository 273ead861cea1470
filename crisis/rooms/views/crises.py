"""Pages of the crises slice: the crisis list, the room (header, cabinet and linked incidents,
then each slice's section), declaring a crisis, accepting a suggestion, the cabinet's
actions, containing and re-activating, linking incidents, and the departments.

Each action calls one service and goes back to the room; a refusal is a message, never a 500.
The header and the cabinet roster refresh themselves over htmx; without htmx each of those
URLs is the whole room page."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crisis.incidents.models import OPEN_STATES, Incident
from crisis.roles import Perm
from crisis.rooms import access, crises, selectors
from crisis.rooms.crises import CrisisError
from crisis.rooms.forms import (
    AcceptSuggestionForm,
    AddMemberForm,
    DeclareForm,
    DepartmentForm,
    HandOverForm,
    LinkIncidentForm,
    MemberRoleForm,
    NewDepartmentForm,
)
from crisis.rooms.models import CabinetMember, CabinetRole, Crisis, CrisisStatus, Department
from crisis.views.rendering import render_page_or_partial
from protocols.models import CrisisSuggestion
from protocols.scoring.types import OVERALL_TOPIC, topic_label
from protocols.services import active_version

CRISES_PER_PAGE = 25
INCIDENTS_PER_PAGE = 20
REFRESH_SECONDS = 30


# --- Helpers -----------------------------------------------------------------------------------


def _crisis(request: HttpRequest, pk: int) -> Crisis:
    """The crisis with its header's data if the viewer may see it: 404 when it does not
    exist, 403 otherwise."""
    try:
        crisis = selectors.crisis_for_room(pk)
    except Crisis.DoesNotExist as missing:
        raise Http404 from missing
    access.require_view(request.user, crisis)
    return crisis


def _back(crisis: Crisis, anchor: str = "") -> HttpResponse:
    return redirect(reverse("rooms:room", args=[crisis.pk]) + (f"#{anchor}" if anchor else ""))


def _levels() -> list[tuple[int, str]]:
    levels = selectors.crisis_levels(active_version().config)
    return [(entry["level"], selectors.level_label(levels, entry["level"])) for entry in levels]


def _form_errors(form) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


def room_context(request: HttpRequest, crisis: Crisis, **extra) -> dict:
    user = request.user
    manage = crises.can_manage_cabinet(user, crisis)
    members = selectors.cabinet(crisis)
    if manage:
        for member in members:
            if member.role != CabinetRole.COMMANDER:
                member.role_form = MemberRoleForm(
                    initial={"role": member.role}, auto_id=f"member-{member.pk}-%s"
                )
    incidents = Paginator(selectors.linked_incidents(crisis), INCIDENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "crisis": crisis,
        "members": members,
        "incidents_page": incidents,
        "now": timezone.now(),
        "refresh_seconds": REFRESH_SECONDS,
        "can_manage_cabinet": manage,
        "can_change_status": crisis.is_open and access.can_resolve(user, crisis),
        "can_reactivate": crisis.status == CrisisStatus.CONTAINED
        and access.can_resolve(user, crisis),
        "can_unlink": crises.can_unlink(user, crisis),
        "sees_incidents": user.has_perm(Perm.TRIAGE),
        "read_only": not access.can_act(user, crisis),
        "seat": access.seat_of(user, crisis),
    }
    if manage:
        context["add_member_form"] = AddMemberForm(auto_id="add-member-%s")
        context["hand_over_form"] = HandOverForm(auto_id="hand-over-%s")
    context.update(extra)
    return context


def _room_page(request: HttpRequest, crisis: Crisis, *, status: int = 200, **extra):
    return render(request, "rooms/room.html", room_context(request, crisis, **extra), status=status)


# --- The list and the room ---------------------------------------------------------------------


@require_GET
def crisis_list(request: HttpRequest) -> HttpResponse:
    """Open crises first, then the rest: the home of cabinet members."""
    user = request.user
    if not (user.has_perm(Perm.VIEW_CRISES) or selectors.has_any_seat(user)):
        raise PermissionDenied(gettext("You sit in no crisis cabinet."))
    page = Paginator(selectors.crisis_list(user), CRISES_PER_PAGE).get_page(request.GET.get("page"))
    selectors.with_level_labels(list(page.object_list))
    return render(
        request,
        "rooms/list.html",
        {"page": page, "now": timezone.now(), "can_declare": crises.can_declare(user)},
    )


@require_GET
def room(request: HttpRequest, pk: int) -> HttpResponse:
    return _room_page(request, _crisis(request, pk))


@require_GET
def room_header(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    return render_page_or_partial(
        request,
        "rooms/room.html",
        "rooms/partials/room_header.html",
        room_context(request, crisis),
    )


@require_GET
def room_cabinet(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    return render_page_or_partial(
        request,
        "rooms/room.html",
        "rooms/partials/room_cabinet.html",
        room_context(request, crisis),
    )


@require_GET
def room_incidents(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    return render_page_or_partial(
        request,
        "rooms/room.html",
        "rooms/partials/room_incidents.html",
        room_context(request, crisis),
    )


# --- Declaring -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def declare(request: HttpRequest) -> HttpResponse:
    """Declare a crisis from incidents (?incidents=12,15 prefills them and their topics)."""
    crises.require_declare(request.user)
    levels = _levels()
    if request.method == "POST":
        form = DeclareForm(request.POST, levels=levels)
        if form.is_valid():
            data = form.cleaned_data
            try:
                crisis = crises.declare_crisis(
                    actor=request.user,
                    title=data["title"],
                    level=data["level"],
                    topics=data["topics"],
                    incident_ids=data["incidents"],
                    commander=data["commander"],
                    commander_department=data["commander_department"],
                    now=timezone.now(),
                )
            except CrisisError as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(request, gettext("Crisis declared. The executives were told."))
                return _back(crisis)
        status = 400
    else:
        form = DeclareForm(levels=levels, initial=_declare_initial(request))
        status = 200
    return render(request, "rooms/declare.html", {"form": form}, status=status)


def _declare_initial(request: HttpRequest) -> dict:
    numbers = [
        int(part)
        for part in request.GET.get("incidents", "").split(",")
        if part.strip().isdigit() and len(part.strip()) < 12
    ][:50]
    incidents = list(Incident.objects.filter(pk__in=numbers).order_by("pk"))
    topics = []
    for incident in incidents:
        if incident.topic not in topics and incident.topic != OVERALL_TOPIC:
            topics.append(incident.topic)
    initial = {"commander": request.user.pk, "commander_department": "communications"}
    if incidents:
        initial["incidents"] = ", ".join(str(incident.pk) for incident in incidents)
        initial["topics"] = ", ".join(topics)
    levels = _levels()
    if levels:
        initial["level"] = levels[min(1, len(levels) - 1)][0]
    return initial


@require_http_methods(["GET", "POST"])
def accept_suggestion(request: HttpRequest, suggestion_pk: int) -> HttpResponse:
    crises.require_declare(request.user)
    suggestion = get_object_or_404(CrisisSuggestion, pk=suggestion_pk)
    levels = _levels()
    if suggestion.dismissed_at is not None:
        messages.info(request, gettext("This suggestion was already dismissed or accepted."))
        return redirect("protocols:suggestions")
    if request.method == "POST":
        form = AcceptSuggestionForm(request.POST, levels=levels)
        if form.is_valid():
            data = form.cleaned_data
            try:
                crisis = crises.accept_suggestion(
                    actor=request.user,
                    suggestion=suggestion,
                    title=data["title"],
                    level=data["level"],
                    commander=data["commander"],
                    commander_department=data["commander_department"],
                    now=timezone.now(),
                )
            except CrisisError as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(request, gettext("Crisis declared. The executives were told."))
                return _back(crisis)
        status = 400
    else:
        form = AcceptSuggestionForm(
            levels=levels,
            initial={
                "title": gettext("Crisis on %(topic)s") % {"topic": topic_label(suggestion.topic)},
                "level": levels[min(1, len(levels) - 1)][0] if levels else None,
                "commander": request.user.pk,
                "commander_department": "communications",
            },
        )
        status = 200
    open_incidents = Incident.objects.filter(
        topic=suggestion.topic, origin=suggestion.origin, state__in=OPEN_STATES
    ).count()
    return render(
        request,
        "rooms/declare_suggestion.html",
        {"form": form, "suggestion": suggestion, "open_incidents": open_incidents},
        status=status,
    )


# --- Status ------------------------------------------------------------------------------------


@require_POST
def contain(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    try:
        crises.contain_crisis(actor=request.user, crisis=crisis, now=timezone.now())
    except CrisisError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, gettext("The crisis is marked contained."))
    return _back(crisis)


@require_POST
def reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    try:
        crises.reactivate_crisis(actor=request.user, crisis=crisis, now=timezone.now())
    except CrisisError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, gettext("The crisis is active again."))
    return _back(crisis)


# --- Cabinet -----------------------------------------------------------------------------------


@require_POST
def add_member(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    crises.require_manage_cabinet(request.user, crisis)
    form = AddMemberForm(request.POST, auto_id="add-member-%s")
    if not form.is_valid():
        return _room_page(request, crisis, status=400, add_member_form=form)
    data = form.cleaned_data
    try:
        member = crises.add_member(
            actor=request.user,
            crisis=crisis,
            user=data["user"],
            department=data["department"],
            role=data["role"],
            now=timezone.now(),
        )
    except CrisisError as refused:
        form.add_error(None, str(refused))
        return _room_page(request, crisis, status=400, add_member_form=form)
    messages.success(
        request,
        gettext("%(name)s joined the cabinet and was told.") % {"name": member.user.get_username()},
    )
    return _back(crisis, "room-cabinet-section")


def _member(crisis: Crisis, member_pk: int) -> CabinetMember:
    member = (
        CabinetMember.objects.select_related("user", "department")
        .filter(pk=member_pk, crisis=crisis)
        .first()
    )
    if member is None:
        raise Http404
    member.crisis = crisis
    return member


@require_POST
def change_member_role(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    crises.require_manage_cabinet(request.user, crisis)
    member = _member(crisis, member_pk)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(crisis, "room-cabinet-section")
    try:
        crises.change_member_role(
            actor=request.user, member=member, role=form.cleaned_data["role"], now=timezone.now()
        )
    except CrisisError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, gettext("Crisis role changed."))
    return _back(crisis, "room-cabinet-section")


@require_http_methods(["GET", "POST"])
def remove_member(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """GET asks for confirmation; POST removes."""
    crisis = _crisis(request, pk)
    crises.require_manage_cabinet(request.user, crisis)
    member = _member(crisis, member_pk)
    if request.method == "GET":
        return render(request, "rooms/remove_member.html", {"crisis": crisis, "member": member})
    try:
        crises.remove_member(actor=request.user, member=member, now=timezone.now())
    except CrisisError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request,
            gettext("%(name)s left the cabinet.") % {"name": member.user.get_username()},
        )
    return _back(crisis, "room-cabinet-section")


@require_POST
def hand_over(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    crises.require_manage_cabinet(request.user, crisis)
    form = HandOverForm(request.POST, auto_id="hand-over-%s")
    if not form.is_valid():
        return _room_page(request, crisis, status=400, hand_over_form=form)
    try:
        crises.hand_over_command(
            actor=request.user,
            crisis=crisis,
            to_user=form.cleaned_data["to_user"],
            department=form.cleaned_data["department"],
            now=timezone.now(),
        )
    except CrisisError as refused:
        form.add_error(None, str(refused))
        return _room_page(request, crisis, status=400, hand_over_form=form)
    messages.success(
        request,
        gettext("%(name)s now commands the crisis and was told.")
        % {"name": form.cleaned_data["to_user"].get_username()},
    )
    return _back(crisis, "room-cabinet-section")


# --- Incidents ---------------------------------------------------------------------------------


@require_POST
def link_incident(request: HttpRequest, incident_pk: int) -> HttpResponse:
    """From the incident page: link it to an open crisis."""
    incident = get_object_or_404(Incident, pk=incident_pk)
    if not (crises.can_link(request.user, incident) or access.runs_every_crisis(request.user)):
        raise PermissionDenied(gettext("You cannot act on incident #%(id)s.") % {"id": incident.pk})
    form = LinkIncidentForm(request.POST, crises=selectors.open_crises_to_link(incident))
    back = reverse("incidents:detail", args=[incident.pk])
    if not form.is_valid():
        messages.error(request, gettext("Choose an open crisis this incident is not in yet."))
        return redirect(back)
    crisis = form.cleaned_data["crisis"]
    try:
        crises.link_incident(
            actor=request.user, crisis=crisis, incident=incident, now=timezone.now()
        )
    except CrisisError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request,
            gettext("Incident #%(id)s is part of the crisis “%(title)s”.")
            % {"id": incident.pk, "title": crisis.title},
        )
    return redirect(back)


@require_POST
def unlink_incident(request: HttpRequest, pk: int, incident_pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    incident = get_object_or_404(Incident, pk=incident_pk)
    try:
        crises.unlink_incident(
            actor=request.user, crisis=crisis, incident=incident, now=timezone.now()
        )
    except CrisisError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request, gettext("Incident #%(id)s left the crisis.") % {"id": incident.pk}
        )
    return _back(crisis, "room-incidents")


# --- Departments ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def departments(request: HttpRequest) -> HttpResponse:
    crises.require_manage_departments(request.user)
    form = NewDepartmentForm(request.POST or None, auto_id="new-department-%s")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                crises.add_department(
                    actor=request.user,
                    key=data["key"],
                    name=data["name"],
                    is_legal=data["is_legal"],
                    now=timezone.now(),
                )
            except CrisisError as refused:
                form.add_error("key", str(refused))
            else:
                messages.success(request, gettext("Department added."))
                return redirect("rooms:departments")
        status = 400
    listed = list(selectors.departments())
    for department in listed:
        department.form = DepartmentForm(
            initial={"name": department.name, "is_legal": department.is_legal},
            auto_id=f"department-{department.pk}-%s",
        )
    return render(
        request, "rooms/departments.html", {"departments": listed, "form": form}, status=status
    )


@require_POST
def department_edit(request: HttpRequest, department_pk: int) -> HttpResponse:
    crises.require_manage_departments(request.user)
    department = get_object_or_404(Department, pk=department_pk)
    form = DepartmentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("rooms:departments")
    try:
        crises.update_department(
            actor=request.user,
            department=department,
            name=form.cleaned_data["name"],
            is_legal=form.cleaned_data["is_legal"],
            now=timezone.now(),
        )
    except CrisisError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, gettext("Department saved."))
    return redirect("rooms:departments")
