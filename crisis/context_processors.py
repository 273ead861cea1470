"""Template context shared by every page: the navigation a user's role allows."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crisis.roles import Perm
from protocols.selectors import open_suggestion_count


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str | Promise
    url_name: str
    permission: str | tuple[str, ...] | None  # a tuple: any one of them
    shortcut: str  # pressed after "g", e.g. "g i" opens the inbox


NAVIGATION = (
    NavItem(_("Inbox"), "inbox", (Perm.TRIAGE, Perm.VIEW_INCIDENTS), "i"),
    NavItem(_("Approvals"), "approvals", (Perm.APPROVE_REPLIES, Perm.APPROVE_LEGAL), "a"),
    NavItem(_("Follow-ups"), "replies:follow_ups", Perm.TRIAGE, "f"),
    NavItem(_("Budgets"), "replies:budgets", Perm.MANAGE_BUDGETS, "$"),
    NavItem(_("Crisis board"), "board", Perm.VIEW_BOARD, "b"),
    NavItem(_("Crises"), "rooms:list", Perm.VIEW_CRISES, "x"),
    NavItem(_("Drills"), "drills:list", Perm.SUPERVISE_INCIDENTS, "z"),
    NavItem(_("Mentions"), "monitoring:mentions", Perm.VIEW_MENTIONS, "m"),
    NavItem(_("Sources"), "monitoring:sources", Perm.MANAGE_SOURCES, "s"),
    NavItem(_("Publishing accounts"), "replies:accounts", Perm.MANAGE_PUBLISHING, "w"),
    NavItem(_("Import"), "monitoring:import_csv", Perm.MANAGE_SOURCES, "c"),
    NavItem(_("Quarantine"), "monitoring:quarantine", Perm.MANAGE_SOURCES, "q"),
    NavItem(_("People"), "people:list", Perm.MANAGE_PEOPLE, "u"),
    NavItem(_("Personal data"), "replies:retention", Perm.MANAGE_PEOPLE, "k"),
    NavItem(_("Teams"), "people:teams", Perm.MANAGE_TEAMS, "t"),
    NavItem(_("Audit log"), "audit_log", Perm.VIEW_AUDIT_LOG, "l"),
    NavItem(_("Protocol"), "protocols:list", Perm.EDIT_PROTOCOL, "p"),
    NavItem(_("Profile"), "profile", None, "r"),
)


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [
        {
            "label": item.label,
            "url": reverse(item.url_name),
            "shortcut": item.shortcut,
            "active": request.resolver_match is not None
            and request.resolver_match.view_name == item.url_name,
        }
        for item in NAVIGATION
        if _allowed(user, item.permission)
    ]
    if user.is_staff:
        items.append(
            {"label": _("Admin"), "url": reverse("admin:index"), "shortcut": "d", "active": False}
        )
    return {"nav_items": items, "open_crisis_suggestions": crisis_suggestion_count(user)}


def _allowed(user, permission: str | tuple[str, ...] | None) -> bool:
    if permission is None:
        return True
    names = (permission,) if isinstance(permission, str) else permission
    return any(user.has_perm(name) for name in names)


def crisis_suggestion_count(user) -> int:
    """The supervisors' banner on every page: open crisis suggestions (one COUNT, theirs only)."""
    return open_suggestion_count() if user.has_perm(Perm.DECLARE_CRISIS) else 0
