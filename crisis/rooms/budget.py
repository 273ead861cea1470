"""The crisis's compensation budget (practice 17): a supervisor sets aside part of a period
budget (crisis.replies.Budget) for the crisis; the room shows it beside what the crisis's
incidents granted and what remains.

What may be set aside is what the period budget has left: its amount, less what was granted
from it, less what other open crises set aside from it and have not spent yet.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from crisis.replies.compensation import budgets_with_totals, clean_amount, organisation_today
from crisis.replies.models import Budget, Compensation, CompensationState
from crisis.roles import Perm
from crisis.rooms import access
from crisis.rooms.models import OPEN_CRISIS_STATES, Crisis
from crisis.rooms.plan import locked_crisis, require_record_open
from crisis.services.audit import record_audit_event

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)


def can_set_budget(user) -> bool:
    return access.runs_every_crisis(user) and user.has_perm(Perm.MANAGE_BUDGETS)


def budgets_for_today(*, now: datetime) -> QuerySet[Budget]:
    """The period budgets that cover today (in the organisation's zone), with their totals."""
    today = organisation_today(now)
    return budgets_with_totals().filter(starts_on__lte=today, ends_on__gte=today)


def _crisis_incidents(crisis_ref) -> Q:
    return Q(incident__crisis_links__crisis=crisis_ref)


def available_for(crisis: Crisis, budget: Budget) -> Decimal:
    """What the crisis may set aside from `budget`: its amount, less what was granted from it,
    less the unspent part of what other open crises set aside from it."""
    granted = Compensation.objects.filter(budget=budget, state=CompensationState.GRANTED).aggregate(
        total=Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY)
    )["total"]
    spent_by_crisis = (
        Compensation.objects.filter(
            _crisis_incidents(OuterRef("pk")), budget=budget, state=CompensationState.GRANTED
        )
        .order_by()
        .values("budget")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    others = (
        Crisis.objects.filter(budget=budget, status__in=OPEN_CRISIS_STATES)
        .exclude(pk=crisis.pk)
        .annotate(spent=Coalesce(Subquery(spent_by_crisis), Value(ZERO), output_field=MONEY))
        .values_list("budget_amount", "spent")
    )
    reserved = sum((max(ZERO, (amount or ZERO) - spent) for amount, spent in others), ZERO)
    return budget.amount - granted - reserved


def set_crisis_budget(
    *, actor: AbstractBaseUser, crisis: Crisis, budget: Budget, amount, now: datetime
) -> Crisis:
    """A supervisor sets aside `amount` of a period budget that covers today for the crisis
    (setting it again replaces the amount)."""
    if not can_set_budget(actor):
        raise PermissionDenied(gettext("Only a supervisor sets a crisis's compensation budget."))
    amount = clean_amount(amount)
    today = organisation_today(now)
    with transaction.atomic():
        crisis = locked_crisis(crisis)
        access.require_act(actor, crisis)
        require_record_open(crisis)
        # The period budget is locked too: two crises setting aside at once cannot both pass.
        budget = Budget.objects.select_for_update().get(pk=budget.pk)
        if not budget.starts_on <= today <= budget.ends_on:
            raise ValidationError(
                gettext("Choose a budget whose period covers today."), code="budget"
            )
        available = available_for(crisis, budget)
        if amount > available:
            raise ValidationError(
                gettext(
                    "%(budget)s has %(available)s %(currency)s left to set aside: "
                    "choose at most that."
                )
                % {
                    "budget": budget.name,
                    "available": max(available, ZERO),
                    "currency": budget.currency,
                },
                code="amount",
            )
        before = {
            "budget": crisis.budget_id,
            "amount": str(crisis.budget_amount) if crisis.budget_amount is not None else None,
        }
        crisis.budget, crisis.budget_amount = budget, amount
        crisis.save(update_fields=["budget", "budget_amount", "updated_at"])
        record_audit_event(
            actor=actor,
            verb="crisis.budget_set",
            target=crisis,
            before=before,
            after={
                "budget": budget.pk,
                "budget_name": budget.name,
                "amount": str(amount),
                "currency": budget.currency,
            },
        )
    return crisis


@dataclass(frozen=True, slots=True)
class CurrencyTotal:
    currency: str
    granted: Decimal
    pending: Decimal


@dataclass(frozen=True, slots=True)
class CrisisBudget:
    """What the room shows: the amount set aside (if any), what the crisis's incidents were
    granted in its currency, what remains, and what was granted in other currencies."""

    budget: Budget | None
    amount: Decimal | None
    currency: str | None
    granted: Decimal
    pending: Decimal
    others: list[CurrencyTotal]

    @property
    def remaining(self) -> Decimal | None:
        return None if self.amount is None else self.amount - self.granted

    @property
    def over(self) -> bool:
        return self.remaining is not None and self.remaining < 0

    @property
    def spent_percent(self) -> int | None:
        if not self.amount:
            return None
        return min(100, round(self.granted * 100 / self.amount))


def crisis_budget(crisis: Crisis) -> CrisisBudget:
    """The crisis's budget and what its incidents granted (granted and awaiting approval, per
    currency), in one aggregate query (the period budget comes with the crisis if it was
    loaded with select_related("budget"))."""
    per_currency = (
        Compensation.objects.filter(
            _crisis_incidents(crisis),
            state__in=(CompensationState.GRANTED, CompensationState.AWAITING_APPROVAL),
        )
        .order_by()
        .values("currency")
        .annotate(
            granted=Coalesce(
                Sum("amount", filter=Q(state=CompensationState.GRANTED)),
                Value(ZERO),
                output_field=MONEY,
            ),
            pending=Coalesce(
                Sum("amount", filter=Q(state=CompensationState.AWAITING_APPROVAL)),
                Value(ZERO),
                output_field=MONEY,
            ),
        )
        .order_by("currency")
    )
    totals = {
        row["currency"]: CurrencyTotal(row["currency"], row["granted"], row["pending"])
        for row in per_currency
    }
    budget = crisis.budget if crisis.budget_id else None
    currency = budget.currency if budget else None
    mine = totals.pop(currency, None) if currency else None
    return CrisisBudget(
        budget=budget,
        amount=crisis.budget_amount if budget else None,
        currency=currency,
        granted=mine.granted if mine else ZERO,
        pending=mine.pending if mine else ZERO,
        others=list(totals.values()),
    )
