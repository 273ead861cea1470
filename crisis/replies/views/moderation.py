"""Moderation pages: the supervisors' queue, one request with its decisions, and the request
form for a mention of an incident (deleting comes back once as a confirmation page)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crisis.incidents import page
from crisis.incidents.models import Incident
from crisis.incidents.transitions import is_supervisor, works_incidents
from crisis.replies import moderation
from crisis.replies.forms_moderation import (
    ModerationDecisionForm,
    ModerationRejectForm,
    ModerationRequestForm,
)
from crisis.replies.models import ModerationAction, ModerationRequest, ModerationState
from crisis.roles import Perm
from monitoring.models import Mention

QUEUE_PAGE_SIZE = 20
# What the queue lists: requests to decide (the default), approved ones still to carry out,
# and failed ones.
QUEUE_VIEWS = {
    "pending": (ModerationState.REQUESTED,),
    "approved": (ModerationState.APPROVED,),
    "failed": (ModerationState.FAILED,),
}


def _requests():
    return ModerationRequest.objects.select_related(
        "mention__author", "mention__source", "incident", "requested_by", "decided_by", "reverses"
    )


def _is_supervisor(user) -> bool:
    return works_incidents(user) and is_supervisor(user)


@require_GET
@permission_required(Perm.SUPERVISE_INCIDENTS, raise_exception=True)
def queue(request: HttpRequest) -> HttpResponse:
    """Pending requests oldest first (so nothing waits forever), paginated."""
    show = request.GET.get("show", "pending")
    if show not in QUEUE_VIEWS:
        show = "pending"
    rows = _requests().filter(state__in=QUEUE_VIEWS[show]).order_by("requested_at", "id")
    listing = Paginator(rows, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    statuses = moderation.platform_statuses({item.mention_id for item in listing})
    items = [
        {
            "request": item,
            "status": statuses[item.mention_id],
            "status_label": moderation.PlatformStatus.LABELS[statuses[item.mention_id]],
            "can_approve": moderation.can_approve(request.user, item),
        }
        for item in listing
    ]
    return render(
        request,
        "replies/moderation_queue.html",
        {
            "page": listing,
            "items": items,
            "show": show,
            "query_string": f"show={show}",
            "views": [
                ("pending", gettext("To decide")),
                ("approved", gettext("Approved, to carry out")),
                ("failed", gettext("Failed")),
            ],
            "next_url": request.get_full_path(),
        },
    )


def _visible_request(request: HttpRequest, pk: int) -> ModerationRequest:
    """The request if the viewer may see it: supervisors see all; a manager those of the
    incidents they may see."""
    item = get_object_or_404(_requests(), pk=pk)
    if _is_supervisor(request.user):
        return item
    if item.incident is not None and page.can_view(request.user, item.incident):
        return item
    raise PermissionDenied(gettext("You cannot see moderation request #%(id)s.") % {"id": pk})


@require_GET
@permission_required(Perm.TRIAGE, raise_exception=True)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = _visible_request(request, pk)
    mention = item.mention
    history = moderation.history_for([mention.pk])[mention.pk]
    status = moderation.platform_statuses([mention.pk])[mention.pk]
    writer = moderation.platform_write(mention, item.action)
    may_work = moderation.can_request(request.user, item.incident)
    return render(
        request,
        "replies/moderation_detail.html",
        {
            "item": item,
            "mention": mention,
            "history": history,
            "status": status,
            "status_label": moderation.PlatformStatus.LABELS[status],
            "writer": writer,
            "may_decide": moderation.can_decide(request.user, item)
            and item.state == ModerationState.REQUESTED,
            "may_approve": moderation.can_approve(request.user, item)
            and item.state == ModerationState.REQUESTED,
            "may_retry": may_work and item.state == ModerationState.FAILED and writer is not None,
            "may_mark_done": may_work
            and (
                item.state == ModerationState.FAILED
                or (item.state == ModerationState.APPROVED and writer is None)
            ),
            "may_show_again": may_work
            and item.incident is not None
            and item.action == ModerationAction.HIDE
            and item.state == ModerationState.DONE
            and status == moderation.PlatformStatus.HIDDEN
            and not any(entry.state in moderation.OPEN_STATES for entry in history),
            "approve_form": ModerationDecisionForm(prefix="approve"),
            "reject_form": ModerationRejectForm(prefix="reject"),
            "next_url": request.get_full_path(),
        },
    )


def _back(request: HttpRequest, item: ModerationRequest) -> HttpResponse:
    """Back where the person acted (the queue or the incident page), else the request."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("replies:moderation_detail", pk=item.pk)


def _decide(request: HttpRequest, item: ModerationRequest, call, done: str) -> HttpResponse:
    try:
        call()
    except moderation.ModerationRefused as refused:
        messages.error(request, str(refused))
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
    else:
        messages.success(request, done)
    return _back(request, item)


