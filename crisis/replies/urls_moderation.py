"""URLs of the moderation slice of replies (joined in crisis/replies/urls.py)."""

from django.urls import path

from crisis.replies.views import moderation

urlpatterns: list = [
    path("moderation/", moderation.queue, name="moderation_queue"),
    path("moderation/<int:pk>/", moderation.detail, name="moderation_detail"),
    path("moderation/<int:pk>/approve/", moderation.approve, name="moderation_approve"),
    path("moderation/<int:pk>/reject/", moderation.reject, name="moderation_reject"),
    path("moderation/<int:pk>/retry/", moderation.retry, name="moderation_retry"),
    path(
        "moderation/<int:pk>/done-by-hand/",
        moderation.done_by_hand,
        name="moderation_done_by_hand",
    ),
    path(
        "moderation/incidents/<int:incident_pk>/mentions/<int:mention_pk>/",
        moderation.request_form,
        name="moderation_request",
    ),
]
