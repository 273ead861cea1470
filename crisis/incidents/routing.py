"""Routing: who gets an incident. A placeholder that leaves every incident in the unassigned
queue until the routing engineer's policy (skills, shifts, capacity) replaces it."""

from datetime import datetime

from crisis.incidents.models import Incident


def route_incident(*, incident_id: int, now: datetime) -> Incident | None:
    """Leave the incident unassigned (the team's unassigned queue shows it)."""
    return None
