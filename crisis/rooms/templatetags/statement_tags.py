"""Crisis-room section tag (see templates/rooms/room.html)."""

from django import template

register = template.Library()


@register.inclusion_tag("replies/partials/empty_panel.html", takes_context=True)
def statement_section(context, crisis):
    """The statement: versions, approval, channel texts, publication checklist, commitments."""
    return {}
