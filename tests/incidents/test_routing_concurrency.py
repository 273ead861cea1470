"""Acceptance 2: 200 incidents routed by 8 concurrent workers (threads, each with its own
Postgres connection): each assigned exactly once, no manager over capacity, all to eligible
managers, and nothing left unassigned while an eligible manager had room."""

import random
import threading
from collections import Counter
from datetime import time

import pytest
from django.db import connection

from crisis.incidents import routing
from crisis.incidents.models import OPEN_STATES, Incident
from crisis.models import AuditEvent
from crisis.people.models import Profile
from tests.incidents.factories import NOW, incident
from tests.incidents.routing_helpers import skilled_manager, team_on_shift

INCIDENTS = 200
WORKERS = 8
# (languages, platforms, capacity): 150 seats for 200 incidents, so capacity binds.
MANAGERS = [
    (("es",), (), 20),
    (("es",), (), 20),
    (("es", "en"), (), 20),
    (("en",), (), 15),
    (("en",), ("bluesky",), 15),
    (("es",), ("mastodon",), 20),
    (("es", "en"), ("bluesky",), 10),
    (("es",), (), 10),
    (("en",), (), 10),
    (("es",), (), 10),
]


def _workforce():
    care = team_on_shift()
    night = team_on_shift("Night", starts=time(22, 0), ends=time(6, 0))
    for number, (languages, platforms, capacity) in enumerate(MANAGERS):
        skilled_manager(
            f"cm{number}", team=care, languages=languages, platforms=platforms, max_open=capacity
        )
    # Off shift: must never get anything.
    skilled_manager("sleeper", team=night, languages=("es", "en"), max_open=100)


def _incidents() -> list[int]:
    ids = []
    for number in range(INCIDENTS):
        case = incident()
        if number % 3 == 0:  # a third in English
            case.first_mention.language = "en"
            case.first_mention.save(update_fields=["language"])
        if number % 5 == 0:  # some on Mastodon
            case.first_mention.platform = "mastodon"
            case.first_mention.save(update_fields=["platform"])
        ids.append(case.pk)
    return ids


def _route_all(ids: list[int], seed: int, errors: list[BaseException], start) -> None:
    order = ids[:]
    random.Random(seed).shuffle(order)  # noqa: S311 (a test order, not a secret)
    try:
        start.wait(timeout=30)
        for incident_id in order:
            routing.route_incident(incident_id=incident_id, now=NOW)
    except BaseException as error:  # reported below, not lost in the thread
        errors.append(error)
    finally:
        connection.close()


def _eligible(user, case) -> bool:
    profile = Profile.objects.get(user=user)
    needs = routing.needs_of(case)
    speaks = needs.language in profile.languages
    works_platform = not profile.platforms or needs.platform in profile.platforms
    return speaks and works_platform and profile.team.name == "Care"


@pytest.mark.django_db(transaction=True)
def test_eight_workers_route_two_hundred_incidents_once_each_within_capacity():
    _workforce()
    ids = _incidents()
    errors: list[BaseException] = []
    start = threading.Barrier(WORKERS)
    threads = [
        threading.Thread(target=_route_all, args=(ids, seed, errors, start))
        for seed in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []

    assignments = Counter(
        AuditEvent.objects.filter(verb="incident.assign").values_list("object_id", flat=True)
    )
    assert all(count == 1 for count in assignments.values())  # each at most once
    cases = list(Incident.objects.select_related("first_mention", "owner"))
    assigned = [case for case in cases if case.owner_id]
    assert len(assigned) == len(assignments)

    loads = Counter(case.owner_id for case in assigned if case.state in OPEN_STATES)
    capacities = dict(Profile.objects.values_list("user_id", "max_open_incidents"))
    assert all(load <= capacities[owner] for owner, load in loads.items())
    assert all(_eligible(case.owner, case) for case in assigned)

    # Left unassigned only when every manager with the skills was full.
    for case in cases:
        if case.owner_id is None:
            able = [
                user
                for user in {c.owner for c in assigned}
                if _eligible(user, case) and loads[user.pk] < capacities[user.pk]
            ]
            assert able == [], f"incident {case.pk} left unassigned while {able} had room"
