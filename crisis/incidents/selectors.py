"""Reads of incidents: where a scored mention belongs (the incident stage's lookups)."""

from datetime import timedelta

from crisis.incidents.models import OPEN_STATES, Incident, IncidentMention, IncidentState
from crisis.people.models import Team
from monitoring.models import Mention


def default_team_id() -> int | None:
    """The team that gets incidents routing cannot place elsewhere (None until one is set)."""
    return Team.objects.filter(is_default=True).values_list("pk", flat=True).first()


def incident_replied_to(mention: Mention) -> Incident | None:
    """The open incident holding the mention this one replies to (same platform and origin)."""
    if not mention.reply_to_id:
        return None
    link = (
        IncidentMention.objects.filter(
            mention__platform=mention.platform,
            mention__external_id=mention.reply_to_id,
            incident__state__in=OPEN_STATES,
            incident__origin=mention.origin,
        )
        .select_related("incident")
        .first()
    )
    return link.incident if link else None


def open_incident_of_author(
    mention: Mention, topics: list[str], *, window: timedelta
) -> Incident | None:
    """The author's open incident on one of the mention's topics with a mention of theirs
    published within `window` of this one (the newest such incident)."""
    return (
        Incident.objects.filter(
            author_id=mention.author_id,
            origin=mention.origin,
            state__in=OPEN_STATES,
            topic__in=topics,
            links__mention__published_at__gte=mention.published_at - window,
            links__mention__published_at__lte=mention.published_at + window,
        )
        .order_by("-opened_at", "-pk")
        .first()
    )


def resolved_incident_to_reopen(
    mention: Mention, topics: list[str], *, window: timedelta
) -> Incident | None:
    """The author's incident on one of the mention's topics resolved within `window` before
    the mention was published (the most recently resolved)."""
    return (
        Incident.objects.filter(
            author_id=mention.author_id,
            origin=mention.origin,
            state=IncidentState.RESOLVED,
            topic__in=topics,
            resolved_at__gte=mention.published_at - window,
        )
        .order_by("-resolved_at", "-pk")
        .first()
    )
