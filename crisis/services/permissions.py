"""Permission checks that services call before they change anything."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied


def require_permission(user: AbstractBaseUser | None, permission: str) -> None:
    """Raise PermissionDenied unless `user` holds `permission` (e.g. `Perm.APPROVE_REPLIES`)."""
    if user is None or not user.is_authenticated or not user.has_perm(permission):
        raise PermissionDenied(permission)
