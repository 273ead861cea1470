"""Pages of the resolution and post-mortem slice: the room's resolution section (criteria and
the resolve form), resolving, the post-mortem (start, write, refresh the impact, follow-up
items, complete), its protocol draft and the draft's backtest on the crisis, and the
Markdown and PDF exports.

Each action calls one service. Over htmx it answers with the section it changed; without
htmx it goes back to the page with a message. A refusal is a message, never a 500.
"""

import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from crisis.rooms import access, backtest, export, postmortem, resolution
from crisis.rooms.crises import CrisisError
from crisis.rooms.forms_postmortem import FollowUpItemForm, PostMortemForm, ResolveForm
from crisis.rooms.models import Crisis, FollowUpItem, PostMortem
from crisis.rooms.templatetags.resolution_tags import resolution_context

logger = logging.getLogger(__name__)

SECTION_TEMPLATE = "rooms/partials/resolution_section.html"
BODY_TEMPLATE = "rooms/partials/resolution_postmortem.html"
BACKTEST_TEMPLATE = "rooms/partials/resolution_backtest.html"
POST_MORTEM_PAGE = "rooms/postmortem.html"


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _crisis(request: HttpRequest, pk: int) -> Crisis:
    """The crisis if the viewer may see it: 404 when it does not exist, 403 otherwise."""
    try:
        crisis = Crisis.objects.select_related(
            "commander", "resolved_by", "protocol_version", "suggestion"
        ).get(pk=pk)
    except Crisis.DoesNotExist as missing:
        raise Http404 from missing
    access.require_view(request.user, crisis)
    return crisis


def _post_mortem(crisis: Crisis) -> PostMortem | None:
    found = (
        PostMortem.objects.select_related("protocol_draft", "created_by")
        .filter(crisis=crisis)
        .first()
    )
    if found is not None:
        found.crisis = crisis
    return found


def _existing_post_mortem(crisis: Crisis) -> PostMortem:
    found = _post_mortem(crisis)
    if found is None:
        raise Http404(gettext("This crisis has no post-mortem yet."))
    return found


def _refusal(error: Exception) -> str:
    messages_ = getattr(error, "messages", None)
    return " ".join(str(message) for message in messages_) if messages_ else str(error)


def _form_errors(form) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


def post_mortem_url(crisis: Crisis, anchor: str = "") -> str:
    return reverse("rooms:post_mortem", args=[crisis.pk]) + (f"#{anchor}" if anchor else "")


def room_url(crisis: Crisis, anchor: str = "resolution-section") -> str:
    return reverse("rooms:room", args=[crisis.pk]) + (f"#{anchor}" if anchor else "")


# --- The resolution section --------------------------------------------------------------------


def _section(request: HttpRequest, crisis: Crisis, *, status: int = 200, **extra) -> HttpResponse:
    context = resolution_context(crisis, request.user, now=timezone.now(), **extra)
    return render(request, SECTION_TEMPLATE, context, status=status)


@require_GET
def resolution_section(request: HttpRequest, pk: int) -> HttpResponse:
    """The section over htmx; without htmx, the room (where the section is)."""
    crisis = _crisis(request, pk)
    if not is_htmx(request):
        return redirect(room_url(crisis))
    return _section(request, crisis)


