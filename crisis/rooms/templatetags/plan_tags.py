"""Crisis-room section tag (see templates/rooms/room.html)."""

from django import template

register = template.Library()


@register.inclusion_tag("replies/partials/empty_panel.html", takes_context=True)
def plan_section(context, crisis):
    """Action plan, decisions, timeline and the crisis's compensation budget."""
    return {}
