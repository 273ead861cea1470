"""App configuration for the case-work app; creates the role groups after every migrate."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CrisisConfig(AppConfig):
    name = "crisis"
    verbose_name = _("Crisis management")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crisis.roles import ensure_role_groups

        post_migrate.connect(ensure_role_groups, sender=self)


class CalmaAdminConfig(AdminConfig):
    default_site = "crisis.admin_site.CalmaAdminSite"
