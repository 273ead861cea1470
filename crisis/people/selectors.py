"""Reads about people: the People page (accounts, roles, locks), profiles and preferences,
and who is working when (team shifts, managers on shift, the on-call supervisor)."""

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet, Sum

from crisis.people.models import OnCallSlot, Profile, Shift, Team
from crisis.roles import Role

PEOPLE_PER_PAGE = 25


@dataclass(frozen=True, slots=True)
class PersonRow:
    person: AbstractBaseUser
    roles: list[Role]
    locked_out: bool


def people_queryset() -> QuerySet:
    return get_user_model()._default_manager.prefetch_related("groups").order_by("username")


def locked_out_usernames(usernames: Iterable[str], *, now: datetime) -> set[str]:
    """Usernames locked out from at least one address (the failures axes still counts)."""
    recent = AccessAttempt.objects.filter(username__in=list(usernames))
    if settings.AXES_COOLOFF_TIME:
        recent = recent.filter(attempt_time__gte=now - settings.AXES_COOLOFF_TIME)
    per_address = (
        recent.values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
    )
    return {row["username"] for row in per_address}


def _roles(person: AbstractBaseUser) -> list[Role]:
    names = {group.name for group in person.groups.all()}  # prefetched
    return [role for role in Role if role.value in names]


def people_page(page_number: str | int | None, *, now: datetime) -> Page:
    """One page of people, each a PersonRow; two queries (people, groups) plus one for locks."""
    page = Paginator(people_queryset(), PEOPLE_PER_PAGE).get_page(page_number)
    people = list(page.object_list)
    locked = locked_out_usernames([person.get_username() for person in people], now=now)
    page.object_list = [
        PersonRow(person, _roles(person), person.get_username() in locked) for person in people
    ]
    return page


def person_row(person: AbstractBaseUser, *, now: datetime) -> PersonRow:
    locked = locked_out_usernames([person.get_username()], now=now)
    return PersonRow(person, _roles(person), person.get_username() in locked)


# --- Profiles and preferences ---------------------------------------------------------------


def profile_for(user: AbstractBaseUser) -> Profile:
    """The user's profile, created on first use (accounts predate profiles)."""
    profile, _created = Profile.objects.select_related("team").get_or_create(user=user)
    return profile


def _zone_name_or_default(name: str) -> str:
    # A zone the database holds but this machine's tzdata lacks must not break a page.
    if not name:
        return settings.TIME_ZONE
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return settings.TIME_ZONE
    return name


def preferences_for(user: AbstractBaseUser) -> tuple[str, str]:
    """(language, time zone) the user reads Calma in: their own choice, else the team's zone,
    else the organisation's defaults (settings.LANGUAGE_CODE, settings.TIME_ZONE)."""
    profile = profile_for(user)
    return profile.language or settings.LANGUAGE_CODE, time_zone_of(profile)


def time_zone_of(profile: Profile) -> str:
    """The profile's own zone, else its team's, else the organisation's (always a valid name)."""
    zone = profile.time_zone or (profile.team.time_zone if profile.team else "")
    return _zone_name_or_default(zone)


# --- Who is working when -------------------------------------------------------------------


def window_covers(weekday: int, starts_at: time, ends_at: time, local: datetime) -> bool:
    """Whether a weekly window (weekday, start, end in wall-clock time) holds the local moment.

    `ends_at <= starts_at` means the window crosses midnight into the next weekday. Wall-clock
    comparison keeps a 22:00-06:00 shift 22:00-06:00 on DST nights (7 or 9 hours long)."""
    moment = local.time().replace(tzinfo=None)
    today = local.weekday()
    if starts_at < ends_at:
        return weekday == today and starts_at <= moment < ends_at
    started_today = weekday == today and moment >= starts_at
    started_yesterday = weekday == (today - 1) % 7 and moment < ends_at
    return started_today or started_yesterday


def _local(at: datetime, zone_name: str) -> datetime:
    return at.astimezone(zoneinfo.ZoneInfo(_zone_name_or_default(zone_name)))


def on_shift(team: Team, at: datetime) -> bool:
    """Whether one of the team's weekly shifts holds `at` (in the team's time zone)."""
    local = _local(at, team.time_zone)
    return any(
        window_covers(shift.weekday, shift.starts_at, shift.ends_at, local)
        for shift in team.shifts.all()
    )


def teams_on_shift(at: datetime) -> set[int]:
    """Ids of the teams working at `at`: one query over all shifts (a small table)."""
    ids: set[int] = set()
    for shift in Shift.objects.select_related("team"):
        local = _local(at, shift.team.time_zone)
        if window_covers(shift.weekday, shift.starts_at, shift.ends_at, local):
            ids.add(shift.team_id)
    return ids


def managers_on_shift(at: datetime) -> QuerySet:
    """Active community managers whose team is on shift at `at`. A manager with no team
    works the default team's shifts."""
    working = teams_on_shift(at)
    in_working_team = Q(profile__team_id__in=working)
    default_team = Team.objects.filter(is_default=True).values_list("pk", flat=True).first()
    if default_team in working:
        in_working_team |= Q(profile__team__isnull=True)
    return (
        get_user_model()
        ._default_manager.filter(is_active=True, groups__name=Role.COMMUNITY_MANAGER.value)
        .filter(in_working_team)
        .distinct()
        .order_by("pk")
    )


def on_call_supervisor(at: datetime) -> AbstractBaseUser | None:
    """The active supervisor whose on-call slot holds `at`; with overlapping slots, the one
    whose slot was entered first in the rota (lowest id), so the answer is stable."""
    slots = OnCallSlot.objects.filter(
        user__is_active=True, user__groups__name=Role.SUPERVISOR.value
    ).select_related("user")
    for slot in slots.order_by("pk"):
        if window_covers(slot.weekday, slot.starts_at, slot.ends_at, _local(at, slot.time_zone)):
            return slot.user
    return None
