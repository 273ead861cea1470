"""URLs of the resolution and post-mortem slice of crisis rooms (joined in
crisis/rooms/urls.py)."""

from django.urls import path

from crisis.rooms.views import postmortem

urlpatterns = [
    path("<int:pk>/resolution/", postmortem.resolution_section, name="resolution"),
    path("<int:pk>/resolve/", postmortem.resolve, name="resolve"),
    path("<int:pk>/post-mortem/", postmortem.post_mortem, name="post_mortem"),
    path("<int:pk>/post-mortem/edit/", postmortem.edit_post_mortem, name="edit_post_mortem"),
    path("<int:pk>/post-mortem/impact/", postmortem.refresh_impact, name="refresh_impact"),
    path("<int:pk>/post-mortem/items/", postmortem.add_item, name="add_follow_up_item"),
    path("post-mortem-items/<int:pk>/done/", postmortem.item_done, name="follow_up_item_done"),
    path("<int:pk>/post-mortem/complete/", postmortem.complete, name="complete_post_mortem"),
    path(
        "<int:pk>/post-mortem/protocol-draft/",
        postmortem.protocol_draft,
        name="post_mortem_protocol_draft",
    ),
    path("<int:pk>/post-mortem/backtest/", postmortem.run_backtest, name="post_mortem_backtest"),
    path("<int:pk>/post-mortem.md", postmortem.export_markdown, name="post_mortem_markdown"),
    path("<int:pk>/post-mortem.pdf", postmortem.export_pdf, name="post_mortem_pdf"),
]
