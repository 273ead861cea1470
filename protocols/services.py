"""Writes of the protocols app: drafts, section edits, activation, backtests, crisis suggestions
(raised by scoring, dismissed by a supervisor), topic mutes and the incident stage's hand-off
receipt.

Each user action checks the supervisor's permission, writes in one transaction and records
the audit event.
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crisis.roles import Perm
from crisis.services.audit import record_audit_event
from crisis.services.permissions import require_permission
from protocols.defaults import default_config
from protocols.diff import diff_configs
from protocols.models import (
    BacktestRun,
    CrisisSuggestion,
    MentionScore,
    ProtocolStatus,
    ProtocolVersion,
    TopicMute,
)
from protocols.schema import upgrade
from protocols.validation import FieldError, validate_config


class ProtocolInvalid(Exception):
    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


def ensure_default_protocol(**_signal_kwargs) -> None:
    """After migrate: a fresh installation gets the shipped protocol as active version 1."""
    if not ProtocolVersion.objects.exists():
        ProtocolVersion.objects.create(
            number=1,
            name="Calma default protocol",
            notes="Shipped with Calma.",
            status=ProtocolStatus.ACTIVE,
            config=default_config(),
            activated_at=timezone.now(),
        )


def active_version() -> ProtocolVersion:
    return ProtocolVersion.objects.get(status=ProtocolStatus.ACTIVE)


def create_draft(*, actor, based_on: ProtocolVersion | None = None) -> ProtocolVersion:
    require_permission(actor, Perm.EDIT_PROTOCOL)
    with transaction.atomic():
        based_on = based_on or active_version()
        number = (ProtocolVersion.objects.aggregate(top=Max("number"))["top"] or 0) + 1
        draft = ProtocolVersion.objects.create(
            number=number,
            name=f"Draft from v{based_on.number}",
            # A draft of an older version starts with the sections added since (their defaults).
            config=upgrade(based_on.config),
            based_on=based_on,
            created_by=actor,
        )
        record_audit_event(
            actor=actor, verb="protocol.draft", target=draft, after={"based_on": based_on.number}
        )
    return draft


def _editable(version: ProtocolVersion) -> ProtocolVersion:
    version = ProtocolVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_draft:
        raise ProtocolInvalid(
            [FieldError("status", f"v{version.number} is {version.status}; edit a new draft")]
        )
    return version


def update_draft(
    *, actor, version: ProtocolVersion, section: str | None = None, value=None, **details
) -> ProtocolVersion:
    """Replace one section (validated with the whole document) and/or the name and notes."""
    require_permission(actor, Perm.EDIT_PROTOCOL)
    with transaction.atomic():
        version = _editable(version)
        before = version.config
        config = upgrade(version.config)
        if section is not None:
            config[section] = value
            errors = validate_config(config)
            if errors:
                raise ProtocolInvalid(errors)
        version.config = config
        for field in ("name", "notes"):
            if field in details:
                setattr(version, field, details[field])
        version.save()
        changes = diff_configs(before, config)
        record_audit_event(
            actor=actor,
            verb="protocol.edit",
            target=version,
            after={
                "section": section,
                "changes": [f"{change.path} ({change.kind})" for change in changes][:100],
            },
        )
    return version


def delete_draft(*, actor, version: ProtocolVersion) -> None:
    require_permission(actor, Perm.EDIT_PROTOCOL)
    with transaction.atomic():
        version = _editable(version)
        record_audit_event(actor=actor, verb="protocol.delete_draft", target=version)
        version.delete()


def activate(*, actor, version: ProtocolVersion, rescore_days: int = 0) -> ProtocolVersion:
    """Make a draft the one active version; the previous one is archived, unchanged."""
    require_permission(actor, Perm.EDIT_PROTOCOL)
    with transaction.atomic():
        version = _editable(version)
        # A draft written before a section existed activates with that section's defaults
        # (saved while it is still a draft: an active version's content never changes).
        if upgrade(version.config) != version.config:
            version.config = upgrade(version.config)
            version.save(update_fields=["config", "updated_at"])
        errors = validate_config(version.config)
        if errors:
            raise ProtocolInvalid(errors)
        previous = ProtocolVersion.objects.select_for_update().filter(status=ProtocolStatus.ACTIVE)
        previous_numbers = [old.number for old in previous]
        previous.update(status=ProtocolStatus.ARCHIVED, archived_at=timezone.now())
        version.status = ProtocolStatus.ACTIVE
        version.activated_by = actor
        version.activated_at = timezone.now()
        version.save(update_fields=["status", "activated_by", "activated_at", "updated_at"])
        record_audit_event(
            actor=actor,
            verb="protocol.activate",
            target=version,
            before={"active": previous_numbers},
            after={"active": version.number, "rescore_days": rescore_days},
        )
        if rescore_days:
            from protocols.tasks import rescore_recent_mentions

            transaction.on_commit(lambda: rescore_recent_mentions.delay(version.pk, rescore_days))
    return version


def start_backtest(*, actor, draft: ProtocolVersion, days: int) -> BacktestRun:
    require_permission(actor, Perm.EDIT_PROTOCOL)
    from protocols.tasks import run_backtest

    with transaction.atomic():
        run = BacktestRun.objects.create(
            draft=draft, baseline=active_version(), days=days, created_by=actor
        )
        record_audit_event(
            actor=actor, verb="protocol.backtest", target=draft, after={"days": days}
        )
        transaction.on_commit(lambda: run_backtest.delay(run.pk))
    return run


# --- the scoring stage's writes -------------------------------------------------------------
ONE_OPEN_SUGGESTION = "one_open_suggestion_per_topic"


class SuggestionAlreadyDismissed(Exception):
    """Someone dismissed this suggestion first."""


def raise_crisis_suggestion(
    *,
    topic: str,
    reason: str,
    version: ProtocolVersion,
    origin: str,
    at: datetime,
    detail: str = "",
    observed: float | None = None,
    factor: float | None = None,
    expected: float | None = None,
) -> CrisisSuggestion | None:
    """Open a crisis suggestion on `topic`, or None when one is already open for it.

    Race-safe: the partial unique constraint decides (never check-then-insert), so two
    workers crossing the threshold together leave one suggestion.
    """
    try:
        with transaction.atomic():
            suggestion = CrisisSuggestion.objects.create(
                topic=topic,
                reason=reason,
                origin=origin,
                protocol_version=version,
                raised_at=at,
                detail=detail[:300],
                observed=observed,
                factor=factor,
                expected=expected,
            )
    except IntegrityError as error:
        # Postgres names the constraint; SQLite (the embedded default) names its columns.
        open_one = CrisisSuggestion.objects.filter(
            topic=topic, origin=origin, dismissed_at__isnull=True
        ).exists()
        if ONE_OPEN_SUGGESTION not in str(error) and not open_one:
            raise
        return None
    record_audit_event(
        actor=None,
        verb="crisis_suggestion.raise",
        target=suggestion,
        after={"topic": topic, "reason": reason, "origin": origin},
    )
    return suggestion


def dismiss_suggestion(
    *, actor, suggestion: CrisisSuggestion, reason: str, now: datetime
) -> CrisisSuggestion:
    """A supervisor dismisses an open suggestion with a reason (shown on the next one)."""
    require_permission(actor, Perm.DECLARE_CRISIS)
    with transaction.atomic():
        dismissed = CrisisSuggestion.objects.filter(
            pk=suggestion.pk, dismissed_at__isnull=True
        ).update(dismissed_at=now, dismissed_by=actor, dismiss_reason=reason)
        if not dismissed:
            raise SuggestionAlreadyDismissed(suggestion.pk)
        suggestion.refresh_from_db()
        record_audit_event(
            actor=actor,
            verb="crisis_suggestion.dismiss",
            target=suggestion,
            before={"dismissed_at": None},
            after={"reason": reason, "dismissed_at": now.isoformat()},
        )
    return suggestion


def mark_handed_off(mention_ids: list[int], *, now: datetime) -> int:
    """The incident stage has seen these scored mentions: the sweeper stops re-sending them.

    Called by the incident stage (by the system, so no permission); idempotent.
    """
    return MentionScore.objects.filter(
        mention_id__in=list(mention_ids), handed_off_at__isnull=True
    ).update(handed_off_at=now)


# --- topic mutes ------------------------------------------------------------------------------
# A mute is for a planned campaign or launch: at most this long, so none is forgotten for good.
MAX_MUTE = timedelta(days=30)
MAX_MUTE_REASON = 1000


class MuteInvalid(Exception):
    """A mute that cannot be set: `errors` maps a field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class MuteAlreadyEnded(Exception):
    """The mute ended (early or at its time) before this request."""


