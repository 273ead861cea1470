"""Every change to people: an admin's to accounts (create and invite, roles, (de)activate, unlock,
reset; `Perm.MANAGE_PEOPLE`) and to teams, skills, capacity, shifts and on-call
(`Perm.MANAGE_TEAMS`), and each person's own language and time zone.

Each service checks its permission, writes in one transaction and records an audit event;
e-mail leaves only after the transaction commits.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

from axes.utils import reset as reset_login_attempts
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from crisis.people.models import OnCallSlot, Profile, Shift, Team
from crisis.roles import LEGAL_REVIEWER_GROUP, Perm, Role, ensure_role_groups, roles_of
from crisis.services.audit import record_audit_event
from crisis.services.permissions import require_permission

INVITATION_SUBJECT = "registration/invitation_subject.txt"
INVITATION_EMAIL = "registration/invitation_email.txt"
RESET_SUBJECT = "registration/password_reset_subject.txt"
RESET_EMAIL = "registration/password_reset_email.html"


@dataclass(frozen=True, slots=True)
class LinkSite:
    """Where the links in an e-mail point: the host the admin used, and its scheme."""

    domain: str
    use_https: bool


class _OnePersonResetForm(PasswordResetForm):
    """Django's password-reset e-mail, sent to one chosen person (even one with no password
    yet, which Django's own form skips: an invitation is exactly that case)."""

    def __init__(self, person: AbstractBaseUser) -> None:
        super().__init__(data={"email": person.email})
        self.person = person

    def get_users(self, email: str):
        return [self.person] if self.person.is_active and self.person.email else []


def _send_account_email(person: AbstractBaseUser, site: LinkSite, subject: str, body: str) -> None:
    form = _OnePersonResetForm(person)
    form.is_valid()  # fills cleaned_data; the address was validated when it was stored
    form.save(
        domain_override=site.domain,
        use_https=site.use_https,
        subject_template_name=subject,
        email_template_name=body,
        extra_email_context={"site_name": "Calma"},
    )


def _snapshot(person: AbstractBaseUser) -> dict:
    return {
        "username": person.get_username(),
        "email": person.email,
        "is_active": person.is_active,
        "roles": sorted(role.value for role in roles_of(person)),
        "legal_reviewer": is_legal_reviewer(person),
    }


def is_legal_reviewer(person: AbstractBaseUser) -> bool:
    return any(group.name == LEGAL_REVIEWER_GROUP for group in person.groups.all())


def _require_may_change(actor: AbstractBaseUser, person: AbstractBaseUser) -> None:
    # An admin role is not the operator: only a superuser changes a superuser's account.
    if person.is_superuser and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser can change a superuser's account."))


def _set_roles(
    person: AbstractBaseUser, roles: Iterable[Role], *, legal_reviewer: bool | None = None
) -> None:
    """Set the person's roles; the legal reviewer capability is kept as it was unless
    `legal_reviewer` says otherwise."""
    ensure_role_groups()
    roles = set(roles)
    if legal_reviewer is None:
        legal_reviewer = is_legal_reviewer(person)
    names = [role.value for role in roles] + ([LEGAL_REVIEWER_GROUP] if legal_reviewer else [])
    person.groups.set(Group.objects.filter(name__in=names))
    # Django admin is open to the admin role (read-only for Calma's own data), and to
    # the operator's superuser whatever its roles.
    person.is_staff = Role.ADMIN in roles or person.is_superuser
    person.save(update_fields=["is_staff"])


@transaction.atomic
def create_person(
    *,
    actor: AbstractBaseUser,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: Role,
    site: LinkSite,
) -> AbstractBaseUser:
    """Create an account with no password and e-mail an invitation to set one."""
    require_permission(actor, Perm.MANAGE_PEOPLE)
    user_model = get_user_model()
    if user_model._default_manager.filter(username__iexact=username).exists():
        raise ValidationError(_("Someone already has this username."), code="duplicate")
    person = user_model(username=username, first_name=first_name, last_name=last_name, email=email)
    person.set_unusable_password()
    person.save()
    _set_roles(person, [role])
    record_audit_event(actor=actor, verb="person.created", target=person, after=_snapshot(person))
    transaction.on_commit(
        lambda: _send_account_email(person, site, INVITATION_SUBJECT, INVITATION_EMAIL)
    )
    return person


@transaction.atomic
def change_roles(
    *,
    actor: AbstractBaseUser,
    person: AbstractBaseUser,
    roles: Iterable[Role],
    legal_reviewer: bool | None = None,
) -> AbstractBaseUser:
    require_permission(actor, Perm.MANAGE_PEOPLE)
    _require_may_change(actor, person)
    roles = set(roles)
    if person.pk == actor.pk and Role.ADMIN not in roles:
        # Otherwise the last admin could leave the team with nobody to manage people.
        raise ValidationError(_("You cannot remove your own admin role."), code="own_admin")
    before = _snapshot(person)
    _set_roles(person, roles, legal_reviewer=legal_reviewer)
    record_audit_event(
        actor=actor,
        verb="person.roles_changed",
        target=person,
        before=before,
        after=_snapshot(person),
    )
    return person


