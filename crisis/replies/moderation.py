"""Moderation without censorship: hiding, showing again or deleting a mention on its platform.

Every request carries a justification and is audited; deleting always needs a supervisor's
approval (hiding when the protocol says so), and nobody approves their own request. An approved
request is carried out through the platform where the source's publishing account can do it
(task `crisis.replies.tasks.carry_out_moderation`), otherwise a person does it by hand and marks
it done. Nothing is ever removed from Calma's database: the mention stays, with a badge.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import KombuError

from crisis.incidents.models import Incident, IncidentMention, reaches_platforms
from crisis.incidents.services import notify_or_log, supervisor_ids
from crisis.incidents.transitions import (
    can_act,
    is_supervisor,
    require_supervisor,
    works_incidents,
)
from crisis.notifications.models import NotificationKind
from crisis.replies.models import (
    ModerationAction,
    ModerationRequest,
    ModerationState,
    PublishingAccount,
    SourceAccount,
)
from crisis.services.audit import record_audit_event
from monitoring.connectors import writing
from monitoring.connectors.base import PermanentError, RateLimited, TransientError
from monitoring.credentials import resolve_credentials
from monitoring.models import Mention
from protocols.schema import section

logger = logging.getLogger(__name__)

CARRY_OUT_TASK = "crisis.replies.tasks.carry_out_moderation"

# A justification says why, in words: at least this many letters or digits, and bounded.
JUSTIFICATION_MIN_CHARACTERS = 10
JUSTIFICATION_MAX_LENGTH = 2000
COMMENT_MAX_LENGTH = 2000
LAST_ERROR_MAX_LENGTH = 1000

# An approved request still not carried out this long after its approval lost its hand-off
# (broker down, worker killed before it acknowledged): the sweep queues it again.
HAND_OFF_GRACE = timedelta(minutes=5)
# A queued copy not started within this long is dropped by the worker, so a sweep repeated
# while workers are down does not pile up copies (the next sweep queues a fresh one).
SWEEP_COPY_EXPIRES_SECONDS = 120
SWEEP_BATCH = 200

# A request still being decided or carried out; a mention has at most one at a time.
OPEN_STATES = (ModerationState.REQUESTED, ModerationState.APPROVED)

# The connector capability each action needs (monitoring.connectors.writing.capabilities).
CAPABILITY = {
    ModerationAction.HIDE: "hide",
    ModerationAction.UNHIDE: "unhide",
    ModerationAction.DELETE: "delete",
}


class PlatformStatus:
    """What Calma did to a mention on its platform (from its done requests)."""

    VISIBLE = "visible"
    HIDDEN = "hidden"
    DELETED = "deleted"

    LABELS = {
        VISIBLE: _("Visible on the platform"),
        HIDDEN: _("Hidden on the platform"),
        DELETED: _("Deleted on the platform"),
    }


class ModerationRefused(Exception):
    """The request or decision cannot be made in the mention's or request's current state
    (the message is in the reader's language)."""


# --- reads ---------------------------------------------------------------------------------


def status_after(actions: list[str]) -> str:
    """The platform status after the done actions, oldest first."""
    status = PlatformStatus.VISIBLE
    for action in actions:
        if action == ModerationAction.DELETE:
            return PlatformStatus.DELETED
        status = (
            PlatformStatus.HIDDEN if action == ModerationAction.HIDE else PlatformStatus.VISIBLE
        )
    return status


def platform_statuses(mention_ids: list[int] | set[int]) -> dict[int, str]:
    """Each mention's platform status (one query); mentions never moderated are visible."""
    done: dict[int, list[str]] = {mention_id: [] for mention_id in mention_ids}
    if not done:
        return {}
    rows = (
        ModerationRequest.objects.filter(mention_id__in=list(done), state=ModerationState.DONE)
        .order_by("done_at", "id")
        .values_list("mention_id", "action")
    )
    for mention_id, action in rows:
        done[mention_id].append(action)
    return {mention_id: status_after(actions) for mention_id, actions in done.items()}


def needs_approval(action: str, incident: Incident | None) -> bool:
    """Deleting always; showing again never; hiding when the protocol says so (the
    incident's protocol version, else the active one)."""
    if action == ModerationAction.DELETE:
        return True
    if action == ModerationAction.UNHIDE:
        return False
    if incident is not None:
        config = incident.protocol_version.config
    else:
        from protocols.services import active_version

        config = active_version().config
    return bool(section(config, "replies").get("hide_needs_approval"))


def actions_for(status: str) -> list[str]:
    """The actions a mention in this platform status may be asked for."""
    if status == PlatformStatus.DELETED:
        return []
    if status == PlatformStatus.HIDDEN:
        return [ModerationAction.UNHIDE, ModerationAction.DELETE]
    return [ModerationAction.HIDE, ModerationAction.DELETE]


def can_request(actor: AbstractBaseUser | None, incident: Incident | None) -> bool:
    """Someone who can act on the incident, or a supervisor (the only one without one)."""
    if incident is None:
        return works_incidents(actor) and is_supervisor(actor)
    return can_act(actor, incident)


def can_decide(actor: AbstractBaseUser | None, request: ModerationRequest) -> bool:
    return works_incidents(actor) and is_supervisor(actor)


def can_approve(actor: AbstractBaseUser | None, request: ModerationRequest) -> bool:
    """A supervisor who did not ask for it (four eyes)."""
    return can_decide(actor, request) and request.requested_by_id != actor.pk


def in_thread(mention: Mention, incident: Incident) -> bool:
    """The mention is attached to the incident, or replies to one of its mentions (the
    incident page's thread shows both)."""
    links = IncidentMention.objects.filter(incident=incident)
    if links.filter(mention_id=mention.pk).exists():
        return True
    return bool(
        mention.reply_to_id
        and mention.origin == incident.origin
        and links.filter(
            mention__platform=mention.platform, mention__external_id=mention.reply_to_id
        ).exists()
    )


@dataclass(frozen=True, slots=True)
class PlatformWrite:
    """How Calma can carry out a request itself: the account that acts and the capability."""

    account: PublishingAccount
    capability: str


def platform_write(mention: Mention, action: str) -> PlatformWrite | None:
    """The publishing account that can carry out `action` on the mention through its platform
    (the source's answering account, enabled, with credentials and the capability), or None
    when a person must do it by hand."""
    if mention.source_id is None:
        return None
    link = (
        SourceAccount.objects.filter(source_id=mention.source_id).select_related("account").first()
    )
    return writer_of(link.account if link else None, mention, action)


def writer_of(
    account: PublishingAccount | None, mention: Mention, action: str
) -> PlatformWrite | None:
    if account is None or not account.enabled or account.platform != mention.platform:
        return None
    if not reaches_platforms(mention.origin):
        return None
    capability = CAPABILITY[ModerationAction(action)]
    if not writing.can(mention.platform, capability):
        return None
    if writing.credentials_missing(_account_config(account)):
        return None
    return PlatformWrite(account, capability)


def _account_config(account: PublishingAccount) -> writing.AccountConfig:
    """What the platform writer needs, secrets resolved (never logged, never stored)."""
    return writing.AccountConfig(
        platform=account.platform,
        base_url=account.base_url,
        handle=account.handle,
        credentials=resolve_credentials(account.credentials_ref),
    )


def accounts_for(source_ids: set[int]) -> dict[int, PublishingAccount]:
    """The answering account of each source (one query)."""
    links = SourceAccount.objects.filter(source_id__in=list(source_ids)).select_related("account")
    return {link.source_id: link.account for link in links}


def pending_count() -> int:
    """Requests waiting for a supervisor (the navigation's badge; the partial index)."""
    return ModerationRequest.objects.filter(state=ModerationState.REQUESTED).count()


# --- writes --------------------------------------------------------------------------------


def clean_justification(text: Any) -> str:
    """The justification as stored, or ValidationError: words that say why, bounded."""
    text = str(text or "").replace("\x00", "").strip()
    if sum(character.isalnum() for character in text) < JUSTIFICATION_MIN_CHARACTERS:
        raise ValidationError(
            gettext("Say why, in at least %(count)d letters or digits.")
            % {"count": JUSTIFICATION_MIN_CHARACTERS},
            code="justification_too_short",
        )
    if len(text) > JUSTIFICATION_MAX_LENGTH:
        raise ValidationError(
            gettext("Keep the justification under %(count)d characters.")
            % {"count": JUSTIFICATION_MAX_LENGTH},
            code="justification_too_long",
        )
    return text


def clean_comment(text: Any, *, required: bool) -> str:
    text = str(text or "").replace("\x00", "").strip()
    if required and not text:
        raise ValidationError(gettext("Say why in a comment."), code="comment_required")
    if len(text) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            gettext("Keep the comment under %(count)d characters.") % {"count": COMMENT_MAX_LENGTH},
            code="comment_too_long",
        )
    return text


