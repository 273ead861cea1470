"""The inbox: a manager's queues of open incidents, live, filterable, worked with the keyboard."""

from dataclasses import dataclass
from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from crisis.incidents import services, sla
from crisis.incidents.forms import BulkAction, InboxActionForm, InboxFilterForm
from crisis.incidents.models import Incident, IncidentState
from crisis.incidents.selectors import (
    InboxQueue,
    InboxViewer,
    SlaStatus,
    inbox_counts,
    inbox_incident_ids,
    inbox_rows,
    inbox_viewer,
    mentions_found_since,
)
from crisis.incidents.transitions import InvalidTransition
from crisis.roles import Perm
from crisis.views.rendering import render_page_or_partial
from monitoring.platforms import Platform
from protocols.scoring.types import Severity, TriageClass

# How often the list asks for new incidents (seconds).
REFRESH_SECONDS = 10


# Rows longer than this show the start of the first mention (the page has the rest).
EXCERPT_CHARS = 160


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One incident as a row shows it, with what the viewer may do (decided without a query).

    Its texts are prepared here once: a 100-row page rendering ids, labels, dates and numbers
    through template filters spent most of its time localising the same things."""

    incident: Incident
    id: str
    detail_url: str
    excerpt: str
    severity_label: str
    class_label: str
    state_label: str
    platform_label: str
    sla_status: str
    sla_label: str
    due_iso: str
    due_local: str
    countdown: str
    exposure: str
    can_take: bool
    can_escalate: bool


@dataclass(frozen=True, slots=True)
class _Labels:
    """Translated labels of the choices, looked up once per request (not once per row)."""

    severity: dict[str, str]
    triage_class: dict[str, str]
    state: dict[str, str]
    platform: dict[str, str]
    sla: dict[str, str]

    @classmethod
    def current(cls) -> "_Labels":
        def of(choices) -> dict[str, str]:
            return {value: str(label) for value, label in choices}

        return cls(
            severity=of(Severity.choices),
            triage_class=of(TriageClass.choices),
            state=of(IncidentState.choices),
            platform=of(Platform.choices),
            sla=of(SlaStatus.choices),
        )


def countdown(seconds: int | None) -> str:
    """[-]h:mm:ss, the same text static/js/inbox.js ticks every second."""
    if seconds is None:
        return ""
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}"


def excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "…"


def _row(
    incident: Incident,
    viewer: InboxViewer,
    labels: _Labels,
    *,
    now: datetime,
    policy: sla.SlaPolicy,
) -> InboxRow:
    seconds_left = sla.seconds_left(incident, now=now)
    # The countdown runs only while a response is awaited (None once answered).
    due = incident.sla_due_at if seconds_left is not None else None
    # The same rule as transitions.can_act, from the viewer already loaded: the queues only
    # hold the viewer's own incidents and their team's (every team's for a supervisor).
    mine_or_free = incident.owner_id in (None, viewer.user_id)
    sla_state = sla.sla_status(incident, now=now, policy=policy)
    return InboxRow(
        incident=incident,
        id=str(incident.pk),
        detail_url=_detail_url(incident.pk),
        excerpt=excerpt(incident.first_mention.text),
        severity_label=labels.severity.get(incident.severity, incident.severity),
        class_label=labels.triage_class.get(incident.triage_class, incident.triage_class),
        state_label=labels.state.get(incident.state, incident.state),
        platform_label=labels.platform.get(incident.author.platform, incident.author.platform),
        sla_status=sla_state,
        sla_label=labels.sla.get(sla_state, sla_state),
        due_iso=due.isoformat() if due else "",
        due_local=formats.date_format(timezone.localtime(due), "SHORT_DATETIME_FORMAT")
        if due
        else "",
        countdown=countdown(seconds_left),
        exposure=formats.number_format(round(incident.exposure(now)), force_grouping=True),
        can_take=incident.owner_id is None and not viewer.reads_every_team,
        can_escalate=(mine_or_free or viewer.supervisor) and not viewer.reads_every_team,
    )


def _detail_url(pk: int) -> str:
    try:
        return reverse("incidents:detail", args=[pk])
    except NoReverseMatch:  # the incident page is another module's; the inbox works without
        return ""


def _empty_state(viewer: InboxViewer, counts: dict[str, int], *, now: datetime) -> dict:
    """What an empty list says: filters, another queue holding work, or monitoring's day."""
    if counts[InboxQueue.TEAM] or counts[InboxQueue.MINE]:
        return {}
    local_midnight = timezone.make_aware(datetime.combine(timezone.localtime(now).date(), time.min))
    return {"mentions_today": mentions_found_since(local_midnight)}


