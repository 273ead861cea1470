"""The crisis's one public statement: versions drafted by the spokesperson (revision-checked
saves), approved with four eyes (a supervisor other than the author, plus the cabinet's legal
member at the levels the protocol names), short texts per channel within each channel's length,
history and diff, the update cadence, and the commitments a statement makes.

Every service takes the acting user and `now`, locks the crisis (then the version) so the
statement's changes are serialised per crisis, checks permission through `crisis.rooms.access`,
audits with the Crisis as the event's target (verbs `crisis.statement_*`, the version in
`after`) and tells people after the commit. Publishing the approved version lives in
`crisis.rooms.publishing`.

State changes of a version (the edges of its transition table):

    (none) ── start ──> DRAFT ── submit ──> AWAITING_APPROVAL ── every approval ──> APPROVED
    AWAITING_APPROVAL ── send back (comment) ──> DRAFT
    AWAITING_APPROVAL ── edit ──> AWAITING_APPROVAL (new revision: approvals again)
                                  or DRAFT (the edit cannot be submitted as it stands)
    APPROVED ── edit, nothing published yet ──> AWAITING_APPROVAL (or DRAFT, as above); the
              version it had superseded is APPROVED again meanwhile (SUPERSEDED ──> APPROVED)
    APPROVED ── a newer version approved ──> SUPERSEDED
    DRAFT / AWAITING_APPROVAL ── discard ──> (deleted; the audit log keeps its text)
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_noop

from crisis.notifications.models import Notification, NotificationKind
from crisis.notifications.services import notify
from crisis.rooms import access
from crisis.rooms.models import (
    CabinetMember,
    CabinetRole,
    Commitment,
    Crisis,
    CrisisStatus,
    Publication,
    PublicationState,
    Statement,
    StatementApproval,
    StatementState,
    StatementVersion,
    Task,
)
from crisis.services.audit import record_audit_event
from protocols.schema import section

logger = logging.getLogger(__name__)

SUPERVISOR = "supervisor"
LEGAL = "legal"
APPROVAL_ROLES = (SUPERVISOR, LEGAL)
APPROVED = "approved"
SENT_BACK = "sent_back"

# A statement is a few paragraphs; this bounds what one save stores.
MAX_TEXT_LENGTH = 20_000
MAX_COMMENT_LENGTH = 5_000
MAX_SENTENCE_LENGTH = 1_000
# The audit trail keeps what was submitted and approved (capped), and of an edit its length
# and first words only.
AUDIT_TEXT_LIMIT = 5_000
AUDIT_PREFIX_LENGTH = 80
# A commitment's due date: not in the past (a day's grace for time zones), within a year.
COMMITMENT_GRACE = timedelta(days=1)
COMMITMENT_HORIZON = timedelta(days=366)
DEFAULT_CADENCE_MINUTES = 60

OPEN_VERSION_STATES = (StatementState.DRAFT, StatementState.AWAITING_APPROVAL)
EDITABLE_STATES = (*OPEN_VERSION_STATES, StatementState.APPROVED)
# Publications that say the approved text is already out (or on its way) somewhere.
OUT_STATES = (PublicationState.PUBLISHED, PublicationState.PUBLISHING)


class StatementError(Exception):
    """The statement cannot do this now; the message says why, in the reader's language."""


class StaleStatement(StatementError):
    """The version changed since the person loaded it (another tab, device or person)."""

    def __init__(self, message: str, *, current_revision: int) -> None:
        super().__init__(message)
        self.current_revision = current_revision


# --- The protocol's crisis section ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Channel:
    """A line of the publication checklist as the protocol names it."""

    key: str
    label: str
    limit: int | None  # longest text the channel takes (None: no limit)
    platform: str  # where Calma can post it through a publishing account ("" : by hand)


def crisis_config(crisis: Crisis) -> dict[str, Any]:
    return section(crisis.protocol_version.config, "crisis")


def channels_of(crisis: Crisis) -> list[Channel]:
    found = []
    for entry in crisis_config(crisis).get("channels") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            continue
        limit = entry.get("limit")
        found.append(
            Channel(
                key=entry["key"],
                label=str(entry.get("label") or entry["key"]),
                limit=limit if isinstance(limit, int) and limit > 0 else None,
                platform=str(entry.get("platform") or ""),
            )
        )
    return found


