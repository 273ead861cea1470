"""Forms of the statement slice: the editor (main text and one short text per channel), the
approval and sending back, discarding, marking a channel published, and marking a commitment."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crisis.rooms.models import Crisis
from crisis.rooms.publishing import safe_url
from crisis.rooms.statement import (
    APPROVAL_ROLES,
    LEGAL,
    MAX_COMMENT_LENGTH,
    MAX_SENTENCE_LENGTH,
    MAX_TEXT_LENGTH,
    SUPERVISOR,
    Channel,
)

CHANNEL_PREFIX = "channel_"


class RevisionForm(forms.Form):
    revision = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)


class StatementForm(RevisionForm):
    """The main text and, per channel of the protocol, a short text (empty: the main text)."""

    text = forms.CharField(
        label=_("Statement"),
        required=False,
        strip=False,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    def __init__(self, *args, channels: list[Channel], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.channels = channels
        for channel in channels:
            attrs = {
                "rows": 3,
                "data-statement-channel": channel.key,
                "placeholder": _("Empty: the statement itself"),
            }
            if channel.limit:
                attrs["data-limit"] = str(channel.limit)
            self.fields[CHANNEL_PREFIX + channel.key] = forms.CharField(
                label=channel.label,
                required=False,
                max_length=MAX_TEXT_LENGTH,
                widget=forms.Textarea(attrs=attrs),
            )

    def channel_texts(self) -> dict[str, str]:
        return {
            channel.key: self.cleaned_data.get(CHANNEL_PREFIX + channel.key) or ""
            for channel in self.channels
        }

    def channel_fields(self) -> list[tuple[forms.BoundField, Channel]]:
        return [(self[CHANNEL_PREFIX + channel.key], channel) for channel in self.channels]


class ApproveForm(RevisionForm):
    role = forms.ChoiceField(
        choices=[(SUPERVISOR, _("Supervisor")), (LEGAL, _("Legal"))], widget=forms.HiddenInput
    )

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        if role not in APPROVAL_ROLES:
            raise forms.ValidationError(_("Approve as supervisor or as legal."))
        return role


class SendBackForm(RevisionForm):
    comment = forms.CharField(
        label=_("What should change"),
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MarkPublishedForm(forms.Form):
    url = forms.CharField(
        label=_("Link to the published statement"),
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
    )

    def clean_url(self) -> str:
        link = safe_url(self.cleaned_data["url"])
        if not link:
            raise forms.ValidationError(_("Give the link, starting with http:// or https://."))
        return link


def commitment_owners(crisis: Crisis):
    """People who may own a commitment's task: the cabinet's seated members and supervisors."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(cabinet_seats__crisis=crisis, cabinet_seats__removed_at__isnull=True)
            | Q(groups__permissions__codename="run_crises")
        )
        .distinct()
        .order_by("username")
    )


class CommitmentForm(forms.Form):
    sentence = forms.CharField(
        label=_("The sentence that promises"),
        max_length=MAX_SENTENCE_LENGTH,
        help_text=_("Copy it from the approved statement, e.g. “refunds by Friday”."),
    )
    due_at = forms.DateTimeField(
        label=_("Due"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=get_user_model().objects.none())

    def __init__(self, *args, crisis: Crisis, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = commitment_owners(crisis)
