"""The incident page: everything a manager needs before answering, who else has it open,
and its actions (each a form that calls one service, then back to the page)."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from crisis.incidents import page, presence, services
from crisis.incidents.export import corrections_zip
from crisis.incidents.forms import (
    AuthorFlagsForm,
    CloseForm,
    CorrectClassForm,
    HandOverForm,
    NoteForm,
)
from crisis.incidents.models import Incident
from crisis.incidents.page import PageAction
from crisis.incidents.transitions import InvalidTransition
from crisis.roles import Perm
from crisis.services.audit import record_audit_event
from monitoring.services import set_author_flags


def _visible_incident(request: HttpRequest, pk: int, *, read_only: bool = False) -> Incident:
    """The incident if the viewer may see it: 404 when it does not exist, 403 otherwise.
    `read_only` (the page itself) also lets read-only readers in (executives); every action
    keeps the stricter `can_view`."""
    try:
        incident = page.incident_for_page(pk)
    except Incident.DoesNotExist as missing:
        raise Http404 from missing
    allowed = page.can_read if read_only else page.can_view
    if not allowed(request.user, incident):
        raise PermissionDenied(gettext("You cannot see incident #%(id)s.") % {"id": pk})
    return incident


def _forms(incident: Incident, viewer) -> dict:
    return {
        "hand_over_form": HandOverForm(exclude_user_id=incident.owner_id, prefix="hand_over"),
        "escalate_form": NoteForm(prefix="escalate"),
        "resolve_form": NoteForm(prefix="resolve"),
        "close_form": CloseForm(prefix="close"),
        "correct_form": CorrectClassForm(
            prefix="correct", initial={"to_class": incident.triage_class}
        ),
        "flags_form": AuthorFlagsForm(
            prefix="flags", initial={"flags": incident.author.flags or []}
        ),
    }


def _render_page(request: HttpRequest, incident: Incident, forms: dict | None = None, status=200):
    now = timezone.now()
    read_only = page.reads_every_incident(request.user)
    if not read_only:  # a reader is nobody a manager should wait for
        presence.mark_present(incident_id=incident.pk, user_id=request.user.pk, now=now)
    context = page.page_context(incident, request.user, now=now)
    context["read_only"] = read_only
    context.update(_forms(incident, request.user))
    context.update(forms or {})
    context["others_present"] = presence.others_present(
        incident_id=incident.pk, viewer_id=request.user.pk, now=now
    )
    context["poll_seconds"] = presence.POLL_SECONDS
    context["viewer_id"] = request.user.pk
    return render(request, "incidents/incident.html", context, status=status)


@require_GET
@permission_required(Perm.VIEW_INCIDENTS, raise_exception=True)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_page(request, _visible_incident(request, pk, read_only=True))


@require_GET
@permission_required(Perm.TRIAGE, raise_exception=True)
def presence_poll(request: HttpRequest, pk: int) -> HttpResponse:
    """The page's heartbeat: marks the viewer present and says who else has it open."""
    incident = _visible_incident(request, pk)
    if not getattr(request, "htmx", False):
        return redirect("incidents:detail", pk=incident.pk)
    now = timezone.now()
    presence.mark_present(incident_id=incident.pk, user_id=request.user.pk, now=now)
    context = {
        "incident": incident,
        "viewer_id": request.user.pk,
        "others_present": presence.others_present(
            incident_id=incident.pk, viewer_id=request.user.pk, now=now
        ),
    }
    # Without the request: every open page polls this, and the context processors (the
    # navigation, the suggestions banner) would cost queries the fragment never shows.
    return HttpResponse(render_to_string("incidents/partials/incident_presence.html", context))


def _perform(
    request: HttpRequest, incident: Incident, call: Callable[[], object], done: str
) -> HttpResponse:
    """Run one service; a refused move is a message on the page, not an error page."""
    try:
        call()
    except InvalidTransition as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, done)
    return redirect("incidents:detail", pk=incident.pk)


def _invalid(request: HttpRequest, incident: Incident, form_name: str, form) -> HttpResponse:
    messages.error(request, gettext("Check the form below."))
    return _render_page(request, incident, {form_name: form}, status=400)


