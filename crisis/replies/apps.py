"""App configuration for replies: drafts, approvals, sending, take-private, compensation,
moderation."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepliesConfig(AppConfig):
    name = "crisis.replies"
    label = "replies"
    verbose_name = _("Replies")
    default_auto_field = "django.db.models.BigAutoField"
