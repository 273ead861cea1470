"""URLs of the plan slice of crisis rooms (joined in crisis/rooms/urls.py): the action plan,
decisions, the timeline and the crisis's compensation budget."""

from django.urls import path

from crisis.rooms.views import plan

urlpatterns = [
    path("<int:pk>/plan/", plan.plan_page, name="plan"),
    path("<int:pk>/plan/tasks/add/", plan.add_task, name="add_task"),
    path("tasks/<int:task_pk>/edit/", plan.edit_task, name="edit_task"),
    path("tasks/<int:task_pk>/status/", plan.task_status, name="task_status"),
    path("<int:pk>/decisions/add/", plan.record_decision, name="record_decision"),
    path("<int:pk>/timeline/", plan.timeline_page, name="timeline"),
    path("<int:pk>/timeline/add/", plan.add_timeline_entry, name="add_timeline_entry"),
    path("<int:pk>/timeline/pin/", plan.pin_mention, name="pin_mention"),
    path("<int:pk>/budget/", plan.crisis_budget, name="crisis_budget"),
]
