"""URLs of drills."""

from django.urls import path

from crisis.drills import views

app_name = "drills"

urlpatterns = [
    path("", views.drill_list, name="list"),
    path("scenarios/new/", views.scenario_new, name="scenario_new"),
    path("start/", views.drill_start, name="start"),
    path("<int:pk>/", views.drill_detail, name="detail"),
    path("<int:pk>/close/", views.drill_close, name="close"),
]
