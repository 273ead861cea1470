"""Incident-page panel tag of replies (see templates/replies/partials/incident_panel.html)."""

from django import template

register = template.Library()


@register.inclusion_tag("replies/partials/empty_panel.html", takes_context=True)
def private_panel(context, incident):
    return {}
