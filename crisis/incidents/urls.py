"""URLs of incidents: the incident page and its actions (the inbox adds its own routes)."""

from django.urls import path

from crisis.incidents.views import inbox, incident

app_name = "incidents"

urlpatterns = [
    path("<int:pk>/", incident.detail, name="detail"),
    path("<int:pk>/presence/", incident.presence_poll, name="presence"),
    path("<int:pk>/take/", incident.take, name="take"),
    path("<int:pk>/ask-hand-over/", incident.ask_hand_over, name="ask_hand_over"),
    path("<int:pk>/hand-over/", incident.hand_over, name="hand_over"),
    path("<int:pk>/start/", incident.start, name="start"),
    path("<int:pk>/escalate/", incident.escalate, name="escalate"),
    path("<int:pk>/resolve/", incident.resolve, name="resolve"),
    path("<int:pk>/close/", incident.close, name="close"),
    path("<int:pk>/reopen/", incident.reopen, name="reopen"),
    path("<int:pk>/correct-class/", incident.correct_class, name="correct_class"),
    path("<int:pk>/author-flags/", incident.author_flags, name="author_flags"),
    path("corrections/export/", incident.export_corrections, name="export_corrections"),
    # The inbox page itself is the root "inbox" URL (crisis.views.workspaces).
    path("inbox/act/", inbox.inbox_act, name="inbox_act"),
]