def request_moderation(
    *,
    actor: AbstractBaseUser,
    mention: Mention,
    action: str,
    justification: str,
    incident: Incident | None = None,
    now: datetime,
) -> ModerationRequest:
    """Ask to hide, show again or delete a mention on its platform. Needing no approval, the
    request is approved at once and carried out; otherwise the supervisors are told."""
    try:
        action = ModerationAction(action)
    except ValueError as unknown:
        raise ValidationError(gettext("Choose hide, show again or delete.")) from unknown
    justification = clean_justification(justification)
    if not can_request(actor, incident):
        raise PermissionDenied(gettext("You cannot moderate mentions of this incident."))
    if incident is not None and not in_thread(mention, incident):
        raise ModerationRefused(
            gettext("That mention is not in the thread of incident #%(id)s.") % {"id": incident.pk}
        )
    with transaction.atomic():
        # One request at a time per mention: two people asking at once are decided in turn.
        Mention.objects.select_for_update().filter(pk=mention.pk).first()
        history = list(
            ModerationRequest.objects.filter(mention=mention).order_by("requested_at", "id")
        )
        waiting = next((item for item in history if item.state in OPEN_STATES), None)
        if waiting is not None:
            raise ModerationRefused(
                gettext("Request #%(id)s on this mention is not finished yet.") % {"id": waiting.pk}
            )
        done = sorted(
            (item for item in history if item.state == ModerationState.DONE),
            key=lambda item: (item.done_at, item.pk),
        )
        status = status_after([item.action for item in done])
        if action not in actions_for(status):
            raise ModerationRefused(_refusal(action, status))
        reverses = done[-1] if action == ModerationAction.UNHIDE else None
        approval = needs_approval(action, incident)
        request = ModerationRequest.objects.create(
            mention=mention,
            incident=incident,
            action=action,
            justification=justification,
            state=ModerationState.REQUESTED if approval else ModerationState.APPROVED,
            needs_approval=approval,
            requested_by=actor,
            requested_at=now,
            decided_at=None if approval else now,
            reverses=reverses,
        )
        event = record_audit_event(
            actor=actor,
            verb="moderation.request",
            target=request,
            after={
                "action": action.value,
                "mention": mention.pk,
                "incident": incident.pk if incident else None,
                "justification": for_audit(justification),
                "needs_approval": approval,
                "reverses": reverses.pk if reverses else None,
                "state": request.state,
            },
        )
        if approval:
            _notify_after_commit(
                request,
                user_ids=[pk for pk in supervisor_ids() if pk != actor.pk],
                kind=NotificationKind.MODERATION_REQUESTED,
                title=(
                    gettext_noop("Moderation to approve (%(action)s): request #%(id)s"),
                    {"action": ModerationAction(action).label, "id": request.pk},
                ),
                body=justification,
                what="requested",
                event_id=event.pk,
                now=now,
            )
        else:
            _hand_off_after_commit(request)
    return request


