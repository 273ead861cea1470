"""Every URL of the plan slice per role (anonymous, community manager, supervisor, executive,
admin, a cabinet member of this crisis, a cabinet member of another crisis), then what the
pages and the room's plan section do over htmx and without it."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crisis.replies.models import Budget
from crisis.rooms import plan, timeline
from crisis.rooms.forms_plan import CrisisBudgetForm
from crisis.rooms.models import CabinetRole, Decision, Task, TaskStatus, TimelineEntry
from protocols.models import MentionTopic
from tests.incidents.factories import incident, scored_mention
from tests.rooms.factories import a_crisis, cabinet_member_user, link, seat

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "manager",
    "supervisor",
    "executive",
    "admin",
    "member_here",
    "member_elsewhere",
)
SEES = {"supervisor", "executive", "member_here"}
ACTS = {"supervisor", "member_here"}


@pytest.fixture
def people(db, manager, supervisor, executive, administrator):
    return {
        "anonymous": None,
        "manager": manager,
        "supervisor": supervisor,
        "executive": executive,
        "admin": administrator,
        "member_here": cabinet_member_user("legal-ana"),
        "member_elsewhere": cabinet_member_user("legal-bo"),
    }


@pytest.fixture
def room(people):
    here = a_crisis(title="Double charges", commander=people["supervisor"])
    elsewhere = a_crisis(
        title="Late deliveries", topics=("delivery",), commander=people["supervisor"]
    )
    seat(here, people["member_here"], "legal", CabinetRole.MEMBER)
    seat(elsewhere, people["member_elsewhere"], "legal", CabinetRole.MEMBER)
    case = incident()
    link(here, case)
    return here


@pytest.fixture
def task(room, people):
    return plan.add_task(
        actor=people["supervisor"],
        crisis=room,
        title="Call the bank",
        owner=people["member_here"],
        due_at=timezone.now() - timedelta(hours=1),
        now=timezone.now(),
    )


@pytest.fixture
def period_budget(people):
    today = timezone.localdate()
    return Budget.objects.create(
        name="This month",
        starts_on=today - timedelta(days=3),
        ends_on=today + timedelta(days=27),
        amount=Decimal("500.00"),
        currency="EUR",
        set_by=people["supervisor"],
        created_at=timezone.now(),
    )


def _login(client, people, role):
    if people[role] is not None:
        client.force_login(people[role])


def _is_login_redirect(response):
    return response.status_code == 302 and response.url.startswith(reverse("login"))


def _pages(room, task):
    """(url, sees or acts) of every URL of the slice."""
    return [
        (reverse("rooms:plan", args=[room.pk]), "view"),
        (reverse("rooms:timeline", args=[room.pk]), "view"),
        (reverse("rooms:add_task", args=[room.pk]), "act"),
        (reverse("rooms:edit_task", args=[task.pk]), "act"),
        (reverse("rooms:task_status", args=[task.pk]), "act"),
        (reverse("rooms:record_decision", args=[room.pk]), "act"),
        (reverse("rooms:add_timeline_entry", args=[room.pk]), "act"),
        (reverse("rooms:pin_mention", args=[room.pk]), "act"),
        (reverse("rooms:crisis_budget", args=[room.pk]), "budget"),
    ]


# --- per role --------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login_everywhere(client, people, room, task):
    for url, _kind in _pages(room, task):
        assert _is_login_redirect(client.get(url)), url
        assert _is_login_redirect(client.post(url, {})), url


@pytest.mark.parametrize("role", ["manager", "admin", "member_elsewhere"])
def test_people_outside_the_room_get_403_everywhere(client, people, room, task, role):
    _login(client, people, role)
    for url, kind in _pages(room, task):
        assert client.get(url).status_code == 403, url
        # The read-only pages take GET only (405 to a POST, whoever sends it).
        expected = 405 if kind == "view" else 403
        assert client.post(url, {"status": "done"}).status_code == expected, url
    task.refresh_from_db()
    assert task.status == TaskStatus.TODO


def test_executive_reads_the_plan_and_timeline_but_posts_nothing(client, people, room, task):
    _login(client, people, "executive")
    for url, kind in _pages(room, task):
        expected = 200 if kind == "view" else 403
        assert client.get(url).status_code == expected, url
        expected = 405 if kind == "view" else 403
        assert client.post(url, {"status": "done", "task-title": "x"}).status_code == expected, url
    html = client.get(reverse("rooms:plan", args=[room.pk])).content.decode()
    assert "Call the bank" in html and "<form" not in html.split("<main", 1)[1]
    html = client.get(reverse("rooms:timeline", args=[room.pk])).content.decode()
    assert "Pin a mention" not in html
    assert not Task.objects.exclude(pk=task.pk).exists()


@pytest.mark.parametrize("role", ["supervisor", "member_here"])
def test_people_in_the_room_open_every_page(client, people, room, task, role, period_budget):
    _login(client, people, role)
    for url, kind in _pages(room, task):
        expected = 403 if kind == "budget" and role == "member_here" else 200
        assert client.get(url).status_code == expected, url


def test_missing_crisis_or_task_is_404(client, people):
    _login(client, people, "supervisor")
    assert client.get(reverse("rooms:plan", args=[999_999])).status_code == 404
    assert client.get(reverse("rooms:timeline", args=[999_999])).status_code == 404
    assert client.get(reverse("rooms:edit_task", args=[999_999])).status_code == 404


# --- tasks -----------------------------------------------------------------------------------


def _task_data(**overrides):
    data = {
        "task-title": "Refund everyone",
        "task-owner": "",
        "task-department": "",
        "task-due_at": "2026-12-31T18:00",
        "task-indicator": "negative share under 30 %",
    }
    data.update(overrides)
    return data


def test_cabinet_member_adds_a_task_and_goes_back_to_the_room(client, people, room):
    _login(client, people, "member_here")
    response = client.post(
        reverse("rooms:add_task", args=[room.pk]),
        _task_data(**{"task-owner": str(people["member_here"].pk)}),
    )
    assert response.status_code == 302
    assert response.url == reverse("rooms:room", args=[room.pk]) + "#plan"
    added = Task.objects.get(title="Refund everyone")
    assert added.owner == people["member_here"] and added.department.key == "legal"


def test_adding_a_task_over_htmx_answers_with_the_plan_section(client, people, room):
    _login(client, people, "supervisor")
    response = client.post(
        reverse("rooms:add_task", args=[room.pk]),
        _task_data(**{"task-title": "<script>alert(1)</script>"}),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<section id="plan"') and "<html" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "added to the plan" in html


def test_an_invalid_task_over_htmx_shows_the_section_with_the_form_open(client, people, room):
    _login(client, people, "supervisor")
    response = client.post(
        reverse("rooms:add_task", args=[room.pk]),
        _task_data(**{"task-title": ""}),
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Check the form." in html
    assert '<details class="plan-add" open>' in html
    assert not Task.objects.exists()


def test_an_invalid_task_without_htmx_shows_its_page_again(client, people, room):
    _login(client, people, "supervisor")
    response = client.post(
        reverse("rooms:add_task", args=[room.pk]), _task_data(**{"task-title": ""})
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_an_owner_outside_the_room_is_not_offered(client, people, room):
    _login(client, people, "supervisor")
    response = client.post(
        reverse("rooms:add_task", args=[room.pk]),
        _task_data(**{"task-owner": str(people["member_elsewhere"].pk)}),
    )
    assert response.status_code == 400
    assert not Task.objects.exists()


def test_quick_status_button_moves_the_task(client, people, room, task):
    _login(client, people, "member_here")
    response = client.post(
        reverse("rooms:task_status", args=[task.pk]),
        {"status": "done"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.done_at is not None
    assert "Call the bank”: done." in response.content.decode()


def test_status_buttons_on_the_plan_page_go_back_to_it(client, people, room, task):
    _login(client, people, "member_here")
    page = client.get(reverse("rooms:plan", args=[room.pk])).content.decode()
    assert 'name="return_to" value="plan"' in page and "hx-post" not in page.split("<main", 1)[1]
    response = client.post(
        reverse("rooms:task_status", args=[task.pk]), {"status": "doing", "return_to": "plan"}
    )
    assert response.status_code == 302
    assert response.url == reverse("rooms:plan", args=[room.pk])
    task.refresh_from_db()
    assert task.status == TaskStatus.DOING


def test_a_refused_move_is_a_message_not_an_error(client, people, room, task):
    _login(client, people, "member_here")
    response = client.post(reverse("rooms:task_status", args=[task.pk]), {"status": "todo"})
    assert response.status_code == 302
    follow = client.get(reverse("rooms:plan", args=[room.pk]))
    assert "already to do" in follow.content.decode()


def test_editing_a_task_changes_it(client, people, room, task):
    _login(client, people, "supervisor")
    url = reverse("rooms:edit_task", args=[task.pk])
    assert 'value="Call the bank"' in client.get(url).content.decode()
    response = client.post(url, _task_data(**{"task-title": "Call the bank again"}))
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.title == "Call the bank again"


def test_the_section_highlights_overdue_tasks(client, people, room, task):
    _login(client, people, "member_here")
    html = client.get(
        reverse("rooms:plan", args=[room.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert 'class="task-row task-todo task-overdue"' in html
    assert "overdue by" in html and "1 overdue" in html


# --- decisions, timeline, budget -------------------------------------------------------------


def test_recording_a_decision(client, people, room):
    _login(client, people, "member_here")
    response = client.post(
        reverse("rooms:record_decision", args=[room.pk]),
        {
            "decision-what": "Refund all",
            "decision-why": "Our fault",
            "decision-decided_by": "",
            "decision-decided_by_text": "Board",
            "decision-decided_at": "",
        },
    )
    assert response.status_code == 302
    assert Decision.objects.get().decided_by_text == "Board"


def test_a_decision_needs_who(client, people, room):
    _login(client, people, "member_here")
    response = client.post(
        reverse("rooms:record_decision", args=[room.pk]),
        {"decision-what": "a", "decision-why": "b"},
    )
    assert response.status_code == 400
    assert not Decision.objects.exists()


def test_timeline_entry_and_pin_from_the_timeline_page_go_back_there(client, people, room):
    _login(client, people, "member_here")
    mention = scored_mention()
    MentionTopic.objects.create(mention=mention, topic="billing", published_at=timezone.now())
    timeline_url = reverse("rooms:timeline", args=[room.pk])
    response = client.post(
        reverse("rooms:add_timeline_entry", args=[room.pk]),
        {"entry-text": "Press called", "entry-at": "", "return_to": "timeline"},
    )
    assert response.status_code == 302 and response.url == timeline_url
    response = client.post(
        reverse("rooms:pin_mention", args=[room.pk]),
        {"pin-mention": str(mention.pk), "pin-note": "", "return_to": "timeline"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 302 and response.url == timeline_url
    assert TimelineEntry.objects.count() == 2
    html = client.get(timeline_url).content.decode()
    assert "Press called" in html and "legal-ana pinned a mention" in html


def test_pinning_an_unknown_mention_is_a_form_error(client, people, room):
    _login(client, people, "member_here")
    response = client.post(
        reverse("rooms:pin_mention", args=[room.pk]), {"pin-mention": "nope", "pin-note": ""}
    )
    assert response.status_code == 400
    assert "No mention has that number or address." in response.content.decode()


def test_timeline_page_paginates_and_answers_htmx_with_the_events(client, people, room):
    for number in range(60):
        TimelineEntry.objects.create(
            crisis=room,
            at=room.declared_at + timedelta(minutes=number),
            text=f"entry {number}",
            author=people["supervisor"],
            created_at=room.declared_at,
        )
    _login(client, people, "executive")
    url = reverse("rooms:timeline", args=[room.pk])
    first = client.get(url).content.decode()
    assert "entry 59" in first and "entry 0<" not in first and 'rel="next"' in first
    second = client.get(url + "?page=2", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in second and "entry 9<" in second
    oldest = client.get(url + "?order=oldest").content.decode()
    assert "entry 0<" in oldest
    assert client.get(url + "?page=abc").status_code == 200


def test_supervisor_sets_aside_a_budget(client, people, room, period_budget):
    _login(client, people, "supervisor")
    response = client.post(
        reverse("rooms:crisis_budget", args=[room.pk]),
        {"budget-budget": str(period_budget.pk), "budget-amount": "120.00"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "120.00 EUR set aside" in html
    room.refresh_from_db()
    assert room.budget == period_budget and room.budget_amount == Decimal("120.00")


def test_budget_beyond_what_is_left_is_refused_with_a_message(client, people, room, period_budget):
    _login(client, people, "supervisor")
    response = client.post(
        reverse("rooms:crisis_budget", args=[room.pk]),
        {"budget-budget": str(period_budget.pk), "budget-amount": "900.00"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "left to set aside" in response.content.decode()
    room.refresh_from_db()
    assert room.budget_id is None


def test_the_room_section_tag_renders_for_each_viewer(people, room, task):
    plan.record_decision(
        actor=people["supervisor"],
        crisis=room,
        what="Refund",
        why="fault",
        decided_by=people["supervisor"],
        now=timezone.now(),
    )
    timeline.add_timeline_entry(
        actor=people["supervisor"], crisis=room, text="Regulator", now=timezone.now()
    )
    template = Template("{% load plan_tags %}{% plan_section crisis %}")
    for role, forms in (("executive", False), ("member_here", True), ("supervisor", True)):
        request = RequestFactory().get("/")
        request.user = people[role]
        html = template.render(Context({"request": request, "crisis": room}))
        assert "Call the bank" in html and "Refund" in html and "Regulator" in html, role
        assert 'role="img"' in html and "<table" in html
        assert ("Add a task" in html) is forms, role
        assert ("Set aside a budget" in html or "No period budget" in html) is (
            role == "supervisor"
        ), role
        assert reverse("rooms:timeline", args=[room.pk]) in html


def test_the_section_costs_the_same_queries_for_few_or_many_rows(
    people, room, django_assert_max_num_queries
):
    def render():
        request = RequestFactory().get("/")
        request.user = people["member_here"]
        Template("{% load plan_tags %}{% plan_section crisis %}").render(
            Context({"request": request, "crisis": room})
        )

    def add(count, start):
        for number in range(start, start + count):
            plan.add_task(
                actor=people["supervisor"],
                crisis=room,
                title=f"t{number}",
                owner=people["member_here"],
                now=timezone.now(),
            )
            plan.record_decision(
                actor=people["supervisor"],
                crisis=room,
                what=f"d{number}",
                why="w",
                decided_by=people["member_here"],
                now=timezone.now(),
            )

    add(2, 0)
    with CaptureQueriesContext(connection) as few:
        render()
    add(30, 2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        render()


def test_today_budget_choices_only(people, room, period_budget):
    Budget.objects.create(
        name="Old",
        starts_on=date(2020, 1, 1),
        ends_on=date(2020, 1, 31),
        amount=Decimal("1"),
        currency="EUR",
        set_by=people["supervisor"],
        created_at=timezone.now(),
    )
    form = CrisisBudgetForm(now=timezone.now())
    assert list(form.fields["budget"].queryset) == [period_budget]
