"""Forms of the moderation slice: a request (action + justification) and a decision."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crisis.replies import moderation
from crisis.replies.models import ModerationAction


class ModerationRequestForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=ModerationAction.choices)
    justification = forms.CharField(
        label=_("Justification"),
        max_length=moderation.JUSTIFICATION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Why this is extremely necessary. It is kept in the audit log and shown to the "
            "approving supervisor."
        ),
    )
    # Deleting is final: the form comes back once as a confirmation page before it is sent.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, actions: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if actions is not None:
            self.fields["action"].choices = [
                (value, label) for value, label in ModerationAction.choices if value in actions
            ]

    def clean_justification(self) -> str:
        return moderation.clean_justification(self.cleaned_data["justification"])


class ModerationDecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=moderation.COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ModerationRejectForm(forms.Form):
    comment = forms.CharField(
        label=_("Why it is rejected"),
        max_length=moderation.COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_comment(self) -> str:
        return moderation.clean_comment(self.cleaned_data["comment"], required=True)