def cadence(crisis: Crisis) -> timedelta:
    minutes = crisis_config(crisis).get("update_cadence_minutes")
    if not isinstance(minutes, int) or minutes <= 0:
        minutes = DEFAULT_CADENCE_MINUTES
    return timedelta(minutes=minutes)


def needs_legal(crisis: Crisis) -> bool:
    return crisis.level in (crisis_config(crisis).get("legal_approval_levels") or [])


def approvers_required_for(crisis: Crisis) -> list[str]:
    return [SUPERVISOR, LEGAL] if needs_legal(crisis) else [SUPERVISOR]


# --- Texts and their checks -----------------------------------------------------------------


def length(text: str) -> int:
    """Characters as the editor counts them (code points)."""
    return len(text)


def clean_text(text: str, *, limit: int = MAX_TEXT_LENGTH) -> str:
    """Text as stored: no NUL (Postgres refuses it), no lone surrogates, \\n newlines, bounded."""
    text = (text or "").replace("\x00", "")
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > limit:
        raise StatementError(
            gettext("A statement can have at most %(limit)s characters.") % {"limit": limit}
        )
    return text


def clean_channel_texts(raw: dict[str, str] | None, channels: list[Channel]) -> dict[str, str]:
    """Only the protocol's channels, each cleaned; an empty text means "same as the main text"
    and is not stored."""
    keys = {channel.key for channel in channels}
    cleaned = {}
    for key, value in (raw or {}).items():
        if key in keys and isinstance(value, str):
            text = clean_text(value).strip()
            if text:
                cleaned[key] = text
    return cleaned


@dataclass(frozen=True, slots=True)
class ChannelText:
    """What goes out on one channel: its own short text, or the main text when it has none."""

    channel: Channel
    own_text: str
    text: str
    length: int
    over_limit: bool
    same_as_main: bool

    @property
    def empty(self) -> bool:
        return not self.text.strip()


def channel_text(version: StatementVersion, channel: Channel) -> ChannelText:
    own = (version.channel_texts or {}).get(channel.key) or ""
    own = own if isinstance(own, str) else ""
    text = own or version.text
    count = length(text)
    return ChannelText(
        channel=channel,
        own_text=own,
        text=text,
        length=count,
        over_limit=channel.limit is not None and count > channel.limit,
        same_as_main=not own,
    )


def channel_texts(version: StatementVersion, channels: list[Channel]) -> list[ChannelText]:
    return [channel_text(version, channel) for channel in channels]


def refusal(version: StatementVersion, channels: list[Channel]) -> str:
    """Why the version cannot be submitted ("" when it can)."""
    if not version.text.strip():
        return gettext("Write the statement before submitting it.")
    for checked in channel_texts(version, channels):
        if checked.over_limit and checked.same_as_main:
            return gettext(
                "The statement has %(length)s characters and %(channel)s takes at most "
                "%(limit)s: write a shorter text for %(channel)s."
            ) % {
                "length": checked.length,
                "channel": checked.channel.label,
                "limit": checked.channel.limit,
            }
        if checked.over_limit:
            return gettext(
                "The text for %(channel)s has %(length)s characters; it takes at most %(limit)s."
            ) % {
                "length": checked.length,
                "channel": checked.channel.label,
                "limit": checked.channel.limit,
            }
    return ""


def _summary(text: str) -> dict[str, Any]:
    return {"length": len(text), "prefix": text[:AUDIT_PREFIX_LENGTH]}


def _capped(text: str) -> str:
    return text[:AUDIT_TEXT_LIMIT]


# --- Reading the statement ------------------------------------------------------------------


def approved_version(crisis: Crisis) -> StatementVersion | None:
    """The version in force: the newest approved one."""
    return (
        StatementVersion.objects.filter(statement__crisis=crisis, state=StatementState.APPROVED)
        .select_related("author")
        .order_by("-number")
        .first()
    )


def open_version(crisis: Crisis) -> StatementVersion | None:
    """The version being written or approved, if any (at most one)."""
    return (
        StatementVersion.objects.filter(statement__crisis=crisis, state__in=OPEN_VERSION_STATES)
        .select_related("author")
        .first()
    )