def approve_moderation(
    *, actor: AbstractBaseUser, request: ModerationRequest, comment: str = "", now: datetime
) -> ModerationRequest:
    """A supervisor other than the requester approves; then it is carried out."""
    require_supervisor(actor)
    comment = clean_comment(comment, required=False)
    with transaction.atomic():
        request = _locked(request)
        if request.requested_by_id == actor.pk:
            raise PermissionDenied(
                gettext("You asked for this; another supervisor must approve it.")
            )
        _require_state(request, ModerationState.REQUESTED)
        before = _snapshot(request)
        request.state = ModerationState.APPROVED
        request.decided_by = actor
        request.decided_at = now
        request.decision_comment = comment
        request.save(update_fields=["state", "decided_by", "decided_at", "decision_comment"])
        event = record_audit_event(
            actor=actor,
            verb="moderation.approve",
            target=request,
            before=before,
            after={**_snapshot(request), "comment": for_audit(comment)},
        )
        _tell_requester(request, actor, event.pk, "approved", now)
        _hand_off_after_commit(request)
    return request


def reject_moderation(
    *, actor: AbstractBaseUser, request: ModerationRequest, comment: str, now: datetime
) -> ModerationRequest:
    """A supervisor refuses, saying why; the mention stays as it is on the platform."""
    require_supervisor(actor)
    comment = clean_comment(comment, required=True)
    with transaction.atomic():
        request = _locked(request)
        _require_state(request, ModerationState.REQUESTED)
        before = _snapshot(request)
        request.state = ModerationState.REJECTED
        request.decided_by = actor
        request.decided_at = now
        request.decision_comment = comment
        request.save(update_fields=["state", "decided_by", "decided_at", "decision_comment"])
        event = record_audit_event(
            actor=actor,
            verb="moderation.reject",
            target=request,
            before=before,
            after={**_snapshot(request), "comment": for_audit(comment)},
        )
        _tell_requester(request, actor, event.pk, "rejected", now)
    return request