@transaction.atomic
def set_person_active(
    *, actor: AbstractBaseUser, person: AbstractBaseUser, active: bool
) -> AbstractBaseUser:
    """Deactivate (the account stays, for the audit trail, but cannot sign in) or reactivate."""
    require_permission(actor, Perm.MANAGE_PEOPLE)
    _require_may_change(actor, person)
    if person.pk == actor.pk and not active:
        raise ValidationError(_("You cannot deactivate your own account."), code="self")
    before = _snapshot(person)
    person.is_active = active
    person.save(update_fields=["is_active"])
    verb = "person.reactivated" if active else "person.deactivated"
    record_audit_event(
        actor=actor, verb=verb, target=person, before=before, after=_snapshot(person)
    )
    return person


@transaction.atomic
def unlock_person(*, actor: AbstractBaseUser, person: AbstractBaseUser) -> int:
    """Clear failed sign-ins for this username from every address; returns how many cleared."""
    require_permission(actor, Perm.MANAGE_PEOPLE)
    cleared = reset_login_attempts(username=person.get_username())
    record_audit_event(
        actor=actor, verb="person.unlocked", target=person, after={"cleared_records": cleared}
    )
    return cleared


@transaction.atomic
def send_password_reset(
    *, actor: AbstractBaseUser, person: AbstractBaseUser, site: LinkSite
) -> AbstractBaseUser:
    require_permission(actor, Perm.MANAGE_PEOPLE)
    _require_may_change(actor, person)
    if not person.is_active or not person.email:
        raise ValidationError(
            _("A password reset needs an active account with an e-mail address."), code="no_mail"
        )
    record_audit_event(actor=actor, verb="person.password_reset_sent", target=person)
    transaction.on_commit(lambda: _send_account_email(person, site, RESET_SUBJECT, RESET_EMAIL))
    return person


def record_lockout(sender, request=None, username: str | None = None, ip_address=None, **_kwargs):
    """axes' `user_locked_out` receiver: the lockout goes into the audit log, once.

    axes also signals every attempt refused during the lockout; only the failure that
    reached the limit carries a failure count, so a troll hammering away adds no rows.
    """
    if request is not None and getattr(request, "axes_failures_since_start", None) is None:
        return
    person = None
    if username:
        person = get_user_model()._default_manager.filter(username=username).first()
    record_audit_event(
        actor=None,
        verb="login.locked_out",
        target=person,
        after={"username": (username or "")[:150], "ip_address": ip_address},
    )


# --- Teams, skills, capacity, shifts and on-call (Perm.MANAGE_TEAMS) -------------------------


def _team_snapshot(team: Team) -> dict:
    return {"name": team.name, "time_zone": team.time_zone, "is_default": team.is_default}


def _window_snapshot(window: Shift | OnCallSlot) -> dict:
    return {
        "weekday": window.weekday,
        "starts_at": window.starts_at.strftime("%H:%M"),
        "ends_at": window.ends_at.strftime("%H:%M"),
    }


def _require_window_has_length(starts_at: time, ends_at: time) -> None:
    if starts_at == ends_at:
        raise ValidationError(_("The start and the end must differ."), code="empty_window")


def _make_only_default(team: Team) -> None:
    # The partial unique constraint allows one default: clear the old one first.
    Team.objects.filter(is_default=True).exclude(pk=team.pk).update(is_default=False)


@transaction.atomic
def save_team(
    *,
    actor: AbstractBaseUser,
    team: Team | None = None,
    name: str,
    time_zone: str,
    is_default: bool,
) -> Team:
    """Create a team (team=None) or change one; making it the default unsets the old default."""
    require_permission(actor, Perm.MANAGE_TEAMS)
    creating = team is None
    team = Team() if creating else Team.objects.select_for_update().get(pk=team.pk)
    before = None if creating else _team_snapshot(team)
    if Team.objects.filter(name__iexact=name).exclude(pk=team.pk).exists():
        raise ValidationError(_("Another team already has this name."), code="duplicate")
    team.name, team.time_zone, team.is_default = name, time_zone, is_default
    if is_default:
        _make_only_default(team)
    team.save()
    record_audit_event(
        actor=actor,
        verb="team.created" if creating else "team.changed",
        target=team,
        before=before,
        after=_team_snapshot(team),
    )
    return team


