"""Pages of the statement slice: the statement (its editor, approval, checklist and
commitments), the autosave, submitting, approving, sending back and discarding a version, the
history of versions and the diff of one against the one before it, marking a channel published
or publishing it through Calma, and marking a commitment.

Each action calls one service and goes back to the statement page; a refusal is a message,
never a 500. The autosave and the checklist's refresh answer with their partial over htmx;
without htmx each of those URLs leads to the whole page."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from crisis.rooms import access, publishing
from crisis.rooms import statement as statements
from crisis.rooms.forms_statement import (
    ApproveForm,
    CommitmentForm,
    MarkPublishedForm,
    RevisionForm,
    SendBackForm,
    StatementForm,
)
from crisis.rooms.models import Crisis, Publication, StatementVersion
from crisis.rooms.publishing import PublishingError
from crisis.rooms.statement import StaleStatement, StatementError
from crisis.rooms.templatetags.statement_tags import section_context

VERSIONS_PER_PAGE = 20


# --- Helpers -----------------------------------------------------------------------------------


def _crisis(request: HttpRequest, pk: int) -> Crisis:
    """The crisis if the viewer may see it: 404 when it does not exist, 403 otherwise."""
    try:
        crisis = Crisis.objects.select_related("protocol_version", "commander").get(pk=pk)
    except Crisis.DoesNotExist as missing:
        raise Http404 from missing
    access.require_view(request.user, crisis)
    return crisis


def _version(request: HttpRequest, pk: int, version_pk: int) -> tuple[Crisis, StatementVersion]:
    crisis = _crisis(request, pk)
    try:
        version = StatementVersion.objects.select_related("author").get(
            pk=version_pk, statement__crisis=crisis
        )
    except StatementVersion.DoesNotExist as missing:
        raise Http404 from missing
    return crisis, version


def _publication(request: HttpRequest, pk: int, publication_pk: int) -> tuple[Crisis, Publication]:
    crisis = _crisis(request, pk)
    try:
        publication = Publication.objects.select_related("version").get(
            pk=publication_pk, version__statement__crisis=crisis
        )
    except Publication.DoesNotExist as missing:
        raise Http404 from missing
    access.require_act(request.user, crisis)
    return crisis, publication


def _back(crisis: Crisis, anchor: str = "crisis-statement") -> HttpResponse:
    return redirect(reverse("rooms:statement", args=[crisis.pk]) + f"#{anchor}")


def _errors(form) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


def _page(request: HttpRequest, crisis: Crisis, *, status: int = 200, **extra) -> HttpResponse:
    context = section_context(crisis, request.user, **extra)
    context["room_url"] = _room_url(crisis)
    return render(request, "rooms/statement.html", context, status=status)


def _has_room() -> bool:
    try:
        reverse("rooms:room", args=[1])
    except NoReverseMatch:  # the room page is another slice's; linked once it exists
        return False
    return True


def _require_approver(request: HttpRequest, crisis: Crisis) -> None:
    user = request.user
    if not (access.runs_every_crisis(user) or statements.is_legal_member(user, crisis)):
        raise PermissionDenied(gettext("Only the statement's approvers decide on it."))


# --- The statement -----------------------------------------------------------------------------


@require_GET
def statement_page(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    if request.htmx and not request.htmx.boosted:
        context = section_context(crisis, request.user)
        return render(request, "rooms/partials/statement_section.html", context)
    return _page(request, crisis)


@require_POST
def start(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    access.require_speak(request.user, crisis)
    try:
        statements.start_statement_version(actor=request.user, crisis=crisis, now=timezone.now())
    except StatementError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, gettext("New version started. It is saved as you type."))
    return _back(crisis, "statement-editor")


def _status(request: HttpRequest, crisis: Crisis, version: StatementVersion, **extra):
    """The editor's status line for the autosave (htmx swaps it under the editor)."""
    version.refresh_from_db()
    channels = statements.channels_of(crisis)
    context = {
        "crisis": crisis,
        "version": version,
        "texts": statements.channel_texts(version, channels),
        "refusal": statements.refusal(version, channels),
        **extra,
    }
    return render(request, "rooms/partials/statement_status.html", context)


