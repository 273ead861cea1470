"""Demo users, one per role, created by `make run` (and by the browser tests)."""

from dataclasses import dataclass

from axes.utils import reset as reset_login_attempts
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from crisis.roles import Role, ensure_role_groups


@dataclass(frozen=True, slots=True)
class DemoLogin:
    role: Role
    username: str
    password: str


DEMO_LOGINS = (
    DemoLogin(Role.COMMUNITY_MANAGER, "manager", "calma-manager"),
    DemoLogin(Role.SUPERVISOR, "supervisor", "calma-supervisor"),
    DemoLogin(Role.EXECUTIVE, "executive", "calma-executive"),
    DemoLogin(Role.ADMIN, "admin", "calma-admin"),
)


def create_demo_users() -> list[DemoLogin]:
    """Create or reset the demo users so their printed logins always work."""
    ensure_role_groups()
    user_model = get_user_model()
    for login in DEMO_LOGINS:
        user, _created = user_model.objects.get_or_create(username=login.username)
        user.email = f"{login.username}@calma.localhost"
        # The admin role opens Django admin (read-only for Calma's data) but is no superuser:
        # it holds exactly its role's permissions, like every other role.
        user.is_staff = login.role == Role.ADMIN
        user.is_superuser = False
        user.is_active = True
        user.set_password(login.password)
        user.save()
        user.groups.set([Group.objects.get(name=login.role.value)])
        reset_login_attempts(username=login.username)  # a demo login locked out earlier works again
    return list(DEMO_LOGINS)
