"""One helper so every htmx endpoint also works as a full page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page_or_partial(
    request: HttpRequest, page: str, partial: str, context: dict, status: int = 200
) -> HttpResponse:
    """Render only `partial` for an htmx request that targets part of a page, else `page`."""
    is_partial = getattr(request, "htmx", False) and not request.htmx.boosted
    return render(request, partial if is_partial else page, context, status=status)
