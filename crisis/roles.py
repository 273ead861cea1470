"""The four roles of Calma, their permissions, and where each one lands after login.

A role is a Django group whose name is the role's value; the permissions are declared on
`crisis.models.Capability`. Groups are (re)created after every migrate.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMMUNITY_MANAGER = "community_manager", _("Community manager")
    SUPERVISOR = "supervisor", _("Supervisor")
    EXECUTIVE = "executive", _("Executive")
    ADMIN = "admin", _("Admin")
    # People from other departments who sit in a crisis cabinet: they see only the crises
    # they belong to.
    CABINET_MEMBER = "cabinet_member", _("Cabinet member")


class Perm:
    """Permission names as `has_perm` takes them, so no view or service spells a string."""

    TRIAGE = "crisis.triage_mentions"
    APPROVE_REPLIES = "crisis.approve_replies"
    VIEW_BOARD = "crisis.view_board"
    EDIT_PROTOCOL = "crisis.edit_protocol"
    DECLARE_CRISIS = "crisis.declare_crisis"
    MANAGE_SOURCES = "crisis.manage_sources"
    VIEW_AUDIT_LOG = "crisis.view_audit_log"
    VIEW_MENTIONS = "crisis.view_mentions"
    MANAGE_PEOPLE = "crisis.manage_people"
    SUPERVISE_INCIDENTS = "crisis.supervise_incidents"
    MANAGE_TEAMS = "crisis.manage_teams"
    APPROVE_LEGAL = "crisis.approve_legal"
    MANAGE_PUBLISHING = "crisis.manage_publishing"
    MANAGE_BUDGETS = "crisis.manage_budgets"
    VIEW_CRISES = "crisis.view_crises"
    RUN_CRISES = "crisis.run_crises"
    # Reading the inbox's list and the incident pages; acting on them still needs TRIAGE.
    VIEW_INCIDENTS = "crisis.view_incidents"


ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.COMMUNITY_MANAGER: (Perm.TRIAGE, Perm.VIEW_MENTIONS, Perm.VIEW_INCIDENTS),
    Role.SUPERVISOR: (
        Perm.TRIAGE,
        Perm.APPROVE_REPLIES,
        Perm.VIEW_BOARD,
        Perm.EDIT_PROTOCOL,
        Perm.DECLARE_CRISIS,
        Perm.VIEW_AUDIT_LOG,
        Perm.VIEW_MENTIONS,
        Perm.SUPERVISE_INCIDENTS,
        Perm.MANAGE_BUDGETS,
        Perm.VIEW_CRISES,
        Perm.RUN_CRISES,
        Perm.VIEW_INCIDENTS,
    ),
    # Every number on the board links to the list behind it, which the executive reads (never
    # acts on: no TRIAGE).
    Role.EXECUTIVE: (Perm.VIEW_BOARD, Perm.VIEW_CRISES, Perm.VIEW_INCIDENTS, Perm.VIEW_MENTIONS),
    Role.ADMIN: (
        Perm.MANAGE_SOURCES,
        Perm.MANAGE_PEOPLE,
        Perm.MANAGE_TEAMS,
        Perm.MANAGE_PUBLISHING,
        Perm.VIEW_BOARD,
        Perm.VIEW_AUDIT_LOG,
        Perm.VIEW_MENTIONS,
        # The board's incident figures open the inbox read-only, for the admin too.
        Perm.VIEW_INCIDENTS,
    ),
    Role.CABINET_MEMBER: (Perm.VIEW_CRISES,),
}


# Capabilities an admin grants a person on top of their role (a group each, not a role: it
# decides no home page). A legal reviewer gives the second approval on legal matters.
LEGAL_REVIEWER_GROUP = "legal_reviewer"
EXTRA_GROUP_PERMISSIONS: dict[str, tuple[str, ...]] = {
    LEGAL_REVIEWER_GROUP: (Perm.APPROVE_LEGAL,),
}


def ensure_role_groups(**_signal_kwargs) -> None:
    """Create each role's (and each extra capability's) group with exactly its permissions
    (idempotent)."""
    groups = {role.value: names for role, names in ROLE_PERMISSIONS.items()}
    groups.update(EXTRA_GROUP_PERMISSIONS)
    for group_name, perm_names in groups.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        codenames = [name.split(".", 1)[1] for name in perm_names]
        permissions = Permission.objects.filter(
            content_type__app_label="crisis", codename__in=codenames
        )
        group.permissions.set(permissions)


def roles_of(user: AbstractBaseUser | AnonymousUser) -> set[Role]:
    """The roles a user holds through their groups. Being a superuser adds none: the operator's
    superuser is a separate account, and the admin role holds exactly its permissions."""
    if not user.is_authenticated:
        return set()
    names = {group.name for group in user.groups.all()}
    return {role for role in Role if role.value in names}


# The first role in this order that a user holds decides where they land.
HOME_BY_ROLE: tuple[tuple[Role, str], ...] = (
    (Role.ADMIN, "monitoring:sources"),
    (Role.SUPERVISOR, "approvals"),
    (Role.COMMUNITY_MANAGER, "inbox"),
    (Role.EXECUTIVE, "board"),
    (Role.CABINET_MEMBER, "rooms:list"),
)


def home_url_for(user: AbstractBaseUser) -> str | None:
    roles = roles_of(user)
    for role, url_name in HOME_BY_ROLE:
        if role in roles:
            return reverse(url_name)
    if user.is_superuser:
        # The operator's own account, outside the roles: Django admin is its place.
        return reverse("admin:index")
    return None
