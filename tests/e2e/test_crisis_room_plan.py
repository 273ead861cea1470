"""Acceptance 1 of issue 11 in a real browser, the action plan: in a convened room the
commander (a cabinet-member user) adds two tasks with owner, department, due time and
indicator, starts and completes them with the keyboard, and records a decision; the plan
shows them done, the audit log (the timeline's source) has each step with the crisis as
target."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crisis.models import AuditEvent
from crisis.people.selectors import profile_for, time_zone_of
from crisis.rooms.models import Decision, Task, TaskStatus
from tests.e2e.conftest import screenshot
from tests.e2e.journeys import exactly, press, sign_in
from tests.e2e.rooms_journeys import (
    COMMANDER,
    TITLE,
    complaint_surge,
    convened_crisis,
    crisis_people,
)

pytestmark = pytest.mark.e2e
TASKS = (
    ("Publicar el mapa de averías en la web", "Sofia (sofia)", "Communications", "visits"),
    ("Abrir una línea telefónica dedicada", "manager", "Customer service", "wait under 5 min"),
)


def test_the_commander_adds_tasks_completes_them_and_records_a_decision(
    page, live_server, transactional_db, redis_client
):
    now = timezone.now()
    people = crisis_people()
    crisis = convened_crisis(people, complaint_surge(now=now), now=now)
    # The due time is typed in the commander's own zone.
    zone = ZoneInfo(time_zone_of(profile_for(people[COMMANDER.username])))
    due = (now + timedelta(hours=4)).replace(second=0, microsecond=0)
    due_local = due.astimezone(zone)

    sign_in(page, live_server.url, COMMANDER.username)
    page.wait_for_url(re.compile(r"/crises/$"))
    press(page.get_by_role("link", name=exactly(TITLE)))
    page.wait_for_url(re.compile(rf"/crises/{crisis.pk}/$"))
    plan = page.locator("#plan")
    expect(plan.get_by_text("No task in the plan yet.")).to_be_visible()

    for title, owner, department, indicator in TASKS:
        adding = page.locator("#plan details.plan-add").filter(
            has=page.get_by_text("Add a task", exact=True)
        )
        if adding.get_attribute("open") is None:
            press(adding.locator("summary"))
        adding.get_by_label(re.compile(r"^Task\b")).fill(title)
        adding.get_by_label("Owner").select_option(label=owner)
        adding.get_by_label("Department").select_option(label=department)
        adding.get_by_label("Due").fill(due_local.strftime("%Y-%m-%dT%H:%M"))
        adding.get_by_label("Indicator to follow").fill(indicator)
        press(adding.get_by_role("button", name=exactly("Add the task")))
        expect(page.locator("#plan .plan-tasks")).to_contain_text(title)

    tasks = {task.title: task for task in Task.objects.filter(crisis=crisis)}
    assert set(tasks) == {title for title, *_rest in TASKS}
    for title, owner, department, indicator in TASKS:
        task = tasks[title]
        assert task.status == TaskStatus.TODO
        assert task.indicator == indicator
        assert task.owner.username == owner.split("(")[-1].rstrip(")")
        assert task.department.name == department
        assert abs(task.due_at - due) < timedelta(minutes=1)
        row = page.locator(f"#task-{task.pk}")
        expect(row).to_contain_text(indicator)
        expect(row).not_to_have_class(re.compile(r"task-overdue"))
    screenshot(page, "crisis-room-2-plan")

    # Start the first, then complete both (quick status buttons, keyboard).
    first, second = (tasks[title] for title, *_rest in TASKS)
    press(page.get_by_role("button", name=exactly(f"In progress: {first.title}")))
    expect(page.locator(f"#task-{first.pk} .task-status-doing")).to_be_visible()
    for task in (first, second):
        press(page.get_by_role("button", name=exactly(f"Done: {task.title}")))
        expect(page.locator(f"#task-{task.pk}")).to_have_class(re.compile(r"\btask-done\b"))
    for task in (first, second):
        task.refresh_from_db()
        assert task.status == TaskStatus.DONE
        assert task.done_at is not None
    expect(page.locator("#plan-title")).to_contain_text("0 open tasks")

    # A decision for the log.
    deciding = page.locator("#plan details.plan-add").filter(
        has=page.get_by_text("Record a decision", exact=True)
    )
    press(deciding.locator("summary"))
    deciding.get_by_label("What was decided").fill("Compensar con un mes gratis")
    deciding.get_by_label("Why").fill("El apagón duró más de 48 horas")
    deciding.get_by_label("Decided by", exact=True).select_option(label="Carmen (carmen)")
    press(deciding.get_by_role("button", name=exactly("Record the decision")))
    logged = page.locator("#plan-decisions ol.plan-decisions li")
    expect(logged).to_have_count(1)
    expect(logged.locator(".decision-what")).to_have_text("Compensar con un mes gratis")
    expect(logged).to_contain_text("Decided by Carmen")
    decision = Decision.objects.get(crisis=crisis)
    assert decision.recorded_by.username == COMMANDER.username
    assert decision.decided_by.username == COMMANDER.username

    # The timeline (read from the audit log) tells each step as a sentence.
    page.reload()
    timeline = page.locator("#timeline-latest .timeline-events")
    for task in (first, second):
        expect(timeline).to_contain_text(f"{COMMANDER.username} added the task “{task.title}”.")
        expect(timeline).to_contain_text(f"{COMMANDER.username} completed the task “{task.title}”.")
    expect(timeline).to_contain_text(f"{COMMANDER.username} recorded a decision")
    verbs = list(
        AuditEvent.objects.filter(object_type="rooms.crisis", object_id=str(crisis.pk))
        .filter(verb__startswith="crisis.task")
        .values_list("verb", flat=True)
    )
    assert len(verbs) >= 2 + 3, verbs  # two added, one started, two done
    screenshot(page, "crisis-room-3-plan-done")
