"""Crisis-room section tag (see templates/rooms/room.html): the resolution criteria, computed
from the data, with the commander's resolve form, and once resolved how it was resolved and
the way to the post-mortem."""

from datetime import datetime

from django import template
from django.utils import timezone

from crisis.models import AuditEvent
from crisis.rooms import access, resolution
from crisis.rooms.forms_postmortem import ResolveForm
from crisis.rooms.models import Crisis, CrisisStatus, PostMortem

register = template.Library()


def resolution_event(crisis: Crisis) -> AuditEvent | None:
    """The audit event of the crisis's latest resolution (its note and the criteria then)."""
    return (
        AuditEvent.objects.filter(
            object_type=Crisis._meta.label_lower, object_id=str(crisis.pk), verb="crisis.resolve"
        )
        .order_by("-occurred_at", "-id")
        .first()
    )


def resolution_context(
    crisis: Crisis,
    viewer,
    *,
    now: datetime,
    resolve_form: ResolveForm | None = None,
    notice: str = "",
    error: str = "",
) -> dict:
    """What the section shows this viewer: the criteria while the crisis is open (a few
    counted queries), the resolution and the post-mortem once resolved."""
    can_resolve = crisis.is_open and access.can_resolve(viewer, crisis)
    criteria = resolution.resolution_criteria(crisis, now=now) if crisis.is_open else []
    post_mortem = None
    event = None
    if not crisis.is_open:
        post_mortem = (
            PostMortem.objects.filter(crisis=crisis).only("pk", "state", "completed_at").first()
        )
        event = resolution_event(crisis)
    after = (event.after or {}) if event else {}
    return {
        "crisis": crisis,
        "now": now,
        "criteria": criteria,
        "unmet": [item for item in criteria if item.met is False],
        "can_resolve": can_resolve,
        "resolve_form": resolve_form or (ResolveForm() if can_resolve else None),
        "resolution_note": after.get("note", ""),
        "unmet_at_resolution": [resolution.criterion_label(key) for key in after.get("unmet", [])],
        "post_mortem": post_mortem,
        "can_start_post_mortem": post_mortem is None
        and crisis.status == CrisisStatus.RESOLVED
        and access.can_act(viewer, crisis),
        "notice": notice,
        "error": error,
    }


@register.inclusion_tag("rooms/partials/resolution_section.html", takes_context=True)
def resolution_section(context, crisis):
    """Resolution criteria, the resolve form, and the post-mortem link."""
    return resolution_context(crisis, context["request"].user, now=timezone.now())
