"""The incident state machine (one table) and who may act on an incident.

Services call `check_transition` and `require_can_act` before they change anything; views
call `can_act` to decide which actions to offer.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from crisis.incidents.models import Incident, IncidentState
from crisis.people.models import Profile
from crisis.roles import Perm

S = IncidentState

# From each state, the states an incident may move to. "assigned -> assigned" is a hand-over
# or a reassignment; "-> new" hands an incident back to routing (SLA breach, shift end).
ALLOWED_TRANSITIONS: dict[IncidentState, frozenset[IncidentState]] = {
    S.NEW: frozenset({S.ASSIGNED, S.ESCALATED, S.CLOSED}),
    S.ASSIGNED: frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.ESCALATED, S.CLOSED}),
    S.IN_PROGRESS: frozenset(
        {
            S.NEW,
            S.ASSIGNED,
            S.AWAITING_APPROVAL,
            S.REPLIED,
            S.PRIVATE_FOLLOW_UP,
            S.RESOLVED,
            S.ESCALATED,
            S.CLOSED,
        }
    ),
    S.AWAITING_APPROVAL: frozenset({S.IN_PROGRESS, S.REPLIED, S.ESCALATED}),
    S.REPLIED: frozenset({S.IN_PROGRESS, S.PRIVATE_FOLLOW_UP, S.RESOLVED, S.ESCALATED, S.CLOSED}),
    S.PRIVATE_FOLLOW_UP: frozenset({S.IN_PROGRESS, S.RESOLVED, S.ESCALATED, S.CLOSED}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.REOPENED: frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.REPLIED, S.ESCALATED, S.CLOSED}),
    S.ESCALATED: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.REPLIED, S.RESOLVED, S.CLOSED}),
}


class InvalidTransition(Exception):
    """The incident cannot make this move from its current state (or not this way)."""


def is_allowed(from_state: str, to_state: str) -> bool:
    return IncidentState(to_state) in ALLOWED_TRANSITIONS[IncidentState(from_state)]


def check_transition(incident: Incident, to_state: str) -> None:
    """Raise InvalidTransition, in the reader's language, unless the move is in the table."""
    if not is_allowed(incident.state, to_state):
        raise InvalidTransition(
            gettext("Incident #%(id)s is %(state)s; it cannot become %(target)s.")
            % {
                "id": incident.pk,
                "state": str(IncidentState(incident.state).label).lower(),
                "target": str(IncidentState(to_state).label).lower(),
            }
        )


def is_supervisor(actor: AbstractBaseUser | AnonymousUser | None) -> bool:
    return bool(actor and actor.is_authenticated and actor.has_perm(Perm.SUPERVISE_INCIDENTS))


def works_incidents(actor: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Community managers and supervisors work incidents; executives and admins do not."""
    return bool(
        actor and actor.is_authenticated and actor.is_active and actor.has_perm(Perm.TRIAGE)
    )


def team_of(actor: AbstractBaseUser) -> int | None:
    """The id of the actor's team (no profile yet means no team)."""
    return Profile.objects.filter(user=actor).values_list("team_id", flat=True).first()


def can_act(actor: AbstractBaseUser | AnonymousUser | None, incident: Incident) -> bool:
    """Supervisors act on every incident; a manager on their own and on unowned ones of their
    team (an incident no team holds is every manager's); nobody else on any."""
    if not works_incidents(actor):
        return False
    if is_supervisor(actor):
        return True
    if incident.owner_id is not None:
        return incident.owner_id == actor.pk
    return incident.team_id is None or incident.team_id == team_of(actor)


def require_can_act(actor: AbstractBaseUser | None, incident: Incident) -> None:
    if not can_act(actor, incident):
        raise PermissionDenied(gettext("You cannot act on incident #%(id)s.") % {"id": incident.pk})


def require_supervisor(actor: AbstractBaseUser | None) -> None:
    if not (works_incidents(actor) and is_supervisor(actor)):
        raise PermissionDenied(Perm.SUPERVISE_INCIDENTS)
