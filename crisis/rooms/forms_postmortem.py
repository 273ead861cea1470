"""Forms of the resolution and post-mortem slice: resolving a crisis, writing the post-mortem,
adding a follow-up item."""

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crisis.rooms import postmortem
from crisis.rooms.models import Crisis, PostMortem
from crisis.rooms.resolution import NOTE_MAX_LENGTH


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Why it is resolved now, especially with criteria not met (kept in the timeline)."
        ),
    )


class PostMortemForm(forms.ModelForm):
    class Meta:
        model = PostMortem
        fields = list(postmortem.TEXT_FIELDS)
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in postmortem.TEXT_FIELDS}
        help_texts = {
            "summary": _("What happened, in a few sentences."),
            "root_cause": _(
                "Blameless: the process, policy or condition that let it happen, not a person."
            ),
            "processes": _("Which processes and policies were involved, and how."),
            "what_worked": _("What to keep doing."),
            "what_did_not": _("What to change (turn it into follow-up items or protocol changes)."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in postmortem.TEXT_FIELDS:
            field = self.fields[name]
            field.max_length = postmortem.TEXT_MAX_LENGTH
            field.widget.attrs["maxlength"] = postmortem.TEXT_MAX_LENGTH
            field.validators.append(MaxLengthValidator(postmortem.TEXT_MAX_LENGTH))


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        full = obj.get_full_name() if hasattr(obj, "get_full_name") else ""
        return f"{full} ({obj.get_username()})" if full else obj.get_username()


class FollowUpItemForm(forms.Form):
    title = forms.CharField(label=_("Follow-up item"), max_length=postmortem.ITEM_TITLE_MAX_LENGTH)
    owner = PersonChoiceField(label=_("Owner"), queryset=None)
    due_on = forms.DateField(
        label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, crisis: Crisis, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = postmortem.item_owners(crisis)

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        today = timezone.localdate()
        if not today - timedelta(days=1) <= due_on <= today + postmortem.LATEST_DUE:
            raise ValidationError(_("Pick a date between today and three years from now."))
        return due_on