@require_POST
def save(request: HttpRequest, pk: int, version_pk: int) -> HttpResponse:
    crisis, version = _version(request, pk, version_pk)
    access.require_speak(request.user, crisis)
    channels = statements.channels_of(crisis)
    form = StatementForm(request.POST, channels=channels, auto_id=f"statement-{version.pk}-%s")
    if not form.is_valid():
        error = _errors(form)
        if request.htmx:
            return _status(request, crisis, version, error=error)
        messages.error(request, error)
        return _page(request, crisis, status=400, form=form)
    try:
        version = _save_posted(request, version, form)
    except StaleStatement as stale:
        if request.htmx:
            return _status(request, crisis, version, error=str(stale))
        version.refresh_from_db()
        return _page(
            request,
            crisis,
            status=409,
            form=form,
            stale_text=version.text,
            stale_error=str(stale),
        )
    except StatementError as refused:
        if request.htmx:
            return _status(request, crisis, version, error=str(refused))
        messages.error(request, str(refused))
        return _back(crisis, "statement-editor")
    if request.htmx:
        return _status(request, crisis, version, saved=True)
    if version.state == "draft":
        messages.success(request, gettext("Statement saved."))
    else:
        messages.success(
            request,
            gettext("Statement saved. It is a new revision: it goes through approval again."),
        )
    return _back(crisis, "statement-editor")


@require_POST
def submit(request: HttpRequest, pk: int, version_pk: int) -> HttpResponse:
    crisis, version = _version(request, pk, version_pk)
    access.require_speak(request.user, crisis)
    try:
        if "text" in request.POST:
            # The editor's form (pressed without JavaScript, or before the autosave ran):
            # what was typed is saved first, then submitted.
            form = StatementForm(
                request.POST,
                channels=statements.channels_of(crisis),
                auto_id=f"statement-{version.pk}-%s",
            )
            if not form.is_valid():
                messages.error(request, _errors(form))
                return _page(request, crisis, status=400, form=form)
            version = _save_posted(request, version, form)
        statements.submit_statement(actor=request.user, version=version, now=timezone.now())
    except StatementError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, gettext("Submitted for approval. The approvers are told."))
    return _back(crisis)


def _save_posted(request: HttpRequest, version, form):
    """Save the editor's posted text. A stale revision whose text is exactly what is stored
    (the autosave got there first with the same words) is no conflict."""
    text, channel_texts = form.cleaned_data["text"], form.channel_texts()
    try:
        return statements.save_statement(
            actor=request.user,
            version=version,
            text=text,
            channel_texts=channel_texts,
            now=timezone.now(),
            expected_revision=form.cleaned_data["revision"],
        )
    except StaleStatement:
        version.refresh_from_db()
        if version.text == text and _filled(version.channel_texts) == _filled(channel_texts):
            return version
        raise


def _filled(channel_texts: dict | None) -> dict:
    return {key: value for key, value in (channel_texts or {}).items() if value}


@require_POST
def approve(request: HttpRequest, pk: int, version_pk: int) -> HttpResponse:
    crisis, version = _version(request, pk, version_pk)
    _require_approver(request, crisis)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return _back(crisis)
    try:
        version = statements.approve_statement(
            actor=request.user,
            version=version,
            role=form.cleaned_data["role"],
            now=timezone.now(),
            expected_revision=form.cleaned_data["revision"],
        )
    except StatementError as refused:
        messages.error(request, str(refused))
    else:
        if version.state == "approved":
            messages.success(
                request,
                gettext("Approved: version %(number)s is the statement now. Publish it.")
                % {"number": version.number},
            )
        else:
            messages.success(request, gettext("Your approval is recorded."))
    return _back(crisis)


@require_POST
def send_back(request: HttpRequest, pk: int, version_pk: int) -> HttpResponse:
    crisis, version = _version(request, pk, version_pk)
    _require_approver(request, crisis)
    form = SendBackForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return _back(crisis)
    try:
        statements.send_back_statement(
            actor=request.user,
            version=version,
            comment=form.cleaned_data["comment"],
            now=timezone.now(),
            expected_revision=form.cleaned_data["revision"],
        )
    except StatementError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, gettext("Sent back to its author with your comment."))
    return _back(crisis)


@require_POST
def discard(request: HttpRequest, pk: int, version_pk: int) -> HttpResponse:
    crisis, version = _version(request, pk, version_pk)
    access.require_speak(request.user, crisis)
    form = RevisionForm(request.POST)
    revision = form.cleaned_data["revision"] if form.is_valid() else None
    try:
        statements.discard_statement_version(
            actor=request.user, version=version, now=timezone.now(), expected_revision=revision
        )
    except StatementError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, gettext("The version was discarded."))
    return _back(crisis)


# --- History and diff --------------------------------------------------------------------------


