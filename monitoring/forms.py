"""Forms of the monitoring screens: sources, the mentions filter, CSV import."""

from django import forms
from django.conf import global_settings
from django.utils.translation import gettext_lazy as _

from monitoring.connectors.csv import MAX_UPLOAD_BYTES
from monitoring.models import Source
from monitoring.platforms import SUPPORTED_QUERIES, Platform, QueryKind
from monitoring.text import DETECTABLE_LANGUAGES
from protocols.scoring.types import Severity, TriageClass

UNKNOWN_LANGUAGE = "und"  # the filter's value for mentions stored without a language
SERIOUS = "serious"  # the severity filter's value for high or critical
# The other languages monitoring detects, named by Django (the board links to each).
_LANGUAGE_NAMES = dict(global_settings.LANGUAGES)
OTHER_DETECTED_LANGUAGES = [
    (code, _(_LANGUAGE_NAMES.get(code, code)))
    for code in DETECTABLE_LANGUAGES
    if code not in ("es", "en")
]


class SourceForm(forms.ModelForm):
    class Meta:
        model = Source
        fields = Source.EDITABLE_FIELDS

    def clean(self):
        cleaned = super().clean()
        platform, kind = cleaned.get("platform"), cleaned.get("kind")
        if platform and kind and kind not in SUPPORTED_QUERIES[platform]:
            allowed = ", ".join(
                str(QueryKind(value).label) for value in SUPPORTED_QUERIES[platform]
            )
            self.add_error(
                "kind",
                _("%(platform)s sources can watch: %(allowed)s.")
                % {"platform": Platform(platform).label, "allowed": allowed},
            )
        if platform == Platform.MASTODON and not cleaned.get("base_url"):
            self.add_error(
                "base_url", _("Give the Mastodon instance, e.g. https://mastodon.social.")
            )
        if platform == Platform.WEBHOOK and not cleaned.get("credentials_ref"):
            self.add_error(
                "credentials_ref",
                _("A webhook needs a credentials reference holding its signing secret."),
            )
        needs_query = platform not in (Platform.WEBHOOK, Platform.CSV)
        if platform and needs_query and not cleaned.get("query"):
            self.add_error("query", _("Say what to watch on this platform."))
        return cleaned


class MentionFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    platform = forms.ChoiceField(
        label=_("Platform"), required=False, choices=[("", _("All platforms")), *Platform.choices]
    )
    source = forms.ModelChoiceField(
        label=_("Source"),
        required=False,
        queryset=Source.objects.all(),
        empty_label=_("All sources"),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[
            ("", _("All languages")),
            ("es", _("Spanish")),
            ("en", _("English")),
            *OTHER_DETECTED_LANGUAGES,
            (UNKNOWN_LANGUAGE, _("Unknown")),
        ],
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    # The lists behind the board's numbers: a topic, what the scorer said, one author, an
    # exact time span [since, until) and live mentions only (the board counts only those).
    topic = forms.CharField(label=_("Topic"), required=False, max_length=200)
    triage = forms.ChoiceField(
        label=_("Class"), required=False, choices=[("", _("Any class")), *TriageClass.choices]
    )
    severity = forms.ChoiceField(
        label=_("Severity"),
        required=False,
        choices=[("", _("Any severity")), *Severity.choices, (SERIOUS, _("High or critical"))],
    )
    negative = forms.BooleanField(label=_("Negative only"), required=False)
    complaint = forms.BooleanField(label=_("Complaints only"), required=False)
    author = forms.IntegerField(
        label=_("Author"),
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        widget=forms.HiddenInput,
    )
    since = forms.DateTimeField(label=_("Since"), required=False, widget=forms.HiddenInput)
    until = forms.DateTimeField(label=_("Until"), required=False, widget=forms.HiddenInput)
    live = forms.BooleanField(label=_("Live only"), required=False, widget=forms.HiddenInput)

    # Fields a board link sets that have no visible control of their own: the page states them.
    NARROWING_FIELDS = ("author", "since", "until", "live")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since >= until:
            self.add_error("until", _("The end is not after the start."))
        return cleaned

    def narrowing(self) -> dict:
        """The hidden narrowing values that validated, for the page to state and keep."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {
            name: self.cleaned_data[name]
            for name in self.NARROWING_FIELDS
            if self.cleaned_data.get(name)
        }


class CsvImportForm(forms.Form):
    source = forms.ModelChoiceField(
        label=_("Record under source"),
        queryset=Source.objects.filter(platform=Platform.CSV),
        required=False,
        empty_label=_("No source"),
        help_text=_("Optional: a CSV source to file these mentions under."),
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8, comma or semicolon separated, with a header row. Required columns: "
            "id, url, text, published_at, author. Optional: author_name, author_followers, "
            "language, platform, reply_to_id, likes, shares, replies."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s MB; the limit is %(limit)s MB.")
                % {
                    "size": round(upload.size / 1_048_576, 1),
                    "limit": MAX_UPLOAD_BYTES // 1_048_576,
                }
            )
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise forms.ValidationError(
                _("The file is not UTF-8 text (byte %(position)s). Export it as UTF-8 CSV.")
                % {"position": error.start}
            ) from error


class QuarantineDiscardForm(forms.Form):
    justification = forms.CharField(
        label=_("Why discard it?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        min_length=5,
        max_length=500,
    )
