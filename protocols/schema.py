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
ADDED_SECTIONS = ("incidents", "routing", "sla", "replies")

# The notes of a version that a schema upgrade published (shown in the reader's language).
UPGRADE_NOTES = gettext_noop(
    "Published by Calma: the previous active version with the sections added since "
    "(incidents, routing, SLA) at their defaults."
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