@require_http_methods(["GET", "POST"])
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the criteria and the form on a page of their own; POST: resolve."""
    crisis = _crisis(request, pk)
    if not access.can_resolve(request.user, crisis):
        raise PermissionDenied(gettext("Only the commander or a supervisor resolves a crisis."))
    form = ResolveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            resolution.resolve_crisis(
                actor=request.user,
                crisis=crisis,
                note=form.cleaned_data["note"],
                now=timezone.now(),
            )
        except CrisisError as refused:
            if is_htmx(request):
                return _section(request, crisis, error=_refusal(refused))
            messages.error(request, _refusal(refused))
            return redirect(room_url(crisis))
        messages.success(
            request,
            gettext(
                "The crisis is resolved. Its post-mortem can start: what happened, and what "
                "changes."
            ),
        )
        # The header, the plan and the statement change too: the whole room is reloaded (to
        # the room's own URL: a change of fragment alone would not reload the page).
        if is_htmx(request):
            return HttpResponseClientRedirect(room_url(crisis, anchor=""))
        return redirect(room_url(crisis))
    if request.method == "POST" and is_htmx(request):
        return _section(request, crisis, resolve_form=form, error=_form_errors(form), status=400)
    context = resolution_context(crisis, request.user, now=timezone.now(), resolve_form=form)
    context["resolve_open"] = True
    return render(
        request,
        "rooms/postmortem_resolve.html",
        context,
        status=400 if form.is_bound else 200,
    )


# --- The post-mortem page ----------------------------------------------------------------------


def page_context(request: HttpRequest, crisis: Crisis, post_mortem: PostMortem | None, **extra):
    """What the post-mortem page and its body partial show this viewer."""
    user, now = request.user, timezone.now()
    context = {
        "crisis": crisis,
        "post_mortem": post_mortem,
        "can_start": post_mortem is None
        and crisis.status == "resolved"
        and access.can_act(user, crisis),
        "notice": extra.pop("notice", ""),
        "error": extra.pop("error", ""),
    }
    if post_mortem is None:
        return context
    context.update(export.document_context(post_mortem, now=now))
    can_write = postmortem.can_write(user, post_mortem)
    can_propose = postmortem.can_propose_protocol(user, crisis)
    # As postmortem.can_mark_done, with the viewer's seat read once (the viewer sees the crisis).
    acts = access.can_act(user, crisis)
    for item in context["items"]:
        item.post_mortem = post_mortem
        item.can_mark_done = item.done_at is None and (acts or item.owner_id == user.pk)
    draft = post_mortem.protocol_draft
    stored = post_mortem.backtest or {}
    context.update(
        {
            "can_write": can_write,
            "can_complete": postmortem.can_complete(user, post_mortem),
            "can_propose": can_propose,
            "can_backtest": can_propose and draft is not None,
            "backtest_running": backtest.in_progress(stored, now=now),
            "backtest_stale": bool(
                draft is not None
                and stored.get("status") == backtest.DONE
                and (stored.get("draft") or {}).get("updated_at") != draft.updated_at.isoformat()
            ),
            "form": extra.pop("form", None)
            or (PostMortemForm(instance=post_mortem, prefix="pm") if can_write else None),
            "item_form": extra.pop("item_form", None)
            or (FollowUpItemForm(crisis=crisis, prefix="item") if can_write else None),
            "open_items": sum(1 for item in context["items"] if item.done_at is None),
            "today": timezone.localdate(),
        }
    )
    context.update(extra)
    return context


@require_http_methods(["GET", "POST"])
def post_mortem(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the post-mortem (or how to start it); POST: start it."""
    crisis = _crisis(request, pk)
    if request.method == "POST":
        try:
            postmortem.start_post_mortem(actor=request.user, crisis=crisis, now=timezone.now())
        except CrisisError as refused:
            messages.error(request, _refusal(refused))
            return redirect(room_url(crisis))
        messages.success(request, gettext("Post-mortem started; its impact figures are computed."))
        if is_htmx(request):
            return HttpResponseClientRedirect(post_mortem_url(crisis))
        return redirect(post_mortem_url(crisis))
    found = _post_mortem(crisis)
    return render(request, POST_MORTEM_PAGE, page_context(request, crisis, found))


def _done(request: HttpRequest, crisis: Crisis, message: str, anchor: str = "") -> HttpResponse:
    if is_htmx(request):
        found = _existing_post_mortem(crisis)
        return render(request, BODY_TEMPLATE, page_context(request, crisis, found, notice=message))
    messages.success(request, message)
    return redirect(post_mortem_url(crisis, anchor))


def _refused(
    request: HttpRequest, crisis: Crisis, message: str, *, status: int = 200, **extra
) -> HttpResponse:
    if is_htmx(request) or extra:
        found = _existing_post_mortem(crisis)
        context = page_context(request, crisis, found, error=message, **extra)
        template = BODY_TEMPLATE if is_htmx(request) else POST_MORTEM_PAGE
        return render(request, template, context, status=status)
    messages.error(request, message)
    return redirect(post_mortem_url(crisis))


