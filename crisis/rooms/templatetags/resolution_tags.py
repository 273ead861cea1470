"""Crisis-room section tag (see templates/rooms/room.html)."""

from django import template

register = template.Library()


@register.inclusion_tag("replies/partials/empty_panel.html", takes_context=True)
def resolution_section(context, crisis):
    """Resolution criteria, resolve/contain actions, and the post-mortem link."""
    return {}
