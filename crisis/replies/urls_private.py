"""URLs of the private slice of replies (joined in crisis/replies/urls.py)."""

from django.urls import path

from crisis.replies.views import private

urlpatterns = [
    path("incidents/<int:pk>/take-private/", private.take_private, name="take_private"),
    path("follow-ups/", private.follow_ups, name="follow_ups"),
    path("follow-ups/<int:pk>/complete/", private.complete_follow_up, name="complete_follow_up"),
    path("personal-data/", private.retention, name="retention"),
]
