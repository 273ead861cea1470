"""Incident-page panel of crisis rooms: the crisis an incident belongs to and its approved
statement, ready to insert into a reply (statement slice)."""

from django import template

register = template.Library()


@register.inclusion_tag("replies/partials/empty_panel.html", takes_context=True)
def crisis_panel(context, incident):
    return {}