def approvals_given(version: StatementVersion) -> dict[str, int]:
    """Role -> approver id of the approvals given to the version's current revision."""
    return dict(
        version.approvals.filter(revision=version.revision, decision=APPROVED).values_list(
            "role", "decided_by_id"
        )
    )


def missing_roles(version: StatementVersion, given: dict[str, int] | None = None) -> list[str]:
    given = approvals_given(version) if given is None else given
    return [role for role in version.approvers_required if role not in given]


def is_legal_member(user, crisis: Crisis) -> bool:
    """An active cabinet member of this crisis from a legal department, who may act there."""
    seat = access.seat_of(user, crisis)
    return bool(seat and seat.department.is_legal and access.can_act(user, crisis))


def may_approve_as(user, version: StatementVersion, crisis: Crisis, role: str) -> bool:
    """Whether `user` may give `role`'s approval to the version's current revision now."""
    if version.state != StatementState.AWAITING_APPROVAL or role not in version.approvers_required:
        return False
    if user is None or not user.is_authenticated or user.pk == version.author_id:
        return False
    given = approvals_given(version)
    if role in given:
        return False
    if role == SUPERVISOR:
        return access.runs_every_crisis(user) and given.get(LEGAL) != user.pk
    return is_legal_member(user, crisis) and given.get(SUPERVISOR) != user.pk


def approval_roles_for(user, version: StatementVersion, crisis: Crisis) -> list[str]:
    return [role for role in APPROVAL_ROLES if may_approve_as(user, version, crisis, role)]


def may_send_back(user, version: StatementVersion, crisis: Crisis) -> bool:
    """An approver of this version (not its author) may send it back with a comment."""
    if version.state != StatementState.AWAITING_APPROVAL or user is None:
        return False
    if not user.is_authenticated or user.pk == version.author_id:
        return False
    if SUPERVISOR in version.approvers_required and access.runs_every_crisis(user):
        return True
    return LEGAL in version.approvers_required and is_legal_member(user, crisis)


def statement_url(crisis: Crisis) -> str:
    return reverse("rooms:statement", args=[crisis.pk])


# --- Helpers of the services ----------------------------------------------------------------


def _locked_crisis(crisis_id: int) -> Crisis:
    return (
        Crisis.objects.select_for_update(of=("self",))
        .select_related("protocol_version")
        .get(pk=crisis_id)
    )


def _locked(version: StatementVersion) -> tuple[StatementVersion, Crisis]:
    """The version and its crisis as stored now, locked until the transaction ends (crisis
    first, the order every statement service locks in)."""
    crisis_id = (
        StatementVersion.objects.filter(pk=version.pk)
        .values_list("statement__crisis_id", flat=True)
        .first()
    )
    if crisis_id is None:
        raise StatementError(gettext("This version of the statement no longer exists."))
    crisis = _locked_crisis(crisis_id)
    version = (
        StatementVersion.objects.select_for_update(of=("self",))
        .select_related("statement", "author")
        .get(pk=version.pk)
    )
    version.statement.crisis = crisis
    return version, crisis


def _require_open(crisis: Crisis) -> None:
    if not crisis.is_open:
        raise StatementError(
            gettext("The crisis is %(status)s: its statement no longer changes.")
            % {"status": str(crisis.get_status_display()).lower()}
        )


def _require_revision(version: StatementVersion, expected_revision: int | None) -> None:
    if expected_revision is not None and expected_revision != version.revision:
        raise StaleStatement(
            gettext(
                "Not saved: this version of the statement was changed in another tab or by "
                "someone else since you opened it (it is now at revision %(revision)s). Reload "
                "to see it."
            )
            % {"revision": version.revision},
            current_revision=version.revision,
        )


def audit(
    actor: AbstractBaseUser | None,
    verb: str,
    crisis: Crisis,
    version: StatementVersion | None = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
):
    """An audit event with the Crisis as target (the timeline reads them there)."""
    payload: dict[str, Any] = {}
    if version is not None:
        payload.update(
            {
                "version": version.pk,
                "number": version.number,
                "revision": version.revision,
                "state": version.state,
            }
        )
    payload.update(after or {})
    return record_audit_event(actor=actor, verb=verb, target=crisis, before=before, after=payload)


