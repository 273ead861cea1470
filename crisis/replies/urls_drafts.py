"""URLs of the drafts slice of replies (joined in crisis/replies/urls.py). The approval queue
itself is the root "approvals" URL (crisis.views.workspaces), the supervisor's home."""

from django.urls import path

from crisis.replies.views import approvals, drafts

urlpatterns = [
    path("incidents/<int:incident_pk>/start/", drafts.start, name="draft_start"),
    path("<int:pk>/", drafts.editor, name="draft"),
    path("<int:pk>/save/", drafts.save, name="draft_save"),
    path("<int:pk>/submit/", drafts.submit, name="draft_submit"),
    path("<int:pk>/template/", drafts.template, name="draft_template"),
    path("<int:pk>/discard/", drafts.discard, name="draft_discard"),
    path("<int:pk>/approve/", approvals.approve, name="approve"),
    path("<int:pk>/send-back/", approvals.send_back, name="send_back"),
]
