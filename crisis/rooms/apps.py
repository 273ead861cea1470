"""App configuration for crisis rooms: crises, cabinet, action plan, statement, timeline,
post-mortem."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoomsConfig(AppConfig):
    name = "crisis.rooms"
    label = "rooms"
    verbose_name = _("Crisis rooms")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from crisis.rooms.defaults import ensure_default_departments

        post_migrate.connect(ensure_default_departments, sender=self)
