"""Forms of the protocol editor: one per section, plus name/notes, activation, backtest."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from protocols.models import ProtocolVersion
from protocols.scoring.types import Severity


class DetailsForm(forms.ModelForm):
    class Meta:
        model = ProtocolVersion
        fields = ["name", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class NumbersForm(forms.Form):
    """A section that is a flat object of numbers (thresholds, weights, flags…)."""

    def __init__(self, *args, section_value: dict, labels: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        labels = labels or {}
        for name, value in section_value.items():
            self.fields[name] = forms.FloatField(
                label=labels.get(name, name.replace("_", " ")), initial=value
            )

    def to_section(self) -> dict:
        return {
            name: int(value) if float(value).is_integer() else value
            for name, value in self.cleaned_data.items()
        }


class JsonSectionForm(forms.Form):
    """Lists and nested sections (lexicons, keyword groups, reach tiers, policies) as JSON."""

    value = forms.CharField(
        label=_("Section (JSON)"),
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "code"}),
    )

    def __init__(self, *args, section_value=None, **kwargs):
        super().__init__(*args, **kwargs)
        if section_value is not None and not self.is_bound:
            self.initial["value"] = json.dumps(section_value, indent=2, ensure_ascii=False)

    def clean_value(self):
        try:
            return json.loads(self.cleaned_data["value"])
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                _("Not valid JSON at line %(line)s, column %(column)s: %(message)s")
                % {"line": error.lineno, "column": error.colno, "message": error.msg}
            ) from error

    def to_section(self):
        return self.cleaned_data["value"]


# Section → (title, help text, form class). Flat numeric sections get number fields.
SECTIONS = {
    "severity_thresholds": (
        _("Severity thresholds"),
        _("Minimum score (0–100) for each severity; each must be higher than the one before."),
        NumbersForm,
    ),
    "crisis_threshold": (
        _("Crisis threshold"),
        _(
            "Suggest declaring a crisis when this many high-or-critical mentions arrive on one "
            "topic within the window, or when a topic's rate reaches this spike factor."
        ),
        NumbersForm,
    ),
    "velocity": (
        _("Velocity"),
        _("When a topic's rate is this many times its baseline, add this boost to the score."),
        NumbersForm,
    ),
    "weights": (
        _("Signal weights"),
        _("How much each signal adds to the score (negative values subtract)."),
        NumbersForm,
    ),
    "author_flags": (
        _("Author flags"),
        _("Boost for authors flagged influencer, ambassador, known troll or customer."),
        NumbersForm,
    ),
    "repeat_complainant": (
        _("Repeat complainants"),
        _("Boost when the author has complained at least this many times before."),
        NumbersForm,
    ),
    "reach_tiers": (
        _("Reach tiers"),
        _('A list of {"min_followers": N, "boost": B}, starting at 0 and going up.'),
        JsonSectionForm,
    ),
    "keyword_groups": (
        _("Keyword groups"),
        _(
            'A list of groups: {"key", "label", "patterns": [words or phrases], "regex": '
            'true/false, "boost": 0–100, "escalation_contact"}. Authority, legal, health '
            "and safety, data breach…"
        ),
        JsonSectionForm,
    ),
    "lexicons": (
        _("Lexicons"),
        _("Per language (es, en): sentiment words with weights, negations, intensifiers, insults."),
        JsonSectionForm,
    ),
    "policies": (
        _("Response policies"),
        _(
            "Per severity: sla_minutes (at most 1440), needs_approval, escalation_contacts, and "
            "per triage class the recommended action and reply templates. Templates may use "
            "{author}, {brand}, {agent}, {case} and {channel}."
        ),
        JsonSectionForm,
    ),
}
SECTION_ORDER = list(SECTIONS)


class ActivateForm(forms.Form):
    rescore_days = forms.TypedChoiceField(
        label=_("Rescore stored mentions"),
        coerce=int,
        initial=7,
        choices=[
            (0, _("No, only new mentions")),
            (1, _("From the last day")),
            (7, _("From the last 7 days")),
            (30, _("From the last 30 days")),
        ],
    )


class BacktestForm(forms.Form):
    days = forms.IntegerField(label=_("Days of history"), min_value=1, max_value=90, initial=7)


class CompareForm(forms.Form):
    a = forms.ModelChoiceField(label=_("From"), queryset=ProtocolVersion.objects.all())
    b = forms.ModelChoiceField(label=_("To"), queryset=ProtocolVersion.objects.all())


def severity_labels() -> dict:
    return {
        Severity.MEDIUM: _("Medium from"),
        Severity.HIGH: _("High from"),
        Severity.CRITICAL: _("Critical from"),
    }
