"""Builders for the resolution and post-mortem tests: mentions stored with their topics (as the
scoring stage leaves them), incidents opened on a given mention, an approved statement with
its publication checklist, commitments, and resolved crises."""

from datetime import datetime, timedelta
from decimal import Decimal

from crisis.incidents.models import Incident, IncidentMention, IncidentState
from crisis.replies.models import Compensation, CompensationState
from crisis.rooms.models import (
    Commitment,
    Crisis,
    CrisisStatus,
    Publication,
    PublicationState,
    Statement,
    StatementState,
    StatementVersion,
    Task,
    TaskStatus,
)
from monitoring.models import Author, Mention
from protocols.models import MentionTopic
from protocols.services import active_version
from protocols.topics import topics_for
from tests.incidents.factories import author, scored_mention


def on_topics(
    topics: tuple[str, ...] = ("billing",),
    *,
    at: datetime,
    severity: str = "medium",
    by: Author | None = None,
    followers: int = 100,
    text: str = "Me habéis cobrado dos veces",
    origin: str = "live",
) -> Mention:
    """A scored mention stored with these topics (MentionTopic rows, as scoring stores them)."""
    mention = scored_mention(
        by=by or author(followers=followers),
        text=text,
        severity=severity,
        published_at=at,
        origin=origin,
    )
    for topic in topics:
        MentionTopic.objects.create(mention=mention, topic=topic, published_at=at, origin=origin)
    return mention


def stored_as_scored(mention: Mention) -> Mention:
    """Store the topics scoring would give the mention's text (overall + hashtags)."""
    for topic in topics_for(mention.text, ()):
        MentionTopic.objects.get_or_create(
            mention=mention,
            topic=topic,
            defaults={"published_at": mention.published_at, "origin": mention.origin},
        )
    return mention


def incident_on(
    mention: Mention,
    *,
    state: str = IncidentState.REPLIED,
    first_response_at: datetime | None = None,
    sla_breached_at: datetime | None = None,
    severity: str | None = None,
    topic: str = "billing",
) -> Incident:
    """An incident opened on `mention` when it was published, its reach the author's."""
    severity = severity or mention.score.severity
    made = Incident.objects.create(
        state=state,
        severity=severity,
        triage_class="complaint_company_fault",
        topic=topic,
        author=mention.author,
        first_mention=mention,
        opened_at=mention.published_at,
        opened_score={"value": 60, "severity": severity},
        protocol_version=active_version(),
        sla_due_at=mention.published_at + timedelta(minutes=60),
        sla_breached_at=sla_breached_at,
        reach=mention.author.followers,
        last_activity_at=mention.published_at,
        first_response_at=first_response_at,
        resolved_at=mention.published_at if state == IncidentState.RESOLVED else None,
    )
    IncidentMention.objects.create(
        incident=made, mention=mention, severity=severity, attached_at=mention.published_at
    )
    return made


def compensation(incident: Incident, amount: str, currency: str = "EUR", *, by, granted=True):
    return Compensation.objects.create(
        incident=incident,
        kind="refund",
        amount=Decimal(amount),
        currency=currency,
        state=CompensationState.GRANTED if granted else CompensationState.OFFERED,
        offered_by=by,
        offered_at=incident.opened_at,
        granted_at=incident.opened_at if granted else None,
    )


def statement_version(
    crisis: Crisis,
    *,
    by,
    approved_at: datetime | None,
    channels: dict[str, bool] | None = None,
    number: int = 1,
    state: str | None = None,
) -> StatementVersion:
    """A version of the crisis's statement (approved when `approved_at`), with one publication
    per channel: {channel: published?}."""
    statement, _created = Statement.objects.get_or_create(
        crisis=crisis, defaults={"created_at": crisis.declared_at}
    )
    version = StatementVersion.objects.create(
        statement=statement,
        number=number,
        text="Hemos cobrado dos veces algunas tarjetas; lo estamos devolviendo.",
        state=state or (StatementState.APPROVED if approved_at else StatementState.DRAFT),
        author=by,
        created_at=crisis.declared_at,
        approved_at=approved_at,
    )
    for channel, published in (channels or {}).items():
        Publication.objects.create(
            version=version,
            channel=channel,
            state=PublicationState.PUBLISHED if published else PublicationState.PENDING,
            published_at=approved_at if published else None,
            published_by=by if published else None,
        )
    return version


def commitment(
    version: StatementVersion,
    *,
    by,
    due_at: datetime,
    task_due_at: datetime | None = None,
    status: str = TaskStatus.TODO,
) -> Commitment:
    crisis = version.statement.crisis
    task = Task.objects.create(
        crisis=crisis,
        title="Refunds by Friday",
        owner=by,
        due_at=task_due_at or due_at,
        status=status,
        created_by=by,
        created_at=crisis.declared_at,
        done_at=crisis.declared_at if status == TaskStatus.DONE else None,
    )
    return Commitment.objects.create(
        version=version,
        sentence="Refunds by Friday",
        due_at=due_at,
        task=task,
        marked_by=by,
        marked_at=crisis.declared_at,
    )


def resolve(crisis: Crisis, at: datetime, *, by=None) -> Crisis:
    crisis.status = CrisisStatus.RESOLVED
    crisis.resolved_at = at
    crisis.resolved_by = by or crisis.commander
    crisis.save()
    return crisis
