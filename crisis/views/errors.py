"""Error pages in the product's layout, and the one log line a refused request leaves."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.log import log_response


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    response = render(request, "403.html", status=403)
    log_refusal(request, response)
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form post (expired page, cookies blocked) in the product's layout.

    Django's own page carries an inline style that Calma's CSP (no 'unsafe-inline') blocks,
    and it speaks to developers; a person needs to know to reload and send again.
    """
    response = render(request, "403_csrf.html", status=403)
    log_refusal(request, response, why=f"CSRF: {reason}" if reason else "CSRF")
    return response


def log_refusal(
    request: HttpRequest, response: HttpResponse, why: str = "Permission denied"
) -> None:
    """Log a 403 as one warning line: who was refused what.

    A refusal is the role table working, not a fault: Django would log it with the full
    traceback of PermissionDenied. Logging it here marks the response as logged, so
    Django's own call (made right after this handler returns) is skipped.
    """
    user = request.user if hasattr(request, "user") else None
    who = f"user {user.pk}" if user is not None and user.is_authenticated else "anonymous"
    log_response(
        "Forbidden (%s): %s %s (%s)",
        why,
        request.method,
        request.path,
        who,
        response=response,
        request=request,
    )
