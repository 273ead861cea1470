"""Who is working when: team shifts across midnight and DST (Europe/Madrid), the managers on
shift, the on-call supervisor; and the admin pages that edit shifts and the rota."""

from datetime import UTC, datetime, time

import pytest

from crisis.people.models import OnCallSlot, Shift, Team, Weekday
from crisis.people.selectors import (
    managers_on_shift,
    on_call_supervisor,
    on_shift,
    profile_for,
)
from crisis.roles import Role
from tests.factories import UserFactory

MADRID = "Europe/Madrid"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def night_team(db):
    """Works Saturday 22:00 to Sunday 06:00, Madrid time."""
    team = Team.objects.create(name="Night", time_zone=MADRID)
    Shift.objects.create(team=team, weekday=Weekday.SATURDAY, starts_at=time(22), ends_at=time(6))
    return team


# --- on_shift ---------------------------------------------------------------------------------


def test_day_shift_holds_a_moment_inside_it(db):
    team = Team.objects.create(name="Day", time_zone=MADRID)
    Shift.objects.create(team=team, weekday=Weekday.MONDAY, starts_at=time(9), ends_at=time(17))
    # Monday 2026-01-05 10:00 Madrid (CET, UTC+1) is 09:00 UTC.
    assert on_shift(team, utc(2026, 1, 5, 9, 0))


def test_day_shift_ends_exclusive(db):
    team = Team.objects.create(name="Day", time_zone=MADRID)
    Shift.objects.create(team=team, weekday=Weekday.MONDAY, starts_at=time(9), ends_at=time(17))
    assert not on_shift(team, utc(2026, 1, 5, 16, 0))  # 17:00 Madrid


def test_shift_is_read_in_the_team_time_zone_not_utc(db):
    team = Team.objects.create(name="Day", time_zone=MADRID)
    Shift.objects.create(team=team, weekday=Weekday.MONDAY, starts_at=time(9), ends_at=time(17))
    assert not on_shift(team, utc(2026, 1, 5, 16, 30))  # 16:30 UTC is 17:30 in Madrid


def test_night_shift_holds_the_evening_it_starts(night_team):
    assert on_shift(night_team, utc(2026, 1, 10, 22, 30))  # Sat 23:30 Madrid


def test_night_shift_holds_the_next_morning_after_midnight(night_team):
    assert on_shift(night_team, utc(2026, 1, 11, 4, 0))  # Sun 05:00 Madrid


def test_night_shift_does_not_hold_the_same_weekday_morning(night_team):
    assert not on_shift(night_team, utc(2026, 1, 10, 4, 0))  # Sat 05:00 Madrid


def test_night_shift_ends_at_its_wall_clock_end_on_the_spring_forward_night(night_team):
    # 2026-03-29: Madrid jumps from 02:00 CET to 03:00 CEST. 05:59 CEST is 03:59 UTC.
    assert on_shift(night_team, utc(2026, 3, 29, 3, 59))
    assert not on_shift(night_team, utc(2026, 3, 29, 4, 0))  # 06:00 CEST


def test_night_shift_ends_at_its_wall_clock_end_on_the_fall_back_night(db):
    team = Team.objects.create(name="Night", time_zone=MADRID)
    Shift.objects.create(team=team, weekday=Weekday.SATURDAY, starts_at=time(22), ends_at=time(6))
    # 2026-10-25: Madrid falls back from 03:00 CEST to 02:00 CET. 06:00 CET is 05:00 UTC.
    assert on_shift(team, utc(2026, 10, 25, 4, 59))
    assert not on_shift(team, utc(2026, 10, 25, 5, 0))


def test_night_shift_starts_at_its_wall_clock_start_after_the_clocks_change(db):
    team = Team.objects.create(name="Night", time_zone=MADRID)
    Shift.objects.create(team=team, weekday=Weekday.SUNDAY, starts_at=time(22), ends_at=time(6))
    # Sunday 2026-03-29 is already CEST (UTC+2): 22:00 Madrid is 20:00 UTC.
    assert not on_shift(team, utc(2026, 3, 29, 19, 59))
    assert on_shift(team, utc(2026, 3, 29, 20, 0))


def test_team_without_shifts_is_never_on_shift(db):
    team = Team.objects.create(name="Empty", time_zone=MADRID)
    assert not on_shift(team, utc(2026, 1, 5, 10, 0))


# --- managers_on_shift ----------------------------------------------------------------------


def _manager_in(team: Team | None, username: str, **user_fields):
    manager = UserFactory(username=username, role=Role.COMMUNITY_MANAGER, **user_fields)
    profile = profile_for(manager)
    profile.team = team
    profile.save()
    return manager


def test_managers_on_shift_are_the_working_team_members(night_team):
    day = Team.objects.create(name="Day", time_zone=MADRID)
    night_manager = _manager_in(night_team, "night-cm")
    _manager_in(day, "day-cm")
    assert list(managers_on_shift(utc(2026, 1, 10, 23, 0))) == [night_manager]


def test_managers_on_shift_leaves_out_deactivated_managers(night_team):
    _manager_in(night_team, "gone-cm", is_active=False)
    assert list(managers_on_shift(utc(2026, 1, 10, 23, 0))) == []


def test_managers_on_shift_leaves_out_other_roles(night_team):
    boss = UserFactory(username="night-boss", role=Role.SUPERVISOR)
    profile = profile_for(boss)
    profile.team = night_team
    profile.save()
    assert list(managers_on_shift(utc(2026, 1, 10, 23, 0))) == []


def test_manager_without_team_works_the_default_team_shifts(night_team):
    night_team.is_default = True
    night_team.save()
    loose = _manager_in(None, "loose-cm")
    assert list(managers_on_shift(utc(2026, 1, 10, 23, 0))) == [loose]
    assert list(managers_on_shift(utc(2026, 1, 10, 12, 0))) == []


# --- on_call_supervisor ---------------------------------------------------------------------


def test_on_call_supervisor_is_the_one_whose_slot_holds_the_moment(db):
    boss = UserFactory(username="boss-oncall", role=Role.SUPERVISOR)
    OnCallSlot.objects.create(
        user=boss, weekday=Weekday.SATURDAY, starts_at=time(20), ends_at=time(8), time_zone=MADRID
    )
    assert on_call_supervisor(utc(2026, 1, 11, 3, 0)) == boss  # Sun 04:00 Madrid


def test_nobody_is_on_call_outside_every_slot(db):
    boss = UserFactory(username="boss-oncall", role=Role.SUPERVISOR)
    OnCallSlot.objects.create(
        user=boss, weekday=Weekday.SATURDAY, starts_at=time(20), ends_at=time(8), time_zone=MADRID
    )
    assert on_call_supervisor(utc(2026, 1, 11, 12, 0)) is None


def test_deactivated_supervisor_is_not_on_call(db):
    boss = UserFactory(username="boss-gone", role=Role.SUPERVISOR, is_active=False)
    OnCallSlot.objects.create(
        user=boss, weekday=Weekday.SATURDAY, starts_at=time(0), ends_at=time(0), time_zone=MADRID
    )
    assert on_call_supervisor(utc(2026, 1, 10, 12, 0)) is None