@require_POST
@permission_required(Perm.TRIAGE, raise_exception=True)
def take(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _visible_incident(request, pk)
    return _perform(
        request,
        incident,
        lambda: services.take_incident(actor=request.user, incident=incident, now=timezone.now()),
        gettext("Incident #%(id)s is yours.") % {"id": incident.pk},
    )


@require_POST
@permission_required(Perm.TRIAGE, raise_exception=True)
def ask_hand_over(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _visible_incident(request, pk)
    return _perform(
        request,
        incident,
        lambda: presence.request_hand_over(
            actor=request.user, incident=incident, now=timezone.now()
        ),
        gettext("The owner of incident #%(id)s was asked to hand it over.") % {"id": incident.pk},
    )


@require_POST
@permission_required(Perm.TRIAGE, raise_exception=True)
def hand_over(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _visible_incident(request, pk)
    form = HandOverForm(request.POST, exclude_user_id=incident.owner_id, prefix="hand_over")
    if not form.is_valid():
        return _invalid(request, incident, "hand_over_form", form)
    to_user = form.cleaned_data["to_user"]
    return _perform(
        request,
        incident,
        lambda: services.hand_over_incident(
            actor=request.user, incident=incident, to_user=to_user, now=timezone.now()
        ),
        gettext("Incident #%(id)s handed over to %(user)s.")
        % {"id": incident.pk, "user": to_user.get_username()},
    )


@require_POST
@permission_required(Perm.TRIAGE, raise_exception=True)
def start(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _visible_incident(request, pk)
    return _perform(
        request,
        incident,
        lambda: services.start_progress(actor=request.user, incident=incident, now=timezone.now()),
        gettext("Incident #%(id)s is in progress.") % {"id": incident.pk},
    )


@require_POST
@permission_required(Perm.TRIAGE, raise_exception=True)
def escalate(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _visible_incident(request, pk)
    form = NoteForm(request.POST, prefix="escalate")
    if not form.is_valid():
        return _invalid(request, incident, "escalate_form", form)
    return _perform(
        request,
        incident,
        lambda: services.escalate_incident(
            actor=request.user,
            incident=incident,
            note=form.cleaned_data["note"],
            now=timezone.now(),
        ),
        gettext("Incident #%(id)s escalated to the supervisors.") % {"id": incident.pk},
    )


@require_POST
@permission_required(Perm.TRIAGE, raise_exception=True)
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _visible_incident(request, pk)
    form = NoteForm(request.POST, prefix="resolve")
    if not form.is_valid():
        return _invalid(request, incident, "resolve_form", form)
    return _perform(
        request,
        incident,
        lambda: services.resolve_incident(
            actor=request.user,
            incident=incident,
            note=form.cleaned_data["note"],
            now=timezone.now(),
        ),
        gettext("Incident #%(id)s resolved.") % {"id": incident.pk},
    )


@require_POST
@permission_required(Perm.TRIAGE, raise_exception=True)
def close(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _visible_incident(request, pk)
    form = CloseForm(request.POST, prefix="close")
    if not form.is_valid():
        return _invalid(request, incident, "close_form", form)
    return _perform(
        request,
        incident,
        lambda: services.close_incident(
            actor=request.user,
            incident=incident,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
            now=timezone.now(),
        ),
        gettext("Incident #%(id)s closed.") % {"id": incident.pk},
    )


@require_POST
@permission_required(Perm.TRIAGE, raise_exception=True)
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _visible_incident(request, pk)
    return _perform(
        request,
        incident,
        lambda: services.reopen_incident(actor=request.user, incident=incident, now=timezone.now()),
        gettext("Incident #%(id)s reopened.") % {"id": incident.pk},
    )


@require_POST
@permission_required(Perm.TRIAGE, raise_exception=True)
def correct_class(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _visible_incident(request, pk)
    form = CorrectClassForm(request.POST, prefix="correct")
    if not form.is_valid():
        return _invalid(request, incident, "correct_form", form)
    return _perform(
        request,
        incident,
        lambda: services.correct_triage_class(
            actor=request.user,
            incident=incident,
            to_class=form.cleaned_data["to_class"],
            reason=form.cleaned_data["reason"],
            now=timezone.now(),
        ),
        gettext("Class of incident #%(id)s corrected.") % {"id": incident.pk},
    )


@require_POST
@permission_required(Perm.TRIAGE, raise_exception=True)
def author_flags(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _visible_incident(request, pk)
    if PageAction.SET_AUTHOR_FLAGS not in page.available_actions(request.user, incident):
        raise PermissionDenied
    form = AuthorFlagsForm(request.POST, prefix="flags")
    if not form.is_valid():
        return _invalid(request, incident, "flags_form", form)
    set_author_flags(
        actor=request.user,
        author=incident.author,
        flags=form.cleaned_data["flags"],
        reason=form.cleaned_data["reason"],
    )
    messages.success(request, gettext("The author's flags were saved."))
    return redirect("incidents:detail", pk=incident.pk)


@require_POST
@permission_required(Perm.SUPERVISE_INCIDENTS, raise_exception=True)
def export_corrections(request: HttpRequest) -> HttpResponse:
    """Supervisors download the triage corrections as a labelled data folder (zip)."""
    now = timezone.now()
    archive = corrections_zip(now=now)
    record_audit_event(actor=request.user, verb="incident.corrections_export", after={})
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="calma-corrections-{now:%Y%m%d-%H%M}.zip"'
    )
    return response
