"""App configuration for drills and replays: stored history or a scenario played as a run."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DrillsConfig(AppConfig):
    name = "crisis.drills"
    label = "drills"
    verbose_name = _("Drills and replays")
    default_auto_field = "django.db.models.BigAutoField"
