"""Builders for incident tests: authors, scored mentions (as the scoring stage stores them),
incidents in a given state, teams and managers."""

from datetime import UTC, datetime, timedelta
from itertools import count

from crisis.incidents.models import Incident, IncidentMention, IncidentState
from crisis.people.models import Profile, Team
from crisis.roles import Role
from monitoring.models import Author, Mention
from protocols.models import MentionScore
from protocols.services import active_version
from tests.factories import UserFactory

_numbers = count(1)
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def author(
    handle: str | None = None, *, followers: int = 1000, platform: str = "bluesky"
) -> Author:
    handle = handle or f"author{next(_numbers)}"
    return Author.objects.create(platform=platform, handle=handle, followers=followers)


def scored_mention(
    *,
    by: Author | None = None,
    text: str = "Me habéis cobrado dos veces",
    severity: str = "high",
    triage_class: str = "complaint_company_fault",
    published_at: datetime = NOW,
    reply_to: Mention | None = None,
    matched_groups: tuple[str, ...] = (),
    origin: str = "live",
) -> Mention:
    """A stored mention with its score, as the scoring stage leaves it."""
    by = by or author()
    number = next(_numbers)
    mention = Mention.objects.create(
        platform=by.platform,
        external_id=f"at://post/{number}",
        author=by,
        text=text,
        language="es",
        published_at=published_at,
        reply_to_id=reply_to.external_id if reply_to else "",
        origin=origin,
    )
    MentionScore.objects.create(
        mention=mention,
        protocol_version=active_version(),
        value={"low": 10, "medium": 40, "high": 60, "critical": 90}[severity],
        severity=severity,
        triage_class=triage_class,
        sentiment=-0.5,
        language="es",
        matched_groups=list(matched_groups),
        signals=[{"kind": "base", "contribution": 10, "params": {}, "label": "base score"}],
        scored_at=published_at,
    )
    return mention


def team(name: str = "Customer care", *, is_default: bool = False) -> Team:
    return Team.objects.create(name=name, is_default=is_default)


def manager(username: str, *, of: Team | None = None):
    user = UserFactory(username=username, role=Role.COMMUNITY_MANAGER)
    Profile.objects.update_or_create(user=user, defaults={"team": of})
    return user


def incident(
    *,
    state: str = IncidentState.NEW,
    owner=None,
    of: Team | None = None,
    severity: str = "high",
    first_response_at: datetime | None = None,
    at: datetime = NOW,
) -> Incident:
    """An incident in `state`, with its first mention attached."""
    mention = scored_mention(severity=severity, published_at=at)
    created = Incident.objects.create(
        team=of,
        owner=owner,
        state=state,
        severity=severity,
        triage_class="complaint_company_fault",
        topic="__all__",
        author=mention.author,
        first_mention=mention,
        opened_at=at,
        opened_score={"value": 60, "severity": severity},
        protocol_version=active_version(),
        sla_due_at=at + timedelta(minutes=60),
        reach=mention.author.followers,
        last_activity_at=at,
        first_response_at=first_response_at,
        resolved_at=at if state == IncidentState.RESOLVED else None,
    )
    IncidentMention.objects.create(
        incident=created, mention=mention, severity=severity, attached_at=at
    )
    return created
