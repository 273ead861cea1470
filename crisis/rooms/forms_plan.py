"""Forms of the plan slice of crisis rooms: tasks, their status, decisions, timeline entries,
pinned mentions and the crisis's compensation budget."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crisis.replies.compensation import clean_amount
from crisis.rooms import access
from crisis.rooms.budget import budgets_for_today
from crisis.rooms.models import Department, TaskStatus
from crisis.rooms.plan import (
    DECIDED_BY_TEXT_MAX_LENGTH,
    DECISION_TEXT_MAX_LENGTH,
    INDICATOR_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    owner_choices,
)
from crisis.rooms.timeline import ENTRY_TEXT_MAX_LENGTH, find_mention

_when_widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        full = user.get_full_name()
        return f"{full} ({user.get_username()})" if full else user.get_username()


def _people(crisis, actor):
    """The cabinet, plus the acting supervisor (who runs every crisis without a seat)."""
    if actor is None or not access.runs_every_crisis(actor):
        return owner_choices(crisis)
    return (
        get_user_model()
        .objects.filter(Q(pk__in=owner_choices(crisis).order_by().values("pk")) | Q(pk=actor.pk))
        .filter(is_active=True)
        .order_by("first_name", "last_name", "username")
    )


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=TITLE_MAX_LENGTH)
    owner = PersonChoiceField(
        label=_("Owner"), queryset=get_user_model().objects.none(), required=False
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.all(),
        required=False,
        help_text=_("Empty: the owner's department in the cabinet."),
    )
    due_at = forms.DateTimeField(label=_("Due"), required=False, widget=_when_widget)
    indicator = forms.CharField(
        label=_("Indicator to follow"),
        max_length=INDICATOR_MAX_LENGTH,
        required=False,
        help_text=_("What tells whether it worked, e.g. negative share under 30 %."),
    )

    def __init__(self, *args, crisis, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _people(crisis, actor)


class TaskStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=TaskStatus.choices)


class DecisionForm(forms.Form):
    what = forms.CharField(
        label=_("What was decided"),
        max_length=DECISION_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    why = forms.CharField(
        label=_("Why"),
        max_length=DECISION_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    decided_by = PersonChoiceField(
        label=_("Decided by"), queryset=get_user_model().objects.none(), required=False
    )
    decided_by_text = forms.CharField(
        label=_("…or decided by (as written)"),
        max_length=DECIDED_BY_TEXT_MAX_LENGTH,
        required=False,
        help_text=_("E.g. the management committee."),
    )
    decided_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=_when_widget,
        help_text=_("Empty: now."),
    )

    def __init__(self, *args, crisis, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decided_by"].queryset = _people(crisis, actor)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("decided_by") and not (cleaned.get("decided_by_text") or "").strip():
            self.add_error("decided_by", _("Say who decided: a person in Calma, or as written."))
        return cleaned


class TimelineEntryForm(forms.Form):
    text = forms.CharField(
        label=_("What happened"),
        max_length=ENTRY_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    at = forms.DateTimeField(
        label=_("When"), required=False, widget=_when_widget, help_text=_("Empty: now.")
    )


class PinMentionForm(forms.Form):
    mention = forms.CharField(
        label=_("Mention"),
        max_length=2000,
        help_text=_("Its number in Calma, or its address on the platform."),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=ENTRY_TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_mention(self):
        mention = find_mention(self.cleaned_data.get("mention", ""))
        if mention is None:
            raise forms.ValidationError(_("No mention has that number or address."))
        return mention


class CrisisBudgetForm(forms.Form):
    budget = forms.ModelChoiceField(label=_("From the budget"), queryset=None)
    amount = forms.DecimalField(
        label=_("Amount to set aside"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"}),
    )

    def __init__(self, *args, now, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["budget"].queryset = budgets_for_today(now=now)
        self.fields["budget"].label_from_instance = lambda budget: (
            f"{budget.name} · {budget.remaining} {budget.currency}"
        )

    def clean_amount(self):
        try:
            return clean_amount(self.cleaned_data.get("amount"))
        except ValidationError as invalid:
            raise forms.ValidationError(invalid.messages) from invalid
