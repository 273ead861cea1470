"""Builders for the drafts and approvals tests: protocol versions with changed rules, people
with approval capabilities, incidents ready to answer."""

from copy import deepcopy
from itertools import count

from django.contrib.auth.models import Group

from crisis.incidents.models import Incident, IncidentState
from crisis.roles import LEGAL_REVIEWER_GROUP, Role, ensure_role_groups
from protocols.models import ProtocolStatus, ProtocolVersion
from protocols.schema import upgrade
from protocols.services import active_version
from tests.factories import UserFactory
from tests.incidents.factories import incident as incident_factory
from tests.incidents.factories import scored_mention

_numbers = count(9000)


def protocol(change=None) -> ProtocolVersion:
    """An archived protocol version: the active one's document, changed by `change(config)`."""
    config = deepcopy(upgrade(active_version().config))
    if change is not None:
        change(config)
    return ProtocolVersion.objects.create(
        number=next(_numbers), name="test", status=ProtocolStatus.ARCHIVED, config=config
    )


def make_supervisor(username: str):
    return UserFactory(username=username, role=Role.SUPERVISOR)


def legal_reviewer(user):
    ensure_role_groups()
    user.groups.add(Group.objects.get(name=LEGAL_REVIEWER_GROUP))
    # has_perm caches permissions on the instance: start afresh.
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        if hasattr(user, cache):
            delattr(user, cache)
    return user


def case(
    *,
    owner=None,
    of=None,
    state: str = IncidentState.ASSIGNED,
    severity: str = "high",
    triage_class: str = "complaint_company_fault",
    version: ProtocolVersion | None = None,
    groups: tuple[str, ...] = (),
    text: str | None = None,
    language: str = "es",
    platform: str | None = None,
) -> Incident:
    """An incident to answer, owned by `owner` (in `state`)."""
    made = incident_factory(state=state, owner=owner, of=of, severity=severity)
    made.triage_class = triage_class
    made.opened_score = {
        "value": 60,
        "severity": severity,
        "class": triage_class,
        "matched_groups": list(groups),
        "language": language,
    }
    if version is not None:
        made.protocol_version = version
    made.save()
    mention = made.first_mention
    mention.language = language
    if text is not None:
        mention.text = text
    if platform is not None:
        mention.platform = platform
        mention.author.platform = platform
        mention.author.save()
    mention.save()
    return made


def attach_mention(incident: Incident, *, groups: tuple[str, ...]):
    """A later mention of the thread that matched keyword groups."""
    from crisis.incidents.models import IncidentMention

    mention = scored_mention(by=incident.author, matched_groups=groups)
    IncidentMention.objects.create(
        incident=incident, mention=mention, severity="high", attached_at=mention.published_at
    )
    return mention
