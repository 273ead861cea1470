"""The board's data version: a short string that changes when what the board shows changes, so
its cached fragments are keyed by it (and by the minute, which bounds what it misses).

One query of scalar subselects, each an index read or a small table:
- MentionHour, AuthorHour, IncidentHour: the newest row id (each recompute of an hour
  deletes and inserts its rows, so any recompute moves it);
- Incident: the latest `updated_at` (saves: open, assign, reply, close, severity raised…) and
  the newest id;
- Crisis: the latest `updated_at` (declared, contained, resolved, commander changed);
- StatementVersion: the newest id and approval (the next update due); Commitment: the newest
  id, and Task: the latest `done_at` (open commitments);
- SurgeAlert: the newest id; CrisisSuggestion: the newest id and dismissal (the headline).
Not covered: changes made by queryset.update() without touching these columns (the SLA
sweep's breach marks, a task re-opened); the minute in the cache key catches those.
"""

from __future__ import annotations

import hashlib

from django.db import connection
from django.db.models import Model

from crisis.board.models import AuthorHour, IncidentHour, MentionHour
from crisis.incidents.models import Incident
from crisis.rooms.models import Commitment, Crisis, StatementVersion, Task
from protocols.models import CrisisSuggestion, SurgeAlert

# (model, field) whose maximum data_version() reads.
WATCHED: tuple[tuple[type[Model], str], ...] = (
    (MentionHour, "id"),
    (AuthorHour, "id"),
    (IncidentHour, "id"),
    (Incident, "updated_at"),
    (Incident, "id"),
    (Crisis, "updated_at"),
    (StatementVersion, "id"),
    (StatementVersion, "approved_at"),
    (Commitment, "id"),
    (Task, "done_at"),
    (SurgeAlert, "id"),
    (CrisisSuggestion, "id"),
    (CrisisSuggestion, "dismissed_at"),
)


def _version_sql() -> str:
    """Table and column names come from the models' metadata, never from input."""
    quote = connection.ops.quote_name
    parts = [
        f"(SELECT MAX({quote(model._meta.get_field(name).column)}) "  # noqa: S608
        f"FROM {quote(model._meta.db_table)})"
        for model, name in WATCHED
    ]
    return "SELECT " + ", ".join(parts)


def data_version() -> str:
    """16 hex characters; equal values mean none of the watched columns moved (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_version_sql())
        row = cursor.fetchone()
    digest = hashlib.blake2b("|".join(map(str, row)).encode(), digest_size=8)
    return digest.hexdigest()
