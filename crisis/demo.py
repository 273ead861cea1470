"""Demo users, one per role, created by `make run` (and by the browser tests)."""

from dataclasses import dataclass
from datetime import time

from axes.utils import reset as reset_login_attempts
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from crisis.people.models import Shift, Team
from crisis.people.selectors import profile_for
from crisis.roles import LEGAL_REVIEWER_GROUP, Role, ensure_role_groups


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


DEMO_TEAM = "Brisa"  # a proper name reads the same in Spanish and English


def create_demo_team() -> Team:
    """The default team, on shift around the clock, with the demo manager in it answering
    Spanish and English on every platform: so in `make run` the simulator's incidents are
    routed to the manager's queue instead of waiting for someone to configure shifts."""
    team, _created = Team.objects.get_or_create(name=DEMO_TEAM)
    if not Team.objects.filter(is_default=True).exclude(pk=team.pk).exists():
        Team.objects.filter(pk=team.pk).update(is_default=True)
    midnight = time(0, 0)
    for weekday in range(7):
        # A window ending where it starts runs into the next day: 24 hours from midnight.
        Shift.objects.get_or_create(
            team=team, weekday=weekday, starts_at=midnight, ends_at=midnight
        )
    manager = get_user_model().objects.get(username="manager")
    profile = profile_for(manager)
    profile.team = team
    profile.languages = ["es", "en"]
    profile.save(update_fields=["team", "languages"])
    return team


# A second supervisor who is also the legal reviewer: replies on legal matters need two
# approvals from two people other than the drafter (supervisor, then legal).
DEMO_LEGAL_REVIEWER = DemoLogin(Role.SUPERVISOR, "legal", "calma-legal")


def create_demo_legal_reviewer() -> DemoLogin:
    login = DEMO_LEGAL_REVIEWER
    ensure_role_groups()
    user, _created = get_user_model().objects.get_or_create(username=login.username)
    user.email = f"{login.username}@calma.localhost"
    user.first_name = "Lucía"
    user.is_staff = False
    user.is_superuser = False
    user.is_active = True
    user.set_password(login.password)
    user.save()
    user.groups.set(Group.objects.filter(name__in=[login.role.value, LEGAL_REVIEWER_GROUP]))
    reset_login_attempts(username=login.username)
    return login


def create_demo_publishing_accounts(sources) -> list:
    """One publishing account per platform the simulator takes writes on, linked to the demo
    sources of that platform, so approved replies in `make run` are posted to the simulator.
    The secrets are exported by `make run` as CALMA_SECRET_SIMULATOR_* (never stored here)."""
    from crisis.replies.models import PublishingAccount, SourceAccount
    from monitoring.simulator.writes import BRAND_HANDLES

    handles = {**BRAND_HANDLES, "bluesky": "brisa.bsky.social"}
    accounts = []
    for source in sources:
        handle = handles.get(source.platform)
        if handle is None:
            continue  # feeds cannot be answered on: replies are copied by hand
        account, _created = PublishingAccount.objects.update_or_create(
            platform=source.platform,
            name=f"Brisa ({source.get_platform_display()})",
            defaults={
                "handle": handle,
                "base_url": source.base_url,
                "credentials_ref": "SIMULATOR",
                "enabled": True,
            },
        )
        SourceAccount.objects.update_or_create(source=source, defaults={"account": account})
        accounts.append(account)
    return accounts
