"""Forms of the sending slice: publishing accounts, their sources, and what a person does with
a reply that was (or must be) sent: mark it sent by hand, delete it with a justification."""

from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from crisis.replies.accounts import linkable_sources, publishing_platforms
from crisis.replies.models import PublishingAccount, Reply
from monitoring.platforms import Platform

SAFE_SCHEMES = ["http", "https"]
JUSTIFICATION_MAX_LENGTH = 2000


class PublishingAccountForm(forms.ModelForm):
    """Create or edit an account; enabling and disabling are separate, confirmed actions."""

    class Meta:
        model = PublishingAccount
        fields = ("platform", "name", "handle", "base_url", "credentials_ref")
        help_texts = {
            "credentials_ref": _(
                "Name of the secret kept in the server environment, never here: REF reads "
                "CALMA_SECRET_REF_ACCESS_TOKEN (Mastodon, Reddit, YouTube) or "
                "CALMA_SECRET_REF_IDENTIFIER and CALMA_SECRET_REF_APP_PASSWORD (Bluesky)."
            ),
            "handle": _(
                "The account's own name on the platform (e.g. brand@mastodon.social or "
                "brand.bsky.social): how Calma recognises its own replies."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = set(publishing_platforms())
        self.fields["platform"].choices = [
            (value, label) for value, label in Platform.choices if value in allowed
        ]
        self.fields["base_url"].validators.append(URLValidator(schemes=SAFE_SCHEMES))
        self.fields["base_url"].widget.attrs["placeholder"] = "https://mastodon.social"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("platform") == Platform.MASTODON and not cleaned.get("base_url"):
            self.add_error(
                "base_url", _("Give the Mastodon instance, e.g. https://mastodon.social.")
            )
        handle = cleaned.get("handle")
        if handle is not None:
            cleaned["handle"] = handle.strip().lstrip("@")
        return cleaned


class AccountSourcesForm(forms.Form):
    """Which sources of the account's platform this account answers on."""

    sources = forms.ModelMultipleChoiceField(
        label=_("Sources this account answers on"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "A source has one answering account: choosing a source here takes it over from "
            "any other account."
        ),
    )

    def __init__(self, *args, account: PublishingAccount, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sources"].queryset = linkable_sources(account)


class MarkSentForm(forms.Form):
    url = forms.URLField(
        label=_("Link to the reply on the platform"),
        max_length=Reply._meta.get_field("url").max_length,
        assume_scheme="https",
        validators=[URLValidator(schemes=SAFE_SCHEMES)],
        help_text=_("Paste the address of the reply you posted (http or https)."),
    )


class JustificationForm(forms.Form):
    justification = forms.CharField(
        label=_("Why"),
        max_length=JUSTIFICATION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the audit log with the deletion."),
    )

    def clean_justification(self):
        value = self.cleaned_data["justification"].replace("\x00", "").strip()
        if not value:
            raise forms.ValidationError(_("Say why the reply is deleted."))
        return value
