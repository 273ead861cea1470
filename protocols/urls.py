"""URLs of the protocol editor, backtests and crisis suggestions."""

from django.urls import path

from protocols.views import backtests, editor, mutes, policies, suggestions

app_name = "protocols"

urlpatterns = [
    path("", editor.version_list, name="list"),
    path("new/", editor.new_draft, name="new_draft"),
    path("compare/", editor.compare, name="compare"),
    path("<int:pk>/", editor.version_detail, name="detail"),
    path("<int:pk>/details/", editor.save_details, name="save_details"),
    path("<int:pk>/sections/<slug:section>/", editor.edit_section, name="edit_section"),
    path(
        "<int:pk>/sections/<slug:section>/preview/",
        policies.preview_template,
        name="preview_template",
    ),
    path("<int:pk>/activate/", editor.activate, name="activate"),
    path("<int:pk>/delete/", editor.delete_draft, name="delete_draft"),
    path("<int:pk>/backtest/", backtests.start, name="start_backtest"),
    path("backtests/<int:pk>/", backtests.detail, name="backtest"),
    path("suggestions/", suggestions.suggestion_list, name="suggestions"),
    path("suggestions/<int:pk>/dismiss/", suggestions.dismiss, name="dismiss_suggestion"),
    path("suggestions/mutes/", mutes.mute_topic, name="mute_topic"),
    path("suggestions/mutes/<int:pk>/end/", mutes.end_mute, name="end_mute"),
]
