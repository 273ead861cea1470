"""Forms of notifications: a click on a notification, a person's channel choices, webhook
endpoints and their settings."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crisis.notifications import deliveries
from crisis.notifications.models import (
    EMAIL_ONLY_KINDS,
    NotificationChannel,
    NotificationKind,
    WebhookEndpoint,
    WebhookSettings,
)
from crisis.notifications.preferences import PreferenceRow


class MarkReadForm(forms.Form):
    # Checked by the "Open" button: mark read, then follow the notification's link.
    open = forms.BooleanField(required=False)


class PreferencesForm(forms.Form):
    """A checkbox per kind and channel; an unchecked box is posted as nothing, i.e. off."""

    def __init__(self, *args, table: list[PreferenceRow], **kwargs):
        super().__init__(*args, **kwargs)
        self.table = table
        for row in table:
            for channel in NotificationChannel:
                # An e-mail-only kind (the daily digest) shows its other channels off and
                # disabled: nothing is chosen there, so nothing is saved for them.
                offered = self.offers(row.kind, channel)
                self.fields[self.field_name(row.kind, channel)] = forms.BooleanField(
                    label=f"{row.label}: {channel.label}",
                    required=False,
                    initial=row.channels[channel] if offered else False,
                    disabled=not offered,
                )

    @staticmethod
    def field_name(kind: str, channel: str) -> str:
        return f"{kind}__{channel}"

    @staticmethod
    def offers(kind: str, channel: str) -> bool:
        return kind not in EMAIL_ONLY_KINDS or channel == NotificationChannel.EMAIL

    def rows(self) -> list[tuple[PreferenceRow, list[forms.BoundField]]]:
        return [
            (row, [self[self.field_name(row.kind, channel)] for channel in NotificationChannel])
            for row in self.table
        ]

    def choices(self) -> dict[tuple[str, str], bool]:
        return {
            (row.kind, str(channel)): bool(
                self.cleaned_data.get(self.field_name(row.kind, channel))
            )
            for row in self.table
            for channel in NotificationChannel
            if self.offers(row.kind, channel)
        }


class WebhookEndpointForm(forms.ModelForm):
    kinds = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[
            (kind.value, kind.label) for kind in NotificationKind if kind not in EMAIL_ONLY_KINDS
        ],
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Which notifications this endpoint receives. A person's notification reaches it "
            "only when that person turned the webhook channel on for the kind."
        ),
        error_messages={"required": _("Choose at least one event.")},
    )

    class Meta:
        model = WebhookEndpoint
        fields = WebhookEndpoint.EDITABLE_FIELDS
        help_texts = {
            "url": _(
                "An http or https address, e.g. a Slack incoming webhook. Private and loopback "
                "addresses are refused unless the settings on the webhooks page allow them."
            )
        }

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        problem = deliveries.url_problem(url)
        if problem:
            raise forms.ValidationError(problem)
        return url


class WebhookSettingsForm(forms.ModelForm):
    class Meta:
        model = WebhookSettings
        fields = ["allow_private_addresses"]
