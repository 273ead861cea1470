"""The board app: rollups, the executive board, the digest and the CSV exports."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BoardConfig(AppConfig):
    name = "crisis.board"
    label = "board"
    verbose_name = _("Board")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Monitoring and protocols announce stored and scored mentions by signal (they never
        # import the board); the board recomputes the hours of those mentions.
        from crisis.board.rollups import refresh_rollups_of_mentions
        from monitoring.signals import mentions_stored
        from protocols.signals import mentions_scored

        mentions_stored.connect(
            refresh_rollups_of_mentions, dispatch_uid="board-rollups-after-mentions-stored"
        )
        mentions_scored.connect(
            refresh_rollups_of_mentions, dispatch_uid="board-rollups-after-mentions-scored"
        )
        # Incidents change in many services: IncidentHour is recomputed from the board's side.
        from crisis.board.incident_rollups import connect_receivers

        connect_receivers()
