"""The draft editor: start a reply from a template, save it (autosave with htmx, or the Save
button), start again from a template, submit it, discard it. Each action calls one service
and goes back to the incident page; the autosave answers with the editor's status only."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from crisis.incidents import page
from crisis.incidents.models import Incident
from crisis.incidents.transitions import InvalidTransition
from crisis.replies import drafts
from crisis.replies.drafts import StaleRevision
from crisis.replies.forms import ApplyTemplateForm, DraftForm, RevisionForm, StartReplyForm
from crisis.replies.models import Reply, ReplyState
from crisis.replies.templatetags.reply_panels import panel_context
from crisis.roles import Perm

works = permission_required(Perm.TRIAGE, raise_exception=True)


def _visible_incident(request: HttpRequest, pk: int) -> Incident:
    try:
        incident = page.incident_for_page(pk)
    except Incident.DoesNotExist as missing:
        raise Http404 from missing
    if not page.can_view(request.user, incident):
        raise PermissionDenied(gettext("You cannot see incident #%(id)s.") % {"id": pk})
    return incident


def _visible_reply(request: HttpRequest, pk: int) -> Reply:
    """The reply if the viewer may see its incident: 404 when it does not exist, 403 otherwise."""
    try:
        reply = Reply.objects.select_related("in_reply_to", "drafted_by").get(pk=pk)
    except Reply.DoesNotExist as missing:
        raise Http404 from missing
    reply.incident = _visible_incident(request, reply.incident_id)
    return reply


def _back(incident_id: int) -> HttpResponse:
    return redirect(reverse("incidents:detail", args=[incident_id]) + "#incident-replies")


def _editor_page(request: HttpRequest, reply: Reply, *, status: int = 200, **extra) -> HttpResponse:
    context = panel_context(reply.incident, request.user, **extra)
    return render(request, "replies/draft.html", context, status=status)


def _status(request: HttpRequest, reply: Reply, **extra) -> HttpResponse:
    """The editor's status line for the autosave (htmx swaps it under the text box)."""
    reply.refresh_from_db()
    context = {"reply": reply, "checks": drafts.checks_for(reply), **extra}
    return render(request, "replies/partials/draft_saved.html", context)


@require_POST
@works
def start(request: HttpRequest, incident_pk: int) -> HttpResponse:
    incident = _visible_incident(request, incident_pk)
    config = drafts.protocol_config(incident)
    language = drafts.default_language(incident)
    choices = [
        choice
        for code in drafts.LANGUAGES
        for choice in drafts.template_choices(config, incident, language=code)
    ]
    form = StartReplyForm(request.POST, choices=choices, language=language, prefix="reply")
    if not form.is_valid():
        messages.error(request, gettext("Choose a template, a language and who sees the reply."))
        return _back(incident.pk)
    try:
        drafts.start_draft(
            actor=request.user,
            incident=incident,
            now=timezone.now(),
            language=form.cleaned_data["language"],
            template_key=form.template_key(incident.triage_class),
            visibility=form.cleaned_data["visibility"],
        )
    except InvalidTransition as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, gettext("Draft started. It is saved as you type."))
    return _back(incident.pk)


@require_GET
@works
def editor(request: HttpRequest, pk: int) -> HttpResponse:
    """The reply on a page of its own (where a save from a stale tab lands, too)."""
    reply = _visible_reply(request, pk)
    return _editor_page(request, reply)


@require_POST
@works
def save(request: HttpRequest, pk: int) -> HttpResponse:
    reply = _visible_reply(request, pk)
    form = DraftForm(request.POST)
    if not form.is_valid():
        error = " ".join(message for errors in form.errors.values() for message in errors)
        if request.htmx:
            return _status(request, reply, error=error)
        messages.error(request, error)
        return _editor_page(request, reply, status=400, draft_text=request.POST.get("text", ""))
    text, revision = form.cleaned_data["text"], form.cleaned_data["revision"]
    try:
        reply = drafts.save_draft(
            actor=request.user,
            reply=reply,
            text=text,
            now=timezone.now(),
            expected_revision=revision,
        )
    except StaleRevision as stale:
        return _stale(request, reply, stale, text)
    except InvalidTransition as refused:
        if request.htmx:
            return _status(request, reply, error=str(refused))
        messages.error(request, str(refused))
        return _back(reply.incident_id)
    if request.htmx:
        return _status(request, reply, saved=True, update_revision=True)
    if reply.state == ReplyState.DRAFT:
        messages.success(request, gettext("Reply saved."))
    else:
        messages.success(
            request, gettext("Reply saved. It is a new revision: it goes through approval again.")
        )
    return _back(reply.incident_id)


def _stale(request: HttpRequest, reply: Reply, stale: StaleRevision, text: str) -> HttpResponse:
    """A save from an older revision: the stored text stays; the person sees why, keeps their
    own text, and may save it again deliberately (the form then carries the current revision)."""
    if request.htmx:
        return _status(request, reply, error=str(stale))
    reply.refresh_from_db()
    return _editor_page(
        request, reply, status=409, draft_text=text, stale_text=reply.text, error=str(stale)
    )


@require_POST
@works
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the text shown (if it changed) and submit it."""
    reply = _visible_reply(request, pk)
    form = DraftForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("The reply could not be read; check it and try again."))
        return _back(reply.incident_id)
    now = timezone.now()
    try:
        reply = drafts.save_draft(
            actor=request.user,
            reply=reply,
            text=form.cleaned_data["text"],
            now=now,
            expected_revision=form.cleaned_data["revision"],
        )
        reply = drafts.submit_draft(actor=request.user, reply=reply, now=now)
    except StaleRevision as stale:
        return _stale(request, reply, stale, form.cleaned_data["text"])
    except InvalidTransition as refused:
        messages.error(request, str(refused))
        return _back(reply.incident_id)
    if reply.state == ReplyState.AWAITING_APPROVAL:
        messages.success(request, gettext("Reply submitted: the approvers were told."))
    else:
        messages.success(request, gettext("Reply approved: the protocol needs no approval here."))
    return _back(reply.incident_id)


@require_POST
@works
def template(request: HttpRequest, pk: int) -> HttpResponse:
    reply = _visible_reply(request, pk)
    form = ApplyTemplateForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose a language."))
        return _back(reply.incident_id)
    language = form.cleaned_data["language"]
    key = form.cleaned_data["template"]
    # The same template (by position) in the chosen language; a blank draft stays blank.
    parts = key.split(":")
    key = f"{parts[0]}:{language}:{parts[2]}" if len(parts) == 3 else drafts.BLANK_TEMPLATE
    try:
        drafts.apply_template(
            actor=request.user,
            reply=reply,
            now=timezone.now(),
            template_key=key,
            language=language,
            expected_revision=form.cleaned_data["revision"],
        )
    except InvalidTransition as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, gettext("The reply starts again from the template."))
    return _back(reply.incident_id)


@require_POST
@works
def discard(request: HttpRequest, pk: int) -> HttpResponse:
    reply = _visible_reply(request, pk)
    form = RevisionForm(request.POST)
    try:
        drafts.discard_draft(
            actor=request.user,
            reply=reply,
            now=timezone.now(),
            expected_revision=form.cleaned_data["revision"] if form.is_valid() else None,
        )
    except InvalidTransition as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, gettext("Reply discarded."))
    return _back(reply.incident_id)
