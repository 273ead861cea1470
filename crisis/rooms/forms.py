"""Forms of the crises slice: declare a crisis (from incidents), accept a suggestion, seat a
member, change a role, hand over command, link an incident, and the departments."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crisis.rooms.crises import MAX_INCIDENTS, MAX_TOPICS, TITLE_MAX_LENGTH, TOPIC_MAX_LENGTH
from crisis.rooms.models import CabinetRole, Department
from crisis.rooms.selectors import seatable_people

# Roles a member is given in the cabinet form; commander only comes with command.
SEAT_ROLES = [(role.value, role.label) for role in CabinetRole if role != CabinetRole.COMMANDER]


def _person_label(user) -> str:
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return f"{full} ({user.get_username()})" if full else user.get_username()


class PersonField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return _person_label(obj)


def _people_field(label, *, required: bool = True, help_text: str = "") -> PersonField:
    return PersonField(
        label=label, queryset=seatable_people(), required=required, help_text=help_text
    )


def _department_field(label, *, required: bool = True) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=label,
        queryset=Department.objects.order_by("ordering", "name"),
        required=required,
        to_field_name="key",
    )


class LevelChoiceField(forms.TypedChoiceField):
    def __init__(self, **kwargs):
        super().__init__(label=_("Level"), coerce=int, **kwargs)


class CrisisBasicsForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)
    level = LevelChoiceField()
    commander = _people_field(
        _("Commander"), required=False, help_text=_("Yourself when left empty.")
    )
    commander_department = _department_field(_("Commander's department"), required=False)

    def __init__(self, *args, levels: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [(level, label) for level, label in levels]
        self.fields["commander"].queryset = seatable_people()
        self.fields["commander_department"].initial = "communications"


def _split(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n]", value or "") if part.strip()]


class DeclareForm(CrisisBasicsForm):
    topics = forms.CharField(
        label=_("Topics"),
        required=False,
        max_length=MAX_TOPICS * (TOPIC_MAX_LENGTH + 2),
        help_text=_(
            "Separated by commas. New incidents on these topics join the crisis; empty: the "
            "topics of the incidents below."
        ),
    )
    incidents = forms.CharField(
        label=_("Incidents"),
        required=False,
        max_length=MAX_INCIDENTS * 10,
        help_text=_("Incident numbers, separated by commas (e.g. 12, 15)."),
    )

    field_order = ["title", "level", "topics", "incidents", "commander", "commander_department"]

    def clean_topics(self) -> list[str]:
        topics = _split(self.cleaned_data["topics"])
        if len(topics) > MAX_TOPICS:
            raise ValidationError(_("At most %(count)s topics."), params={"count": MAX_TOPICS})
        if any(len(topic) > TOPIC_MAX_LENGTH for topic in topics):
            raise ValidationError(_("A topic is too long."))
        return topics

    def clean_incidents(self) -> list[int]:
        numbers = []
        for part in _split(self.cleaned_data["incidents"]):
            part = part.lstrip("#")
            if not part.isdigit() or len(part) > 12:
                raise ValidationError(
                    _("“%(value)s” is not an incident number."), params={"value": part[:20]}
                )
            numbers.append(int(part))
        if len(numbers) > MAX_INCIDENTS:
            raise ValidationError(
                _("At most %(count)s incidents by number."), params={"count": MAX_INCIDENTS}
            )
        return numbers

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("topics") and not cleaned.get("incidents") and not self.errors:
            raise ValidationError(_("Name the topics or the incidents of the crisis."))
        return cleaned


class AcceptSuggestionForm(CrisisBasicsForm):
    pass


class AddMemberForm(forms.Form):
    user = _people_field(_("Person"))
    department = _department_field(_("Department"))
    role = forms.ChoiceField(label=_("Crisis role"), choices=SEAT_ROLES, initial=CabinetRole.MEMBER)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = seatable_people()


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Crisis role"), choices=SEAT_ROLES)


class HandOverForm(forms.Form):
    to_user = _people_field(_("New commander"))
    department = _department_field(_("Department (if they have no seat yet)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = seatable_people()
        self.fields["department"].initial = "communications"


class LinkIncidentForm(forms.Form):
    crisis = forms.ModelChoiceField(label=_("Crisis"), queryset=None)

    def __init__(self, *args, crises, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["crisis"].queryset = crises


class DepartmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    is_legal = forms.BooleanField(
        label=_("Legal department"),
        required=False,
        help_text=_("Its member in a cabinet gives the statement's legal approval."),
    )


class NewDepartmentForm(DepartmentForm):
    key = forms.SlugField(
        label=_("Key"),
        max_length=40,
        help_text=_("Letters, digits, hyphens and underscores; it does not change later."),
    )

    field_order = ["name", "key", "is_legal"]
