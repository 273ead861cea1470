"""App configuration for people: records an audit event whenever a sign-in gets locked out, and
remembers a person's time zone in their session when they sign in."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "crisis.people"
    label = "people"
    verbose_name = _("People")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in

        from crisis.people.preferences import remember_preferences_on_login
        from crisis.people.services import record_lockout

        user_locked_out.connect(record_lockout, dispatch_uid="people.record_lockout")
        user_logged_in.connect(
            remember_preferences_on_login, dispatch_uid="people.remember_preferences"
        )
