"""The board app: rollups, the executive board, the digest and the CSV exports."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BoardConfig(AppConfig):
    name = "crisis.board"
    label = "board"
    verbose_name = _("Board")
    default_auto_field = "django.db.models.BigAutoField"
