"""Compensation against budgets at service level: an offer within what remains of the day's
budget is granted, beyond it waits for a supervisor other than the one who offered it; two
grants at once cannot both pass the limit; budgets are set by supervisors and audited."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections, transaction

from crisis.incidents.models import IncidentState
from crisis.incidents.transitions import InvalidTransition
from crisis.models import AuditEvent
from crisis.notifications.models import Notification, NotificationKind
from crisis.replies import compensation as service
from crisis.replies.models import Budget, Compensation, CompensationState
from crisis.roles import Role
from tests.factories import UserFactory
from tests.incidents.factories import NOW, incident, manager, team

pytestmark = pytest.mark.django_db

S = CompensationState


@pytest.fixture
def care(db):
    return team("Care")


@pytest.fixture
def cm(care):
    return manager("cm-money", of=care)


@pytest.fixture
def case(care, cm):
    return incident(state=IncidentState.IN_PROGRESS, owner=cm, of=care)


def _budget(actor, *, amount="100.00", currency="EUR", starts=date(2026, 3, 1), ends=None):
    return service.create_budget(
        actor=actor,
        name=f"March {currency}",
        starts_on=starts,
        ends_on=ends or starts + timedelta(days=30),
        amount=Decimal(amount),
        currency=currency,
        now=NOW,
    )


def _offer(case, actor, amount="30.00", currency="EUR", **kwargs):
    return service.offer_compensation(
        actor=actor,
        incident=case,
        kind=kwargs.pop("kind", "refund"),
        amount=amount,
        currency=currency,
        note=kwargs.pop("note", ""),
        now=NOW,
    )


def _grant(item, actor, now=NOW):
    return service.grant_compensation(actor=actor, compensation=item, now=now)


# --- offering --------------------------------------------------------------------------------


def test_whoever_can_act_on_the_incident_offers(case, cm):
    offered = _offer(case, cm, amount="25.5", currency="eur", note="sorry")
    assert offered.state == S.OFFERED
    assert offered.amount == Decimal("25.50")
    assert offered.currency == "EUR"
    assert offered.budget is None
    event = AuditEvent.objects.get(verb="compensation.offer")
    assert event.after == {
        "incident": case.pk,
        "kind": "refund",
        "amount": "25.50",
        "currency": "EUR",
    }


@pytest.mark.parametrize("amount", ["0", "-5", "1.234", "abc", "NaN", "Infinity", "1e20"])
def test_an_amount_must_be_positive_with_two_decimals(case, cm, amount):
    with pytest.raises(ValidationError):
        _offer(case, cm, amount=amount)
    assert not Compensation.objects.exists()


@pytest.mark.parametrize("currency", ["", "EU", "EURO", "€", "12A", "E U"])
def test_a_currency_is_a_three_letter_code(case, cm, currency):
    with pytest.raises(ValidationError):
        _offer(case, cm, currency=currency)


def test_an_unknown_kind_is_refused(case, cm):
    with pytest.raises(ValidationError):
        _offer(case, cm, kind="cash-in-envelope")


def test_a_manager_of_another_team_cannot_offer(case):
    with pytest.raises(PermissionDenied):
        _offer(case, manager("outsider", of=team("Sales")))


# --- granting against the budget -------------------------------------------------------------


def test_within_the_remaining_budget_it_is_granted(case, cm, supervisor):
    budget = _budget(supervisor)
    granted = _grant(_offer(case, cm, amount="60.00"), cm)
    assert granted.state == S.GRANTED
    assert granted.budget_id == budget.pk
    assert granted.decided_by_id == cm.pk
    assert granted.granted_at == NOW
    # Exactly to the limit still fits.
    assert _grant(_offer(case, cm, amount="40.00"), cm).state == S.GRANTED
    totals = service.budgets_with_totals().get(pk=budget.pk)
    assert (totals.granted, totals.pending, totals.remaining) == (
        Decimal("100.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )


def test_beyond_the_remaining_budget_it_awaits_a_supervisors_approval(
    case, cm, supervisor, django_capture_on_commit_callbacks
):
    other_supervisor = UserFactory(username="boss2", role=Role.SUPERVISOR)
    budget = _budget(supervisor)
    _grant(_offer(case, cm, amount="80.00"), cm)
    with django_capture_on_commit_callbacks(execute=True):
        waiting = _grant(_offer(case, cm, amount="30.00"), cm)
    assert waiting.state == S.AWAITING_APPROVAL
    assert waiting.budget_id == budget.pk
    assert waiting.granted_at is None
    told = Notification.objects.filter(kind=NotificationKind.COMPENSATION_APPROVAL)
    assert set(told.values_list("user__username", flat=True)) == {"boss", "boss2"}
    assert AuditEvent.objects.filter(verb="compensation.request_approval").count() == 1
    totals = service.budgets_with_totals().get(pk=budget.pk)
    assert (totals.granted, totals.pending, totals.remaining) == (
        Decimal("80.00"),
        Decimal("30.00"),
        Decimal("20.00"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        approved = service.approve_compensation(
            actor=other_supervisor, compensation=waiting, now=NOW + timedelta(hours=1)
        )
    assert approved.state == S.GRANTED
    assert approved.decided_by_id == other_supervisor.pk
    assert approved.granted_at == NOW + timedelta(hours=1)
    assert Notification.objects.filter(
        user=cm, kind=NotificationKind.APPROVAL_DECIDED, title__contains="approved"
    ).exists()
    totals = service.budgets_with_totals().get(pk=budget.pk)
    assert totals.remaining == Decimal("-10.00")


def test_without_a_budget_for_the_day_and_currency_it_awaits_approval(case, cm, supervisor):
    _budget(supervisor, currency="USD")
    _budget(supervisor, starts=date(2026, 1, 1), ends=date(2026, 1, 31))
    waiting = _grant(_offer(case, cm, amount="1.00"), cm)
    assert waiting.state == S.AWAITING_APPROVAL
    assert waiting.budget is None


def test_the_budgets_period_is_in_the_organisations_calendar(case, cm, supervisor, settings):
    settings.TIME_ZONE = "Europe/Madrid"
    march = _budget(supervisor, starts=date(2026, 3, 1), ends=date(2026, 3, 31))
    april = _budget(supervisor, starts=date(2026, 4, 1), ends=date(2026, 4, 30))
    # 22:30 UTC on 31 March is already 1 April in Madrid.
    late = NOW.replace(month=3, day=31, hour=22, minute=30)
    granted = _grant(_offer(case, cm, amount="5.00"), cm, now=late)
    assert granted.budget_id == april.pk != march.pk


def test_of_two_budgets_of_the_day_the_one_that_covers_it_is_charged(case, cm, supervisor):
    small = _budget(supervisor, amount="10.00", starts=date(2026, 3, 2), ends=date(2026, 3, 2))
    general = _budget(supervisor, amount="500.00")
    assert _grant(_offer(case, cm, amount="8.00"), cm).budget_id == small.pk
    assert _grant(_offer(case, cm, amount="8.00"), cm).budget_id == general.pk


def test_nobody_approves_a_compensation_they_offered(case, supervisor):
    _budget(supervisor, amount="0.00")
    waiting = _grant(_offer(case, supervisor, amount="5.00"), supervisor)
    assert waiting.state == S.AWAITING_APPROVAL
    with pytest.raises(PermissionDenied):
        service.approve_compensation(actor=supervisor, compensation=waiting, now=NOW)
    with pytest.raises(PermissionDenied):
        service.decline_compensation(actor=supervisor, compensation=waiting, now=NOW)
    waiting.refresh_from_db()
    assert waiting.state == S.AWAITING_APPROVAL


def test_a_manager_cannot_approve(case, cm, supervisor, care):
    _budget(supervisor, amount="0.00")
    waiting = _grant(_offer(case, cm, amount="5.00"), cm)
    with pytest.raises(PermissionDenied):
        service.approve_compensation(actor=manager("peer", of=care), compensation=waiting, now=NOW)


def test_a_supervisor_declines(case, cm, supervisor, django_capture_on_commit_callbacks):
    waiting = _grant(_offer(case, cm, amount="5.00"), cm)
    with django_capture_on_commit_callbacks(execute=True):
        declined = service.decline_compensation(
            actor=supervisor, compensation=waiting, comment="Too much", now=NOW
        )
    assert declined.state == S.DECLINED
    assert declined.decided_by_id == supervisor.pk
    assert AuditEvent.objects.get(verb="compensation.decline").after["comment"] == "Too much"
    assert Notification.objects.filter(user=cm, title__contains="declined").exists()


def test_only_an_offer_is_granted_and_only_a_waiting_one_approved(case, cm, supervisor):
    _budget(supervisor)
    granted = _grant(_offer(case, cm, amount="5.00"), cm)
    with pytest.raises(InvalidTransition):
        _grant(granted, cm)
    other = UserFactory(username="boss2", role=Role.SUPERVISOR)
    with pytest.raises(InvalidTransition):
        service.approve_compensation(actor=other, compensation=granted, now=NOW)


def test_an_offer_or_a_waiting_one_is_withdrawn_a_granted_one_is_not(case, cm, supervisor):
    _budget(supervisor, amount="10.00")
    offered = _offer(case, cm, amount="5.00")
    assert service.withdraw_compensation(actor=cm, compensation=offered, now=NOW).state == (
        S.WITHDRAWN
    )
    waiting = _grant(_offer(case, cm, amount="50.00"), cm)
    assert service.withdraw_compensation(actor=cm, compensation=waiting, now=NOW).state == (
        S.WITHDRAWN
    )
    granted = _grant(_offer(case, cm, amount="5.00"), cm)
    with pytest.raises(InvalidTransition):
        service.withdraw_compensation(actor=cm, compensation=granted, now=NOW)
    # Withdrawn ones are neither spent nor pending.
    totals = service.budgets_with_totals().get()
    assert (totals.granted, totals.pending) == (Decimal("5.00"), Decimal("0.00"))


# --- budgets ---------------------------------------------------------------------------------


def test_a_supervisor_sets_a_budget_audited(supervisor):
    budget = _budget(supervisor, amount="250", currency="usd")
    assert (budget.amount, budget.currency, budget.set_by_id) == (
        Decimal("250.00"),
        "USD",
        supervisor.pk,
    )
    event = AuditEvent.objects.get(verb="budget.create")
    assert event.after["amount"] == "250.00"


@pytest.mark.parametrize("role", ["manager", "executive", "administrator"])
def test_other_roles_cannot_set_a_budget(request, role):
    with pytest.raises(PermissionDenied):
        _budget(request.getfixturevalue(role))
    assert not Budget.objects.exists()


def test_a_budget_period_must_be_in_order(supervisor):
    with pytest.raises(ValidationError):
        _budget(supervisor, starts=date(2026, 3, 10), ends=date(2026, 3, 1))
    with pytest.raises(ValidationError):
        _budget(supervisor, starts=date(1999, 3, 10))
    with pytest.raises(ValidationError):
        _budget(supervisor, amount="-1")


def test_budget_spending_lists_the_incidents_that_spent_it(cm, care, supervisor):
    budget = _budget(supervisor, amount="100.00")
    first = incident(state=IncidentState.IN_PROGRESS, owner=cm, of=care)
    second = incident(state=IncidentState.IN_PROGRESS, owner=cm, of=care)
    _grant(_offer(first, cm, amount="10.00"), cm)
    _grant(_offer(first, cm, amount="15.00"), cm)
    _grant(_offer(second, cm, amount="70.00"), cm)
    _grant(_offer(second, cm, amount="30.00"), cm)  # beyond: pending
    _offer(second, cm, amount="99.00")  # only offered: not charged
    rows = list(service.budget_spending(budget))
    assert [(row["incident_id"], row["granted"], row["pending"]) for row in rows] == [
        (second.pk, Decimal("70.00"), Decimal("30.00")),
        (first.pk, Decimal("25.00"), Decimal("0.00")),
    ]


# --- two grants at once ----------------------------------------------------------------------


def _lock_waiters() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_grants_at_once_cannot_both_pass_the_limit():
    care = team("Care")
    cm = manager("cm-money", of=care)
    supervisor = UserFactory(username="boss", role=Role.SUPERVISOR)
    case = incident(state=IncidentState.IN_PROGRESS, owner=cm, of=care)
    _budget(supervisor, amount="100.00")
    first, second = _offer(case, cm, amount="60.00"), _offer(case, cm, amount="60.00")

    holding, release = threading.Event(), threading.Event()
    results: dict[str, Compensation] = {}
    errors: list[BaseException] = []

    def grant_and_hold() -> None:
        try:
            with transaction.atomic():
                results["first"] = _grant(first, cm)
                holding.set()  # the budget row stays locked until this commits
                release.wait(timeout=20)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def grant_meanwhile() -> None:
        try:
            holding.wait(timeout=20)
            results["second"] = _grant(second, cm)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=grant_and_hold), threading.Thread(target=grant_meanwhile)]
    for thread in threads:
        thread.start()
    holding.wait(timeout=20)
    # Let the first commit only once the second is blocked on the budget's lock.
    for _attempt in range(2000):
        if _lock_waiters():
            break
        threading.Event().wait(0.005)
    waited = _lock_waiters()
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert waited >= 1
    assert results["first"].state == S.GRANTED
    assert results["second"].state == S.AWAITING_APPROVAL
    totals = service.budgets_with_totals().get()
    assert (totals.granted, totals.pending) == (Decimal("60.00"), Decimal("60.00"))
