"""Incident-page panel of crisis rooms: the crisis an incident belongs to and its approved
statement, ready to insert into a reply (statement slice)."""

from typing import Any

from django import template

from crisis.rooms import access
from crisis.rooms import statement as statements
from crisis.rooms.models import OPEN_CRISIS_STATES, CrisisIncident

register = template.Library()


def panel_items(incident, viewer) -> list[dict[str, Any]]:
    """One entry per open crisis the incident is linked to: the crisis (a link when the viewer
    may open its room), its approved statement, and the short text of the channel on the
    incident's platform when it has its own. A manager working the incident sees the statement
    even without a seat in the cabinet: the statement is what they may say in public."""
    links = (
        CrisisIncident.objects.filter(incident=incident, crisis__status__in=OPEN_CRISIS_STATES)
        .select_related("crisis__protocol_version")
        .order_by("-crisis__declared_at", "-crisis__pk")
    )
    platform = getattr(incident.first_mention, "platform", "") if incident.first_mention_id else ""
    items = []
    for link in links:
        crisis = link.crisis
        approved = statements.approved_version(crisis)
        own = None
        if approved is not None and platform:
            channel = next(
                (
                    channel
                    for channel in statements.channels_of(crisis)
                    if channel.platform == platform or channel.key == platform
                ),
                None,
            )
            if channel is not None:
                checked = statements.channel_text(approved, channel)
                if not checked.same_as_main and not checked.empty:
                    own = checked
        items.append(
            {
                "crisis": crisis,
                "can_view": access.can_view(viewer, crisis),
                "approved": approved,
                "channel_text": own,
            }
        )
    return items


@register.inclusion_tag("rooms/partials/crisis_panel.html", takes_context=True)
def crisis_panel(context, incident):
    request = context.get("request")
    viewer = request.user if request is not None else context.get("user")
    return {"incident": incident, "items": panel_items(incident, viewer), "request": request}