@require_POST
def edit_post_mortem(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    found = _existing_post_mortem(crisis)
    access.require_act(request.user, crisis)
    form = PostMortemForm(request.POST, instance=found, prefix="pm")
    if not form.is_valid():
        return _refused(request, crisis, gettext("Check the form below."), status=400, form=form)
    try:
        postmortem.update_post_mortem(
            actor=request.user,
            post_mortem=found,
            now=timezone.now(),
            **{name: form.cleaned_data[name] for name in postmortem.TEXT_FIELDS},
        )
    except CrisisError as refused:
        return _refused(request, crisis, _refusal(refused))
    return _done(request, crisis, gettext("Post-mortem saved."), "post-mortem-review")


@require_POST
def refresh_impact(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    found = _existing_post_mortem(crisis)
    try:
        postmortem.refresh_impact(actor=request.user, post_mortem=found, now=timezone.now())
    except CrisisError as refused:
        return _refused(request, crisis, _refusal(refused))
    return _done(request, crisis, gettext("Impact figures computed again."), "post-mortem-impact")


@require_POST
def add_item(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    found = _existing_post_mortem(crisis)
    access.require_act(request.user, crisis)
    form = FollowUpItemForm(request.POST, crisis=crisis, prefix="item")
    if not form.is_valid():
        return _refused(
            request, crisis, gettext("Check the follow-up item."), status=400, item_form=form
        )
    try:
        postmortem.add_follow_up_item(
            actor=request.user,
            post_mortem=found,
            title=form.cleaned_data["title"],
            owner=form.cleaned_data["owner"],
            due_on=form.cleaned_data["due_on"],
            now=timezone.now(),
        )
    except CrisisError as refused:
        return _refused(request, crisis, _refusal(refused))
    return _done(request, crisis, gettext("Follow-up item added."), "post-mortem-items")


@require_POST
def item_done(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        item = FollowUpItem.objects.select_related("post_mortem").get(pk=pk)
    except FollowUpItem.DoesNotExist as missing:
        raise Http404 from missing
    crisis = _crisis(request, item.post_mortem.crisis_id)
    item.post_mortem.crisis = crisis
    try:
        postmortem.mark_follow_up_done(actor=request.user, item=item, now=timezone.now())
    except CrisisError as refused:
        return _refused(request, crisis, _refusal(refused))
    return _done(request, crisis, gettext("Follow-up item done."), "post-mortem-items")


@require_POST
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    found = _existing_post_mortem(crisis)
    try:
        postmortem.complete_post_mortem(actor=request.user, post_mortem=found, now=timezone.now())
    except CrisisError as refused:
        return _refused(request, crisis, _refusal(refused))
    messages.success(
        request, gettext("Post-mortem completed: its figures are frozen and the crisis is closed.")
    )
    if is_htmx(request):
        return HttpResponseClientRedirect(post_mortem_url(crisis))
    return redirect(post_mortem_url(crisis))


@require_POST
def protocol_draft(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    found = _existing_post_mortem(crisis)
    if not postmortem.can_propose_protocol(request.user, crisis):
        raise PermissionDenied(gettext("Only a protocol editor turns a post-mortem into a draft."))
    try:
        draft = postmortem.create_protocol_draft_from_post_mortem(
            actor=request.user, post_mortem=found, now=timezone.now()
        )
    except CrisisError as refused:
        return _refused(request, crisis, _refusal(refused))
    return _done(
        request,
        crisis,
        gettext(
            "Protocol draft v%(number)s created from this post-mortem: edit it in the protocol "
            "editor, then backtest it on the crisis."
        )
        % {"number": draft.number},
        "post-mortem-protocol",
    )


@require_http_methods(["GET", "POST"])
def run_backtest(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the backtest block (htmx polls it while the backtest runs); POST: run it."""
    crisis = _crisis(request, pk)
    found = _existing_post_mortem(crisis)
    if request.method == "GET":
        if not is_htmx(request):
            return redirect(post_mortem_url(crisis, "post-mortem-protocol"))
        return render(request, BACKTEST_TEMPLATE, page_context(request, crisis, found))
    if not postmortem.can_propose_protocol(request.user, crisis):
        raise PermissionDenied(gettext("Only a protocol editor backtests a protocol draft."))
    try:
        found = backtest.start_crisis_backtest(
            actor=request.user, post_mortem=found, now=timezone.now()
        )
    except CrisisError as refused:
        return _refused(request, crisis, _refusal(refused))
    if found.backtest.get("status") == backtest.DONE:
        message = gettext("Backtest done on the crisis's own mentions.")
    else:
        message = gettext("Backtest queued: the result shows here when it is done.")
    return _done(request, crisis, message, "post-mortem-protocol")


# --- Exports -----------------------------------------------------------------------------------


def _filename(crisis: Crisis, extension: str) -> str:
    return f"post-mortem-crisis-{crisis.pk}.{extension}"


@require_GET
def export_markdown(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    found = _existing_post_mortem(crisis)
    text = export.markdown(found, language=request.LANGUAGE_CODE, now=timezone.now())
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(crisis, "md")}"'
    return response


@require_GET
def export_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    found = _existing_post_mortem(crisis)
    try:
        document = export.pdf(found, language=request.LANGUAGE_CODE, now=timezone.now())
    except (ImportError, OSError):
        # WeasyPrint or its system libraries (Pango) are missing on this machine.
        logger.exception("PDF export of post-mortem %s failed", found.pk)
        messages.error(
            request,
            gettext(
                "The PDF could not be made on this server (its PDF library is missing); the "
                "Markdown export works."
            ),
        )
        return redirect(post_mortem_url(crisis))
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(crisis, "pdf")}"'
    return response
