"""URLs of replies, one module per slice: drafts and approvals, sending and publishing
accounts, take-private follow-ups, compensation, moderation."""

from crisis.replies import (
    urls_compensation,
    urls_drafts,
    urls_moderation,
    urls_private,
    urls_sending,
)

app_name = "replies"

urlpatterns = [
    *urls_drafts.urlpatterns,
    *urls_sending.urlpatterns,
    *urls_private.urlpatterns,
    *urls_compensation.urlpatterns,
    *urls_moderation.urlpatterns,
]