def mark_moderation_done_by_hand(
    *, actor: AbstractBaseUser, request: ModerationRequest, now: datetime
) -> ModerationRequest:
    """Someone did it on the platform themselves (no connector can, or Calma's attempt
    failed): the request is done."""
    with transaction.atomic():
        request = _locked(request)
        if not can_request(actor, request.incident):
            raise PermissionDenied(gettext("You cannot moderate mentions of this incident."))
        _require_state(request, ModerationState.APPROVED, ModerationState.FAILED)
        before = _snapshot(request)
        request.state = ModerationState.DONE
        request.done_at = now
        request.done_by_hand = True
        request.save(update_fields=["state", "done_at", "done_by_hand"])
        record_audit_event(
            actor=actor,
            verb="moderation.done",
            target=request,
            before=before,
            after={**_snapshot(request), "by_hand": True, "mention": request.mention_id},
        )
    return request


def retry_moderation(
    *, actor: AbstractBaseUser, request: ModerationRequest, now: datetime
) -> ModerationRequest:
    """Try a failed request through the platform again."""
    with transaction.atomic():
        request = _locked(request)
        if not can_request(actor, request.incident):
            raise PermissionDenied(gettext("You cannot moderate mentions of this incident."))
        _require_state(request, ModerationState.FAILED)
        if platform_write(request.mention, request.action) is None:
            raise ModerationRefused(
                gettext("Calma cannot do this on %(platform)s; do it by hand, then mark it done.")
                % {"platform": request.mention.get_platform_display()}
            )
        before = _snapshot(request)
        request.state = ModerationState.APPROVED
        request.save(update_fields=["state"])
        record_audit_event(
            actor=actor,
            verb="moderation.retry",
            target=request,
            before=before,
            after=_snapshot(request),
        )
        _hand_off_after_commit(request)
    return request