@permission_required(Perm.VIEW_INCIDENTS, raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    """The manager's queues; an executive (VIEW_INCIDENTS without TRIAGE) reads every team's
    open incidents here with no action offered (the board's numbers link here)."""
    form = InboxFilterForm(request.GET or None)
    filters = form.filters()
    now = timezone.now()
    policy = sla.sla_policy()
    viewer = inbox_viewer(request.user)
    ids = inbox_incident_ids(viewer, filters, now=now, policy=policy)
    if filters.search:
        # A text search reads every open thread: once, into a list, rather than once to
        # count the pages and again to slice one.
        ids = list(ids)
    page = Paginator(ids, form.page_size()).get_page(request.GET.get("page"))
    incidents = inbox_rows(list(page.object_list))
    counts = inbox_counts(viewer)
    labels = _Labels.current()
    context = {
        "form": form if form.is_bound else InboxFilterForm(),
        "filters": filters,
        "page": page,
        "rows": [_row(incident, viewer, labels, now=now, policy=policy) for incident in incidents],
        "counts": counts,
        "queues": [
            (queue, form.query_string(queue=queue.value), counts[queue.value])
            for queue in InboxQueue
        ],
        "filtered": form.is_filtered(),
        "query_string": form.query_string(),
        "refresh_query": form.query_string(page=page.number if page.number > 1 else None),
        "refresh_seconds": REFRESH_SECONDS,
        "empty": {} if incidents else _empty_state(viewer, counts, now=now),
        "action_form": InboxActionForm(initial={"back": form.query_string()}),
        "is_supervisor": viewer.supervisor,
        "read_only": viewer.reads_every_team,
    }
    return render_page_or_partial(
        request, "incidents/inbox.html", "incidents/partials/inbox_list.html", context
    )


def _apply(
    action: str, *, actor: AbstractBaseUser, incident: Incident, data: dict, now: datetime
) -> Incident:
    """Call the service for one incident; a manager "assigns" by taking or handing over."""
    if action == BulkAction.TAKE:
        return services.take_incident(actor=actor, incident=incident, now=now)
    if action == BulkAction.ESCALATE:
        return services.escalate_incident(
            actor=actor, incident=incident, note=data.get("note", ""), now=now
        )
    if action == BulkAction.CLOSE:
        return services.close_incident(
            actor=actor, incident=incident, reason=data["reason"], note=data["note"], now=now
        )
    to_user = data["to_user"]
    if actor.has_perm(Perm.SUPERVISE_INCIDENTS):
        return services.assign_incident(actor=actor, incident=incident, to_user=to_user, now=now)
    if to_user.pk == actor.pk:
        return services.take_incident(actor=actor, incident=incident, now=now)
    return services.hand_over_incident(actor=actor, incident=incident, to_user=to_user, now=now)


def _refusal(incident: Incident, error: Exception) -> str:
    if isinstance(error, PermissionDenied):
        return gettext("You cannot act on incident #%(id)s.") % {"id": incident.pk}
    return str(error)


DONE_MESSAGES = {
    BulkAction.TAKE: lambda n: ngettext(
        "You took %(count)s incident.", "You took %(count)s incidents.", n
    ),
    BulkAction.ESCALATE: lambda n: ngettext(
        "%(count)s incident escalated to the supervisors.",
        "%(count)s incidents escalated to the supervisors.",
        n,
    ),
    BulkAction.ASSIGN: lambda n: ngettext(
        "%(count)s incident assigned.", "%(count)s incidents assigned.", n
    ),
    BulkAction.CLOSE: lambda n: ngettext(
        "%(count)s incident closed.", "%(count)s incidents closed.", n
    ),
}


def _back_to_inbox(back: str) -> HttpResponseRedirect:
    """The inbox with the filters the action was taken from (re-validated, never a URL)."""
    form = InboxFilterForm(QueryDict(back or ""))
    query = form.query_string() if back else ""
    return HttpResponseRedirect(reverse("inbox") + (f"?{query}" if query else ""))


@require_POST
@permission_required(Perm.TRIAGE, raise_exception=True)
def inbox_act(request: HttpRequest) -> HttpResponse:
    """Take, escalate, assign or close the selected incidents; each refusal is shown."""
    form = InboxActionForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
        return _back_to_inbox(request.POST.get("back", "")[:1000])
    data = form.cleaned_data
    now = timezone.now()
    done = 0
    for incident in sorted(data["incidents"], key=lambda incident: incident.pk):
        try:
            _apply(data["action"], actor=request.user, incident=incident, data=data, now=now)
            done += 1
        except (InvalidTransition, PermissionDenied) as error:
            messages.error(request, _refusal(incident, error))
    if done:
        messages.success(request, DONE_MESSAGES[data["action"]](done) % {"count": done})
    return _back_to_inbox(data["back"])
