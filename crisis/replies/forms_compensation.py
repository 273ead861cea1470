"""Forms of the compensation slice: offering a compensation, deciding on one, and budgets."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crisis.replies import compensation
from crisis.replies.models import CompensationKind

_date_widget = forms.DateInput(attrs={"type": "date"})
_amount_widget = forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"})
_positive_amount_widget = forms.NumberInput(
    attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"}
)
_currency_widget = forms.TextInput(
    attrs={"maxlength": "3", "pattern": "[A-Za-z]{3}", "autocapitalize": "characters", "size": "4"}
)


class _CurrencyMixin:
    def clean_currency(self) -> str:
        try:
            return compensation.clean_currency(self.cleaned_data.get("currency", ""))
        except ValidationError as invalid:
            raise forms.ValidationError(invalid.messages) from invalid


class OfferCompensationForm(_CurrencyMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CompensationKind.choices)
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        widget=_positive_amount_widget,
    )
    currency = forms.CharField(
        label=_("Currency"), max_length=3, initial="EUR", widget=_currency_widget
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=compensation.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_amount(self):
        try:
            return compensation.clean_amount(self.cleaned_data.get("amount"))
        except ValidationError as invalid:
            raise forms.ValidationError(invalid.messages) from invalid


class DeclineCompensationForm(forms.Form):
    comment = forms.CharField(
        label=_("Why"),
        required=False,
        max_length=compensation.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class BudgetForm(_CurrencyMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=compensation.NAME_MAX_LENGTH)
    starts_on = forms.DateField(label=_("From"), widget=_date_widget)
    ends_on = forms.DateField(label=_("Until"), widget=_date_widget)
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=12, decimal_places=2, min_value=0, widget=_amount_widget
    )
    currency = forms.CharField(
        label=_("Currency"), max_length=3, initial="EUR", widget=_currency_widget
    )

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_on"), cleaned.get("ends_on")
        for name in ("starts_on", "ends_on"):
            day = cleaned.get(name)
            if day and not compensation.EARLIEST_DAY <= day <= compensation.LATEST_DAY:
                self.add_error(name, _("Choose a date between 2000 and 2100."))
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The period ends before it starts."))
        return cleaned
