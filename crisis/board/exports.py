"""Rows of each list's CSV export, read with the same selectors and filters as its page."""

import json
from collections.abc import Iterator
from datetime import datetime, tzinfo

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils.translation import gettext

from crisis.board.csv_export import CHUNK_SIZE
from crisis.incidents import sla
from crisis.incidents.forms import InboxFilterForm
from crisis.incidents.selectors import inbox_incident_ids, inbox_viewer
from crisis.rooms.selectors import crisis_list
from crisis.views.audit import AuditFilterForm, audit_events
from monitoring.forms import MentionFilterForm
from monitoring.selectors import mentions_for_explorer

Export = tuple[list[str], Iterator[tuple]]


def _stream(rows: QuerySet) -> Iterator[tuple]:
    """Rows read a chunk at a time (a server-side cursor on Postgres), never all at once."""
    return rows.iterator(chunk_size=CHUNK_SIZE)


INCIDENT_FIELDS = (
    "pk",
    "state",
    "severity",
    "triage_class",
    "topic",
    "owner__username",
    "team__name",
    "opened_at",
    "sla_due_at",
    "first_response_at",
    "reach",
    "author__handle",
    "author__platform",
    "first_mention__text",
)


def incident_rows(user: AbstractBaseUser, query: dict, *, now: datetime) -> Export:
    """The inbox's incidents for this viewer, with the inbox's queue, filters and sort."""
    filters = InboxFilterForm(query or None).filters()
    ids = inbox_incident_ids(inbox_viewer(user), filters, now=now, policy=sla.sla_policy())
    header = [
        gettext("id"),
        gettext("state"),
        gettext("severity"),
        gettext("class"),
        gettext("topic"),
        gettext("owner"),
        gettext("team"),
        gettext("opened at"),
        gettext("SLA due at"),
        gettext("first response at"),
        gettext("reach"),
        gettext("author"),
        gettext("platform"),
        gettext("first mention"),
    ]
    # The same query as the page's ids (order included), reading the row's columns instead.
    return header, _stream(ids.values_list(*INCIDENT_FIELDS))


MENTION_FIELDS = (
    "pk",
    "published_at",
    "platform",
    "author__handle",
    "author__display_name",
    "language",
    "text",
    "url",
    "source__name",
)


def mention_rows(query: dict, *, now: datetime) -> Export:
    """The mentions explorer's results, with its filters."""
    form = MentionFilterForm(query or None)
    filters = form.cleaned_data if form.is_valid() else {}
    mentions = mentions_for_explorer(filters, now=now)
    header = [
        gettext("id"),
        gettext("published at"),
        gettext("platform"),
        gettext("author"),
        gettext("author name"),
        gettext("language"),
        gettext("text"),
        gettext("URL"),
        gettext("source"),
    ]
    return header, _stream(mentions.values_list(*MENTION_FIELDS))


AUDIT_FIELDS = (
    "pk",
    "occurred_at",
    "actor_label",
    "verb",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
)


def audit_rows(query: dict, *, zone: tzinfo) -> Export:
    """The audit log's events, with its filters."""
    form = AuditFilterForm(query or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    events = audit_events(filters, zone=zone).values_list(*AUDIT_FIELDS)
    header = [
        gettext("id"),
        gettext("when"),
        gettext("who"),
        gettext("action"),
        gettext("object type"),
        gettext("object id"),
        gettext("object"),
        gettext("before"),
        gettext("after"),
    ]
    # before/after are JSON: written as their text (still neutralised, like every cell).
    return header, ((*row[:7], _json_text(row[7]), _json_text(row[8])) for row in _stream(events))


def _json_text(value: object) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


CRISIS_FIELDS = (
    "pk",
    "title",
    "level",
    "status",
    "commander__username",
    "declared_at",
    "contained_at",
    "resolved_at",
    "incident_count",
    "topics",
)


def crisis_rows(user: AbstractBaseUser) -> Export:
    """The crises this person may open, in the crisis list's order."""
    header = [
        gettext("id"),
        gettext("title"),
        gettext("level"),
        gettext("status"),
        gettext("commander"),
        gettext("declared at"),
        gettext("contained at"),
        gettext("resolved at"),
        gettext("incidents"),
        gettext("topics"),
    ]
    rows = _stream(crisis_list(user).values_list(*CRISIS_FIELDS))
    return header, ((*row[:9], " ".join(row[9] or [])) for row in rows)