def notify_after_commit(
    *,
    user_ids: list[int],
    kind: str,
    title: Any,
    url: str,
    dedupe_key: str,
    now: datetime,
    origin: str,
    body: Any = "",
) -> None:
    """Tell people once the change is committed (nothing is said about a change rolled back)."""
    if not user_ids:
        return

    def send() -> None:
        _notify_or_log(
            user_ids=user_ids,
            kind=kind,
            title=title,
            body=body,
            url=url,
            dedupe_key=dedupe_key,
            now=now,
            origin=origin,
        )

    transaction.on_commit(send, robust=True)


def _notify_or_log(*, user_ids: list[int], dedupe_key: str, kind: str, **values: Any) -> None:
    try:
        notify(
            users=get_user_model().objects.filter(pk__in=user_ids),
            kind=kind,
            dedupe_key=dedupe_key,
            **values,
        )
    except DatabaseError as error:
        logger.error("statement: %s notification %s not stored (%s)", kind, dedupe_key, error)


def _supervisor_ids() -> list[int]:
    """Active people who run crises (and so give the supervisor's approval)."""
    codename = "run_crises"
    condition = Q(
        groups__permissions__content_type__app_label="crisis",
        groups__permissions__codename=codename,
    ) | Q(
        user_permissions__content_type__app_label="crisis",
        user_permissions__codename=codename,
    )
    return list(
        get_user_model()
        .objects.filter(condition, is_active=True)
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )


def _legal_member_ids(crisis: Crisis) -> list[int]:
    return list(
        CabinetMember.objects.filter(
            crisis=crisis,
            removed_at__isnull=True,
            department__is_legal=True,
            user__is_active=True,
        )
        .values_list("user_id", flat=True)
        .order_by("user_id")
    )


def _submission_key(version: StatementVersion) -> str:
    """Names one wait for approval: the revision, and how many times the version was sent
    back (sent back and submitted again unchanged is a new wait)."""
    sent_back = version.approvals.filter(decision=SENT_BACK).count()
    return f"r{version.revision}" + (f"s{sent_back}" if sent_back else "")


def _request_approval(
    version: StatementVersion, crisis: Crisis, *, actor: AbstractBaseUser, now: datetime
) -> None:
    """Tell who can give the missing approvals (never the author, nor the person acting)."""
    missing = missing_roles(version)
    people: set[int] = set()
    if SUPERVISOR in missing:
        people.update(_supervisor_ids())
    if LEGAL in missing:
        people.update(_legal_member_ids(crisis))
    people -= {version.author_id, actor.pk}
    notify_after_commit(
        user_ids=sorted(people),
        kind=NotificationKind.STATEMENT_APPROVAL,
        title=(
            gettext_noop("The statement of crisis “%(title)s” needs your approval"),
            {"title": crisis.title[:120]},
        ),
        body=_capped(version.text),
        url=statement_url(crisis),
        dedupe_key=f"statement:{version.pk}:approval:{_submission_key(version)}",
        now=now,
        origin=crisis.origin,
    )


def _enter_approval(
    version: StatementVersion,
    crisis: Crisis,
    *,
    actor: AbstractBaseUser,
    now: datetime,
    tell: bool = True,
) -> None:
    """Waiting for the approvals this revision needs (approvals hold per revision, so any
    given to an earlier one count no more); the approvers are told unless `tell` is False."""
    version.state = StatementState.AWAITING_APPROVAL
    version.approvers_required = approvers_required_for(crisis)
    version.submitted_at = now
    version.approved_at = None
    version.sent_back_comment = ""
    version.save()
    if tell:
        _request_approval(version, crisis, actor=actor, now=now)


def _withdraw_approval(version: StatementVersion, crisis: Crisis) -> dict[str, Any]:
    """An approved version edited before anything went out: its checklist goes (it is made
    again on approval) and the version it had superseded is in force again meanwhile."""
    removed = list(Publication.objects.filter(version=version).values_list("channel", flat=True))
    Publication.objects.filter(version=version).delete()
    restored = (
        StatementVersion.objects.filter(
            statement=version.statement,
            state=StatementState.SUPERSEDED,
            number__lt=version.number,
        )
        .order_by("-number")
        .first()
    )
    if restored is not None:
        restored.state = StatementState.APPROVED
        restored.save(update_fields=["state"])
    return {
        "checklist_removed": removed,
        "restored": restored.pk if restored else None,
    }


# --- Services: versions ---------------------------------------------------------------------


