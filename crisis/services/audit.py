"""The one helper that writes audit events."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from crisis.models import AuditEvent

SYSTEM_ACTOR_LABEL = "system"


def record_audit_event(
    *,
    actor: AbstractBaseUser | None,
    verb: str,
    target: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. `actor=None` means the system (a task, a schedule)."""
    event = AuditEvent(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor.get_username() if actor is not None else SYSTEM_ACTOR_LABEL,
        verb=verb,
        before=before,
        after=after,
    )
    if target is not None:
        event.object_type = target._meta.label_lower
        event.object_id = str(target.pk)
        event.object_repr = str(target)[:200]
    event.save()
    return event
