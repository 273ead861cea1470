"""Error pages in the product's layout, and the one log line a refused request leaves."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.log import log_response


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    response = render(request, "403.html", status=403)
    log_refusal(request, response)
    return response


def log_refusal(request: HttpRequest, response: HttpResponse) -> None:
    """Log a 403 as one warning line: who was refused what.

    A refusal is the role table working, not a fault: Django would log it with the full
    traceback of PermissionDenied. Logging it here marks the response as logged, so
    Django's own call (made right after this handler returns) is skipped.
    """
    user = request.user if hasattr(request, "user") else None
    who = f"user {user.pk}" if user is not None and user.is_authenticated else "anonymous"
    log_response(
        "Forbidden (Permission denied): %s %s (%s)",
        request.method,
        request.path,
        who,
        response=response,
        request=request,
    )
