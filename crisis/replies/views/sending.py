"""What people do with an approved or sent reply: see its send status (polled while sending),
send it again, mark it sent by hand, correct or delete it. Each action calls one service and
goes back to the incident page."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crisis.incidents.page import can_view
from crisis.incidents.transitions import InvalidTransition
from crisis.replies import sending
from crisis.replies.forms_sending import JustificationForm, MarkSentForm
from crisis.replies.models import Reply, ReplyState
from crisis.roles import Perm

works = permission_required(Perm.TRIAGE, raise_exception=True)


def _visible_reply(request: HttpRequest, pk: int) -> Reply:
    """The reply if the viewer may see its incident: 404 when it does not exist, 403 otherwise."""
    try:
        reply = Reply.objects.select_related(
            "incident", "incident__owner", "in_reply_to", "account", "drafted_by", "corrects"
        ).get(pk=pk)
    except Reply.DoesNotExist as missing:
        raise Http404 from missing
    if not can_view(request.user, reply.incident):
        raise PermissionDenied(
            gettext("You cannot see incident #%(id)s.") % {"id": reply.incident_id}
        )
    return reply


def _back(reply: Reply) -> HttpResponse:
    return redirect(reverse("incidents:detail", args=[reply.incident_id]) + "#incident-replies")


def _perform(request: HttpRequest, reply: Reply, call: Callable[[], object], done: str):
    """Run one service; a refused action is a message on the incident page, not an error."""
    try:
        call()
    except (sending.SendingError, InvalidTransition) as refused:
        messages.error(request, str(refused))
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
    else:
        messages.success(request, done)
    return _back(reply)


@require_GET
@works
def send_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The reply's send status: the partial for htmx (it polls itself while sending), else a
    page around it."""
    reply = _visible_reply(request, pk)
    template = (
        "replies/partials/send_status.html"
        if getattr(request, "htmx", False)
        else "replies/send_status_page.html"
    )
    return render(request, template, {"reply": reply, "viewer": request.user})


@require_POST
@works
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    reply = _visible_reply(request, pk)
    return _perform(
        request,
        reply,
        lambda: sending.retry_send(actor=request.user, reply=reply, now=timezone.now()),
        gettext("The reply is being sent."),
    )


@require_http_methods(["GET", "POST"])
@works
def mark_sent(request: HttpRequest, pk: int) -> HttpResponse:
    reply = _visible_reply(request, pk)
    form = MarkSentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _perform(
            request,
            reply,
            lambda: sending.mark_sent_by_hand(
                actor=request.user, reply=reply, url=form.cleaned_data["url"], now=timezone.now()
            ),
            gettext("The reply is recorded as sent."),
        )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "replies/send_mark_sent.html",
        {"reply": reply, "form": form, "viewer": request.user},
        status=status,
    )


@require_POST
@works
def correct(request: HttpRequest, pk: int) -> HttpResponse:
    reply = _visible_reply(request, pk)
    return _perform(
        request,
        reply,
        lambda: sending.correct_sent_reply(actor=request.user, reply=reply, now=timezone.now()),
        gettext("A correction was drafted from the sent reply: edit it and submit it."),
    )


@require_http_methods(["GET", "POST"])
@works
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm page with the justification; through the platform where Calma can delete the
    reply, else the person deletes it there and confirms here."""
    reply = _visible_reply(request, pk)
    if not sending.may_amend(request.user, reply):
        raise PermissionDenied(
            gettext("Only the reply's author, the incident's owner or a supervisor can do this.")
        )
    on_platform = sending.can_delete_on_platform(reply)
    form = JustificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = (
            gettext("The reply was deleted on the platform.")
            if on_platform
            else gettext("The reply is recorded as deleted by hand.")
        )
        return _perform(
            request,
            reply,
            lambda: sending.delete_sent_reply(
                actor=request.user,
                reply=reply,
                justification=form.cleaned_data["justification"],
                now=timezone.now(),
                by_hand=not on_platform,
            ),
            done,
        )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "replies/send_confirm_delete.html",
        {
            "reply": reply,
            "form": form,
            "on_platform": on_platform,
            "is_sent": reply.state == ReplyState.SENT,
            "link": sending.safe_url(reply.url),
        },
        status=status,
    )
