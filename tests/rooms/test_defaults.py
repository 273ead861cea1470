"""The cabinet's default departments come back after every migrate (a flush empties them)."""

import pytest

from crisis.rooms.defaults import DEFAULT_DEPARTMENTS, ensure_default_departments
from crisis.rooms.models import Department

pytestmark = pytest.mark.django_db


def test_missing_default_departments_are_created_and_renames_kept():
    Department.objects.filter(key="legal").delete()
    Department.objects.filter(key="communications").update(name="Comms & PR")
    ensure_default_departments()
    ensure_default_departments()  # idempotent
    keys = set(Department.objects.values_list("key", flat=True))
    assert {key for key, *_rest in DEFAULT_DEPARTMENTS} <= keys
    assert Department.objects.get(key="legal").is_legal
    assert Department.objects.get(key="communications").name == "Comms & PR"
