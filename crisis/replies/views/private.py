"""Views of the take-private slice: take a conversation private, complete its follow-up, the
owner's list of open follow-ups, and the retention period of contact details (admins).

Each action answers an htmx request with the incident's panel and a plain request with a
redirect to the incident page (or, for an invalid form, a page of its own)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from crisis.incidents import page
from crisis.incidents.models import Incident
from crisis.incidents.transitions import InvalidTransition, can_act
from crisis.replies import private
from crisis.replies.forms_private import CompleteFollowUpForm, RetentionForm, TakePrivateForm
from crisis.replies.models import FollowUp
from crisis.replies.templatetags.private_panels import panel_context
from crisis.roles import Perm

FOLLOW_UPS_PER_PAGE = 25
PANEL_TEMPLATE = "replies/partials/private_panel.html"


def visible_incident(request: HttpRequest, pk: int) -> Incident:
    """The incident if the viewer may see it: 404 when it does not exist, 403 otherwise."""
    try:
        incident = page.incident_for_page(pk)
    except Incident.DoesNotExist as missing:
        raise Http404 from missing
    if not page.can_view(request.user, incident):
        raise PermissionDenied(gettext("You cannot see incident #%(id)s.") % {"id": pk})
    return incident


def refusal(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def panel(request: HttpRequest, incident: Incident, **extra) -> HttpResponse:
    """The incident's panel as htmx swaps it in (fresh from the database)."""
    incident = page.incident_for_page(incident.pk)
    context = panel_context(incident, request.user, now=timezone.now(), **extra)
    return render(request, PANEL_TEMPLATE, context)


def done(request: HttpRequest, incident: Incident, message: str) -> HttpResponse:
    if is_htmx(request):
        return panel(request, incident, notice=message)
    messages.success(request, message)
    return redirect("incidents:detail", pk=incident.pk)


def done_whole_page(request: HttpRequest, incident: Incident, message: str) -> HttpResponse:
    """A change other panels show too (the acknowledgement draft, the incident's state): htmx
    reloads the whole incident page, where the message is shown."""
    messages.success(request, message)
    if is_htmx(request):
        return HttpResponseClientRedirect(reverse("incidents:detail", args=[incident.pk]))
    return redirect("incidents:detail", pk=incident.pk)


def refused(request: HttpRequest, incident: Incident, message: str) -> HttpResponse:
    if is_htmx(request):
        return panel(request, incident, error=message)
    messages.error(request, message)
    return redirect("incidents:detail", pk=incident.pk)


@require_http_methods(["GET", "POST"])
@permission_required(Perm.TRIAGE, raise_exception=True)
def take_private(request: HttpRequest, pk: int) -> HttpResponse:
    incident = visible_incident(request, pk)
    if not can_act(request.user, incident):
        raise PermissionDenied(gettext("You cannot act on incident #%(id)s.") % {"id": pk})
    form = TakePrivateForm(
        request.POST if request.method == "POST" else None, incident=incident, prefix="private"
    )
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                follow_up = private.take_private(
                    actor=request.user,
                    incident=incident,
                    channel=data["channel"],
                    owner=data["owner"],
                    due_at=data["due_at"],
                    note=data["note"],
                    email=data["email"],
                    phone=data["phone"],
                    now=timezone.now(),
                )
            except (InvalidTransition, ValidationError) as error:
                return refused(request, incident, refusal(error))
            return done_whole_page(
                request,
                incident,
                gettext(
                    "Incident #%(id)s is being taken private: review and submit the "
                    "acknowledgement drafted in the reply panel; the follow-up is due %(due)s."
                )
                % {
                    "id": incident.pk,
                    "due": formats.date_format(
                        timezone.localtime(follow_up.due_at), "SHORT_DATETIME_FORMAT"
                    ),
                },
            )
        if is_htmx(request):
            return panel(request, incident, take_form=form, error=gettext("Check the form below."))
        messages.error(request, gettext("Check the form below."))
    return render(
        request,
        "replies/follow_ups_take.html",
        {"incident": incident, "form": form},
        status=400 if form.is_bound else 200,
    )