def start_statement_version(
    *, actor: AbstractBaseUser, crisis: Crisis, now: datetime
) -> StatementVersion:
    """Start a new version of the statement (the first, or an update): a draft prefilled with
    the approved version's text and channel texts."""
    try:
        with transaction.atomic():
            crisis = _locked_crisis(crisis.pk)
            access.require_speak(actor, crisis)
            _require_open(crisis)
            statement, _created = Statement.objects.get_or_create(
                crisis=crisis, defaults={"created_at": now}
            )
            current = open_version(crisis)
            if current is not None:
                raise StatementError(
                    gettext(
                        "Version %(number)s of the statement is being written or approved: "
                        "work on that one."
                    )
                    % {"number": current.number}
                )
            base = approved_version(crisis)
            number = (statement.versions.aggregate(highest=Max("number"))["highest"] or 0) + 1
            version = StatementVersion.objects.create(
                statement=statement,
                number=number,
                text=base.text if base else "",
                channel_texts=dict(base.channel_texts or {}) if base else {},
                author=actor,
                created_at=now,
            )
            audit(
                actor,
                "crisis.statement_draft",
                crisis,
                version,
                after={"from_version": base.number if base else None, **_summary(version.text)},
            )
    except IntegrityError as clash:
        # Two starts at once: the one-open-version constraint keeps the first.
        raise StatementError(
            gettext("Another version of the statement was started at the same time.")
        ) from clash
    return version


def save_statement(
    *,
    actor: AbstractBaseUser,
    version: StatementVersion,
    text: str,
    channel_texts: dict[str, str] | None,
    now: datetime,
    expected_revision: int | None = None,
) -> StatementVersion:
    """Store the edited text and channel texts as a new revision. A version awaiting approval
    needs its approvals again; an approved one (nothing of it published yet) goes back to
    approval. A save based on an older revision is refused (StaleStatement)."""
    text = clean_text(text)
    with transaction.atomic():
        version, crisis = _locked(version)
        access.require_speak(actor, crisis)
        _require_open(crisis)
        if version.state not in EDITABLE_STATES:
            raise StatementError(
                gettext("Version %(number)s is %(state)s and can no longer be edited.")
                % {
                    "number": version.number,
                    "state": str(version.get_state_display()).lower(),
                }
            )
        channels = channels_of(crisis)
        cleaned = clean_channel_texts(channel_texts, channels)
        if text == version.text and cleaned == (version.channel_texts or {}):
            return version  # nothing to store (an autosave of what is stored): not stale
        _require_revision(version, expected_revision)
        withdrawn: dict[str, Any] = {}
        if version.state == StatementState.APPROVED:
            if Publication.objects.filter(version=version, state__in=OUT_STATES).exists():
                raise StatementError(
                    gettext("Version %(number)s is already published: start an update instead.")
                    % {"number": version.number}
                )
            other = (
                StatementVersion.objects.filter(
                    statement=version.statement, state__in=OPEN_VERSION_STATES
                )
                .exclude(pk=version.pk)
                .first()
            )
            if other is not None:
                raise StatementError(
                    gettext("Version %(number)s is being written: make the change there.")
                    % {"number": other.number}
                )
            withdrawn = _withdraw_approval(version, crisis)
        before = {
            "revision": version.revision,
            "state": version.state,
            **_summary(version.text),
        }
        submitted = version.state != StatementState.DRAFT
        # An edit while awaiting approval tells the approvers again only when it voids an
        # approval already given (each autosave would otherwise notify them).
        tell = version.state != StatementState.AWAITING_APPROVAL or bool(approvals_given(version))
        version.text = text
        version.channel_texts = cleaned
        version.revision += 1
        if submitted and not refusal(version, channels):
            _enter_approval(version, crisis, actor=actor, now=now, tell=tell)
        elif submitted:
            # As it stands the edit could not be submitted: back to the author's draft.
            version.state = StatementState.DRAFT
            version.approved_at = None
            version.save()
        else:
            version.save(update_fields=["text", "channel_texts", "revision"])
        audit(
            actor,
            "crisis.statement_edit",
            crisis,
            version,
            before=before,
            after={**_summary(text), "channels": sorted(cleaned), **withdrawn},
        )
    return version


