"""URLs of the People pages (admins only): people, teams and shifts, skills, on-call."""

from django.urls import path

from crisis.people import team_views, views

app_name = "people"

urlpatterns = [
    path("", views.people_list, name="list"),
    path("new/", views.person_create, name="create"),
    path("<int:pk>/", views.person_detail, name="detail"),
    path("<int:pk>/deactivate/", views.person_deactivate, name="deactivate"),
    path("<int:pk>/reactivate/", views.person_reactivate, name="reactivate"),
    path("<int:pk>/unlock/", views.person_unlock, name="unlock"),
    path("<int:pk>/password-reset/", views.person_password_reset, name="password_reset"),
    path("<int:pk>/skills/", team_views.member_skills, name="skills"),
    path("teams/", team_views.team_list, name="teams"),
    path("teams/new/", team_views.team_create, name="team_create"),
    path("teams/<int:pk>/", team_views.team_detail, name="team_detail"),
    path("teams/<int:pk>/delete/", team_views.team_delete, name="team_delete"),
    path("teams/<int:pk>/shifts/", team_views.shift_add, name="shift_add"),
    path("shifts/<int:pk>/delete/", team_views.shift_delete, name="shift_delete"),
    path("on-call/", team_views.on_call, name="on_call"),
    path("on-call/<int:pk>/delete/", team_views.on_call_delete, name="on_call_delete"),
]
