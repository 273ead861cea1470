"""Template filters for showing protocol values."""

from django import template

from protocols.diff import display

register = template.Library()


@register.filter
def protocol_value(value) -> str:
    return display(value)
