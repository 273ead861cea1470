"""Admin pages for teams (time zone, default), members' skills and capacity, weekly shifts and
the on-call rota of supervisors (Perm.MANAGE_TEAMS)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisis.people import services
from crisis.people.forms import MemberSkillsForm, OnCallSlotForm, ShiftForm, TeamForm
from crisis.people.models import OnCallSlot, Profile, Shift, Team
from crisis.people.selectors import profile_for
from crisis.roles import Perm

manage_teams = permission_required(Perm.MANAGE_TEAMS, raise_exception=True)


def _refusal(error: ValidationError) -> str:
    return " ".join(error.messages)


def _confirm(request: HttpRequest, *, title: str, question: str, cancel_url: str) -> HttpResponse:
    return render(
        request,
        "people/confirm_delete.html",
        {"title": title, "question": question, "cancel_url": cancel_url},
    )


# --- Teams ---------------------------------------------------------------------------------


@manage_teams
def team_list(request: HttpRequest) -> HttpResponse:
    teams = Team.objects.annotate(
        member_count=Count("members", distinct=True), shift_count=Count("shifts", distinct=True)
    ).order_by("name")
    return render(request, "people/teams.html", {"teams": teams})


@manage_teams
def team_create(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.save_team(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error("name", error)
        else:
            messages.success(request, _("Team %(name)s created.") % {"name": team.name})
            return redirect("people:team_detail", pk=team.pk)
    return render(request, "people/team_form.html", {"form": form})


@manage_teams
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The team's settings (editable here), its weekly shifts and its members."""
    team = get_object_or_404(Team, pk=pk)
    initial = {"name": team.name, "time_zone": team.time_zone, "is_default": team.is_default}
    form = TeamForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_team(actor=request.user, team=team, **form.cleaned_data)
        except ValidationError as error:
            form.add_error("name", error)
        else:
            messages.success(request, _("Team saved."))
            return redirect("people:team_detail", pk=team.pk)
    return _render_team(request, team, form=form, shift_form=ShiftForm())


def _render_team(
    request: HttpRequest, team: Team, *, form: TeamForm, shift_form: ShiftForm
) -> HttpResponse:
    members = Profile.objects.filter(team=team).select_related("user").order_by("user__username")
    return render(
        request,
        "people/team_detail.html",
        {
            "team": team,
            "form": form,
            "shift_form": shift_form,
            "shifts": team.shifts.order_by("weekday", "starts_at"),
            "members": members,
        },
    )


@manage_teams
def team_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    team = get_object_or_404(Team, pk=pk)
    if request.method == "POST":
        try:
            services.delete_team(actor=request.user, team=team)
        except ValidationError as error:
            messages.error(request, _refusal(error))
            return redirect("people:team_detail", pk=team.pk)
        messages.success(request, _("Team %(name)s deleted.") % {"name": team.name})
        return redirect("people:teams")
    return _confirm(
        request,
        title=_("Delete team %(name)s?") % {"name": team.name},
        question=_(
            "Its shifts are deleted too. Its members and incidents stay in Calma without a "
            "team; the members work the default team's shifts."
        ),
        cancel_url=reverse("people:team_detail", args=[team.pk]),
    )


@manage_teams
@require_POST
def shift_add(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=pk)
    shift_form = ShiftForm(request.POST)
    if shift_form.is_valid():
        try:
            services.add_shift(actor=request.user, team=team, **shift_form.cleaned_data)
        except ValidationError as error:
            shift_form.add_error(None, error)
        else:
            messages.success(request, _("Shift added."))
            return redirect("people:team_detail", pk=team.pk)
    initial = {"name": team.name, "time_zone": team.time_zone, "is_default": team.is_default}
    return _render_team(request, team, form=TeamForm(initial=initial), shift_form=shift_form)


@manage_teams
def shift_delete(request: HttpRequest, pk: int) -> HttpResponse:
    shift = get_object_or_404(Shift.objects.select_related("team"), pk=pk)
    if request.method == "POST":
        services.remove_shift(actor=request.user, shift=shift)
        messages.success(request, _("Shift removed."))
        return redirect("people:team_detail", pk=shift.team_id)
    return _confirm(
        request,
        title=_("Remove this shift?"),
        question=str(shift),
        cancel_url=reverse("people:team_detail", args=[shift.team_id]),
    )


# --- Members' skills and capacity ------------------------------------------------------------


@manage_teams
def member_skills(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(get_user_model(), pk=pk)
    profile = profile_for(person)
    initial = {
        "team": profile.team,
        "languages": profile.languages,
        "platforms": profile.platforms,
        "max_open_incidents": profile.max_open_incidents,
    }
    form = MemberSkillsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.change_member_skills(actor=request.user, person=person, **form.cleaned_data)
        messages.success(request, _("Team and skills saved."))
        return redirect("people:skills", pk=person.pk)
    return render(request, "people/skills.html", {"person": person, "form": form})


# --- On-call rota ----------------------------------------------------------------------------


@manage_teams
def on_call(request: HttpRequest) -> HttpResponse:
    """The weekly rota; POST adds a slot."""
    form = OnCallSlotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_on_call_slot(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error("supervisor", error)
        else:
            messages.success(request, _("On-call slot added."))
            return redirect("people:on_call")
    slots = OnCallSlot.objects.select_related("user").order_by("weekday", "starts_at", "pk")
    return render(request, "people/on_call.html", {"form": form, "slots": slots})


@manage_teams
def on_call_delete(request: HttpRequest, pk: int) -> HttpResponse:
    slot = get_object_or_404(OnCallSlot.objects.select_related("user"), pk=pk)
    if request.method == "POST":
        services.remove_on_call_slot(actor=request.user, slot=slot)
        messages.success(request, _("On-call slot removed."))
        return redirect("people:on_call")
    return _confirm(
        request,
        title=_("Remove this on-call slot?"),
        question=str(slot),
        cancel_url=reverse("people:on_call"),
    )
