"""Forms of the People pages: a new person, a person's roles, teams, skills and capacity,
shifts, the on-call rota, and one's own profile (language and time zone)."""

import zoneinfo
from functools import cache

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from crisis.people.models import Team, Weekday
from crisis.roles import Role
from monitoring.platforms import Platform
from monitoring.text import DETECTABLE_LANGUAGES


class NewPersonForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("What they type to sign in: letters, digits and @ . + - _ only."),
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("E-mail"),
        help_text=_("The invitation goes here: a link to choose their own password."),
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[("", _("Choose a role")), *Role.choices],
        help_text=_("What they may do in Calma. You can add more roles later."),
    )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if get_user_model()._default_manager.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("Someone already has this username."))
        return username

    def clean_role(self) -> Role:
        return Role(self.cleaned_data["role"])


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Roles"),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Each role gives its own pages and actions. No role means no access."),
    )
    legal_reviewer = forms.BooleanField(
        label=_("Legal reviewer"),
        required=False,
        help_text=_(
            "Gives the second approval of replies on legal matters (authorities, lawyers), "
            "on top of a role."
        ),
    )

    def clean_roles(self) -> list[Role]:
        return [Role(value) for value in self.cleaned_data["roles"]]


# --- Time zones, weekly windows -------------------------------------------------------------


@cache
def _zone_names() -> tuple[str, ...]:
    # The machine's tz database; read once per process (it scans the filesystem).
    return tuple(sorted(zoneinfo.available_timezones()))


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in _zone_names()]


class TimeZoneField(forms.ChoiceField):
    """A time zone name from the IANA database (e.g. Europe/Madrid), nothing else."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", _("Time zone"))
        super().__init__(choices=time_zone_choices, **kwargs)

    def validate(self, value: str) -> None:
        super().validate(value)
        if value:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
                raise forms.ValidationError(_("Choose a time zone from the list.")) from error


class _WeeklyWindowForm(forms.Form):
    weekday = forms.TypedChoiceField(label=_("Day"), choices=Weekday.choices, coerce=int)
    starts_at = forms.TimeField(
        label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    ends_at = forms.TimeField(
        label=_("Ends at"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("An end at or before the start runs past midnight into the next day."),
    )

    def clean(self):
        cleaned = super().clean()
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at is not None and starts_at == ends_at:
            self.add_error("ends_at", _("The start and the end must differ."))
        return cleaned


class ShiftForm(_WeeklyWindowForm):
    """A team's weekly shift, in the team's time zone."""


class OnCallSlotForm(_WeeklyWindowForm):
    supervisor = forms.ModelChoiceField(
        label=_("Supervisor"),
        queryset=get_user_model()._default_manager.none(),
        empty_label=_("Choose a supervisor"),
    )
    time_zone = TimeZoneField(help_text=_("The day and hours are read in this time zone."))

    field_order = ["supervisor", "weekday", "starts_at", "ends_at", "time_zone"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supervisor"].queryset = (
            get_user_model()
            ._default_manager.filter(is_active=True, groups__name=Role.SUPERVISOR.value)
            .order_by("username")
        )
        self.fields["time_zone"].initial = settings.TIME_ZONE


# --- Teams and members ---------------------------------------------------------------------


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    time_zone = TimeZoneField(help_text=_("The team's shifts are read in this time zone."))
    is_default = forms.BooleanField(
        label=_("Default team"),
        required=False,
        help_text=_(
            "Incidents that routing cannot place elsewhere go here, and so do people without "
            "a team. Choosing this team replaces the current default."
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].initial = settings.TIME_ZONE


def _language_name(code: str) -> str:
    try:
        return get_language_info(code)["name_translated"]
    except KeyError:
        return code


def skill_language_choices() -> list[tuple[str, str]]:
    return [(code, _language_name(code)) for code in DETECTABLE_LANGUAGES]


class MemberSkillsForm(forms.Form):
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.all(),
        required=False,
        empty_label=_("No team (works the default team's shifts)"),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages they answer in"),
        choices=skill_language_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Routing gives them incidents in these languages."),
    )
    platforms = forms.MultipleChoiceField(
        label=_("Platforms"),
        choices=Platform.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked means every platform."),
    )
    max_open_incidents = forms.IntegerField(
        label=_("Maximum open incidents"),
        required=False,
        min_value=1,
        max_value=500,
        help_text=_("Leave empty to use the protocol's limit per manager."),
    )


# --- One's own profile ---------------------------------------------------------------------


class ProfileForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        help_text=_("Calma's pages and the e-mails it sends you."),
    )
    time_zone = TimeZoneField(
        required=False,
        help_text=_("Times on every page and in e-mails. Empty: your team's time zone."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [
            ("", _("The organisation's language")),
            *[(code, _language_name(code)) for code, _name in settings.LANGUAGES],
        ]
        self.fields["time_zone"].choices = [
            ("", _("My team's time zone")),
            *time_zone_choices(),
        ]
