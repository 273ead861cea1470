"""Each signed-in person's own time zone on every request, and their language after saving it.

The time zone is read from the profile once per session (at sign-in, or on the first request
of an older session) and kept in the session, so a page costs no extra query for it.
"""

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from crisis.people.selectors import preferences_for

SESSION_TIME_ZONE_KEY = "calma_time_zone"


def remember_preferences(request: HttpRequest, user) -> str:
    """Store the user's time zone in their session; returns it."""
    _language, zone = preferences_for(user)
    request.session[SESSION_TIME_ZONE_KEY] = zone
    return zone


def remember_preferences_on_login(sender, request=None, user=None, **_kwargs) -> None:
    """`user_logged_in` receiver (also fired by the test client's force_login)."""
    if request is not None and user is not None and hasattr(request, "session"):
        remember_preferences(request, user)


def set_language_cookie(response: HttpResponse, language: str) -> None:
    """What django.views.i18n.set_language does to switch the interface language."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class ProfileTimeZoneMiddleware:
    """Activate the signed-in person's time zone for the request (after authentication)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            zone = request.session.get(SESSION_TIME_ZONE_KEY) or remember_preferences(request, user)
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            # Threads serve many requests: the next one must not inherit this zone.
            timezone.deactivate()