def submit_statement(
    *, actor: AbstractBaseUser, version: StatementVersion, now: datetime
) -> StatementVersion:
    """Submit a draft for approval: a supervisor's, and the cabinet's legal member's at the
    levels the protocol names. The approvers are told."""
    with transaction.atomic():
        version, crisis = _locked(version)
        access.require_speak(actor, crisis)
        _require_open(crisis)
        if version.state != StatementState.DRAFT:
            raise StatementError(
                gettext("Version %(number)s is %(state)s; only a draft can be submitted.")
                % {
                    "number": version.number,
                    "state": str(version.get_state_display()).lower(),
                }
            )
        reason = refusal(version, channels_of(crisis))
        if reason:
            raise StatementError(reason)
        _enter_approval(version, crisis, actor=actor, now=now)
        audit(
            actor,
            "crisis.statement_submit",
            crisis,
            version,
            after={
                "approvers_required": version.approvers_required,
                "text": _capped(version.text),
                "channel_texts": {
                    key: _capped(value) for key, value in (version.channel_texts or {}).items()
                },
            },
        )
    return version


def approve_statement(
    *,
    actor: AbstractBaseUser,
    version: StatementVersion,
    role: str,
    now: datetime,
    expected_revision: int | None = None,
) -> StatementVersion:
    """Give one approval (as supervisor or as legal) to the version's current revision. Four
    eyes: nobody approves a version they drafted, the supervisor's approval is a supervisor's,
    the legal one an active legal member's of this cabinet, and one person never gives both.
    With every approval in, the version is APPROVED: the one before it is SUPERSEDED and the
    publication checklist is made (one line per channel, to publish)."""
    if role not in APPROVAL_ROLES:
        raise StatementError(gettext("Approve as supervisor or as legal."))
    with transaction.atomic():
        version, crisis = _locked(version)
        access.require_view(actor, crisis)
        _require_open(crisis)
        if version.state != StatementState.AWAITING_APPROVAL:
            raise StatementError(
                gettext("Version %(number)s is %(state)s: there is nothing to approve.")
                % {
                    "number": version.number,
                    "state": str(version.get_state_display()).lower(),
                }
            )
        _require_revision(version, expected_revision)
        if role not in version.approvers_required:
            raise StatementError(gettext("This version does not need a legal approval."))
        given = approvals_given(version)
        if role in given:
            raise StatementError(gettext("This approval was already given."))
        if actor.pk == version.author_id:
            raise PermissionDenied(gettext("Nobody approves a statement they drafted."))
        if role == SUPERVISOR and not access.runs_every_crisis(actor):
            raise PermissionDenied(gettext("Only a supervisor gives the supervisor's approval."))
        if role == LEGAL and not is_legal_member(actor, crisis):
            raise PermissionDenied(
                gettext("Only a legal member of this crisis's cabinet gives the legal approval.")
            )
        if actor.pk in given.values():
            raise PermissionDenied(
                gettext("The same person cannot give both approvals of the statement.")
            )
        StatementApproval.objects.create(
            version=version,
            revision=version.revision,
            role=role,
            decision=APPROVED,
            decided_by=actor,
            decided_at=now,
        )
        audit(actor, "crisis.statement_approval", crisis, version, after={"role": role})
        given[role] = actor.pk
        if not missing_roles(version, given):
            _mark_approved(version, crisis, actor=actor, now=now)
    return version


def _mark_approved(
    version: StatementVersion, crisis: Crisis, *, actor: AbstractBaseUser, now: datetime
) -> None:
    superseded = list(
        StatementVersion.objects.filter(
            statement=version.statement, state=StatementState.APPROVED
        ).values_list("pk", flat=True)
    )
    StatementVersion.objects.filter(pk__in=superseded).update(state=StatementState.SUPERSEDED)
    version.state = StatementState.APPROVED
    version.approved_at = now
    version.save(update_fields=["state", "approved_at"])
    channels = channels_of(crisis)
    Publication.objects.bulk_create(
        [Publication(version=version, channel=channel.key) for channel in channels],
        ignore_conflicts=True,
    )
    audit(
        actor,
        "crisis.statement_approved",
        crisis,
        version,
        after={
            "superseded": superseded,
            "approvers": approvals_given(version),
            "checklist": [channel.key for channel in channels],
            "text": _capped(version.text),
        },
    )