def carry_out_moderation(*, request_id: int, now: datetime, final_attempt: bool = True) -> str:
    """The task body: do one approved request on the platform. Idempotent: a request already
    done, or being carried out by another worker, is left alone. A transient platform error is
    kept as the last error and raised again for the task to retry; on the final attempt, or on
    a permanent error, the request fails and its requester is told. Returns the state."""
    retry_with: Exception | None = None
    with transaction.atomic():
        request = (
            ModerationRequest.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("mention", "incident")
            .filter(pk=request_id)
            .first()
        )
        if request is None:
            return "busy"
        if request.state != ModerationState.APPROVED:
            return request.state
        writer = platform_write(request.mention, request.action)
        if writer is None:
            return "by_hand"
        try:
            _call_platform(writer, request)
        except (TransientError, RateLimited) as error:
            if not final_attempt:
                request.last_error = _error_text(error)
                request.save(update_fields=["last_error"])
                retry_with = error
            else:
                _fail(request, error, now)
        except PermanentError as error:
            _fail(request, error, now)
        else:
            before = _snapshot(request)
            request.state = ModerationState.DONE
            request.done_at = now
            request.done_by_hand = False
            request.last_error = ""
            request.save(update_fields=["state", "done_at", "done_by_hand", "last_error"])
            record_audit_event(
                actor=None,
                verb="moderation.done",
                target=request,
                before=before,
                after={
                    **_snapshot(request),
                    "by_hand": False,
                    "mention": request.mention_id,
                    "account": writer.account.pk,
                },
            )
    if retry_with is not None:
        raise retry_with
    return request.state


def sweep_approved_moderation(*, now: datetime) -> int:
    """Beat: queue again approved requests whose hand-off was lost (only those Calma can carry
    out itself; the others wait for a person). Returns how many were queued."""
    candidates = (
        ModerationRequest.objects.filter(
            state=ModerationState.APPROVED,
            decided_at__lte=now - HAND_OFF_GRACE,
            mention__source__answering__account__enabled=True,
        )
        .select_related("mention__source__answering__account")
        .order_by("decided_at", "id")[:SWEEP_BATCH]
    )
    queued = 0
    for request in candidates:
        account = request.mention.source.answering.account
        if writer_of(account, request.mention, request.action) is None:
            continue
        if _send_task(request.pk, expires=SWEEP_COPY_EXPIRES_SECONDS):
            queued += 1
    return queued


# --- helpers -------------------------------------------------------------------------------


def _call_platform(writer: PlatformWrite, request: ModerationRequest) -> None:
    config = _account_config(writer.account)
    mention = request.mention
    target = writing.Target(
        platform=mention.platform,
        external_id=mention.external_id,
        thread_id=mention.thread_id,
        url=mention.url,
        raw=mention.raw or {},
    )
    operation = {
        ModerationAction.HIDE: writing.hide_mention,
        ModerationAction.UNHIDE: writing.unhide_mention,
        ModerationAction.DELETE: writing.delete_mention,
    }[ModerationAction(request.action)]
    operation(config, target)


def _fail(request: ModerationRequest, error: Exception, now: datetime) -> None:
    before = _snapshot(request)
    request.state = ModerationState.FAILED
    request.last_error = _error_text(error)
    request.save(update_fields=["state", "last_error"])
    event = record_audit_event(
        actor=None,
        verb="moderation.failed",
        target=request,
        before=before,
        after={**_snapshot(request), "error": request.last_error},
    )
    _notify_after_commit(
        request,
        user_ids=[request.requested_by_id],
        kind=NotificationKind.MODERATION_DECIDED,
        title=(
            gettext_noop(
                "Moderation request #%(id)s failed on the platform; retry or do it by hand"
            ),
            {"id": request.pk},
        ),
        body="",
        what="failed",
        event_id=event.pk,
        now=now,
    )


def _error_text(error: Exception) -> str:
    text = (str(error) or type(error).__name__).replace("\x00", "")
    return text[:LAST_ERROR_MAX_LENGTH]


