"""Forms of drafts and approvals: start a reply, edit and save it, approve (or edit and
approve), send back with a comment."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crisis.replies.approvals import COMMENT_MAX_LENGTH
from crisis.replies.drafts import BLANK_TEMPLATE, MAX_TEXT_LENGTH, TemplateChoice
from crisis.replies.models import ReplyVisibility
from protocols import replies as rules

LANGUAGE_CHOICES = [("es", _("Spanish")), ("en", _("English"))]
PREVIEW_CHARS = 90


def _preview(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1].rstrip() + "…"


class StartReplyForm(forms.Form):
    """Start the incident's reply: a template of its class (or a blank page), a language
    (the mention's by default) and public or private."""

    template = forms.ChoiceField(label=_("Start from"), widget=forms.RadioSelect)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES)
    visibility = forms.ChoiceField(
        label=_("Visibility"),
        choices=ReplyVisibility.choices,
        initial=ReplyVisibility.PUBLIC,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, choices: list[TemplateChoice], language: str, **kwargs):
        super().__init__(*args, **kwargs)
        # Templates are offered by their position: the protocol writes each one in both
        # languages, and the language field picks which one is used.
        indexes: dict[int, str] = {}
        for choice in choices:
            if choice.index not in indexes or choice.language == language:
                indexes[choice.index] = choice.text
        options = [
            (str(index), _preview(text) or _("Template %(number)s") % {"number": index + 1})
            for index, text in sorted(indexes.items())
        ]
        options.append((BLANK_TEMPLATE, _("A blank reply")))
        self.fields["template"].choices = options
        self.fields["template"].initial = options[0][0]
        self.fields["language"].initial = language

    def template_key(self, triage_class: str) -> str:
        template = self.cleaned_data["template"]
        if template == BLANK_TEMPLATE:
            return BLANK_TEMPLATE
        return f"{triage_class}:{self.cleaned_data['language']}:{template}"


class DraftForm(forms.Form):
    """The editor: the text and the revision it was loaded at (a save from an older tab is
    refused instead of overwriting)."""

    text = forms.CharField(
        label=_("Reply"),
        required=False,
        strip=False,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    revision = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class ApplyTemplateForm(forms.Form):
    """Start the draft again from a template, e.g. in the other language."""

    template = forms.CharField(required=False, max_length=80, widget=forms.HiddenInput)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES)
    revision = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class RevisionForm(forms.Form):
    revision = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class ApproveForm(forms.Form):
    """Approve the revision shown; with a text, edit and approve."""

    revision = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    text = forms.CharField(
        label=_("Edited reply"),
        required=False,
        strip=False,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    role = forms.ChoiceField(
        required=False,
        choices=[("", ""), (rules.SUPERVISOR, _("supervisor")), (rules.LEGAL, _("legal"))],
        widget=forms.HiddenInput,
    )


class SendBackForm(forms.Form):
    revision = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    comment = forms.CharField(
        label=_("What should change"),
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