def send_back_statement(
    *,
    actor: AbstractBaseUser,
    version: StatementVersion,
    comment: str,
    now: datetime,
    expected_revision: int | None = None,
) -> StatementVersion:
    """An approver sends the version back to its author's draft, saying why."""
    comment = clean_text(comment, limit=MAX_COMMENT_LENGTH).strip()
    if not comment:
        raise StatementError(gettext("Say what should change before sending it back."))
    with transaction.atomic():
        version, crisis = _locked(version)
        access.require_view(actor, crisis)
        _require_open(crisis)
        if version.state != StatementState.AWAITING_APPROVAL:
            raise StatementError(
                gettext("Version %(number)s is %(state)s: only one awaiting approval goes back.")
                % {
                    "number": version.number,
                    "state": str(version.get_state_display()).lower(),
                }
            )
        _require_revision(version, expected_revision)
        if not may_send_back(actor, version, crisis):
            raise PermissionDenied(
                gettext("Only an approver of this statement (not its author) sends it back.")
            )
        role = (
            SUPERVISOR
            if SUPERVISOR in version.approvers_required and access.runs_every_crisis(actor)
            else LEGAL
        )
        StatementApproval.objects.create(
            version=version,
            revision=version.revision,
            role=role,
            decision=SENT_BACK,
            comment=comment,
            decided_by=actor,
            decided_at=now,
        )
        version.state = StatementState.DRAFT
        version.sent_back_comment = comment
        version.save(update_fields=["state", "sent_back_comment"])
        audit(
            actor,
            "crisis.statement_send_back",
            crisis,
            version,
            after={"role": role, "comment": comment},
        )
    return version


def discard_statement_version(
    *,
    actor: AbstractBaseUser,
    version: StatementVersion,
    now: datetime,
    expected_revision: int | None = None,
) -> None:
    """Give up a version never approved (a draft, or one awaiting approval). It is deleted;
    the audit log keeps its text."""
    with transaction.atomic():
        version, crisis = _locked(version)
        access.require_speak(actor, crisis)
        if version.state not in OPEN_VERSION_STATES:
            raise StatementError(
                gettext("Version %(number)s was approved: it stays in the history.")
                % {"number": version.number}
            )
        _require_revision(version, expected_revision)
        audit(
            actor,
            "crisis.statement_discard",
            crisis,
            version,
            after={"text": _capped(version.text), "at": now.isoformat()},
        )
        version.delete()


# --- Update cadence -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UpdateDue:
    due_at: datetime
    overdue: bool
    first: bool  # no statement approved yet: the first one is due


def next_update_due(
    crisis: Crisis, *, now: datetime, approved: StatementVersion | None = None
) -> UpdateDue | None:
    """While the crisis is active: the approved version's approval time plus the protocol's
    cadence (the declaration's, before any statement was approved)."""
    if crisis.status != CrisisStatus.ACTIVE:
        return None
    approved = approved if approved is not None else approved_version(crisis)
    start = approved.approved_at if approved and approved.approved_at else crisis.declared_at
    due = start + cadence(crisis)
    return UpdateDue(due_at=due, overdue=due <= now, first=approved is None)


def due_key(crisis_id: int, version_id: int | None) -> str:
    return f"crisis:{crisis_id}:statement_update_due:{version_id or 'first'}"


def notify_statement_updates_due(*, now: datetime) -> int:
    """Beat: tell the spokesperson(s) of each active crisis (its commander when it has none)
    that the statement's update is due, once per due time (per approved version). Returns how
    many crises were told."""
    in_force = StatementVersion.objects.filter(
        statement__crisis=OuterRef("pk"), state=StatementState.APPROVED
    ).order_by("-number")
    crises = list(
        Crisis.objects.filter(status=CrisisStatus.ACTIVE)
        .select_related("protocol_version")
        .annotate(
            in_force_id=Subquery(in_force.values("pk")[:1]),
            in_force_at=Subquery(in_force.values("approved_at")[:1]),
        )
        .order_by("pk")
    )
    due = []
    for crisis in crises:
        start = crisis.in_force_at or crisis.declared_at
        if start + cadence(crisis) <= now:
            due.append((crisis, due_key(crisis.pk, crisis.in_force_id)))
    if not due:
        return 0
    told = set(
        Notification.objects.filter(dedupe_key__in=[key for _crisis, key in due])
        .values_list("dedupe_key", flat=True)
        .distinct()
    )
    speakers: dict[int, list[int]] = {}
    for crisis_id, user_id in CabinetMember.objects.filter(
        crisis__in=[crisis for crisis, _key in due],
        role=CabinetRole.SPOKESPERSON,
        removed_at__isnull=True,
        user__is_active=True,
    ).values_list("crisis_id", "user_id"):
        speakers.setdefault(crisis_id, []).append(user_id)
    count = 0
    for crisis, key in due:
        if key in told:
            continue
        _notify_or_log(
            user_ids=speakers.get(crisis.pk) or [crisis.commander_id],
            kind=NotificationKind.STATEMENT_UPDATE_DUE,
            title=(
                gettext_noop("The statement of crisis “%(title)s” is due for an update"),
                {"title": crisis.title[:120]},
            ),
            body="",
            url=statement_url(crisis),
            dedupe_key=key,
            now=now,
            origin=crisis.origin,
        )
        count += 1
    return count


