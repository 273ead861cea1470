"""URLs of notifications: the page, the bell's count, the mark-read actions, each person's
channel settings and the admins' outgoing webhooks."""

from django.urls import path

from crisis.notifications import preference_views, views, webhook_views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("bell/", views.bell, name="bell"),
    path("<int:pk>/read/", views.mark_read, name="read"),
    path("read-all/", views.mark_all_read, name="read_all"),
    path("settings/", preference_views.preference_settings, name="preferences"),
    path("webhooks/", webhook_views.webhook_list, name="webhooks"),
    path("webhooks/settings/", webhook_views.webhook_settings, name="webhook_settings"),
    path("webhooks/new/", webhook_views.webhook_create, name="webhook_create"),
    path("webhooks/<int:pk>/", webhook_views.webhook_detail, name="webhook_detail"),
    path("webhooks/<int:pk>/edit/", webhook_views.webhook_edit, name="webhook_edit"),
    path("webhooks/<int:pk>/test/", webhook_views.webhook_test, name="webhook_test"),
    path("webhooks/<int:pk>/delete/", webhook_views.webhook_delete, name="webhook_delete"),
]
