"""Each signed-in person's own time zone on every request, and their own language.

Both are read from the profile once per session (at sign-in, or on the first request of an
older session) and kept in the session, so a page costs no extra query for them. The language
is the browser's language cookie, as Django's set_language sets it: a browser without one
(a new device) gets the profile's language and the cookie; the header's language switcher
still overrides it for that browser.
"""

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from crisis.people.selectors import profile_for, time_zone_of

SESSION_TIME_ZONE_KEY = "calma_time_zone"
SESSION_LANGUAGE_KEY = "calma_language"


def remember_preferences(request: HttpRequest, user) -> str:
    """Store the user's time zone and their own language choice ("" = none) in their session;
    returns the time zone."""
    profile = profile_for(user)
    zone = time_zone_of(profile)
    request.session[SESSION_TIME_ZONE_KEY] = zone
    request.session[SESSION_LANGUAGE_KEY] = profile.language
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
    """Activate the signed-in person's time zone (and, in a browser that has chosen no language,
    their language) for the request; after authentication."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = None
        if user is not None and user.is_authenticated:
            zone = request.session.get(SESSION_TIME_ZONE_KEY) or remember_preferences(request, user)
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
            language = _language_for_new_browser(request)
        try:
            response = self.get_response(request)
        finally:
            # Threads serve many requests: the next one must not inherit this zone.
            timezone.deactivate()
        if language:
            set_language_cookie(response, language)
        return response


def _language_for_new_browser(request: HttpRequest) -> str | None:
    """The profile's language when this browser has chosen none; activated for this request."""
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return None
    language = request.session.get(SESSION_LANGUAGE_KEY)
    if language not in dict(settings.LANGUAGES):
        return None
    translation.activate(language)
    request.LANGUAGE_CODE = language
    return language