# --- Commitments ----------------------------------------------------------------------------


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def mark_commitment(
    *,
    actor: AbstractBaseUser,
    version: StatementVersion,
    sentence: str,
    due_at: datetime,
    owner: AbstractBaseUser,
    now: datetime,
) -> Commitment:
    """Mark a sentence of an approved version as a promise ("refunds by Friday"): a Commitment
    and a task of the action plan ("Commitment: …", due, owner) that tracks it."""
    sentence = clean_text(sentence, limit=MAX_SENTENCE_LENGTH).strip()
    if not sentence:
        raise StatementError(gettext("Choose the sentence that makes the promise."))
    if due_at is None or due_at.tzinfo is None:
        raise StatementError(gettext("Give the date the promise is due."))
    if due_at < now - COMMITMENT_GRACE or due_at > now + COMMITMENT_HORIZON:
        raise StatementError(gettext("The promise's due date must be within the next year."))
    with transaction.atomic():
        version, crisis = _locked(version)
        access.require_speak(actor, crisis)
        _require_open(crisis)
        if version.state not in (StatementState.APPROVED, StatementState.SUPERSEDED):
            raise StatementError(gettext("Only an approved statement makes promises."))
        if _normalised(sentence) not in _normalised(version.text):
            raise StatementError(
                gettext("The sentence must be part of version %(number)s's text.")
                % {"number": version.number}
            )
        if owner is None or not owner.is_active or not access.can_act(owner, crisis):
            raise StatementError(
                gettext("The owner must sit in this crisis's cabinet or run crises.")
            )
        title = gettext("Commitment: %(sentence)s") % {"sentence": sentence}
        task = Task.objects.create(
            crisis=crisis,
            title=title[: Task._meta.get_field("title").max_length],
            owner=owner,
            due_at=due_at,
            created_by=actor,
            created_at=now,
        )
        commitment = Commitment.objects.create(
            version=version,
            sentence=sentence,
            due_at=due_at,
            task=task,
            marked_by=actor,
            marked_at=now,
        )
        audit(
            actor,
            "crisis.statement_commitment",
            crisis,
            version,
            after={
                "commitment": commitment.pk,
                "task": task.pk,
                "sentence": sentence,
                "due_at": due_at.isoformat(),
                "owner": owner.pk,
            },
        )
    return commitment


# --- History and diff -----------------------------------------------------------------------

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text or "")


@dataclass(frozen=True, slots=True)
class DiffPart:
    kind: str  # "same", "ins" or "del"
    text: str


def diff_parts(old: str, new: str) -> list[DiffPart]:
    """Word-level differences from `old` to `new`."""
    before, after = _tokens(old), _tokens(new)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    parts: list[DiffPart] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            parts.append(DiffPart("same", "".join(before[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            parts.append(DiffPart("del", "".join(before[i1:i2])))
        if tag in ("insert", "replace"):
            parts.append(DiffPart("ins", "".join(after[j1:j2])))
    return parts


def diff_html(old: str, new: str) -> SafeString:
    """The differences as escaped HTML: removed words in <del>, added ones in <ins>."""
    html = []
    for part in diff_parts(old, new):
        text = escape(part.text)
        html.append(f"<{part.kind}>{text}</{part.kind}>" if part.kind != "same" else text)
    return mark_safe("".join(html))  # noqa: S308 - each piece of text is escaped above
