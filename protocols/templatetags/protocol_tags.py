"""Template filters for showing protocol values."""

from django import template
from django.utils.translation import gettext_lazy as _

from protocols.diff import display
from protocols.scoring.types import TriageClass

register = template.Library()


@register.filter
def protocol_value(value) -> str:
    return display(value)


TRIAGE_LABELS = {
    TriageClass.COMPANY_FAULT: _("Complaint: company at fault"),
    TriageClass.NO_REASON: _("Complaint without reason"),
    TriageClass.TROLL: _("Troll or abuse"),
    TriageClass.QUESTION: _("Question"),
    TriageClass.PRAISE: _("Praise"),
    TriageClass.NEUTRAL: _("Neutral"),
}


@register.filter
def triage_label(value: str) -> str:
    return TRIAGE_LABELS.get(value, value)
