"""Acceptance 1 of issue 11 in a real browser, promises become tracked: once the statement is
approved, the spokesperson marks its sentence "we will refund December's fee by Friday" as a
commitment owned by the manager; it shows under the statement and becomes a task of the
action plan, which its owner completes from the room."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crisis.people.selectors import profile_for, time_zone_of
from crisis.rooms.models import Commitment, TaskStatus
from tests.e2e.conftest import screenshot
from tests.e2e.journeys import exactly, press, sign_in
from tests.e2e.rooms_journeys import (
    PROMISE,
    SPOKESPERSON,
    approved_statement,
    complaint_surge,
    convened_crisis,
    crisis_people,
)

pytestmark = pytest.mark.e2e


def test_the_spokesperson_marks_a_promise_and_its_owner_completes_the_task(
    page, browser, live_server, transactional_db, redis_client
):
    now = timezone.now()
    people = crisis_people()
    crisis = convened_crisis(people, complaint_surge(now=now), now=now)
    version = approved_statement(people, crisis, now=now)
    spokesperson = people[SPOKESPERSON.username]
    due = (now + timedelta(days=3)).replace(second=0, microsecond=0)
    due_typed = due.astimezone(ZoneInfo(time_zone_of(profile_for(spokesperson))))

    sign_in(page, live_server.url, SPOKESPERSON.username)
    page.goto(f"{live_server.url}/crises/{crisis.pk}/")
    commitments = page.locator("#statement-commitments")
    expect(commitments).to_contain_text("No commitment marked yet.")
    press(commitments.get_by_text("Mark a commitment", exact=True))
    commitments.get_by_label("The sentence that promises").fill(PROMISE)
    commitments.get_by_label("Due").fill(due_typed.strftime("%Y-%m-%dT%H:%M"))
    commitments.get_by_label("Owner").select_option(label="manager")
    press(commitments.get_by_role("button", name=exactly("Mark as a commitment")))
    expect(
        page.get_by_text("Commitment marked: it is a task of the action plan now.")
    ).to_be_visible()
    commitments = page.locator("#statement-commitments")
    expect(commitments.locator("tbody tr")).to_have_count(1)
    expect(commitments.locator("tbody tr")).to_contain_text(PROMISE)
    expect(commitments.locator("tbody tr")).to_contain_text("manager")

    commitment = Commitment.objects.get(version=version)
    task = commitment.task
    assert commitment.sentence == PROMISE
    assert commitment.due_at == due
    assert task.crisis_id == crisis.pk
    assert task.title == f"Commitment: {PROMISE}"
    assert task.owner.username == "manager"
    assert task.due_at == due
    assert task.status == TaskStatus.TODO

    # The action plan in the room tracks it as a task, marked as a commitment.
    page.goto(f"{live_server.url}/crises/{crisis.pk}/")
    row = page.locator(f"#task-{task.pk}")
    expect(row).to_contain_text(PROMISE)
    expect(row.locator(".badge-commitment")).to_be_visible()
    screenshot(page, "crisis-room-8-commitment")

    # Its owner, the manager (seated from customer service), completes it from the room.
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    owner = context.new_page()
    owner.set_default_timeout(15_000)
    try:
        sign_in(owner, live_server.url, "manager")
        owner.goto(f"{live_server.url}/crises/{crisis.pk}/")
        press(owner.get_by_role("button", name=exactly(f"Done: {task.title}")))
        expect(owner.locator(f"#task-{task.pk}")).to_have_class(re.compile(r"\btask-done\b"))
        owner.goto(f"{live_server.url}/crises/{crisis.pk}/statement/")
        expect(owner.locator("#statement-commitments tbody tr")).to_contain_text("Done")
    finally:
        context.close()
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
