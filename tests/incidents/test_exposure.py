"""Exposure: reach times minutes unanswered in public, per incident and as a database sort."""

from datetime import timedelta

import pytest

from crisis.incidents.exposure import exposure, with_exposure
from crisis.incidents.models import Incident
from tests.incidents.factories import NOW, incident

pytestmark = pytest.mark.django_db


def test_exposure_grows_with_the_minutes_unanswered():
    case = incident()  # the factory's author has 1,000 followers
    assert exposure(case, now=NOW + timedelta(minutes=30)) == 30_000


def test_exposure_stops_at_the_first_public_response():
    case = incident(first_response_at=NOW + timedelta(minutes=10))
    assert exposure(case, now=NOW + timedelta(hours=5)) == 10_000


def test_exposure_is_zero_when_the_reach_is_unknown():
    case = incident()
    case.reach = None
    assert exposure(case, now=NOW + timedelta(minutes=30)) == 0


def test_the_database_exposure_equals_the_incidents_own():
    case = incident(first_response_at=NOW + timedelta(minutes=7, seconds=30))
    later = NOW + timedelta(hours=1)
    annotated = with_exposure(Incident.objects.filter(pk=case.pk), now=later).get()
    assert annotated.exposure == pytest.approx(exposure(case, now=later))


def test_the_inbox_can_sort_by_exposure_in_the_database():
    quiet = incident()
    loud = incident()
    answered = incident(first_response_at=NOW + timedelta(minutes=1))
    Incident.objects.filter(pk=quiet.pk).update(reach=10)
    Incident.objects.filter(pk=loud.pk).update(reach=50_000)
    Incident.objects.filter(pk=answered.pk).update(reach=50_000)
    ordered = with_exposure(Incident.objects.all(), now=NOW + timedelta(hours=1)).order_by(
        "-exposure"
    )
    assert list(ordered.values_list("pk", flat=True)) == [loud.pk, answered.pk, quiet.pk]
