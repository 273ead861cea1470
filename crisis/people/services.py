"""Every change an admin makes to a person: create and invite, roles, (de)activate, unlock, reset.

Each service checks `Perm.MANAGE_PEOPLE`, writes in one transaction and records an audit event;
e-mail leaves only after the transaction commits.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from axes.utils import reset as reset_login_attempts
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crisis.roles import Perm, Role, ensure_role_groups, roles_of
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
    }


def _require_may_change(actor: AbstractBaseUser, person: AbstractBaseUser) -> None:
    # An admin role is not the operator: only a superuser changes a superuser's account.
    if person.is_superuser and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser can change a superuser's account."))


def _set_roles(person: AbstractBaseUser, roles: Iterable[Role]) -> None:
    ensure_role_groups()
    roles = set(roles)
    person.groups.set(Group.objects.filter(name__in=[role.value for role in roles]))
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
    *, actor: AbstractBaseUser, person: AbstractBaseUser, roles: Iterable[Role]
) -> AbstractBaseUser:
    require_permission(actor, Perm.MANAGE_PEOPLE)
    _require_may_change(actor, person)
    roles = set(roles)
    if person.pk == actor.pk and Role.ADMIN not in roles:
        # Otherwise the last admin could leave the team with nobody to manage people.
        raise ValidationError(_("You cannot remove your own admin role."), code="own_admin")
    before = _snapshot(person)
    _set_roles(person, roles)
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
