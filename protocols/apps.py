"""App configuration for protocols: versions, scoring, spikes, backtests."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtocolsConfig(AppConfig):
    name = "protocols"
    verbose_name = _("Response protocols")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from protocols.services import ensure_default_protocol

        post_migrate.connect(ensure_default_protocol, sender=self)
