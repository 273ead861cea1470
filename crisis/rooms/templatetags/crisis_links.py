"""Incident-page part of the crises slice: link the incident to an open crisis (whoever can
act on it), or declare a crisis from it (supervisors)."""

from django import template

from crisis.rooms import crises, selectors
from crisis.rooms.forms import LinkIncidentForm

register = template.Library()


@register.inclusion_tag("rooms/partials/incident_crisis_link.html", takes_context=True)
def crisis_link(context, incident):
    user = context["request"].user
    can_link = crises.can_link(user, incident) or crises.access.runs_every_crisis(user)
    form = None
    if can_link:
        open_crises = selectors.open_crises_to_link(incident)
        if open_crises.exists():
            form = LinkIncidentForm(crises=open_crises, auto_id=f"link-{incident.pk}-%s")
    return {
        "incident": incident,
        "link_form": form,
        "can_declare": crises.can_declare(user) and incident.origin == "live",
    }


@register.inclusion_tag("rooms/partials/suggestion_banner_note.html")
def last_dismissal_note():
    """For the supervisors' banner (shown only while suggestions are open): the newest open
    suggestion and, when its topic was suggested before, why, when and by whom the last one
    was dismissed or accepted (one query)."""
    from protocols.selectors import open_suggestions

    return {"suggestion": open_suggestions().first()}