def _follow_up_for(request: HttpRequest, pk: int) -> FollowUp:
    try:
        follow_up = FollowUp.objects.select_related("incident", "owner").get(pk=pk)
    except FollowUp.DoesNotExist as missing:
        raise Http404 from missing
    if not private.can_complete(request.user, follow_up):
        raise PermissionDenied(gettext("You cannot complete this follow-up."))
    return follow_up


@require_http_methods(["GET", "POST"])
@permission_required(Perm.TRIAGE, raise_exception=True)
def complete_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = _follow_up_for(request, pk)
    incident = follow_up.incident
    form = CompleteFollowUpForm(
        request.POST if request.method == "POST" else None, prefix="complete"
    )
    if request.method == "POST":
        if form.is_valid():
            resolve = form.cleaned_data["resolve_incident"]
            try:
                follow_up = private.complete_follow_up(
                    actor=request.user,
                    follow_up=follow_up,
                    outcome=form.cleaned_data["outcome"],
                    resolve_incident=resolve,
                    now=timezone.now(),
                )
            except (InvalidTransition, ValidationError) as error:
                if not page.can_view(request.user, incident):
                    messages.error(request, refusal(error))
                    return redirect("replies:follow_ups")
                return refused(request, incident, refusal(error))
            incident.refresh_from_db(fields=["state"])
            message = gettext("Follow-up completed.")
            if resolve and incident.state == "resolved":
                message = gettext("Follow-up completed; incident #%(id)s resolved.") % {
                    "id": incident.pk
                }
            elif resolve:
                message = gettext(
                    "Follow-up completed; incident #%(id)s could not be resolved now (it is "
                    "%(state)s)."
                ) % {"id": incident.pk, "state": incident.get_state_display().lower()}
            if not page.can_view(request.user, incident):
                messages.success(request, message)
                return redirect("replies:follow_ups")
            return done_whole_page(request, incident, message)
        if is_htmx(request):
            return panel(
                request, incident, complete_form=form, error=gettext("Check the form below.")
            )
        messages.error(request, gettext("Check the form below."))
    return render(
        request,
        "replies/follow_ups_complete.html",
        {
            "follow_up": follow_up,
            "incident": incident,
            "form": form,
            "show_contact": private.can_see_contact(request.user, follow_up),
        },
        status=400 if form.is_bound else 200,
    )


@require_GET
@permission_required(Perm.TRIAGE, raise_exception=True)
def follow_ups(request: HttpRequest) -> HttpResponse:
    """The viewer's open follow-ups, the most overdue first."""
    listing = Paginator(private.my_open_follow_ups(request.user), FOLLOW_UPS_PER_PAGE)
    return render(
        request,
        "replies/follow_ups.html",
        {"page": listing.get_page(request.GET.get("page")), "now": timezone.now()},
    )


@require_http_methods(["GET", "POST"])
@permission_required(Perm.MANAGE_PEOPLE, raise_exception=True)
def retention(request: HttpRequest) -> HttpResponse:
    current = private.retention_settings()
    form = RetentionForm(
        request.POST if request.method == "POST" else None,
        initial={"contact_retention_days": current.contact_retention_days},
    )
    if request.method == "POST":
        if form.is_valid():
            try:
                private.update_retention(
                    actor=request.user,
                    contact_retention_days=form.cleaned_data["contact_retention_days"],
                    now=timezone.now(),
                )
            except ValidationError as error:
                form.add_error("contact_retention_days", refusal(error))
            else:
                messages.success(request, gettext("Retention period saved."))
                return redirect("replies:retention")
        messages.error(request, gettext("Check the form below."))
    return render(
        request,
        "replies/follow_ups_retention.html",
        {"form": form, "current": current},
        status=400 if form.is_bound else 200,
    )
