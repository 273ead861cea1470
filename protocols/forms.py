"""Forms of the protocol editor: one per section, plus name/notes, activation, backtest."""

import json
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from protocols.display import protocol_key_label
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
                label=labels.get(name, protocol_key_label(name)), initial=value
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


class KeywordGroupForm(forms.Form):
    key = forms.SlugField(label=_("Key"), max_length=40, help_text=_("e.g. authority"))
    label = forms.CharField(label=_("Name"), max_length=120)
    patterns = forms.CharField(
        label=_("Words and phrases, one per line"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    regex = forms.BooleanField(label=_("Lines are regular expressions"), required=False)
    boost = forms.IntegerField(label=_("Boost"), min_value=0, max_value=100)
    escalation_contact = forms.CharField(label=_("Escalate to"), max_length=200, required=False)


class BaseKeywordGroupFormSet(forms.BaseFormSet):
    """The keyword groups as one form each (plus a blank one to add a group)."""

    def __init__(self, *args, section_value=None, **kwargs):
        initial = [
            {**group, "patterns": "\n".join(group.get("patterns", []))}
            for group in (section_value or [])
        ]
        super().__init__(*args, initial=initial, **kwargs)

    def to_section(self) -> list[dict]:
        groups, self.form_of_group = [], []
        for index, form in enumerate(self.forms):
            data = dict(form.cleaned_data)
            if not data or data.pop("DELETE", False):
                continue
            patterns = [line.strip() for line in data["patterns"].splitlines() if line.strip()]
            groups.append({**data, "patterns": patterns})
            self.form_of_group.append(index)
        return groups

    def attach_error(self, path: str, message: str) -> None:
        """`keyword_groups[2].patterns[0]` → the error shown on that group's patterns."""
        match = re.match(r"keyword_groups\[(\d+)\]\.(\w+)", path)
        if match and int(match[1]) < len(self.form_of_group):
            form = self.forms[self.form_of_group[int(match[1])]]
            field = match[2] if match[2] in form.fields else None
            form.add_error(field, message if field else f"{path}: {message}")
        else:
            self.forms[0].add_error(None, f"{path}: {message}")


KeywordGroupFormSet = forms.formset_factory(
    KeywordGroupForm, formset=BaseKeywordGroupFormSet, extra=1, can_delete=True
)


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
            "Words that raise the score and name who to escalate to: authority and consumer "
            "protection, legal threats, health and safety, data breach… Matching ignores case "
            "and accents. Fill the blank group at the end to add one; tick Delete to remove one."
        ),
        KeywordGroupFormSet,
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
    "incidents": (
        _("Incidents"),
        _(
            "attach_window_minutes: a mention from the same author on the same topic within "
            "this window joins their open incident; reopen_window_minutes: a resolved incident "
            "reopens when its author writes again on its topic within this window; "
            "open_severities and open_classes: which scored mentions open an incident; "
            "open_low_classes: the classes for which a low mention opens one too."
        ),
        JsonSectionForm,
    ),
    "routing": (
        _("Routing"),
        _(
            "max_open_per_manager: open incidents a manager holds at most; "
            "alert_supervisors_severities and alert_groups: severities and keyword groups that "
            "also alert the supervisors; handback_on_shift_end: untouched incidents go back to "
            "routing when a shift ends; oncall_outside_shifts_severities: severities that go to "
            "the on-call supervisor outside every shift."
        ),
        JsonSectionForm,
    ),
    "sla": (
        _("SLA"),
        _(
            "warn_at_fraction: warn the owner when this share of the first-response time has "
            "passed (0.8 = 80 percent); handback_on_breach: a breached incident goes back to "
            "routing."
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
    a = forms.ModelChoiceField(
        label=_("From"), queryset=ProtocolVersion.objects.all(), empty_label=_("Choose a version")
    )
    b = forms.ModelChoiceField(
        label=_("To"), queryset=ProtocolVersion.objects.all(), empty_label=_("Choose a version")
    )


class DismissSuggestionForm(forms.Form):
    """Why a crisis suggestion is dismissed; shown on the next suggestion for its topic."""

    reason = forms.CharField(
        label=_("Why is this not a crisis?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def severity_labels() -> dict:
    return {
        Severity.MEDIUM: _("Medium from"),
        Severity.HIGH: _("High from"),
        Severity.CRITICAL: _("Critical from"),
    }