def _refusal(action: str, status: str) -> str:
    if status == PlatformStatus.DELETED:
        return gettext("This mention was deleted on the platform; that is final.")
    if action == ModerationAction.HIDE:
        return gettext("This mention is already hidden on the platform.")
    return gettext("Only a hidden mention can be shown again.")


def _locked(request: ModerationRequest) -> ModerationRequest:
    return (
        ModerationRequest.objects.select_for_update(of=("self",))
        .select_related("mention", "incident", "incident__protocol_version")
        .get(pk=request.pk)
    )


def _require_state(request: ModerationRequest, *states: str) -> None:
    if request.state not in states:
        raise ModerationRefused(
            gettext("Request #%(id)s is %(state)s; that cannot be done now.")
            % {"id": request.pk, "state": str(ModerationState(request.state).label).lower()}
        )


def _snapshot(request: ModerationRequest) -> dict[str, Any]:
    return {"state": request.state, "action": request.action}


# E-mail addresses and phone numbers never reach the append-only audit log (a justification
# may quote the post it is about). Both patterns are linear.
_EMAIL = re.compile(r"[^\s@<>()]{1,64}@[^\s@<>()]{1,255}")
_PHONE = re.compile(r"\+?\d(?:[ .\-()]{0,2}\d){6,}")


def for_audit(text: str) -> str:
    return _PHONE.sub("[phone]", _EMAIL.sub("[e-mail]", text))


def request_url(request: ModerationRequest) -> str:
    return reverse("replies:moderation_detail", args=[request.pk])


def _tell_requester(
    request: ModerationRequest, actor: AbstractBaseUser, event_id: int, what: str, now: datetime
) -> None:
    if request.requested_by_id == actor.pk:
        return
    if what == "approved":
        title = gettext_noop("Moderation request #%(id)s approved")
    else:
        title = gettext_noop("Moderation request #%(id)s rejected")
    _notify_after_commit(
        request,
        user_ids=[request.requested_by_id],
        kind=NotificationKind.MODERATION_DECIDED,
        title=(title, {"id": request.pk}),
        body=request.decision_comment,
        what=what,
        event_id=event_id,
        now=now,
    )


def _notify_after_commit(
    request: ModerationRequest,
    *,
    user_ids: list[int],
    kind: str,
    title: Any,
    body: Any,
    what: str,
    event_id: int,
    now: datetime,
) -> None:
    """Tell people once the change is committed, as the incident services do."""
    if not user_ids:
        return
    url = request_url(request)
    incident_id = request.incident_id or 0
    origin = request.mention.origin
    dedupe_key = f"moderation:{request.pk}:{what}:{event_id}"

    def send() -> None:
        notify_or_log(
            incident_id=incident_id,
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


def _hand_off_after_commit(request: ModerationRequest) -> None:
    """Queue the platform task once committed, when Calma can do it itself; otherwise the
    request waits, approved, for a person to do it by hand."""
    if platform_write(request.mention, request.action) is None:
        return
    request_id = request.pk
    transaction.on_commit(lambda: _send_task(request_id), robust=True)


def _send_task(request_id: int, *, expires: int | None = None) -> bool:
    """Enqueue by task name; False (one log line) when the broker is unreachable: the request
    is committed and the sweep queues it again."""
    options: dict[str, Any] = {"expires": expires} if expires else {}
    try:
        current_app.send_task(CARRY_OUT_TASK, args=[request_id], **options)
    except (KombuError, OSError) as error:
        logger.warning("moderation request %s not enqueued (%s)", request_id, error)
        return False
    return True


def history_for(mention_ids: list[int]) -> dict[int, list[ModerationRequest]]:
    """Each mention's requests, newest first (one query)."""
    history: dict[int, list[ModerationRequest]] = {mention_id: [] for mention_id in mention_ids}
    if not history:
        return history
    rows = (
        ModerationRequest.objects.filter(mention_id__in=list(history))
        .select_related("requested_by", "decided_by")
        .order_by("-requested_at", "-id")
    )
    for row in rows:
        history[row.mention_id].append(row)
    return history
