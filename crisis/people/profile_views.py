"""The profile page every signed-in person has: their language and time zone."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from crisis.people import services
from crisis.people.forms import ProfileForm
from crisis.people.preferences import remember_preferences, set_language_cookie
from crisis.people.selectors import preferences_for, profile_for


def profile(request: HttpRequest) -> HttpResponse:
    """GET shows the form; POST saves it and switches language and time zone at once."""
    current = profile_for(request.user)
    form = ProfileForm(
        request.POST or None,
        initial={"language": current.language, "time_zone": current.time_zone},
    )
    if request.method == "POST" and form.is_valid():
        services.change_own_preferences(actor=request.user, **form.cleaned_data)
        remember_preferences(request, request.user)
        language = form.cleaned_data["language"] or settings.LANGUAGE_CODE
        # The message below is read in the newly chosen language.
        translation.activate(language)
        messages.success(request, _("Your profile is saved."))
        response = redirect("profile")
        set_language_cookie(response, language)
        return response
    _language, effective_zone = preferences_for(request.user)
    return render(
        request,
        "people/profile.html",
        {"form": form, "profile": current, "effective_time_zone": effective_zone},
    )
