"""The board app: rollups, the executive board, the digest and the CSV exports."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BoardConfig(AppConfig):
    name = "crisis.board"
    label = "board"
    verbose_name = _("Board")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Incidents change in many services: IncidentHour is recomputed from the board's side.
        from crisis.board.incident_rollups import connect_receivers

        connect_receivers()
