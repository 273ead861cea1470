"""Template filters for showing protocol values in the reader's language."""

from django import template

from protocols import display as labels
from protocols.diff import display
from protocols.scoring.types import topic_label as _topic_label

register = template.Library()


@register.filter
def protocol_value(value) -> str:
    return display(value)


@register.filter
def triage_label(value: str) -> str:
    return labels.triage_label(value)


@register.filter
def severity_label(value: str) -> str:
    return labels.severity_label(value)


@register.filter
def signal_explanation(signal: dict) -> str:
    return labels.signal_explanation(signal)


@register.filter
def topic_label(topic: str) -> str:
    return _topic_label(topic)


@register.filter
def key_label(key: str) -> str:
    return labels.protocol_key_label(key)


@register.filter
def setting_value(value) -> str:
    return labels.setting_value(value)


@register.filter
def severity_move(move: str) -> str:
    return labels.move_label(move, of="severity")


@register.filter
def class_move(move: str) -> str:
    return labels.move_label(move, of="class")


@register.filter
def crossing_label(topic: str) -> str:
    return labels.crossing_label(topic)


@register.filter
def stored_datetime(value: str):
    return labels.stored_datetime(value)


@register.filter
def shipped_text(value: str) -> str:
    return labels.shipped_text(value)
