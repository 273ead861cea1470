"""The one place templates turn a stored URL into a link: only http(s) ever becomes live."""

from django import template

from monitoring.connectors.boundary import http_url_or_empty

register = template.Library()


@register.filter
def safe_url(value: object) -> str:
    """The URL when it is http(s); "" for javascript:, data: and anything else.

    Whatever sits in the database (rows stored before the validation boundary, or written
    by hand) is checked again here, so a template writes ``{% with href=x|safe_url %}`` and
    links only when ``href`` is set.
    """
    return http_url_or_empty(value)