@require_GET
def history(request: HttpRequest, pk: int) -> HttpResponse:
    crisis = _crisis(request, pk)
    versions = (
        StatementVersion.objects.filter(statement__crisis=crisis)
        .select_related("author")
        .prefetch_related("approvals__decided_by")
        .order_by("-number")
    )
    page = Paginator(versions, VERSIONS_PER_PAGE).get_page(request.GET.get("page"))
    for version in page.object_list:
        version.approvers = [
            approval
            for approval in version.approvals.all()
            if approval.revision == version.revision and approval.decision == statements.APPROVED
        ]
    return render(
        request,
        "rooms/statement_history.html",
        {"crisis": crisis, "page": page, "room_url": _room_url(crisis)},
    )


def _room_url(crisis: Crisis) -> str:
    return reverse("rooms:room", args=[crisis.pk]) if _has_room() else ""


@require_GET
def diff(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """Version `number` against the one before it (or `?against=<number>`)."""
    crisis = _crisis(request, pk)
    versions = StatementVersion.objects.filter(statement__crisis=crisis)
    try:
        version = versions.select_related("author").get(number=number)
    except StatementVersion.DoesNotExist as missing:
        raise Http404 from missing
    against = request.GET.get("against", "")
    earlier = versions.filter(number__lt=number).order_by("-number")
    if against.isdigit():
        earlier = versions.filter(number=int(against))
    previous = earlier.select_related("author").first()
    channels = statements.channels_of(crisis)
    channel_diffs = []
    if previous is not None:
        for channel in channels:
            old = statements.channel_text(previous, channel)
            new = statements.channel_text(version, channel)
            if old.own_text or new.own_text:
                channel_diffs.append(
                    {
                        "channel": channel,
                        "changed": old.text != new.text,
                        "html": statements.diff_html(old.text, new.text),
                    }
                )
    return render(
        request,
        "rooms/statement_diff.html",
        {
            "crisis": crisis,
            "version": version,
            "previous": previous,
            "diff": statements.diff_html(previous.text, version.text) if previous else None,
            "channel_diffs": channel_diffs,
            "room_url": _room_url(crisis),
        },
    )


# --- Publication checklist ---------------------------------------------------------------------


@require_GET
def checklist(request: HttpRequest, pk: int) -> HttpResponse:
    """The checklist alone (htmx refresh while Calma publishes); the page without htmx."""
    crisis = _crisis(request, pk)
    context = section_context(crisis, request.user)
    if request.htmx and not request.htmx.boosted:
        return render(request, "rooms/partials/statement_checklist.html", context)
    return _page(request, crisis)


@require_POST
def mark_published(request: HttpRequest, pk: int, publication_pk: int) -> HttpResponse:
    crisis, publication = _publication(request, pk, publication_pk)
    form = MarkPublishedForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return _back(crisis, "statement-checklist")
    try:
        publishing.mark_published(
            actor=request.user,
            publication=publication,
            url=form.cleaned_data["url"],
            now=timezone.now(),
        )
    except (PublishingError, ValidationError) as refused:
        messages.error(request, " ".join(getattr(refused, "messages", [str(refused)])))
    else:
        messages.success(request, gettext("Marked published."))
    return _back(crisis, "statement-checklist")


@require_POST
def publish(request: HttpRequest, pk: int, publication_pk: int) -> HttpResponse:
    crisis, publication = _publication(request, pk, publication_pk)
    try:
        publishing.publish_through_connector(
            actor=request.user, publication=publication, now=timezone.now()
        )
    except PublishingError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, gettext("Calma is publishing the statement on this channel."))
    return _back(crisis, "statement-checklist")


# --- Commitments -------------------------------------------------------------------------------


@require_POST
def commitment(request: HttpRequest, pk: int, version_pk: int) -> HttpResponse:
    crisis, version = _version(request, pk, version_pk)
    access.require_speak(request.user, crisis)
    form = CommitmentForm(request.POST, crisis=crisis, auto_id="commitment-%s")
    if not form.is_valid():
        messages.error(request, _errors(form))
        return _page(request, crisis, status=400, commitment_form=form)
    try:
        statements.mark_commitment(
            actor=request.user,
            version=version,
            sentence=form.cleaned_data["sentence"],
            due_at=form.cleaned_data["due_at"],
            owner=form.cleaned_data["owner"],
            now=timezone.now(),
        )
    except StatementError as refused:
        messages.error(request, str(refused))
        return _page(request, crisis, status=400, commitment_form=form)
    messages.success(request, gettext("Commitment marked: it is a task of the action plan now."))
    return _back(crisis, "statement-commitments")