@transaction.atomic
def delete_team(*, actor: AbstractBaseUser, team: Team) -> None:
    """Delete a team and its shifts; its members stay, without a team."""
    require_permission(actor, Perm.MANAGE_TEAMS)
    before = _team_snapshot(team)
    record_audit_event(actor=actor, verb="team.deleted", target=team, before=before)
    try:
        with transaction.atomic():
            team.delete()
    except ProtectedError as error:
        raise ValidationError(
            _("This team still has incidents; move them to another team first."),
            code="protected",
        ) from error


@transaction.atomic
def add_shift(
    *, actor: AbstractBaseUser, team: Team, weekday: int, starts_at: time, ends_at: time
) -> Shift:
    """A weekly shift in the team's time zone; an end at or before the start crosses midnight."""
    require_permission(actor, Perm.MANAGE_TEAMS)
    _require_window_has_length(starts_at, ends_at)
    shift = Shift.objects.create(team=team, weekday=weekday, starts_at=starts_at, ends_at=ends_at)
    record_audit_event(
        actor=actor, verb="team.shift_added", target=team, after=_window_snapshot(shift)
    )
    return shift


@transaction.atomic
def remove_shift(*, actor: AbstractBaseUser, shift: Shift) -> None:
    require_permission(actor, Perm.MANAGE_TEAMS)
    record_audit_event(
        actor=actor, verb="team.shift_removed", target=shift.team, before=_window_snapshot(shift)
    )
    shift.delete()


def _skills_snapshot(profile: Profile) -> dict:
    return {
        "team": profile.team.name if profile.team else None,
        "languages": list(profile.languages),
        "platforms": list(profile.platforms),
        "max_open_incidents": profile.max_open_incidents,
    }


@transaction.atomic
def change_member_skills(
    *,
    actor: AbstractBaseUser,
    person: AbstractBaseUser,
    team: Team | None,
    languages: list[str],
    platforms: list[str],
    max_open_incidents: int | None,
) -> Profile:
    """A person's team, the languages and platforms they work, and their capacity."""
    require_permission(actor, Perm.MANAGE_TEAMS)
    Profile.objects.get_or_create(user=person)
    # The same row lock routing takes before counting a manager's load.
    profile = Profile.objects.select_for_update().get(user=person)
    before = _skills_snapshot(profile)
    profile.team = team
    profile.languages = sorted(set(languages))
    profile.platforms = sorted(set(platforms))
    profile.max_open_incidents = max_open_incidents
    profile.save(update_fields=["team", "languages", "platforms", "max_open_incidents"])
    record_audit_event(
        actor=actor,
        verb="person.skills_changed",
        target=person,
        before=before,
        after=_skills_snapshot(profile),
    )
    return profile


@transaction.atomic
def add_on_call_slot(
    *,
    actor: AbstractBaseUser,
    supervisor: AbstractBaseUser,
    weekday: int,
    starts_at: time,
    ends_at: time,
    time_zone: str,
) -> OnCallSlot:
    """A weekly on-call slot of a supervisor in the rota."""
    require_permission(actor, Perm.MANAGE_TEAMS)
    _require_window_has_length(starts_at, ends_at)
    if Role.SUPERVISOR not in roles_of(supervisor) or not supervisor.is_active:
        raise ValidationError(_("Only an active supervisor can be on call."), code="not_supervisor")
    slot = OnCallSlot.objects.create(
        user=supervisor,
        weekday=weekday,
        starts_at=starts_at,
        ends_at=ends_at,
        time_zone=time_zone,
    )
    record_audit_event(
        actor=actor,
        verb="oncall.slot_added",
        target=supervisor,
        after={**_window_snapshot(slot), "time_zone": time_zone},
    )
    return slot


@transaction.atomic
def remove_on_call_slot(*, actor: AbstractBaseUser, slot: OnCallSlot) -> None:
    require_permission(actor, Perm.MANAGE_TEAMS)
    record_audit_event(
        actor=actor,
        verb="oncall.slot_removed",
        target=slot.user,
        before={**_window_snapshot(slot), "time_zone": slot.time_zone},
    )
    slot.delete()


# --- One's own profile (every signed-in person) ---------------------------------------------


@transaction.atomic
def change_own_preferences(*, actor: AbstractBaseUser, language: str, time_zone: str) -> Profile:
    """The language and time zone a person reads Calma and its e-mails in ("" = default)."""
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied
    Profile.objects.get_or_create(user=actor)
    profile = Profile.objects.select_for_update().get(user=actor)
    before = {"language": profile.language, "time_zone": profile.time_zone}
    profile.language, profile.time_zone = language, time_zone
    profile.save(update_fields=["language", "time_zone"])
    record_audit_event(
        actor=actor,
        verb="profile.preferences_changed",
        target=actor,
        before=before,
        after={"language": language, "time_zone": time_zone},
    )
    return profile
