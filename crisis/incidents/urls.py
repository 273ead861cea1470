"""URLs of incidents: the incident page and its actions (the inbox adds its own routes)."""

from django.urls import path

from crisis.incidents.views import incident

app_name = "incidents"

urlpatterns = [
    path("<int:pk>/", incident.detail, name="detail"),
]
