"""Protocol schema upgrades: a version written before a section existed gets its defaults.

Versions are immutable and validation requires exactly the known sections, so code that
reads, validates or copies a protocol document passes it through `upgrade` first; a
migration publishes an upgraded active version for installations that predate a section.
"""

import json
from typing import Any

from django.utils.translation import gettext_noop

from protocols.defaults import DEFAULT_CONFIG

# Sections added after version 1 shipped, in the order they were added.
ADDED_SECTIONS = ("incidents", "routing", "sla", "replies", "crisis")

# The notes of a version that a schema upgrade published (shown in the reader's language).
UPGRADE_NOTES = gettext_noop(
    "Published by Calma: the previous active version with the sections added since "
    "(incidents, routing, SLA) at their defaults."
)
CRISIS_UPGRADE_NOTES = gettext_noop(
    "Published by Calma: the previous active version with the crisis section (levels, "
    "statement update cadence, legal approval, publication channels) at its defaults."
)
REPLIES_UPGRADE_NOTES = gettext_noop(
    "Published by Calma: the previous active version with the replies section (approval, "
    "tone check, take-private acknowledgement, moderation) at its defaults."
)


def missing_sections(config: dict[str, Any]) -> list[str]:
    """The added sections this document lacks."""
    return [section for section in ADDED_SECTIONS if section not in config]


def upgrade(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of `config` with every missing added section filled from the shipped defaults.

    Sections already present are kept as they are (validation judges them), so upgrading
    twice changes nothing.
    """
    upgraded = dict(config)
    for name in missing_sections(config):
        upgraded[name] = _shipped(name)
    return upgraded


def section(config: dict[str, Any], name: str) -> dict[str, Any]:
    """One section of a (possibly older) protocol document, with defaults if it lacks it."""
    if name in config:
        return config[name]
    return _shipped(name)


def _shipped(name: str) -> Any:
    """A fresh copy of a shipped section as stored JSON holds it (plain strings, no enums)."""
    return json.loads(json.dumps(DEFAULT_CONFIG[name]))


def publish_upgraded_active_version(apps, notes: str) -> None:
    """A schema-upgrade migration's step: upgrade drafts in place, and when the active version
    lacks a section, archive it and publish its upgraded copy as the new active version with
    `notes`, audited as the system. Uses the migration's historical models (`apps`)."""
    from django.db.models import Max
    from django.utils import timezone

    ProtocolVersion = apps.get_model("protocols", "ProtocolVersion")
    AuditEvent = apps.get_model("crisis", "AuditEvent")
    now = timezone.now()  # a migration is an outermost caller
    for draft in ProtocolVersion.objects.filter(status="draft"):
        if missing_sections(draft.config):
            draft.config = upgrade(draft.config)
            draft.save(update_fields=["config", "updated_at"])
    active = ProtocolVersion.objects.filter(status="active").first()
    if active is None or not missing_sections(active.config):
        return  # a fresh installation gets the full shipped protocol after migrate
    added = missing_sections(active.config)
    number = ProtocolVersion.objects.aggregate(top=Max("number"))["top"] + 1
    # Archive first: at most one active version (exactly_one_active_protocol).
    ProtocolVersion.objects.filter(pk=active.pk).update(status="archived", archived_at=now)
    upgraded = ProtocolVersion.objects.create(
        number=number,
        name=active.name,
        notes=notes,
        status="active",
        config=upgrade(active.config),
        based_on=active,
        created_at=now,
        activated_at=now,
    )
    AuditEvent.objects.create(
        occurred_at=now,
        actor=None,
        actor_label="system",
        verb="protocol.schema_upgrade",
        object_type="protocols.protocolversion",
        object_id=str(upgraded.pk),
        object_repr=f"v{upgraded.number} · {upgraded.name}"[:200],
        before={"active": active.number},
        after={"active": upgraded.number, "added_sections": added},
    )
