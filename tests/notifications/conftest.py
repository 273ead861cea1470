"""Fixtures of the notification tests: people who read Calma in a given language and zone."""

import pytest

from crisis.people.selectors import profile_for
from crisis.roles import Role
from tests.factories import UserFactory


def person(username: str, *, language: str, time_zone: str, email: str | None = None, role=None):
    user = UserFactory(username=username, role=role or Role.COMMUNITY_MANAGER)
    if email is not None:
        user.email = email
        user.save(update_fields=["email"])
    profile = profile_for(user)
    profile.language = language
    profile.time_zone = time_zone
    profile.save(update_fields=["language", "time_zone"])
    return user


@pytest.fixture
def spanish_reader(db):
    return person("lucia", language="es", time_zone="America/Mexico_City")


@pytest.fixture
def english_reader(db):
    return person("tom", language="en", time_zone="Asia/Tokyo")
