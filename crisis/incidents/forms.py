"""Forms of incidents: the inbox's filters (GET) and bulk actions (POST), the incident page's."""

from django import forms
from django.conf import global_settings
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from crisis.incidents.models import OPEN_STATES, CloseReason, Incident
from crisis.incidents.selectors import (
    INBOX_PAGE_SIZES,
    InboxFilters,
    InboxQueue,
    InboxSort,
    SlaStatus,
    assignable_people,
)
from monitoring.connectors.boundary import clean_text
from monitoring.platforms import Platform
from monitoring.text import DETECTABLE_LANGUAGES
from protocols.scoring.types import AuthorFlag, Severity, TriageClass

# At most this many incidents in one bulk action (the 100-row page).
MAX_BULK = max(INBOX_PAGE_SIZES)
SEARCH_MAX_LENGTH = 200


def _any(label: str, choices) -> list[tuple[str, str]]:
    return [("", label), *choices]


# The languages monitoring detects (platforms mostly state the same ones), named by Django.
_LANGUAGE_NAMES = dict(global_settings.LANGUAGES)
LANGUAGE_CHOICES = [(code, _(_LANGUAGE_NAMES.get(code, code))) for code in DETECTABLE_LANGUAGES]


class InboxFilterForm(forms.Form):
    """The inbox's queue, filters, sort and page size, as the URL carries them."""

    queue = forms.ChoiceField(label=_("Queue"), choices=InboxQueue.choices, required=False)
    q = forms.CharField(
        label=_("Search"),
        max_length=SEARCH_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "data-search": "", "placeholder": _("Text, author or #id")}
        ),
    )
    severity = forms.ChoiceField(
        label=_("Severity"), choices=_any(_("Any severity"), Severity.choices), required=False
    )
    triage = forms.ChoiceField(
        label=_("Class"), choices=_any(_("Any class"), TriageClass.choices), required=False
    )
    platform = forms.ChoiceField(
        label=_("Platform"), choices=_any(_("Any platform"), Platform.choices), required=False
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=_any(_("Any language"), LANGUAGE_CHOICES), required=False
    )
    state = forms.ChoiceField(
        label=_("State"),
        choices=_any(_("Any open state"), [(s.value, s.label) for s in OPEN_STATES]),
        required=False,
    )
    topic = forms.CharField(label=_("Topic"), max_length=200, required=False)
    sla = forms.ChoiceField(
        label=_("SLA"), choices=_any(_("Any SLA status"), SlaStatus.choices), required=False
    )
    sort = forms.ChoiceField(label=_("Sort by"), choices=InboxSort.choices, required=False)
    size = forms.TypedChoiceField(
        label=_("Per page"),
        choices=[(size, str(size)) for size in INBOX_PAGE_SIZES],
        coerce=int,
        required=False,
        empty_value=INBOX_PAGE_SIZES[0],
    )

    def valid_values(self) -> dict:
        """The fields that validated (an invalid one is ignored, and its error shown)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}

    def filters(self) -> InboxFilters:
        values = self.valid_values()
        return InboxFilters(
            queue=values.get("queue") or InboxQueue.TEAM,
            severity=values.get("severity", ""),
            triage_class=values.get("triage", ""),
            platform=values.get("platform", ""),
            language=values.get("language", ""),
            state=values.get("state", ""),
            sla_status=values.get("sla", ""),
            search=values.get("q", ""),
            sort=values.get("sort") or InboxSort.SLA_DUE,
            topic=values.get("topic", ""),
        )

    def page_size(self) -> int:
        return self.valid_values().get("size") or INBOX_PAGE_SIZES[0]

    def query_string(self, **overrides: object) -> str:
        """The valid values (with overrides; None drops one) as a query string."""
        values = {name: self.data.get(name) for name in self.valid_values()}
        values.update(overrides)
        return urlencode({name: value for name, value in values.items() if value})

    def is_filtered(self) -> bool:
        """Anything beyond the queue, sort and page size narrows the list."""
        return any(name not in {"queue", "sort", "size"} for name in self.valid_values())


class BulkAction:
    TAKE = "take"
    ESCALATE = "escalate"
    ASSIGN = "assign"
    CLOSE = "close"
    CHOICES = (
        (TAKE, _("Take")),
        (ESCALATE, _("Escalate")),
        (ASSIGN, _("Assign to")),
        (CLOSE, _("Close with a reason")),
    )


class InboxActionForm(forms.Form):
    """One action on the selected incidents (or on one row, from its button or key)."""

    action = forms.ChoiceField(label=_("Action"), choices=BulkAction.CHOICES)
    incidents = forms.ModelMultipleChoiceField(
        label=_("Incidents"), queryset=Incident.objects.all(), widget=forms.MultipleHiddenInput
    )
    to_user = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=assignable_people(),
        required=False,
        empty_label=_("Choose a person"),
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=_any(_("Choose a reason"), CloseReason.choices),
        required=False,
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)
    # The inbox's query string to return to (re-validated by InboxFilterForm, never a URL).
    back = forms.CharField(max_length=1000, required=False, widget=forms.HiddenInput)

    def clean_incidents(self):
        incidents = self.cleaned_data["incidents"]
        if len(incidents) > MAX_BULK:
            raise forms.ValidationError(
                _("Select at most %(count)s incidents at once."), params={"count": MAX_BULK}
            )
        return incidents

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if action == BulkAction.ASSIGN and not cleaned.get("to_user"):
            self.add_error("to_user", _("Choose who gets the incidents."))
        if action == BulkAction.CLOSE and not cleaned.get("reason"):
            self.add_error("reason", _("Say why the incidents are closed."))
        return cleaned


# --- the incident page's forms ---------------------------------------------------------------

REASON_MAX_LENGTH = 2000


class PlainTextField(forms.CharField):
    """Typed text Postgres can store: a lone surrogate (an encoding accident) becomes U+FFFD;
    NUL is refused by CharField's own validator."""

    def to_python(self, value):
        value = super().to_python(value)
        return clean_text(value) if "\x00" not in value else value


def _reason(label, *, required: bool = True, help_text: str = "") -> forms.CharField:
    return PlainTextField(
        label=label,
        required=required,
        max_length=REASON_MAX_LENGTH,
        strip=True,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class HandOverForm(forms.Form):
    to_user = forms.ModelChoiceField(label=_("Hand over to"), queryset=None)

    def __init__(self, *args, exclude_user_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        people = assignable_people()
        if exclude_user_id is not None:
            people = people.exclude(pk=exclude_user_id)
        self.fields["to_user"].queryset = people
        self.fields["to_user"].label_from_instance = lambda user: user.get_username()


class NoteForm(forms.Form):
    note = _reason(_("Note"), required=False)


class CloseForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=_any(_("Replied: no other reason"), CloseReason.choices),
        required=False,
        help_text=_("Needed when nobody replied."),
    )
    note = _reason(_("Note"), required=False)


class CorrectClassForm(forms.Form):
    to_class = forms.ChoiceField(label=_("Correct class"), choices=TriageClass.choices)
    reason = _reason(
        _("Why"), help_text=_("Kept with the mention as labelled data for measuring the scorer.")
    )


class AuthorFlagsForm(forms.Form):
    flags = forms.MultipleChoiceField(
        label=_("Flags"),
        choices=AuthorFlag.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = _reason(_("Why"))
