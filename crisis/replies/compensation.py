"""Compensation against budgets (practice 17): offered per incident, granted against the budget
of the period and currency, a supervisor's approval beyond what remains; and the budgets."""

import re
import zoneinfo
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from crisis.incidents import services as incident_services
from crisis.incidents.models import Incident
from crisis.incidents.services import supervisor_ids
from crisis.incidents.transitions import (
    InvalidTransition,
    is_supervisor,
    require_can_act,
    works_incidents,
)
from crisis.notifications.models import NotificationKind
from crisis.replies.models import (
    Budget,
    Compensation,
    CompensationKind,
    CompensationState,
)
from crisis.roles import Perm
from crisis.services.audit import record_audit_event

CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
# The column holds 12 digits, two of them decimals.
MAX_AMOUNT = Decimal("9999999999.99")
NOTE_MAX_LENGTH = 2000
NAME_MAX_LENGTH = Budget._meta.get_field("name").max_length
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2100, 12, 31)
ZERO = Decimal("0.00")
# Compensations that count against a budget: granted is spent, awaiting approval is pending.
COUNTED_STATES = (CompensationState.GRANTED, CompensationState.AWAITING_APPROVAL)
S = CompensationState


# --- input -----------------------------------------------------------------------------------


def clean_amount(value, *, allow_zero: bool = False) -> Decimal:
    """A positive amount with at most two decimals (zero allowed for a budget)."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as invalid:
        raise ValidationError(gettext("Enter an amount such as 25.00."), code="amount") from invalid
    if not amount.is_finite():
        raise ValidationError(gettext("Enter an amount such as 25.00."), code="amount")
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(gettext("Use at most two decimals."), code="amount")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError(gettext("The amount must be more than zero."), code="amount")
    if amount > MAX_AMOUNT:
        raise ValidationError(gettext("The amount is too large."), code="amount")
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def clean_currency(value: str) -> str:
    """An ISO 4217 code: three letters, stored in capitals."""
    code = (value or "").strip().upper()
    if not CURRENCY_CODE.match(code):
        raise ValidationError(
            gettext("Enter a currency as its three-letter ISO 4217 code, e.g. EUR."),
            code="currency",
        )
    return code


def _clean_note(value: str) -> str:
    value = (value or "").replace("\x00", "").strip()
    if len(value) > NOTE_MAX_LENGTH:
        raise ValidationError(
            gettext("Keep it under %(limit)s characters.") % {"limit": NOTE_MAX_LENGTH},
            code="max_length",
        )
    return value


# --- reading ---------------------------------------------------------------------------------


def organisation_today(now: datetime) -> date:
    """Today in the organisation's time zone: a budget's period is in its calendar days."""
    return timezone.localtime(now, zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()


def budgets_with_totals() -> QuerySet[Budget]:
    """Budgets, newest period first, each with `granted`, `pending` and `remaining`."""
    money = DecimalField(max_digits=14, decimal_places=2)
    return (
        Budget.objects.select_related("set_by")
        .annotate(
            granted=Coalesce(
                Sum("compensations__amount", filter=Q(compensations__state=S.GRANTED)),
                Value(ZERO),
                output_field=money,
            ),
            pending=Coalesce(
                Sum("compensations__amount", filter=Q(compensations__state=S.AWAITING_APPROVAL)),
                Value(ZERO),
                output_field=money,
            ),
        )
        .annotate(remaining=ExpressionWrapper(F("amount") - F("granted"), output_field=money))
        .order_by("-starts_on", "-id")
    )


def budget_spending(budget: Budget) -> QuerySet:
    """Per incident charged to the budget: granted and pending sums, most spent first."""
    money = DecimalField(max_digits=14, decimal_places=2)
    return (
        Compensation.objects.filter(budget=budget, state__in=COUNTED_STATES)
        .values("incident_id", "incident__severity", "incident__topic", "incident__state")
        .annotate(
            granted=Coalesce(
                Sum("amount", filter=Q(state=S.GRANTED)), Value(ZERO), output_field=money
            ),
            pending=Coalesce(
                Sum("amount", filter=Q(state=S.AWAITING_APPROVAL)), Value(ZERO), output_field=money
            ),
            compensations=Count("id"),
        )
        .order_by("-granted", "-pending", "-incident_id")
    )


def compensations_awaiting_approval() -> QuerySet[Compensation]:
    return (
        Compensation.objects.filter(state=S.AWAITING_APPROVAL)
        .select_related("incident", "budget", "offered_by")
        .order_by("offered_at", "id")
    )


def incident_compensations(incident: Incident) -> QuerySet[Compensation]:
    return Compensation.objects.filter(incident=incident).select_related(
        "offered_by", "decided_by", "budget"
    )


def can_view_budgets(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and (user.has_perm(Perm.MANAGE_BUDGETS) or is_supervisor(user))
    )


def can_manage_budgets(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    return bool(
        user and user.is_authenticated and user.is_active and user.has_perm(Perm.MANAGE_BUDGETS)
    )


def can_decide(user: AbstractBaseUser | AnonymousUser | None, compensation: Compensation) -> bool:
    """A supervisor other than the person who offered it approves or declines."""
    return (
        works_incidents(user)
        and is_supervisor(user)
        and user.pk != compensation.offered_by_id
        and compensation.state == S.AWAITING_APPROVAL
    )


# --- offering and granting -------------------------------------------------------------------


def offer_compensation(
    *,
    actor: AbstractBaseUser,
    incident: Incident,
    kind: str,
    amount,
    currency: str,
    note: str = "",
    now: datetime,
) -> Compensation:
    """Whoever can act on the incident offers a compensation (nothing is charged yet)."""
    if kind not in CompensationKind.values:
        raise ValidationError(gettext("Choose one of the listed kinds."), code="kind")
    amount, currency, note = clean_amount(amount), clean_currency(currency), _clean_note(note)
    with transaction.atomic():
        incident = Incident.objects.select_for_update(of=("self",)).get(pk=incident.pk)
        require_can_act(actor, incident)
        compensation = Compensation.objects.create(
            incident=incident,
            kind=kind,
            amount=amount,
            currency=currency,
            note=note,
            offered_by=actor,
            offered_at=now,
        )
        record_audit_event(
            actor=actor,
            verb="compensation.offer",
            target=compensation,
            after={
                "incident": incident.pk,
                "kind": kind,
                "amount": str(amount),
                "currency": currency,
            },
        )
    return compensation


def grant_compensation(
    *, actor: AbstractBaseUser, compensation: Compensation, now: datetime
) -> Compensation:
    """Charge an offered compensation to the budget of today's period in its currency. What
    the budget's remaining amount covers is granted at once; beyond it (or with no budget) the
    compensation waits for a supervisor's approval. The budget rows are locked while their
    granted sum is read, so two grants at once cannot both pass the limit."""
    with transaction.atomic():
        compensation = _locked(compensation)
        require_can_act(actor, compensation.incident)
        if compensation.state != S.OFFERED:
            raise InvalidTransition(_state_refusal(compensation))
        budget, fits = _charge_to(compensation, now=now)
        compensation.budget = budget
        if fits:
            compensation.state = S.GRANTED
            compensation.decided_by = actor
            compensation.granted_at = now
        else:
            compensation.state = S.AWAITING_APPROVAL
        compensation.save(update_fields=["budget", "state", "decided_by", "granted_at"])
        record_audit_event(
            actor=actor,
            verb="compensation.grant" if fits else "compensation.request_approval",
            target=compensation,
            before={"state": S.OFFERED},
            after={
                "state": compensation.state,
                "budget": budget.pk if budget else None,
                "amount": str(compensation.amount),
                "currency": compensation.currency,
            },
        )
        if not fits:
            _ask_supervisors(compensation, actor=actor, now=now)
    return compensation


def approve_compensation(
    *, actor: AbstractBaseUser, compensation: Compensation, now: datetime
) -> Compensation:
    """A supervisor other than the one who offered it grants a compensation beyond the budget."""
    with transaction.atomic():
        compensation = _locked(compensation)
        _require_decider(actor, compensation)
        budget = compensation.budget
        if budget is None:
            budget, _fits = _charge_to(compensation, now=now)
        compensation.budget = budget
        compensation.state = S.GRANTED
        compensation.decided_by = actor
        compensation.granted_at = now
        compensation.save(update_fields=["budget", "state", "decided_by", "granted_at"])
        record_audit_event(
            actor=actor,
            verb="compensation.approve",
            target=compensation,
            before={"state": S.AWAITING_APPROVAL},
            after={"state": S.GRANTED, "budget": budget.pk if budget else None},
        )
        _tell_offerer(compensation, actor=actor, approved=True, now=now)
    return compensation


def decline_compensation(
    *, actor: AbstractBaseUser, compensation: Compensation, comment: str = "", now: datetime
) -> Compensation:
    """A supervisor other than the one who offered it refuses a compensation beyond budget."""
    comment = _clean_note(comment)
    with transaction.atomic():
        compensation = _locked(compensation)
        _require_decider(actor, compensation)
        compensation.state = S.DECLINED
        compensation.decided_by = actor
        compensation.save(update_fields=["state", "decided_by"])
        record_audit_event(
            actor=actor,
            verb="compensation.decline",
            target=compensation,
            before={"state": S.AWAITING_APPROVAL},
            after={"state": S.DECLINED, "comment": comment},
        )
        _tell_offerer(compensation, actor=actor, approved=False, now=now)
    return compensation


def withdraw_compensation(
    *, actor: AbstractBaseUser, compensation: Compensation, now: datetime
) -> Compensation:
    """Whoever can act on the incident withdraws an offer not granted yet."""
    with transaction.atomic():
        compensation = _locked(compensation)
        require_can_act(actor, compensation.incident)
        if compensation.state not in (S.OFFERED, S.AWAITING_APPROVAL):
            raise InvalidTransition(_state_refusal(compensation))
        before = compensation.state
        compensation.state = S.WITHDRAWN
        compensation.save(update_fields=["state"])
        record_audit_event(
            actor=actor,
            verb="compensation.withdraw",
            target=compensation,
            before={"state": before},
            after={"state": S.WITHDRAWN},
        )
    return compensation


# --- budgets ---------------------------------------------------------------------------------


def create_budget(
    *,
    actor: AbstractBaseUser,
    name: str,
    starts_on: date,
    ends_on: date,
    amount,
    currency: str,
    now: datetime,
) -> Budget:
    """A supervisor sets aside money for compensations over a period."""
    if not can_manage_budgets(actor):
        raise PermissionDenied(Perm.MANAGE_BUDGETS)
    name = (name or "").replace("\x00", "").strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ValidationError(gettext("Give the budget a name."), code="name")
    for day in (starts_on, ends_on):
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            raise ValidationError(gettext("Choose dates between 2000 and 2100."), code="period")
    if ends_on < starts_on:
        raise ValidationError(gettext("The period ends before it starts."), code="period")
    amount, currency = clean_amount(amount, allow_zero=True), clean_currency(currency)
    with transaction.atomic():
        budget = Budget.objects.create(
            name=name,
            starts_on=starts_on,
            ends_on=ends_on,
            amount=amount,
            currency=currency,
            set_by=actor,
            created_at=now,
        )
        record_audit_event(
            actor=actor,
            verb="budget.create",
            target=budget,
            after={
                "name": name,
                "starts_on": starts_on.isoformat(),
                "ends_on": ends_on.isoformat(),
                "amount": str(amount),
                "currency": currency,
            },
        )
    return budget


# --- helpers ---------------------------------------------------------------------------------


def _locked(compensation: Compensation) -> Compensation:
    return (
        Compensation.objects.select_for_update(of=("self",))
        .select_related("incident", "budget")
        .get(pk=compensation.pk)
    )


def _charge_to(compensation: Compensation, *, now: datetime) -> tuple[Budget | None, bool]:
    """The budget to charge (locked until the transaction ends) and whether what remains of it
    covers the compensation. Of several budgets of the day and currency, the first (newest
    period) that covers it; if none does, the newest one, and the charge needs approval."""
    today = organisation_today(now)
    candidates = Budget.objects.filter(
        currency=compensation.currency, starts_on__lte=today, ends_on__gte=today
    )
    # Locked in id order, so two grants on overlapping budgets cannot deadlock.
    locked_ids = list(candidates.select_for_update().order_by("pk").values_list("pk", flat=True))
    if not locked_ids:
        return None, False
    # Read after the locks: a grant committed meanwhile is counted.
    budgets = list(
        Budget.objects.filter(pk__in=locked_ids)
        .annotate(
            granted=Coalesce(
                Sum("compensations__amount", filter=Q(compensations__state=S.GRANTED)),
                Value(ZERO),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            )
        )
        .order_by("-starts_on", "-id")
    )
    for budget in budgets:
        if budget.granted + compensation.amount <= budget.amount:
            return budget, True
    return budgets[0], False


def _require_decider(actor: AbstractBaseUser, compensation: Compensation) -> None:
    if not (works_incidents(actor) and is_supervisor(actor)):
        raise PermissionDenied(gettext("Only a supervisor approves a compensation over budget."))
    if actor.pk == compensation.offered_by_id:
        raise PermissionDenied(
            gettext("You offered this compensation: another supervisor must decide on it.")
        )
    if compensation.state != S.AWAITING_APPROVAL:
        raise InvalidTransition(_state_refusal(compensation))


def _state_refusal(compensation: Compensation) -> str:
    return gettext("This compensation is %(state)s; it cannot change that way.") % {
        "state": str(CompensationState(compensation.state).label).lower()
    }


def _ask_supervisors(compensation: Compensation, *, actor: AbstractBaseUser, now: datetime) -> None:
    recipients = [pk for pk in supervisor_ids() if pk not in (actor.pk, compensation.offered_by_id)]
    _notify(
        compensation,
        user_ids=recipients,
        kind=NotificationKind.COMPENSATION_APPROVAL,
        title=(
            gettext_noop(
                "A compensation of %(amount)s %(currency)s on incident #%(id)s needs approval"
            ),
            {
                "amount": str(compensation.amount),
                "currency": compensation.currency,
                "id": compensation.incident_id,
            },
        ),
        what="approval",
        now=now,
    )


def _tell_offerer(
    compensation: Compensation, *, actor: AbstractBaseUser, approved: bool, now: datetime
) -> None:
    if compensation.offered_by_id == actor.pk:
        return
    title = (
        gettext_noop("The compensation on incident #%(id)s was approved")
        if approved
        else gettext_noop("The compensation on incident #%(id)s was declined")
    )
    _notify(
        compensation,
        user_ids=[compensation.offered_by_id],
        kind=NotificationKind.APPROVAL_DECIDED,
        title=(title, {"id": compensation.incident_id}),
        what="decided",
        now=now,
    )


def _notify(
    compensation: Compensation,
    *,
    user_ids: list[int],
    kind: str,
    title,
    what: str,
    now: datetime,
) -> None:
    incident_services.notify_after_commit(
        user_ids=user_ids,
        kind=kind,
        title=title,
        incident=compensation.incident,
        dedupe_key=f"compensation:{compensation.pk}:{what}",
        now=now,
    )
