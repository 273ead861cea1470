"""The approval queue (the supervisor's home, live) and its decisions: approve, edit and
approve, send back with a comment. Each decision calls one service and goes back to the
queue."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from crisis.incidents.transitions import InvalidTransition
from crisis.replies import approvals, selectors
from crisis.replies.forms import ApproveForm, SendBackForm
from crisis.replies.models import Reply
from crisis.views.rendering import render_page_or_partial
from protocols import replies as rules


def _require_approver(request: HttpRequest) -> list[str]:
    roles = approvals.approver_roles(request.user)
    if not roles:
        raise PermissionDenied(gettext("Only supervisors and legal reviewers decide on replies."))
    return roles


def _waiting_reply(request: HttpRequest, pk: int) -> Reply:
    """A reply the approver may decide on: a supervisor any, a legal reviewer those that
    need a legal approval (404 when it does not exist)."""
    try:
        reply = Reply.objects.get(pk=pk)
    except Reply.DoesNotExist as missing:
        raise Http404 from missing
    roles = approvals.approver_roles(request.user)
    if rules.SUPERVISOR not in roles and rules.LEGAL not in reply.approvers_required:
        raise PermissionDenied(gettext("This reply is not in your approval queue."))
    return reply


@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """Replies waiting for approval, with counts; the page refreshes its list every few
    seconds (htmx) and works as a plain page without JavaScript."""
    _require_approver(request)
    context = {
        "queue": selectors.approval_queue(
            request.user, now=timezone.now(), page=request.GET.get("page") or 1
        ),
        "refresh_seconds": selectors.QUEUE_REFRESH_SECONDS,
    }
    return render_page_or_partial(
        request, "replies/approvals.html", "replies/partials/approvals_list.html", context
    )


def _decide(request: HttpRequest, call, done: str) -> HttpResponse:
    """Run one decision; a refusal (four-eyes, a stale or decided reply) is a message on the
    queue, not an error page."""
    try:
        call()
    except (InvalidTransition, PermissionDenied) as refused:
        messages.error(request, str(refused) or gettext("You cannot decide on this reply."))
    else:
        messages.success(request, done)
    return redirect("approvals")


@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    _require_approver(request)
    reply = _waiting_reply(request, pk)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("The approval could not be read; reload the queue."))
        return redirect("approvals")
    # The "edit and approve" form sends the text; the plain "Approve" button does not.
    text = form.cleaned_data["text"] if "text" in request.POST else None
    return _decide(
        request,
        lambda: approvals.approve_reply(
            actor=request.user,
            reply=reply,
            now=timezone.now(),
            text=text,
            role=form.cleaned_data["role"] or None,
            expected_revision=form.cleaned_data["revision"],
        ),
        gettext("Reply on incident #%(id)s approved.") % {"id": reply.incident_id},
    )


@require_POST
def send_back(request: HttpRequest, pk: int) -> HttpResponse:
    _require_approver(request)
    reply = _waiting_reply(request, pk)
    form = SendBackForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Say what should change before sending the reply back."))
        return redirect("approvals")
    return _decide(
        request,
        lambda: approvals.send_back_reply(
            actor=request.user,
            reply=reply,
            comment=form.cleaned_data["comment"],
            now=timezone.now(),
            expected_revision=form.cleaned_data["revision"],
        ),
        gettext("Reply on incident #%(id)s sent back to its author.") % {"id": reply.incident_id},
    )
