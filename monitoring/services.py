"""Writes of the monitoring app: sources, quarantine review, pushed and uploaded mentions.

Each function checks permission (where a person acts), changes state in one transaction
and writes the audit event.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crisis.roles import Perm
from crisis.services.audit import record_audit_event
from crisis.services.permissions import require_permission
from monitoring.connectors import connector_for
from monitoring.connectors.base import MentionIn, QuarantinedIn, split_good_and_bad
from monitoring.connectors.csv import RowError, parse_rows
from monitoring.ingest import ingest_mentions, pending_count, quarantine
from monitoring.models import (
    AlertKind,
    Author,
    Mention,
    QuarantinedItem,
    QuarantineStatus,
    Source,
    SourceAlert,
)
from monitoring.platforms import Platform
from monitoring.polling import hand_off_new_mentions


def _source_snapshot(source: Source) -> dict:
    return {field: getattr(source, field) for field in Source.EDITABLE_FIELDS}


def save_source(*, actor, source: Source) -> Source:
    """Create or update a source (from a validated form instance)."""
    require_permission(actor, Perm.MANAGE_SOURCES)
    with transaction.atomic():
        before = None
        if source.pk:
            before = _source_snapshot(Source.objects.get(pk=source.pk))
            changed_target = (
                before["platform"] != source.platform
                or before["query"] != source.query
                or before["kind"] != source.kind
                or before["base_url"] != source.base_url
            )
            if changed_target:
                source.cursor = {}  # a new target starts from its newest items
        source.next_poll_at = timezone.now() if source.enabled else None
        source.save()
        record_audit_event(
            actor=actor,
            verb="source.update" if before else "source.create",
            target=source,
            before=before,
            after=_source_snapshot(source),
        )
    return source


def delete_source(*, actor, source: Source) -> None:
    """Delete a source; its mentions stay (they keep their platform and author), and so
    does its quarantine, without a source."""
    require_permission(actor, Perm.MANAGE_SOURCES)
    with transaction.atomic():
        record_audit_event(
            actor=actor, verb="source.delete", target=source, before=_source_snapshot(source)
        )
        _discard_items_already_waiting_without_source(source, actor=actor, now=timezone.now())
        source.delete()


def _discard_items_already_waiting_without_source(source: Source, *, actor, now) -> None:
    """An item of this source that another deleted source (or an upload without one) left
    waiting already would, once without its source, break the one-pending-copy constraint:
    that copy stays for review and this one is discarded."""
    orphans = QuarantinedItem.objects.filter(source=None, status=QuarantineStatus.PENDING)
    QuarantinedItem.objects.filter(
        source=source,
        status=QuarantineStatus.PENDING,
        fingerprint__in=orphans.values("fingerprint"),
    ).update(status=QuarantineStatus.DISCARDED, resolved_at=now, resolved_by=actor)


def poll_now(*, actor, source: Source) -> None:
    require_permission(actor, Perm.MANAGE_SOURCES)
    Source.objects.filter(pk=source.pk).update(next_poll_at=timezone.now())
    record_audit_event(actor=actor, verb="source.poll_now", target=source)


@dataclass(frozen=True, slots=True)
class Accepted:
    stored: int
    new: int
    quarantined: int
    dropped: int = 0  # refused items beyond the source's quarantine cap
    already_quarantined: int = 0  # refused items already waiting for review


def accept_pushed_items(*, source: Source, items: list, now: datetime) -> Accepted:
    """Store what a webhook pushed: good items ingested, malformed or refused ones
    quarantined with their reason (up to the source's quarantine cap)."""
    connector = connector_for(Platform.WEBHOOK)
    good, bad = split_good_and_bad(items, connector.parse_item, now=now)
    return _store(good, bad, platform=Platform.WEBHOOK, source_id=source.pk, now=now)


@dataclass(frozen=True, slots=True)
class CsvImportResult:
    accepted: Accepted
    errors: list[RowError]


def import_csv(*, actor, text: str, source: Source | None, now: datetime) -> CsvImportResult:
    """Store every valid row; report each invalid one by line and field (nothing stored)."""
    require_permission(actor, Perm.MANAGE_SOURCES)
    mentions, errors = parse_rows(text, now=now)
    source_id = source.pk if source else None
    accepted = _store(mentions, [], platform=Platform.CSV, source_id=source_id, now=now)
    record_audit_event(
        actor=actor,
        verb="mentions.import_csv",
        target=source,
        after={"stored": accepted.stored, "new": accepted.new, "rejected_rows": len(errors)},
    )
    return CsvImportResult(accepted=accepted, errors=errors)


def _store(
    good: list[MentionIn],
    bad: list[QuarantinedIn],
    *,
    platform: str,
    source_id: int | None,
    now: datetime,
) -> Accepted:
    with transaction.atomic():
        result = ingest_mentions(good, source_id=source_id)
        quarantined = quarantine(bad, platform=platform, source_id=source_id, now=now)
        hand_off_new_mentions(result.new_mention_ids)
    return Accepted(
        stored=result.seen,
        new=len(result.new_mention_ids),
        quarantined=quarantined.kept,
        dropped=quarantined.dropped,
        already_quarantined=quarantined.already_quarantined,
    )


class StillMalformed(Exception):
    pass


def reprocess_quarantined(*, actor, item: QuarantinedItem) -> QuarantinedItem:
    """Parse the kept payload again (after a connector fix); store it if it now parses."""
    require_permission(actor, Perm.MANAGE_SOURCES)
    now = timezone.now()
    connector = connector_for(item.platform)
    good, bad = split_good_and_bad([item.raw], connector.parse_item, now=now)
    if bad:
        QuarantinedItem.objects.filter(pk=item.pk).update(
            attempts=F("attempts") + 1, reason=bad[0].reason[:2000]
        )
        raise StillMalformed(bad[0].reason)
    with transaction.atomic():
        item = QuarantinedItem.objects.select_for_update().get(pk=item.pk)
        result = ingest_mentions(good, source_id=item.source_id)
        hand_off_new_mentions(result.new_mention_ids)
        item.attempts += 1
        item.status = QuarantineStatus.REPROCESSED
        item.resolved_at = now
        item.resolved_by = actor
        item.mention_id = _stored_mention_id(good[0])
        item.save(update_fields=["attempts", "status", "resolved_at", "resolved_by", "mention"])
        record_audit_event(actor=actor, verb="quarantine.reprocess", target=item)
        resolve_quarantine_alert_below_cap(item.source_id, now=now)
    return item


def _stored_mention_id(mention: MentionIn) -> int | None:
    return (
        Mention.objects.filter(platform=mention.platform, external_id=mention.external_id)
        .values_list("pk", flat=True)
        .first()
    )


def discard_quarantined(*, actor, item: QuarantinedItem, justification: str) -> QuarantinedItem:
    require_permission(actor, Perm.MANAGE_SOURCES)
    now = timezone.now()
    with transaction.atomic():
        item.status = QuarantineStatus.DISCARDED
        item.resolved_at = now
        item.resolved_by = actor
        item.save(update_fields=["status", "resolved_at", "resolved_by"])
        record_audit_event(
            actor=actor,
            verb="quarantine.discard",
            target=item,
            after={"justification": justification},
        )
        resolve_quarantine_alert_below_cap(item.source_id, now=now)
    return item


def resolve_quarantine_alert_below_cap(source_id: int | None, *, now: datetime) -> bool:
    """Resolve the source's quarantine-full alert once its pending items are below the cap
    again (new items are kept from then on); True when one was resolved."""
    if source_id is None:
        return False
    cap = int(settings.MONITORING["QUARANTINE_CAP_PER_SOURCE"])
    # The lock quarantine() takes, so a delivery cannot fill the queue between count and resolve.
    list(Source.objects.select_for_update().filter(pk=source_id).values_list("pk"))
    if pending_count(source_id, cap=cap) >= cap:
        return False
    resolved = SourceAlert.objects.filter(
        source_id=source_id, kind=AlertKind.QUARANTINE_FULL, resolved_at=None
    ).update(resolved_at=now)
    return bool(resolved)


AUTHOR_FLAG_PATTERN = re.compile(r"^[a-z][a-z_]{0,31}$")
MAX_AUTHOR_FLAGS = 8


def set_author_flags(*, actor, author: Author, flags: list[str], reason: str) -> Author:
    """People who work incidents flag an author (influencer, ambassador, known troll,
    customer: the names the protocol weighs, checked by the caller's form), with a reason.
    The next score of the author's mentions weighs the flags; past scores stay as they were."""
    require_permission(actor, Perm.TRIAGE)
    reason = (reason or "").strip()
    wanted = sorted(set(flags))
    if not reason:
        raise ValueError("a reason is required to change an author's flags")
    if len(wanted) > MAX_AUTHOR_FLAGS or not all(AUTHOR_FLAG_PATTERN.match(f) for f in wanted):
        raise ValueError("author flags are short lower-case names")
    with transaction.atomic():
        author = Author.objects.select_for_update().get(pk=author.pk)
        before = sorted(author.flags or [])
        if before == wanted:
            return author
        author.flags = wanted
        author.save(update_fields=["flags"])
        record_audit_event(
            actor=actor,
            verb="author.flags",
            target=author,
            before={"flags": before},
            after={"flags": wanted, "reason": reason},
        )
    return author
