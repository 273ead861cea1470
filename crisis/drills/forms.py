"""Forms of drills: a new scenario (upload or simulator), starting a drill."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from crisis.drills.models import DEFAULT_SPEED, MAX_SPEED, MIN_SPEED, Scenario, ScenarioKind
from crisis.drills.services import MAX_SCENARIO_BYTES, NAME_MAX_LENGTH
from crisis.incidents.selectors import assignable_people


class ScenarioForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=NAME_MAX_LENGTH, required=False)
    kind = forms.ChoiceField(
        label=_("Mentions"),
        choices=ScenarioKind.choices,
        initial=ScenarioKind.CSV,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label=_("CSV file"),
        required=False,
        help_text=_(
            "The CSV import format: id, url, text, published_at, author (and optional columns)."
        ),
    )
    hours = forms.IntegerField(
        label=_("Hours of mentions"),
        min_value=1,
        max_value=12,
        initial=2,
        required=False,
        help_text=_("The simulator's scenario ends now; its billing crisis starts 45 minutes in."),
    )

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if data.get("kind") == ScenarioKind.CSV:
            if not upload:
                self.add_error("file", _("Choose a CSV file to upload."))
            elif upload.size > MAX_SCENARIO_BYTES:
                self.add_error(
                    "file",
                    _("The file is larger than %(limit)s MB.")
                    % {"limit": MAX_SCENARIO_BYTES // (1024 * 1024)},
                )
        return data


class StartDrillForm(forms.Form):
    scenario = forms.ModelChoiceField(
        label=_("Scenario"), queryset=Scenario.objects.none(), empty_label=None
    )
    speed = forms.IntegerField(
        label=_("Speed"),
        min_value=MIN_SPEED,
        max_value=MAX_SPEED,
        initial=DEFAULT_SPEED,
        help_text=_("Scenario minutes per minute: 60 plays an hour in a minute."),
    )
    participants = forms.ModelMultipleChoiceField(
        label=_("Participants"),
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Only they get the drill's incidents and notifications (you take part too)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scenario"].queryset = Scenario.objects.defer("data").order_by("-created_at")
        self.fields["participants"].queryset = assignable_people()
        self.fields["participants"].label_from_instance = lambda user: user.get_username()
