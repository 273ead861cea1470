"""URLs of the monitoring screens and the webhook endpoint."""

from django.urls import path

from monitoring.views import mentions, push, quarantine, sources

app_name = "monitoring"

urlpatterns = [
    path("mentions/", mentions.mention_list, name="mentions"),
    path("sources/", sources.source_list, name="sources"),
    path("sources/new/", sources.source_create, name="source_create"),
    path("sources/<int:pk>/", sources.source_detail, name="source_detail"),
    path("sources/<int:pk>/edit/", sources.source_edit, name="source_edit"),
    path("sources/<int:pk>/delete/", sources.source_delete, name="source_delete"),
    path("sources/<int:pk>/poll/", sources.source_poll_now, name="source_poll_now"),
    path("quarantine/", quarantine.quarantine_list, name="quarantine"),
    path("quarantine/<int:pk>/", quarantine.quarantine_detail, name="quarantine_detail"),
    path(
        "quarantine/<int:pk>/reprocess/",
        quarantine.quarantine_reprocess,
        name="quarantine_reprocess",
    ),
    path("quarantine/<int:pk>/discard/", quarantine.quarantine_discard, name="quarantine_discard"),
    path("import/", push.import_csv, name="import_csv"),
    path("webhook/<int:source_id>/", push.receive_webhook, name="webhook"),
]
