"""Builders for routing and SLA tests: teams with weekly shifts, managers with skills and
capacity, supervisors on call, and protocol switches."""

from datetime import time

from crisis.people.models import OnCallSlot, Profile, Shift, Team
from crisis.roles import Role
from protocols.models import ProtocolStatus, ProtocolVersion
from tests.factories import UserFactory

# tests.incidents.factories.NOW is Monday 2026-03-02 10:00 UTC (11:00 in Madrid).
MONDAY = 0


def team_on_shift(
    name: str = "Care",
    *,
    weekday: int = MONDAY,
    starts: time = time(8, 0),
    ends: time = time(20, 0),
    time_zone: str = "Europe/Madrid",
    is_default: bool = False,
) -> Team:
    """A team with one weekly shift (by default Monday 08:00-20:00 Madrid time)."""
    team = Team.objects.create(name=name, time_zone=time_zone, is_default=is_default)
    Shift.objects.create(team=team, weekday=weekday, starts_at=starts, ends_at=ends)
    return team


def skilled_manager(
    username: str,
    *,
    team: Team | None,
    languages: tuple[str, ...] = ("es",),
    platforms: tuple[str, ...] = (),
    max_open: int | None = None,
    role: Role = Role.COMMUNITY_MANAGER,
):
    user = UserFactory(username=username, role=role)
    Profile.objects.update_or_create(
        user=user,
        defaults={
            "team": team,
            "languages": list(languages),
            "platforms": list(platforms),
            "max_open_incidents": max_open,
        },
    )
    return user


def supervisor_on_call(
    username: str = "oncall",
    *,
    weekday: int = MONDAY,
    starts: time = time(0, 0),
    ends: time = time(0, 0),
):
    """A supervisor on call for the whole weekday (00:00-00:00 crosses into the next day)."""
    user = UserFactory(username=username, role=Role.SUPERVISOR)
    OnCallSlot.objects.create(
        user=user, weekday=weekday, starts_at=starts, ends_at=ends, time_zone="UTC"
    )
    return user


def set_protocol(section: str, **values) -> None:
    """Change the active protocol's section in place (tests only: versions are immutable)."""
    version = ProtocolVersion.objects.get(status=ProtocolStatus.ACTIVE)
    config = dict(version.config)
    config[section] = {**config.get(section, {}), **values}
    ProtocolVersion.objects.filter(pk=version.pk).update(config=config)
