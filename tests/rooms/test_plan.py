"""The action plan, the decisions log and the crisis's compensation budget: tasks added,
changed and moved (audited with the crisis as target), overdue tasks told to their owner once,
decisions append-only, and what the budget sets aside against what the incidents granted."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crisis.models import AuditEvent
from crisis.notifications.models import Notification, NotificationKind
from crisis.replies.models import Budget, Compensation, CompensationState
from crisis.roles import Role
from crisis.rooms import budget as budgets
from crisis.rooms import plan
from crisis.rooms.models import CabinetRole, CrisisStatus, Decision, Task, TaskStatus
from crisis.rooms.tasks_plan import notify_overdue_tasks
from tests.factories import UserFactory
from tests.incidents.factories import NOW, incident
from tests.rooms.factories import a_crisis, cabinet_member_user, department, link, seat

pytestmark = pytest.mark.django_db


@pytest.fixture
def crisis(db):
    return a_crisis()


@pytest.fixture
def member(crisis):
    user = cabinet_member_user("legal-ana")
    seat(crisis, user, "legal", CabinetRole.MEMBER)
    return user


def _events(crisis, verb):
    return list(
        AuditEvent.objects.filter(
            object_type="rooms.crisis", object_id=str(crisis.pk), verb=verb
        ).order_by("id")
    )


# --- tasks -----------------------------------------------------------------------------------


def test_cabinet_member_adds_a_task_audited_on_the_crisis(crisis, member):
    task = plan.add_task(
        actor=member,
        crisis=crisis,
        title="Call the bank",
        owner=member,
        due_at=NOW + timedelta(hours=2),
        indicator="refunds under way",
        now=NOW,
    )
    assert task.status == TaskStatus.TODO and task.created_by == member
    # Without a department, the owner's seat gives it.
    assert task.department.key == "legal"
    (event,) = _events(crisis, "crisis.task_add")
    assert event.after["task"] == task.pk
    assert event.after["title"] == "Call the bank"
    assert event.after["status"] == "todo"


def test_task_needs_a_title(crisis, member):
    with pytest.raises(ValidationError):
        plan.add_task(actor=member, crisis=crisis, title="  \x00 ", now=NOW)
    assert not Task.objects.exists()


def test_task_owner_must_act_in_the_room(crisis, member):
    outsider = UserFactory(username="outsider")
    with pytest.raises(ValidationError):
        plan.add_task(actor=member, crisis=crisis, title="x", owner=outsider, now=NOW)


def test_due_date_decades_away_is_refused(crisis, member):
    with pytest.raises(ValidationError):
        plan.add_task(
            actor=member, crisis=crisis, title="x", due_at=NOW + timedelta(days=400 * 365), now=NOW
        )


def test_executive_cannot_add_a_task(crisis, executive):
    with pytest.raises(PermissionDenied):
        plan.add_task(actor=executive, crisis=crisis, title="x", now=NOW)


def test_cabinet_member_of_another_crisis_cannot_add_a_task(crisis):
    other = a_crisis(title="Other", commander=UserFactory(username="other-boss"))
    stranger = cabinet_member_user("stranger")
    seat(other, stranger)
    with pytest.raises(PermissionDenied):
        plan.add_task(actor=stranger, crisis=crisis, title="x", now=NOW)


def test_supervisor_without_a_seat_adds_a_task(crisis, supervisor):
    task = plan.add_task(actor=supervisor, crisis=crisis, title="x", owner=supervisor, now=NOW)
    assert task.owner == supervisor


def test_task_status_moves_record_done_and_are_audited(crisis, member):
    task = plan.add_task(actor=member, crisis=crisis, title="Refund", now=NOW)
    plan.set_task_status(actor=member, task=task, status=TaskStatus.DOING, now=NOW)
    done = plan.set_task_status(
        actor=member, task=task, status=TaskStatus.DONE, now=NOW + timedelta(hours=1)
    )
    assert done.done_at == NOW + timedelta(hours=1)
    reopened = plan.set_task_status(actor=member, task=task, status=TaskStatus.TODO, now=NOW)
    assert reopened.done_at is None
    events = _events(crisis, "crisis.task_status")
    assert [(e.before["status"], e.after["status"]) for e in events] == [
        ("todo", "doing"),
        ("doing", "done"),
        ("done", "todo"),
    ]
    assert all(e.after["task"] == task.pk and e.after["title"] == "Refund" for e in events)


def test_moving_a_task_to_its_own_status_is_refused(crisis, member):
    task = plan.add_task(actor=member, crisis=crisis, title="x", now=NOW)
    with pytest.raises(ValidationError):
        plan.set_task_status(actor=member, task=task, status=TaskStatus.TODO, now=NOW)
    with pytest.raises(ValidationError):
        plan.set_task_status(actor=member, task=task, status="finished", now=NOW)


def test_update_task_audits_what_changed_and_rearms_the_overdue_notice(crisis, member):
    task = plan.add_task(
        actor=member, crisis=crisis, title="Refund", due_at=NOW + timedelta(hours=1), now=NOW
    )
    Task.objects.filter(pk=task.pk).update(overdue_notified_at=NOW)
    task.refresh_from_db()
    comms = department("communications")
    plan.update_task(
        actor=member,
        task=task,
        title="Refund everyone",
        owner=member,
        department=comms,
        due_at=NOW + timedelta(days=1),
        indicator="",
        now=NOW,
    )
    task.refresh_from_db()
    assert task.title == "Refund everyone" and task.department == comms
    assert task.overdue_notified_at is None
    (event,) = _events(crisis, "crisis.task_update")
    assert set(event.before) == {"title", "owner", "department", "due_at"}
    assert event.after["title"] == "Refund everyone" and event.after["task"] == task.pk


def test_update_without_a_change_writes_nothing(crisis, member):
    task = plan.add_task(actor=member, crisis=crisis, title="Same", now=NOW)
    plan.update_task(
        actor=member,
        task=task,
        title="Same",
        owner=None,
        department=None,
        due_at=None,
        now=NOW,
    )
    assert not _events(crisis, "crisis.task_update")


def test_plan_lists_overdue_first_then_doing_todo_done_cancelled(crisis, member):
    def add(title, status=TaskStatus.TODO, due=None):
        task = plan.add_task(actor=member, crisis=crisis, title=title, due_at=due, now=NOW)
        if status != TaskStatus.TODO:
            plan.set_task_status(actor=member, task=task, status=status, now=NOW)
        return task

    add("cancelled", TaskStatus.CANCELLED, NOW - timedelta(hours=3))
    add("done late", TaskStatus.DONE, NOW - timedelta(hours=2))
    add("todo later", due=NOW + timedelta(hours=5))
    add("todo soon", due=NOW + timedelta(hours=1))
    add("doing", TaskStatus.DOING, NOW + timedelta(hours=9))
    add("overdue doing", TaskStatus.DOING, NOW - timedelta(minutes=5))
    add("overdue todo", due=NOW - timedelta(hours=1))
    titles = [task.title for task in plan.plan_tasks(crisis, now=NOW)]
    assert titles == [
        "overdue todo",
        "overdue doing",
        "doing",
        "todo soon",
        "todo later",
        "done late",
        "cancelled",
    ]
    counts = plan.plan_counts(crisis, now=NOW)
    assert (counts.total, counts.open, counts.overdue, counts.done, counts.cancelled) == (
        7,
        5,
        2,
        1,
        1,
    )


def test_closed_record_refuses_new_tasks(member):
    closed = a_crisis(
        title="Closed", status=CrisisStatus.POST_MORTEM_DONE, commander=UserFactory(username="c2")
    )
    seat(closed, member)
    with pytest.raises(ValidationError):
        plan.add_task(actor=member, crisis=closed, title="x", now=NOW)


# --- overdue notices -------------------------------------------------------------------------


def test_overdue_task_is_told_to_its_owner_once(crisis, member, django_capture_on_commit_callbacks):
    task = plan.add_task(
        actor=member, crisis=crisis, title="Call the bank", owner=member, due_at=NOW, now=NOW
    )
    later = NOW + timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert plan.notify_overdue_tasks(now=later) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert plan.notify_overdue_tasks(now=later + timedelta(minutes=1)) == 0
    (notice,) = Notification.objects.filter(kind=NotificationKind.TASK_OVERDUE)
    assert notice.user == member
    assert "Call the bank" in notice.title
    assert notice.url == f"/crises/{crisis.pk}/#plan"
    task.refresh_from_db()
    assert task.overdue_notified_at == later


def test_a_redated_task_is_told_again_when_it_passes_its_new_due(
    crisis, member, django_capture_on_commit_callbacks
):
    task = plan.add_task(
        actor=member, crisis=crisis, title="Refund", owner=member, due_at=NOW, now=NOW
    )
    with django_capture_on_commit_callbacks(execute=True):
        plan.notify_overdue_tasks(now=NOW + timedelta(minutes=1))
    plan.update_task(
        actor=member,
        task=task,
        title="Refund",
        owner=member,
        department=task.department,
        due_at=NOW + timedelta(hours=1),
        now=NOW,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert plan.notify_overdue_tasks(now=NOW + timedelta(minutes=30)) == 0
        assert plan.notify_overdue_tasks(now=NOW + timedelta(hours=2)) == 1
    assert Notification.objects.filter(kind=NotificationKind.TASK_OVERDUE).count() == 2


def test_overdue_task_without_owner_is_told_to_the_commander(
    crisis, member, django_capture_on_commit_callbacks
):
    plan.add_task(actor=member, crisis=crisis, title="Nobody's", due_at=NOW, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        plan.notify_overdue_tasks(now=NOW + timedelta(minutes=1))
    assert Notification.objects.get(kind=NotificationKind.TASK_OVERDUE).user == crisis.commander


def test_done_tasks_and_tasks_not_due_are_not_told(
    crisis, member, django_capture_on_commit_callbacks
):
    done = plan.add_task(
        actor=member, crisis=crisis, title="done", owner=member, due_at=NOW, now=NOW
    )
    plan.set_task_status(actor=member, task=done, status=TaskStatus.DONE, now=NOW)
    plan.add_task(
        actor=member,
        crisis=crisis,
        title="later",
        owner=member,
        due_at=NOW + timedelta(days=1),
        now=NOW,
    )
    plan.add_task(actor=member, crisis=crisis, title="no due", owner=member, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        assert plan.notify_overdue_tasks(now=NOW + timedelta(hours=1)) == 0
    assert not Notification.objects.exists()


def test_the_beat_task_sweeps_with_the_real_clock(
    crisis, member, django_capture_on_commit_callbacks
):
    plan.add_task(
        actor=member,
        crisis=crisis,
        title="late",
        owner=member,
        due_at=timezone.now() - timedelta(minutes=1),
        now=timezone.now(),
    )
    assert notify_overdue_tasks.name == "crisis.rooms.tasks.notify_overdue_tasks"
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_overdue_tasks.apply().get() == 1


# --- decisions -------------------------------------------------------------------------------


def test_decision_is_recorded_with_what_who_why_and_audited(crisis, member):
    decision = plan.record_decision(
        actor=member,
        crisis=crisis,
        what="Refund every double charge",
        why="The bank confirmed the duplicate run",
        decided_by=crisis.commander,
        now=NOW,
    )
    assert decision.decided_at == NOW and decision.recorded_by == member
    (event,) = _events(crisis, "crisis.decision")
    assert event.after["decision"] == decision.pk
    assert event.after["what"] == "Refund every double charge"
    assert event.after["decided_by"] == crisis.commander.get_username()


def test_decision_by_someone_outside_calma_is_written_as_given(crisis, member):
    decision = plan.record_decision(
        actor=member,
        crisis=crisis,
        what="Public apology",
        why="Brand trust",
        decided_by_text="Management committee",
        decided_at=NOW - timedelta(hours=1),
        now=NOW,
    )
    assert plan.decided_by_name(decision) == "Management committee"
    assert decision.decided_at == NOW - timedelta(hours=1)


def test_decision_needs_who_and_cannot_be_in_the_future(crisis, member):
    with pytest.raises(ValidationError):
        plan.record_decision(actor=member, crisis=crisis, what="a", why="b", now=NOW)
    with pytest.raises(ValidationError):
        plan.record_decision(
            actor=member,
            crisis=crisis,
            what="a",
            why="b",
            decided_by=member,
            decided_at=NOW + timedelta(hours=1),
            now=NOW,
        )
    assert not Decision.objects.exists()


def test_decisions_are_append_only_a_correction_is_a_new_decision(crisis, member):
    first = plan.record_decision(
        actor=member, crisis=crisis, what="Refund 10", why="a", decided_by=member, now=NOW
    )
    plan.record_decision(
        actor=member,
        crisis=crisis,
        what="Correction: refund 20",
        why="the amount was wrong",
        decided_by=member,
        now=NOW + timedelta(minutes=5),
    )
    # No service edits or deletes a decision: the first one is kept as written.
    assert not hasattr(plan, "update_decision") and not hasattr(plan, "delete_decision")
    first.refresh_from_db()
    assert first.what == "Refund 10"
    assert [d.what for d in plan.crisis_decisions(crisis)] == ["Correction: refund 20", "Refund 10"]


def test_executive_cannot_record_a_decision(crisis, executive):
    with pytest.raises(PermissionDenied):
        plan.record_decision(
            actor=executive, crisis=crisis, what="a", why="b", decided_by_text="me", now=NOW
        )


# --- budget ----------------------------------------------------------------------------------


def _period_budget(by, amount="1000.00", currency="EUR", today=None) -> Budget:
    today = today or date(2026, 3, 2)
    return Budget.objects.create(
        name=f"March {currency}",
        starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=29),
        amount=Decimal(amount),
        currency=currency,
        set_by=by,
        created_at=NOW,
    )


def _granted(case, amount, *, budget=None, state=CompensationState.GRANTED, currency="EUR"):
    return Compensation.objects.create(
        incident=case,
        budget=budget,
        kind="refund",
        amount=Decimal(amount),
        currency=currency,
        state=state,
        offered_by=case.owner or budgets_user(),
        offered_at=NOW,
    )


def budgets_user():
    return UserFactory(username=f"offerer-{Compensation.objects.count()}")


def test_supervisor_sets_aside_a_budget_and_sees_what_the_incidents_granted(crisis, supervisor):
    period = _period_budget(supervisor)
    first, second, elsewhere = incident(), incident(), incident()
    link(crisis, first)
    link(crisis, second)
    _granted(first, "30.00", budget=period)
    _granted(second, "20.50", budget=period)
    _granted(second, "15.00", state=CompensationState.AWAITING_APPROVAL, budget=period)
    _granted(second, "99.00", state=CompensationState.DECLINED)
    _granted(first, "7.00", currency="USD")
    _granted(elsewhere, "500.00", budget=period)  # not the crisis's incident
    budgets.set_crisis_budget(
        actor=supervisor, crisis=crisis, budget=period, amount="200.00", now=NOW
    )
    crisis.refresh_from_db()
    shown = budgets.crisis_budget(crisis)
    assert shown.amount == Decimal("200.00") and shown.currency == "EUR"
    assert shown.granted == Decimal("50.50")
    assert shown.pending == Decimal("15.00")
    assert shown.remaining == Decimal("149.50")
    assert [(o.currency, o.granted) for o in shown.others] == [("USD", Decimal("7.00"))]
    (event,) = _events(crisis, "crisis.budget_set")
    assert event.after["amount"] == "200.00" and event.after["budget"] == period.pk


def test_crisis_budget_cannot_exceed_what_the_period_budget_has_left(crisis, supervisor):
    period = _period_budget(supervisor, amount="100.00")
    _granted(incident(), "60.00", budget=period)
    with pytest.raises(ValidationError):
        budgets.set_crisis_budget(
            actor=supervisor, crisis=crisis, budget=period, amount="40.01", now=NOW
        )
    budgets.set_crisis_budget(
        actor=supervisor, crisis=crisis, budget=period, amount="40.00", now=NOW
    )


def test_other_open_crises_set_asides_count_against_the_period_budget(crisis, supervisor):
    period = _period_budget(supervisor, amount="100.00")
    other = a_crisis(title="Other", commander=UserFactory(username="boss-2", role=Role.SUPERVISOR))
    budgets.set_crisis_budget(actor=supervisor, crisis=other, budget=period, amount="70", now=NOW)
    with pytest.raises(ValidationError):
        budgets.set_crisis_budget(
            actor=supervisor, crisis=crisis, budget=period, amount="31", now=NOW
        )
    assert budgets.available_for(crisis, period) == Decimal("30.00")


def test_crisis_budget_needs_a_period_covering_today(crisis, supervisor):
    old = _period_budget(supervisor, today=date(2025, 1, 10))
    with pytest.raises(ValidationError):
        budgets.set_crisis_budget(actor=supervisor, crisis=crisis, budget=old, amount="1", now=NOW)


def test_only_a_supervisor_sets_the_crisis_budget(crisis, member, supervisor):
    period = _period_budget(supervisor)
    commander_seat = seat(crisis, UserFactory(username="cm-x", role=Role.COMMUNITY_MANAGER))
    for actor in (member, commander_seat.user):
        with pytest.raises(PermissionDenied):
            budgets.set_crisis_budget(
                actor=actor, crisis=crisis, budget=period, amount="1", now=NOW
            )
    crisis.refresh_from_db()
    assert crisis.budget_id is None


def test_crisis_without_budget_still_shows_what_was_granted(crisis):
    case = incident()
    link(crisis, case)
    _granted(case, "12.00")
    shown = budgets.crisis_budget(crisis)
    assert shown.budget is None and shown.remaining is None
    assert [(o.currency, o.granted) for o in shown.others] == [("EUR", Decimal("12.00"))]
