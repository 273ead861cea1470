"""URLs of the CSV exports."""

from django.urls import path

from crisis.board import views

app_name = "board"

urlpatterns = [
    path("incidents.csv", views.incidents_csv, name="incidents_csv"),
    path("mentions.csv", views.mentions_csv, name="mentions_csv"),
    path("audit.csv", views.audit_csv, name="audit_csv"),
    path("crises.csv", views.crises_csv, name="crises_csv"),
]
