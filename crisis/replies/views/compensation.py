"""Views of the compensation slice: offer, grant, approve, decline and withdraw a compensation
on the incident's panel (each with a full page of its own without htmx), and the budgets."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from crisis.incidents import page
from crisis.incidents.transitions import InvalidTransition, can_act, is_supervisor
from crisis.replies import compensation as service
from crisis.replies.forms_compensation import (
    BudgetForm,
    DeclineCompensationForm,
    OfferCompensationForm,
)
from crisis.replies.models import Budget, Compensation, CompensationState
from crisis.replies.views.private import done, is_htmx, panel, refusal, refused, visible_incident
from crisis.roles import Perm

BUDGETS_PER_PAGE = 20
SPENDING_PER_PAGE = 25
PENDING_SHOWN = 50


# --- on the incident ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required(Perm.TRIAGE, raise_exception=True)
def offer(request: HttpRequest, pk: int) -> HttpResponse:
    incident = visible_incident(request, pk)
    if not can_act(request.user, incident):
        raise PermissionDenied(gettext("You cannot act on incident #%(id)s.") % {"id": pk})
    form = OfferCompensationForm(request.POST if request.method == "POST" else None, prefix="offer")
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                offered = service.offer_compensation(
                    actor=request.user,
                    incident=incident,
                    kind=data["kind"],
                    amount=data["amount"],
                    currency=data["currency"],
                    note=data["note"],
                    now=timezone.now(),
                )
            except (InvalidTransition, ValidationError) as error:
                return refused(request, incident, refusal(error))
            return done(
                request,
                incident,
                gettext("Compensation of %(amount)s %(currency)s offered.")
                % {"amount": offered.amount, "currency": offered.currency},
            )
        if is_htmx(request):
            return panel(request, incident, offer_form=form, error=gettext("Check the form below."))
        messages.error(request, gettext("Check the form below."))
    return render(
        request,
        "replies/budgets_offer.html",
        {"incident": incident, "form": form},
        status=400 if form.is_bound else 200,
    )


def _compensation_for(request: HttpRequest, pk: int) -> Compensation:
    """The compensation if the viewer may see its incident (404 / 403 otherwise)."""
    try:
        compensation = Compensation.objects.select_related(
            "incident", "budget", "offered_by", "decided_by"
        ).get(pk=pk)
    except Compensation.DoesNotExist as missing:
        raise Http404 from missing
    if not page.can_view(request.user, compensation.incident):
        raise PermissionDenied(
            gettext("You cannot see incident #%(id)s.") % {"id": compensation.incident_id}
        )
    return compensation


def _decide(
    request: HttpRequest,
    pk: int,
    *,
    allowed: Callable[[Compensation], bool],
    action: str,
    call: Callable[[Compensation, dict], Compensation],
    message: Callable[[Compensation], str],
    form_class=None,
) -> HttpResponse:
    """One decision on a compensation: a confirmation page on GET, the service on POST."""
    compensation = _compensation_for(request, pk)
    if not allowed(compensation):
        raise PermissionDenied(gettext("You cannot do this with this compensation."))
    form = form_class(request.POST if request.method == "POST" else None) if form_class else None
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            changed = call(compensation, form.cleaned_data if form else {})
        except (InvalidTransition, ValidationError) as error:
            return refused(request, compensation.incident, refusal(error))
        return done(request, compensation.incident, message(changed))
    return render(
        request,
        "replies/budgets_decide.html",
        {
            "compensation": compensation,
            "incident": compensation.incident,
            "action": action,
            "form": form,
        },
        status=400 if form is not None and form.is_bound else 200,
    )


def _granted_message(changed: Compensation) -> str:
    if changed.state == CompensationState.GRANTED:
        return gettext("Compensation granted, charged to %(budget)s.") % {
            "budget": changed.budget.name if changed.budget else "—"
        }
    return gettext(
        "This compensation goes beyond what remains of the budget: a supervisor was asked to "
        "approve it."
    )


@require_http_methods(["GET", "POST"])
@permission_required(Perm.TRIAGE, raise_exception=True)
def grant(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        allowed=lambda item: can_act(request.user, item.incident),
        action="grant",
        call=lambda item, _data: service.grant_compensation(
            actor=request.user, compensation=item, now=timezone.now()
        ),
        message=_granted_message,
    )


@require_http_methods(["GET", "POST"])
@permission_required(Perm.TRIAGE, raise_exception=True)
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        allowed=lambda item: can_act(request.user, item.incident),
        action="withdraw",
        call=lambda item, _data: service.withdraw_compensation(
            actor=request.user, compensation=item, now=timezone.now()
        ),
        message=lambda _item: gettext("Compensation withdrawn."),
    )


def _may_decide(request: HttpRequest, item: Compensation) -> bool:
    if item.offered_by_id == request.user.pk:
        raise PermissionDenied(
            gettext("You offered this compensation: another supervisor must decide on it.")
        )
    return is_supervisor(request.user)


@require_http_methods(["GET", "POST"])
@permission_required(Perm.SUPERVISE_INCIDENTS, raise_exception=True)
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        allowed=lambda item: _may_decide(request, item),
        action="approve",
        call=lambda item, _data: service.approve_compensation(
            actor=request.user, compensation=item, now=timezone.now()
        ),
        message=lambda _item: gettext("Compensation approved beyond the budget."),
    )


@require_http_methods(["GET", "POST"])
@permission_required(Perm.SUPERVISE_INCIDENTS, raise_exception=True)
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        allowed=lambda item: _may_decide(request, item),
        action="decline",
        call=lambda item, data: service.decline_compensation(
            actor=request.user, compensation=item, comment=data["comment"], now=timezone.now()
        ),
        message=lambda _item: gettext("Compensation declined."),
        form_class=DeclineCompensationForm,
    )


# --- budgets --------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def budgets(request: HttpRequest) -> HttpResponse:
    """Supervisors see every budget with what was granted, is pending and remains, and the
    compensations waiting for approval; those who manage budgets set new ones."""
    if not service.can_view_budgets(request.user):
        raise PermissionDenied(Perm.MANAGE_BUDGETS)
    manages = service.can_manage_budgets(request.user)
    form = BudgetForm(request.POST if request.method == "POST" else None) if manages else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(Perm.MANAGE_BUDGETS)
        if form.is_valid():
            data = form.cleaned_data
            try:
                budget = service.create_budget(
                    actor=request.user,
                    name=data["name"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    amount=data["amount"],
                    currency=data["currency"],
                    now=timezone.now(),
                )
            except ValidationError as error:
                form.add_error(None, refusal(error))
            else:
                messages.success(request, gettext("Budget %(name)s set.") % {"name": budget.name})
                return redirect("replies:budgets")
        messages.error(request, gettext("Check the form below."))
    listing = Paginator(service.budgets_with_totals(), BUDGETS_PER_PAGE)
    pending = list(service.compensations_awaiting_approval()[:PENDING_SHOWN])
    return render(
        request,
        "replies/budgets.html",
        {
            "page": listing.get_page(request.GET.get("page")),
            "form": form,
            "pending": [
                {"compensation": item, "can_decide": service.can_decide(request.user, item)}
                for item in pending
            ],
            "today": service.organisation_today(timezone.now()),
        },
        status=400 if form is not None and form.is_bound else 200,
    )


@require_GET
def budget_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not service.can_view_budgets(request.user):
        raise PermissionDenied(Perm.MANAGE_BUDGETS)
    try:
        budget = service.budgets_with_totals().get(pk=pk)
    except Budget.DoesNotExist as missing:
        raise Http404 from missing
    spending = Paginator(service.budget_spending(budget), SPENDING_PER_PAGE)
    return render(
        request,
        "replies/budgets_detail.html",
        {"budget": budget, "page": spending.get_page(request.GET.get("page"))},
    )
