"""Every signed-in person's own choice of which notifications reach them by which channel."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from crisis.notifications import preferences
from crisis.notifications.forms import PreferencesForm
from crisis.notifications.models import NotificationChannel


def preference_settings(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST or None, table=preferences.preference_table(request.user))
    if request.method == "POST" and form.is_valid():
        changed = preferences.save_preferences(
            actor=request.user, choices=form.choices(), now=timezone.now()
        )
        if changed:
            messages.success(request, _("Your notification settings are saved."))
        else:
            messages.info(request, _("Nothing changed."))
        return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {"form": form, "channels": list(NotificationChannel)},
    )
