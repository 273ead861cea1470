"""Who sees and who acts in a crisis room. Services call the `require_*` functions; views and
templates call the `can_*` ones to decide what to offer.

- Supervisors (Perm.RUN_CRISES) see and run every crisis.
- Executives (Perm.VIEW_BOARD with VIEW_CRISES) see every crisis, read-only, seat or not.
- Anyone else sees only the crises where they hold a seat in the cabinet (cabinet members
  from other departments, community managers called in) and acts there.
- Resolving is the commander's or a supervisor's.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext

from crisis.roles import Perm, Role, roles_of
from crisis.rooms.models import CabinetMember, CabinetRole, Crisis

User = AbstractBaseUser | AnonymousUser | None


def _active(user: User) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def runs_every_crisis(user: User) -> bool:
    return _active(user) and user.has_perm(Perm.RUN_CRISES)


def is_executive(user: User) -> bool:
    return _active(user) and Role.EXECUTIVE in roles_of(user) and not runs_every_crisis(user)


def sees_every_crisis(user: User) -> bool:
    return runs_every_crisis(user) or (
        _active(user) and user.has_perm(Perm.VIEW_CRISES) and user.has_perm(Perm.VIEW_BOARD)
    )


def seat_of(user: User, crisis: Crisis) -> CabinetMember | None:
    if not _active(user):
        return None
    return (
        CabinetMember.objects.select_related("department")
        .filter(crisis=crisis, user=user, removed_at__isnull=True)
        .first()
    )


def visible_crises(user: User) -> QuerySet[Crisis]:
    """The crises this person may open (newest first)."""
    if not _active(user):
        return Crisis.objects.none()
    if sees_every_crisis(user):
        return Crisis.objects.all()
    return Crisis.objects.filter(members__user=user, members__removed_at__isnull=True).distinct()


def can_view(user: User, crisis: Crisis) -> bool:
    return sees_every_crisis(user) or seat_of(user, crisis) is not None


def can_act(user: User, crisis: Crisis) -> bool:
    """Work in the room: plan, decisions, timeline, statement drafts (not executives)."""
    if runs_every_crisis(user):
        return True
    if is_executive(user):
        return False
    return seat_of(user, crisis) is not None


def is_commander(user: User, crisis: Crisis) -> bool:
    return _active(user) and crisis.commander_id == user.pk


def can_resolve(user: User, crisis: Crisis) -> bool:
    return runs_every_crisis(user) or is_commander(user, crisis)


def can_speak(user: User, crisis: Crisis) -> bool:
    """Draft the statement: the spokesperson, the commander, or a supervisor."""
    if runs_every_crisis(user) or is_commander(user, crisis):
        return True
    seat = seat_of(user, crisis)
    return seat is not None and seat.role == CabinetRole.SPOKESPERSON and not is_executive(user)


def require_view(user: User, crisis: Crisis) -> None:
    if not can_view(user, crisis):
        raise PermissionDenied(gettext("You cannot see this crisis."))


def require_act(user: User, crisis: Crisis) -> None:
    if not can_act(user, crisis):
        raise PermissionDenied(gettext("You cannot act in this crisis room."))


def require_resolve(user: User, crisis: Crisis) -> None:
    if not can_resolve(user, crisis):
        raise PermissionDenied(gettext("Only the commander or a supervisor resolves a crisis."))


def require_speak(user: User, crisis: Crisis) -> None:
    if not can_speak(user, crisis):
        raise PermissionDenied(
            gettext("Only the spokesperson, the commander or a supervisor drafts the statement.")
        )