@require_POST
@permission_required(Perm.SUPERVISE_INCIDENTS, raise_exception=True)
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    item = _visible_request(request, pk)
    form = ModerationDecisionForm(request.POST, prefix="approve")
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("comment", [])))
        return _back(request, item)
    comment = form.cleaned_data["comment"]
    return _decide(
        request,
        item,
        lambda: moderation.approve_moderation(
            actor=request.user, request=item, comment=comment, now=timezone.now()
        ),
        gettext("Moderation request #%(id)s approved.") % {"id": item.pk},
    )


@require_POST
@permission_required(Perm.SUPERVISE_INCIDENTS, raise_exception=True)
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    item = _visible_request(request, pk)
    form = ModerationRejectForm(request.POST, prefix="reject")
    if not form.is_valid():
        messages.error(
            request,
            gettext("To reject request #%(id)s, say why in a comment.") % {"id": item.pk},
        )
        return _back(request, item)
    return _decide(
        request,
        item,
        lambda: moderation.reject_moderation(
            actor=request.user,
            request=item,
            comment=form.cleaned_data["comment"],
            now=timezone.now(),
        ),
        gettext("Moderation request #%(id)s rejected.") % {"id": item.pk},
    )


@require_POST
@permission_required(Perm.TRIAGE, raise_exception=True)
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    item = _visible_request(request, pk)
    return _decide(
        request,
        item,
        lambda: moderation.retry_moderation(actor=request.user, request=item, now=timezone.now()),
        gettext("Moderation request #%(id)s will be tried again.") % {"id": item.pk},
    )


@require_POST
@permission_required(Perm.TRIAGE, raise_exception=True)
def done_by_hand(request: HttpRequest, pk: int) -> HttpResponse:
    item = _visible_request(request, pk)
    return _decide(
        request,
        item,
        lambda: moderation.mark_moderation_done_by_hand(
            actor=request.user, request=item, now=timezone.now()
        ),
        gettext("Moderation request #%(id)s marked done.") % {"id": item.pk},
    )


def _incident_for(request: HttpRequest, pk: int) -> Incident:
    try:
        incident = page.incident_for_page(pk)
    except Incident.DoesNotExist as missing:
        raise Http404 from missing
    if not page.can_view(request.user, incident):
        raise PermissionDenied(gettext("You cannot see incident #%(id)s.") % {"id": pk})
    if not moderation.can_request(request.user, incident):
        raise PermissionDenied(gettext("You cannot moderate mentions of this incident."))
    return incident


@require_http_methods(["GET", "POST"])
@permission_required(Perm.TRIAGE, raise_exception=True)
def request_form(request: HttpRequest, incident_pk: int, mention_pk: int) -> HttpResponse:
    """Ask to hide, show again or delete one mention of the incident's thread."""
    incident = _incident_for(request, incident_pk)
    mention = get_object_or_404(Mention.objects.select_related("author", "source"), pk=mention_pk)
    if not moderation.in_thread(mention, incident):
        raise Http404
    history = moderation.history_for([mention.pk])[mention.pk]
    status = moderation.platform_statuses([mention.pk])[mention.pk]
    actions = moderation.actions_for(status)
    waiting = next((item for item in history if item.state in moderation.OPEN_STATES), None)
    context = {
        "incident": incident,
        "mention": mention,
        "history": history,
        "status": status,
        "status_label": moderation.PlatformStatus.LABELS[status],
        "waiting": waiting,
        "by_hand": [
            str(ModerationAction(action).label)
            for action in actions
            if moderation.platform_write(mention, action) is None
        ],
        "hide_needs_approval": moderation.needs_approval(ModerationAction.HIDE, incident),
        "confirming": False,
    }
    if request.method == "GET" or waiting is not None or not actions:
        initial = {"action": request.GET.get("action")} if request.GET.get("action") else {}
        context["form"] = ModerationRequestForm(actions=actions, initial=initial)
        return render(request, "replies/moderation_request.html", context)
    form = ModerationRequestForm(request.POST, actions=actions)
    context["form"] = form
    if not form.is_valid():
        return render(request, "replies/moderation_request.html", context, status=400)
    data = form.cleaned_data
    if data["action"] == ModerationAction.DELETE and not data["confirmed"]:
        context["confirming"] = True
        return render(request, "replies/moderation_request.html", context)
    try:
        created = moderation.request_moderation(
            actor=request.user,
            mention=mention,
            action=data["action"],
            justification=data["justification"],
            incident=incident,
            now=timezone.now(),
        )
    except moderation.ModerationRefused as refused:
        messages.error(request, str(refused))
        return redirect(_incident_anchor(incident))
    except ValidationError as invalid:
        form.add_error("justification", invalid)
        return render(request, "replies/moderation_request.html", context, status=400)
    if created.state == ModerationState.REQUESTED:
        done = gettext("Request #%(id)s sent to the supervisors for approval.")
    elif moderation.platform_write(mention, created.action) is None:
        done = gettext(
            "Request #%(id)s is approved: do it by hand on the platform, then mark it done."
        )
    else:
        done = gettext("Request #%(id)s is approved and is being carried out on the platform.")
    messages.success(request, done % {"id": created.pk})
    return redirect(_incident_anchor(incident))


def _incident_anchor(incident: Incident) -> str:
    return reverse("incidents:detail", args=[incident.pk]) + "#incident-moderation"
