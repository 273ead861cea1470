"""Forms of the protocol editor: one per section, plus name/notes, activation, backtest."""

import contextlib
import json
import re
from copy import deepcopy

from django import forms
from django.apps import apps
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from monitoring.platforms import Platform
from protocols.display import protocol_key_label, shipped_text
from protocols.models import ProtocolVersion
from protocols.replies import CHARACTER_LIMITS
from protocols.scoring.types import Severity, TriageClass


class DetailsForm(forms.ModelForm):
    class Meta:
        model = ProtocolVersion
        fields = ["name", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class NumbersForm(forms.Form):
    """A section that is a flat object of numbers (thresholds, weights, flags…), and of the
    few named choices such a section has (`CHOICES`, e.g. the velocity's sensitivity)."""

    CHOICES = {
        "sensitivity": (
            _("Surge sensitivity"),
            [("low", _("Low")), ("normal", _("Normal")), ("high", _("High"))],
            _(
                "How readily a topic's surge alerts: low raises the fewest alerts, high the "
                "earliest and most. Normal suits most teams."
            ),
        ),
    }

    def __init__(self, *args, section_value: dict, labels: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        labels = labels or {}
        for name, value in section_value.items():
            if name in self.CHOICES:
                label, choices, help_text = self.CHOICES[name]
                # Not required: left out, the key is left out, which reads as "normal".
                self.fields[name] = forms.ChoiceField(
                    label=label,
                    choices=choices,
                    initial=value,
                    help_text=help_text,
                    required=False,
                )
                continue
            self.fields[name] = forms.FloatField(
                label=labels.get(name, protocol_key_label(name)), initial=value
            )

    def to_section(self) -> dict:
        return {
            name: value
            if name in self.CHOICES
            else (int(value) if float(value).is_integer() else value)
            for name, value in self.cleaned_data.items()
            if not (name in self.CHOICES and not value)
        }


class VelocityForm(NumbersForm):
    """The velocity section; a version stored before the sensitivity existed shows "normal"."""

    def __init__(self, *args, section_value: dict, **kwargs):
        section_value = {**section_value}
        section_value.setdefault("sensitivity", "normal")
        super().__init__(*args, section_value=section_value, **kwargs)


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
        _(
            "When a topic's rate is this many times its baseline, add this boost to the score. "
            "The sensitivity sets how readily a surge alerts."
        ),
        VelocityForm,
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
    "replies": (
        _("Replies"),
        _(
            "brand ({brand} in templates); approval_classes: classes whose replies always need "
            "a supervisor's approval; legal_groups: keyword groups that also need a legal "
            "reviewer; approval_escalate_minutes; boilerplate: phrases the tone check warns "
            "about, per language; acknowledgement_templates: the short public reply of taking "
            "a case private, per language; follow_up_due_hours; hide_needs_approval."
        ),
        JsonSectionForm,
    ),
    "crisis": (
        _("Crisis"),
        _(
            "levels: the levels a crisis is declared at (level number and name); "
            "update_cadence_minutes: how often the statement is updated while a crisis is "
            "active; legal_approval_levels: levels at which the statement also needs the "
            "cabinet's legal member; channels: the publication checklist (key, label, limit in "
            "characters or null, platform Calma can post on or empty)."
        ),
        JsonSectionForm,
    ),
}
SECTION_ORDER = list(SECTIONS)
# Sections edited with their own form; the JSON form above stays as their advanced view.
FORM_SECTIONS = ("policies", "replies")


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


# --- Response policies and the replies section as forms (the editor's "form" view) ---------
# The JSON view (JsonSectionForm) stays available as "Advanced (JSON)" for both sections.

TEMPLATE_LANGUAGES = (("es", _("Spanish")), ("en", _("English")))
MAX_TEMPLATE_ROWS = 50  # text boxes per class and language, whatever a request claims
MAX_TEMPLATE_LENGTH = 5000
MAX_CONTACT_LENGTH = 200


def textarea_text(value: str | None) -> str:
    """A textarea's value as stored: browsers send CRLF, the protocol keeps LF."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def textarea_lines(value: str | None) -> list[str]:
    return [line.strip() for line in textarea_text(value).split("\n") if line.strip()]


def _keep_order(chosen: list[str], before: list) -> list[str]:
    """Ticked boxes in the order the section listed them, new ones after: saving unchanged
    boxes gives the same list."""
    kept = [item for item in before if item in chosen]
    return kept + [item for item in chosen if item not in kept]


def _dict(value) -> dict:
    return dict(value) if isinstance(value, dict) else {}


class TemplateRowsMixin:
    """Reply templates as one text box each (`<prefix>-<n>`), with a hidden `<prefix>-rows`
    count: emptying a box removes its template, the blank box at the end adds one, and
    "Add a template" re-renders with one more blank box (no JavaScript needed)."""

    preview_url = ""

    def _add_template_rows(self, prefix: str, texts, *, label: str) -> None:
        texts = [text for text in _as_list(texts) if isinstance(text, str)]
        rows = len(texts) + 1
        if self.is_bound:
            with contextlib.suppress(TypeError, ValueError):
                rows = int(self.data.get(f"{prefix}-rows", rows))
        rows = max(0, min(rows, MAX_TEMPLATE_ROWS))
        self.fields[f"{prefix}-rows"] = forms.IntegerField(
            widget=forms.HiddenInput, initial=rows, required=False
        )
        names = []
        for index in range(rows):
            name = f"{prefix}-{index}"
            number = index + 1
            self.fields[name] = forms.CharField(
                label=(
                    _("%(label)s, template %(number)s") % {"label": label, "number": number}
                    if index < len(texts)
                    else _("%(label)s, new template") % {"label": label}
                ),
                required=False,
                strip=False,
                max_length=MAX_TEMPLATE_LENGTH,
                initial=texts[index] if index < len(texts) else "",
                widget=forms.Textarea(attrs=self._template_attrs(name)),
            )
            self.template_labels[name] = _("%(label)s, template %(number)s") % {
                "label": label,
                "number": number,
            }
            names.append(name)
        self.template_rows[prefix] = names

    def _template_attrs(self, name: str) -> dict:
        attrs = {"rows": 3, "class": "reply-template"}
        if self.focus == name:
            attrs["autofocus"] = True
        if self.preview_url:
            # Live preview: htmx posts the form (with this box named) as the person types; the
            # form names the target (#template-preview) and keeps one request at a time.
            attrs.update(
                {
                    "hx-post": self.preview_url,
                    "hx-trigger": "focus, input changed delay:400ms",
                    "hx-vals": json.dumps({"preview": name}),
                }
            )
        return attrs

    def _templates(self, prefix: str) -> list[str]:
        """The non-empty boxes of `prefix`, remembering which box each template came from so a
        validation error on `…[2]` lands on the right box."""
        texts, boxes = [], []
        for name in self.template_rows.get(prefix, []):
            text = textarea_text(self.cleaned_data.get(name))
            if text:
                texts.append(text)
                boxes.append(name)
        self.template_boxes[prefix] = boxes
        return texts

    def template_rows_of(self, prefix: str) -> list:
        return [self[name] for name in self.template_rows.get(prefix, [])]

    def _error_on_template(self, prefix: str, index: int, message: str) -> bool:
        boxes = self.template_boxes.get(prefix, [])
        if 0 <= index < len(boxes):
            self.add_error(boxes[index], message)
            return True
        return False

    def _start_rows(self, *, preview_url: str, focus: str) -> None:
        self.preview_url = preview_url
        self.focus = focus
        self.template_rows: dict[str, list[str]] = {}
        self.template_boxes: dict[str, list[str]] = {}
        self.template_labels: dict[str, str] = {}


def validate_contact(value: str) -> None:
    """An escalation contact is an e-mail address or the name of a Calma team."""
    if "@" in value:
        validate_email(value)
        return
    # Looked up through the app registry: the protocol names teams, it does not own them.
    team_model = apps.get_model("people", "Team")
    if not team_model.objects.filter(name__iexact=value).exists():
        raise forms.ValidationError(
            _("“%(contact)s” is neither an e-mail address nor the name of a team."),
            params={"contact": value},
        )


class PoliciesForm(TemplateRowsMixin, forms.Form):
    """The `policies` section: per severity the first-response time, approval and escalation
    contacts, and per triage class the recommended action and reply templates (es, en)."""

    def __init__(self, *args, section_value=None, preview_url: str = "", focus: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._start_rows(preview_url=preview_url, focus=focus)
        self.section_value = _dict(section_value)
        for level in Severity.ORDER:
            policy = _dict(self.section_value.get(level))
            contacts = policy.get("escalation_contacts")
            self.fields[f"{level}-sla_minutes"] = forms.IntegerField(
                label=_("First response within (minutes)"),
                initial=policy.get("sla_minutes"),
                help_text=_("At most 1440 (24 hours)."),
            )
            self.fields[f"{level}-needs_approval"] = forms.BooleanField(
                label=_("Replies need a supervisor's approval"),
                required=False,
                initial=policy.get("needs_approval") is True,
            )
            self.fields[f"{level}-escalation_contacts"] = forms.CharField(
                label=_("Escalation contacts, one per line"),
                help_text=_("An e-mail address or the name of a team."),
                required=False,
                initial="\n".join(c for c in contacts if isinstance(c, str))
                if isinstance(contacts, list)
                else "",
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            actions = _dict(policy.get("actions"))
            for triage_class in TriageClass.ALL:
                action = _dict(actions.get(triage_class))
                self.fields[f"{level}-{triage_class}-action"] = forms.CharField(
                    label=_("Recommended action"),
                    required=False,
                    max_length=1000,
                    initial=action.get("action", ""),
                    widget=forms.Textarea(attrs={"rows": 2}),
                )
                templates = _dict(action.get("templates"))
                for language, language_label in TEMPLATE_LANGUAGES:
                    self._add_template_rows(
                        f"{level}-{triage_class}-{language}",
                        templates.get(language),
                        label=_("%(severity)s · %(class)s · %(language)s")
                        % {
                            "severity": Severity(level).label,
                            "class": TriageClass(triage_class).label,
                            "language": language_label,
                        },
                    )

    def clean(self):
        cleaned = super().clean()
        for level in Severity.ORDER:
            name = f"{level}-escalation_contacts"
            if name not in cleaned:
                continue
            contacts = textarea_lines(cleaned[name])
            for contact in contacts:
                if len(contact) > MAX_CONTACT_LENGTH:
                    self.add_error(name, _("A contact is at most 200 characters."))
                    break
                try:
                    validate_contact(contact)
                except forms.ValidationError as error:
                    self.add_error(name, error)
            cleaned[name] = list(dict.fromkeys(contacts))
        return cleaned

    def severities(self) -> list[dict]:
        """What the template lays out: a fieldset per severity, a block per class."""
        blocks = []
        for level in Severity.ORDER:
            classes = []
            for triage_class in TriageClass.ALL:
                languages = [
                    {
                        "code": language,
                        "label": label,
                        "prefix": f"{level}-{triage_class}-{language}",
                        "rows_field": self[f"{level}-{triage_class}-{language}-rows"],
                        "rows": self.template_rows_of(f"{level}-{triage_class}-{language}"),
                    }
                    for language, label in TEMPLATE_LANGUAGES
                ]
                action = self[f"{level}-{triage_class}-action"]
                classes.append(
                    {
                        "value": triage_class,
                        "label": TriageClass(triage_class).label,
                        "action": action,
                        "languages": languages,
                        "has_errors": bool(action.errors)
                        or any(row.errors for lang in languages for row in lang["rows"]),
                        "has_focus": any(
                            row.name == self.focus for lang in languages for row in lang["rows"]
                        ),
                        "count": sum(
                            1
                            for lang in languages
                            for row in lang["rows"]
                            if textarea_text(row.value())
                        ),
                    }
                )
            blocks.append(
                {
                    "value": level,
                    "label": Severity(level).label,
                    "fields": [
                        self[f"{level}-sla_minutes"],
                        self[f"{level}-needs_approval"],
                        self[f"{level}-escalation_contacts"],
                    ],
                    "classes": classes,
                }
            )
        return blocks

    def to_section(self) -> dict:
        """The section as stored: what the form shows replaced, everything else kept (unknown
        keys, other languages), so saving an unchanged form changes nothing."""
        section = deepcopy(self.section_value)
        for level in Severity.ORDER:
            policy = deepcopy(_dict(self.section_value.get(level)))
            policy["sla_minutes"] = self.cleaned_data[f"{level}-sla_minutes"]
            policy["needs_approval"] = self.cleaned_data[f"{level}-needs_approval"]
            policy["escalation_contacts"] = self.cleaned_data[f"{level}-escalation_contacts"]
            actions = _dict(policy.get("actions"))
            for triage_class in TriageClass.ALL:
                text = textarea_text(self.cleaned_data.get(f"{level}-{triage_class}-action"))
                texts = {
                    language: self._templates(f"{level}-{triage_class}-{language}")
                    for language, _label in TEMPLATE_LANGUAGES
                }
                if triage_class not in actions and not text and not any(texts.values()):
                    continue  # a class the policy never listed stays unlisted
                action = _dict(actions.get(triage_class))
                action["action"] = text
                action["templates"] = {**_dict(action.get("templates")), **texts}
                actions[triage_class] = action
            policy["actions"] = actions
            section[level] = policy
        return section

    def attach_error(self, path: str, message: str) -> None:
        """`policies.high.actions.question.templates.es[1]` → the box that template came from."""
        match = re.fullmatch(r"policies\.(\w+)\.(.+)", path)
        if match and match[1] in Severity.ORDER:
            level, rest = match[1], match[2]
            field = re.match(r"(sla_minutes|needs_approval|escalation_contacts)\b", rest)
            if field:
                self.add_error(f"{level}-{field[1]}", message)
                return
            template = re.fullmatch(r"actions\.(\w+)\.templates\.(\w+)\[(\d+)\]", rest)
            if template and self._error_on_template(
                f"{level}-{template[1]}-{template[2]}", int(template[3]), message
            ):
                return
            action = re.match(r"actions\.(\w+)", rest)
            if action and f"{level}-{action[1]}-action" in self.fields:
                self.add_error(f"{level}-{action[1]}-action", message)
                return
        self.add_error(None, f"{path}: {message}")


class RepliesForm(TemplateRowsMixin, forms.Form):
    """The `replies` section: brand, who approves, tone check, take-private acknowledgement,
    follow-up and moderation defaults."""

    brand = forms.CharField(
        label=_("Brand"),
        max_length=100,
        help_text=_("The name replies sign with: {brand} in templates."),
    )
    approval_classes = forms.MultipleChoiceField(
        label=_("Classes whose replies always need a supervisor's approval"),
        choices=TriageClass.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Whatever the severity; each severity's policy decides for the rest."),
    )
    legal_groups = forms.MultipleChoiceField(
        label=_("Keyword groups that also need a legal reviewer's approval"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    approval_escalate_minutes = forms.IntegerField(
        label=_("Escalate a waiting approval after (minutes)"),
        help_text=_("To every supervisor and the severity's escalation contacts."),
    )
    boilerplate_es = forms.CharField(
        label=_("Spanish boilerplate to avoid, one phrase per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    boilerplate_en = forms.CharField(
        label=_("English boilerplate to avoid, one phrase per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    follow_up_due_hours = forms.IntegerField(
        label=_("A private follow-up is due after (hours)"),
    )
    hide_needs_approval = forms.BooleanField(
        label=_("Hiding a mention needs a supervisor's approval"),
        required=False,
        help_text=_("Deleting one always does."),
    )

    def __init__(
        self,
        *args,
        section_value=None,
        keyword_groups=None,
        preview_url: str = "",
        focus: str = "",
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self._start_rows(preview_url=preview_url, focus=focus)
        self.section_value = section = _dict(section_value)
        groups = [
            (group["key"], shipped_text(str(group.get("label") or group["key"])))
            for group in (keyword_groups or [])
            if isinstance(group, dict) and isinstance(group.get("key"), str)
        ]
        known = {key for key, _label in groups}
        stored = section.get("legal_groups")
        stored = [key for key in stored if isinstance(key, str)] if isinstance(stored, list) else []
        # A stored key without a keyword group stays choosable (validation names the problem).
        groups += [(key, key) for key in stored if key not in known]
        self.fields["legal_groups"].choices = groups
        boilerplate = _dict(section.get("boilerplate"))
        classes = section.get("approval_classes")
        self.initial.update(
            {
                "brand": section.get("brand", ""),
                "approval_classes": classes if isinstance(classes, list) else [],
                "legal_groups": stored,
                "approval_escalate_minutes": section.get("approval_escalate_minutes"),
                "boilerplate_es": "\n".join(map(str, boilerplate.get("es") or [])),
                "boilerplate_en": "\n".join(map(str, boilerplate.get("en") or [])),
                "follow_up_due_hours": section.get("follow_up_due_hours"),
                "hide_needs_approval": section.get("hide_needs_approval") is True,
            }
        )
        for name in ("brand", "boilerplate_es", "boilerplate_en"):
            if preview_url:
                # The preview signs with the brand and checks the phrases being typed.
                self.fields[name].widget.attrs.update(
                    {
                        "hx-post": preview_url,
                        "hx-trigger": "input changed delay:600ms",
                    }
                )
        templates = _dict(section.get("acknowledgement_templates"))
        for language, language_label in TEMPLATE_LANGUAGES:
            self._add_template_rows(
                f"ack-{language}",
                templates.get(language),
                label=_("Acknowledgement · %(language)s") % {"language": language_label},
            )

    def acknowledgement_languages(self) -> list[dict]:
        return [
            {
                "code": language,
                "label": label,
                "prefix": f"ack-{language}",
                "rows_field": self[f"ack-{language}-rows"],
                "rows": self.template_rows_of(f"ack-{language}"),
            }
            for language, label in TEMPLATE_LANGUAGES
        ]

    def to_section(self) -> dict:
        section = deepcopy(self.section_value)
        data = self.cleaned_data
        section["brand"] = data["brand"].strip()
        section["approval_classes"] = _keep_order(
            data["approval_classes"], _as_list(self.section_value.get("approval_classes"))
        )
        section["legal_groups"] = _keep_order(
            data["legal_groups"], _as_list(self.section_value.get("legal_groups"))
        )
        section["approval_escalate_minutes"] = data["approval_escalate_minutes"]
        section["boilerplate"] = {
            **_dict(self.section_value.get("boilerplate")),
            "es": textarea_lines(data["boilerplate_es"]),
            "en": textarea_lines(data["boilerplate_en"]),
        }
        section["acknowledgement_templates"] = {
            **_dict(self.section_value.get("acknowledgement_templates")),
            **{language: self._templates(f"ack-{language}") for language, _l in TEMPLATE_LANGUAGES},
        }
        section["follow_up_due_hours"] = data["follow_up_due_hours"]
        section["hide_needs_approval"] = data["hide_needs_approval"]
        return section

    def attach_error(self, path: str, message: str) -> None:
        """`replies.boilerplate.es[3]` → the Spanish boilerplate box, and so on."""
        match = re.fullmatch(r"replies\.(\w+)(.*)", path)
        if match:
            key, rest = match[1], match[2]
            language = re.match(r"\.(\w+)(?:\[(\d+)\])?", rest)
            if (
                key == "acknowledgement_templates"
                and language
                and language[2] is not None
                and self._error_on_template(f"ack-{language[1]}", int(language[2]), message)
            ):
                return
            if key == "boilerplate" and language and f"boilerplate_{language[1]}" in self.fields:
                self.add_error(f"boilerplate_{language[1]}", message)
                return
            if key in self.fields and key not in ("boilerplate", "acknowledgement_templates"):
                self.add_error(key, message)
                return
        self.add_error(None, f"{path}: {message}")


def _as_list(value) -> list:
    return value if isinstance(value, list) else []


class PreviewChannelForm(forms.Form):
    """Which platform the live preview counts characters for."""

    preview_channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[(value, label) for value, label in Platform.choices if value in CHARACTER_LIMITS],
        initial=Platform.MASTODON,
        required=False,
    )

    def __init__(self, *args, preview_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if preview_url:
            self.fields["preview_channel"].widget.attrs.update(
                {
                    "hx-post": preview_url,
                    "hx-trigger": "change",
                }
            )

    def channel(self) -> str:
        value = self.data.get("preview_channel") if self.is_bound else None
        return value if value in CHARACTER_LIMITS else Platform.MASTODON
