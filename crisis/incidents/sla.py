"""The SLA clock that acts: status and time left of an incident's first-response deadline, the
same status as a database annotation for the inbox, and the beat sweep that warns the owner,
records the breach, tells the supervisors and hands a breached incident back to routing.

The warning moment is `sla_due_at - (1 - warn_at_fraction) times the severity's SLA minutes` of the
active protocol: counted back from the deadline, so a reopened incident (fresh deadline) and
one whose severity rose (earlier deadline) warn at the right time too.

A reopened incident awaits a NEW first response (`awaiting_response_since` is set again), so
its clock runs, warns and breaches on the fresh deadline; `first_response_at` keeps the
first-ever response for the board.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.utils.translation import gettext_noop

from crisis.incidents import routing, services
from crisis.incidents.models import LIVE_ORIGIN, OPEN_STATES, Incident, IncidentState
from crisis.incidents.transitions import is_allowed
from crisis.services.audit import record_audit_event
from protocols.models import ProtocolStatus, ProtocolVersion
from protocols.schema import section


class SlaStatus:
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    warn_at_fraction: float
    handback_on_breach: bool
    # Minutes of first-response SLA per severity (severities without one are absent).
    minutes: dict[str, int] = field(default_factory=dict)

    def warn_before_due(self, severity: str) -> timedelta | None:
        minutes = self.minutes.get(severity)
        if not minutes:
            return None
        return timedelta(minutes=minutes * (1 - self.warn_at_fraction))


@dataclass(frozen=True, slots=True)
class SweepResult:
    warned: list[int]
    breached: list[int]
    handed_back: list[int]


def sla_policy(config: dict[str, Any] | None = None) -> SlaPolicy:
    """The SLA options and per-severity minutes of `config` (default: the active protocol)."""
    if config is None:
        # Only the two sections: the whole document (lexicons) is large.
        sections = (
            ProtocolVersion.objects.filter(status=ProtocolStatus.ACTIVE)
            .values("config__sla", "config__policies")
            .first()
        ) or {}
        config = {
            name: sections[f"config__{name}"]
            for name in ("sla", "policies")
            if sections.get(f"config__{name}")
        }
    options = section(config, "sla")
    minutes = {
        severity: int(policy["sla_minutes"])
        for severity, policy in (config.get("policies") or {}).items()
        if (policy or {}).get("sla_minutes")
    }
    return SlaPolicy(
        warn_at_fraction=float(options["warn_at_fraction"]),
        handback_on_breach=bool(options["handback_on_breach"]),
        minutes=minutes,
    )


# --- one incident -----------------------------------------------------------------------------


def warn_at(incident: Incident, policy: SlaPolicy) -> datetime | None:
    """When the owner is warned (None without a deadline or an SLA for the severity)."""
    before = policy.warn_before_due(incident.severity)
    if incident.sla_due_at is None or before is None:
        return None
    return incident.sla_due_at - before


def is_awaiting_response(incident: Incident) -> bool:
    """Never answered, or reopened since its last answer: the first-response clock runs."""
    return incident.awaiting_response_since is not None or incident.first_response_at is None


def awaiting_response() -> Q:
    """is_awaiting_response() as a database condition."""
    return Q(awaiting_response_since__isnull=False) | Q(first_response_at__isnull=True)


def sla_status(incident: Incident, *, now: datetime, policy: SlaPolicy | None = None) -> str:
    """ "met" (answered in time), "breached" (late or unanswered past the deadline),
    "warning" (past the warning moment) or "ok" (also when there is no deadline)."""
    due = incident.sla_due_at
    if due is None:
        return SlaStatus.OK
    if not is_awaiting_response(incident):
        # A late answer after a reopen is known by its recorded breach (the first-ever
        # response predates the reopened clock).
        late = incident.sla_breached_at is not None or incident.first_response_at > due
        return SlaStatus.BREACHED if late else SlaStatus.MET
    if incident.sla_breached_at is not None or now >= due:
        return SlaStatus.BREACHED
    warning = warn_at(incident, policy or sla_policy())
    if incident.sla_warned_at is not None or (warning is not None and now >= warning):
        return SlaStatus.WARNING
    return SlaStatus.OK


def seconds_left(incident: Incident, *, now: datetime) -> int | None:
    """Seconds until the first-response deadline (negative once past; None when answered or
    without a deadline): what the live countdown shows."""
    if incident.sla_due_at is None or not is_awaiting_response(incident):
        return None
    return int((incident.sla_due_at - now).total_seconds())


# --- many incidents (inbox) -------------------------------------------------------------------


def _warning_condition(now: datetime, policy: SlaPolicy) -> Q:
    condition = Q(sla_warned_at__isnull=False)
    for severity in policy.minutes:
        before = policy.warn_before_due(severity)
        condition |= Q(severity=severity, sla_due_at__lte=now + before)
    return condition


def sla_status_expression(*, now: datetime, policy: SlaPolicy | None = None) -> Case:
    """sla_status() as a database expression, for filtering and sorting the inbox."""
    policy = policy or sla_policy()
    answered = ~awaiting_response()
    in_time = Q(sla_breached_at__isnull=True, first_response_at__lte=F("sla_due_at"))
    return Case(
        When(sla_due_at__isnull=True, then=Value(SlaStatus.OK)),
        When(answered & in_time, then=Value(SlaStatus.MET)),
        When(answered, then=Value(SlaStatus.BREACHED)),
        When(
            Q(sla_breached_at__isnull=False) | Q(sla_due_at__lte=now),
            then=Value(SlaStatus.BREACHED),
        ),
        When(_warning_condition(now, policy), then=Value(SlaStatus.WARNING)),
        default=Value(SlaStatus.OK),
        output_field=CharField(),
    )


def with_sla_status(queryset: QuerySet, *, now: datetime) -> QuerySet:
    """The queryset annotated with `sla_status`."""
    return queryset.annotate(sla_status=sla_status_expression(now=now))


# --- the sweep --------------------------------------------------------------------------------


def _unanswered() -> QuerySet:
    return Incident.objects.filter(
        awaiting_response(),
        origin=LIVE_ORIGIN,
        state__in=OPEN_STATES,
        sla_due_at__isnull=False,
        sla_breached_at__isnull=True,
    )


def due_for_breach(*, now: datetime) -> QuerySet:
    return _unanswered().filter(sla_due_at__lte=now)


def due_for_warning(*, now: datetime, policy: SlaPolicy) -> QuerySet:
    """Owned, unanswered, not yet warned and past the warning moment (an unowned incident is
    warned once someone gets it: the warning goes to the owner)."""
    if not policy.minutes:
        return Incident.objects.none()
    moments = Q()
    for severity in policy.minutes:
        moments |= Q(severity=severity, sla_due_at__lte=now + policy.warn_before_due(severity))
    return (
        _unanswered()
        .filter(owner__isnull=False, sla_warned_at__isnull=True, sla_due_at__gt=now)
        .filter(moments)
    )


def sweep_sla(*, now: datetime, limit: int = 1000) -> SweepResult:
    """Breaches first (an incident past its deadline is not warned), then warnings. Each
    incident is claimed with SKIP LOCKED, so overlapping sweeps act once."""
    policy = sla_policy()
    breached, handed_back = [], []
    for incident_id in _ids(due_for_breach(now=now), limit):
        outcome = _breach(incident_id, now=now, policy=policy)
        if outcome is None:
            continue
        breached.append(incident_id)
        if outcome:
            handed_back.append(incident_id)
            routing.route_incident(incident_id=incident_id, now=now)
    warned = [
        incident_id
        for incident_id in _ids(due_for_warning(now=now, policy=policy), limit)
        if _warn(incident_id, now=now, policy=policy)
    ]
    return SweepResult(warned=warned, breached=breached, handed_back=handed_back)


def _ids(queryset: QuerySet, limit: int) -> list[int]:
    return list(queryset.order_by("sla_due_at", "pk").values_list("pk", flat=True)[:limit])


def _claim(queryset: QuerySet, incident_id: int) -> Incident | None:
    return queryset.select_for_update(skip_locked=True, of=("self",)).filter(pk=incident_id).first()


def _warn(incident_id: int, *, now: datetime, policy: SlaPolicy) -> bool:
    with transaction.atomic():
        incident = _claim(due_for_warning(now=now, policy=policy), incident_id)
        if incident is None:
            return False
        incident.sla_warned_at = now
        incident.save(update_fields=["sla_warned_at", "updated_at"])
        record_audit_event(
            actor=None,
            verb="incident.sla_warning",
            target=incident,
            after={"owner": incident.owner_id, "sla_due_at": incident.sla_due_at.isoformat()},
        )
        services.notify_after_commit(
            user_ids=[incident.owner_id],
            kind="sla_warning",
            title=(
                gettext_noop("Incident #%(id)s: first response due by %(due)s"),
                {"id": incident.pk, "due": incident.sla_due_at},
            ),
            incident=incident,
            dedupe_key=sla_key(incident, "sla_warning"),
            now=now,
        )
    return True


def _breach(incident_id: int, *, now: datetime, policy: SlaPolicy) -> bool | None:
    """Record the breach and tell the supervisors; hand back when the protocol says so.
    Returns None when another sweep had it, else whether it was handed back."""
    with transaction.atomic():
        incident = _claim(due_for_breach(now=now), incident_id)
        if incident is None:
            return None
        incident.sla_breached_at = now
        incident.save(update_fields=["sla_breached_at", "updated_at"])
        record_audit_event(
            actor=None,
            verb="incident.sla_breach",
            target=incident,
            after={"owner": incident.owner_id, "sla_due_at": incident.sla_due_at.isoformat()},
        )
        services.notify_after_commit(
            user_ids=list(routing.supervisors().values_list("pk", flat=True)),
            kind="sla_breach",
            title=(
                gettext_noop("Incident #%(id)s missed its first-response deadline (%(due)s)"),
                {"id": incident.pk, "due": incident.sla_due_at},
            ),
            incident=incident,
            dedupe_key=sla_key(incident, "sla_breach"),
            now=now,
        )
        # Escalated and awaiting-approval incidents are already in a supervisor's hands.
        hand_back = (
            policy.handback_on_breach
            and incident.owner_id is not None
            and is_allowed(incident.state, IncidentState.NEW)
        )
        if hand_back:
            services.hand_back_incident(actor=None, incident=incident, reason="sla_breach", now=now)
    return hand_back


def sla_key(incident: Incident, what: str) -> str:
    """A notification dedupe key naming the deadline warned or breached: once per deadline,
    and again for a reopened incident's new one."""
    return f"incident:{incident.pk}:{what}:{incident.sla_due_at.isoformat()}"