def _active(at: datetime) -> Q:
    return Q(created_at__lte=at, until__gt=at) & (Q(ended_at__isnull=True) | Q(ended_at__gt=at))


def is_muted(topic: str, at: datetime) -> bool:
    """Whether a mute silences crisis suggestions on `topic` at `at` (one indexed query)."""
    return TopicMute.objects.filter(_active(at), topic=topic[:200]).exists()


def active_mutes(at: datetime) -> QuerySet[TopicMute]:
    """The mutes in force at `at`, the soonest to end first (the suggestions page)."""
    return TopicMute.objects.filter(_active(at)).select_related("created_by").order_by("until")


def mute_topic(*, actor, topic: str, until: datetime, reason: str, now: datetime) -> TopicMute:
    """A supervisor silences crisis suggestions on `topic` until `until` (surges are still
    recorded and shown). `until` is in the future and at most MAX_MUTE ahead; a reason is
    required; a topic already muted is refused (end that mute first)."""
    require_permission(actor, Perm.DECLARE_CRISIS)
    topic, reason = (topic or "").strip(), (reason or "").strip()
    errors: dict[str, str] = {}
    if not topic or len(topic) > 200 or "\x00" in topic:
        errors["topic"] = _("Name a topic of at most 200 characters.")
    if until.tzinfo is None or until <= now:
        errors["until"] = _("The mute must end in the future.")
    elif until > now + MAX_MUTE:
        errors["until"] = _("A mute lasts at most %(days)d days.") % {"days": MAX_MUTE.days}
    if not reason or len(reason) > MAX_MUTE_REASON or "\x00" in reason:
        errors["reason"] = _("Say why (at most %(count)d characters).") % {"count": MAX_MUTE_REASON}
    if errors:
        raise MuteInvalid(errors)
    with transaction.atomic():
        current = active_mutes(now).filter(topic=topic).first()
        if current is not None:
            raise MuteInvalid({"topic": _("This topic is already muted; end that mute first.")})
        mute = TopicMute.objects.create(
            topic=topic, until=until, reason=reason, created_by=actor, created_at=now
        )
        record_audit_event(
            actor=actor,
            verb="topic.mute",
            target=mute,
            after={"topic": topic, "until": until.isoformat(), "reason": reason},
        )
    return mute


def end_mute(*, actor, mute: TopicMute, now: datetime) -> TopicMute:
    """End a mute early: crisis suggestions on its topic resume from `now`."""
    require_permission(actor, Perm.DECLARE_CRISIS)
    with transaction.atomic():
        ended = TopicMute.objects.filter(pk=mute.pk, ended_at__isnull=True, until__gt=now).update(
            ended_at=now
        )
        if not ended:
            raise MuteAlreadyEnded(mute.pk)
        mute.refresh_from_db()
        record_audit_event(
            actor=actor,
            verb="topic.unmute",
            target=mute,
            before={"until": mute.until.isoformat()},
            after={"topic": mute.topic, "ended_at": now.isoformat()},
        )
    return mute
