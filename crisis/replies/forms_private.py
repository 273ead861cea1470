"""Forms of the take-private slice: taking a conversation private, completing the follow-up,
and the retention period of contact details."""

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crisis.incidents.models import Incident
from crisis.replies import private
from crisis.replies.models import FollowUpChannel

# A follow-up due further ahead than this is a typing mistake.
MAX_DUE_AHEAD = timedelta(days=365)


class TakePrivateForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Continue by"),
        choices=FollowUpChannel.choices,
        initial=FollowUpChannel.DIRECT_MESSAGE,
    )
    owner = forms.ModelChoiceField(
        label=_("Follow-up owner"), queryset=None, required=False, empty_label=_("Me")
    )
    due_at = forms.DateTimeField(
        label=_("Due"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for the protocol's default."),
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        required=False,
        max_length=254,
        help_text=_(
            "Needed to continue by e-mail. Erased after the retention period; never in the "
            "audit log."
        ),
    )
    phone = forms.CharField(
        label=_("Phone number"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        help_text=_("Needed to continue by phone: digits, spaces, +, - and brackets."),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=private.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What the private conversation is about (no contact details here)."),
    )

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = private.follow_up_owner_choices(incident)
        self.fields["owner"].label_from_instance = lambda user: user.get_username()

    def clean_phone(self) -> str:
        try:
            return private.clean_phone(self.cleaned_data.get("phone", ""))
        except ValidationError as invalid:
            raise forms.ValidationError(invalid.messages) from invalid

    def clean_due_at(self):
        due = self.cleaned_data.get("due_at")
        if due is None:
            return None
        now = timezone.now()
        if due <= now:
            raise forms.ValidationError(_("The follow-up must be due in the future."))
        if due > now + MAX_DUE_AHEAD:
            raise forms.ValidationError(_("Choose a date within a year."))
        return due

    def clean(self):
        cleaned = super().clean()
        channel = cleaned.get("channel")
        if (
            channel == FollowUpChannel.EMAIL
            and not cleaned.get("email")
            and "email" not in (self.errors)
        ):
            self.add_error("email", _("Give the e-mail address to write to."))
        if (
            channel == FollowUpChannel.PHONE
            and not cleaned.get("phone")
            and "phone" not in (self.errors)
        ):
            self.add_error("phone", _("Give the phone number to call."))
        return cleaned


class CompleteFollowUpForm(forms.Form):
    outcome = forms.CharField(
        label=_("Outcome"),
        max_length=private.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("How the private conversation ended."),
    )
    resolve_incident = forms.BooleanField(
        label=_("Resolve the incident"), required=False, initial=True
    )

    def clean_outcome(self) -> str:
        outcome = self.cleaned_data["outcome"].strip()
        if not outcome:
            raise forms.ValidationError(_("Write the outcome."))
        return outcome


class RetentionForm(forms.Form):
    contact_retention_days = forms.IntegerField(
        label=_("Keep contact details for (days)"),
        min_value=1,
        max_value=private.MAX_RETENTION_DAYS,
        help_text=_(
            "E-mail addresses and phone numbers of private follow-ups are erased this many days "
            "after the follow-up is completed or its incident is resolved or closed."
        ),
    )
