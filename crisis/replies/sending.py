"""Sending approved replies: posted through the platform where an account can, else shown ready
to copy and marked sent by hand; retries, stuck sends, corrections and deletions.

A send is at-least-once and never posts twice. The claim (APPROVED or FAILED → SENDING, one
more attempt) commits before the HTTP call; Mastodon gets the reply's Idempotency-Key on every
post; on the other platforms a retried send first looks for Calma's own reply on the thread.
`send_attempts` names the claim: only the attempt that holds it hands it back for a retry or
records a failure. A SENDING reply whose attempt is in flight has `sending_started_at`; one
waiting for its retry has none. `sweep_stuck_sends` re-queues what a dead worker left behind.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext, gettext_noop
from kombu.exceptions import KombuError

from crisis.incidents import services as incident_services
from crisis.incidents.models import reaches_platforms
from crisis.incidents.transitions import can_act, is_supervisor, works_incidents
from crisis.notifications.models import NotificationKind
from crisis.replies.accounts import account_config, answering_account, credentials_present
from crisis.replies.models import (
    PublishingAccount,
    Reply,
    ReplyPurpose,
    ReplyState,
    ReplyVisibility,
)
from crisis.services.audit import record_audit_event
from monitoring.connectors import writing
from monitoring.connectors.base import (
    ConnectorError,
    PermanentError,
    RateLimited,
    TransientError,
)
from monitoring.platforms import Platform

logger = logging.getLogger(__name__)

SEND_TASK = "crisis.replies.tasks.send_reply"
# A send in flight longer than this lost its worker; a queued one lost its task message.
STUCK_AFTER = timedelta(minutes=5)
# Claims a reply may take before the sweep stops re-queueing it and records a failure.
MAX_ATTEMPTS = 12
SWEEP_BATCH = 200
# Platforms whose post endpoint honours an idempotency key: a retry posts again with the same
# key. Elsewhere a retry looks for the reply on the thread first.
IDEMPOTENT_PLATFORMS = frozenset({Platform.MASTODON})
SAFE_URL = URLValidator(schemes=["http", "https"])

# What a person reads as the reply's last error (msgids, translated when shown: templates use
# {% translate reply.last_error %}). Never the platform's own message, which may carry a URL.
ERROR_RETRYING = gettext_noop("The platform did not answer; Calma is trying again.")
ERROR_RATE_LIMITED_RETRYING = gettext_noop(
    "The platform asked Calma to slow down; Calma is trying again."
)
ERROR_UNAVAILABLE = gettext_noop(
    "The platform did not answer after several attempts. Try again later."
)
ERROR_RATE_LIMITED = gettext_noop(
    "The platform limits how often the account may post. Try again later."
)
ERROR_CREDENTIALS = gettext_noop(
    "The platform refused the account's credentials: an admin should check the publishing account."
)
ERROR_GONE = gettext_noop("The post being answered is no longer on the platform.")
ERROR_REFUSED = gettext_noop("The platform refused the reply.")
ERROR_CANNOT_POST = gettext_noop(
    "Calma can no longer post with this reply's account: copy the reply by hand."
)


class SendingError(Exception):
    """A refused sending action, in the reader's language (shown as a message, never a 500)."""


# --- Can Calma post it? ----------------------------------------------------------------------


def account_can_post(account: PublishingAccount | None, platform: str) -> bool:
    return bool(
        account is not None
        and account.enabled
        and account.platform == platform
        and "reply" in writing.capabilities(platform)
        and credentials_present(account)
    )


def posting_account(reply: Reply) -> PublishingAccount | None:
    """The account Calma would post this reply with, or None (then it is copied by hand): a
    public reply, on a platform Calma can reply on, whose mention's source has an enabled
    answering account with its secrets present."""
    mention = reply.in_reply_to
    if reply.visibility != ReplyVisibility.PUBLIC or not reaches_platforms(mention.origin):
        return None
    if "reply" not in writing.capabilities(mention.platform):
        return None
    account = answering_account(mention)
    return account if account_can_post(account, mention.platform) else None


def can_post(reply: Reply) -> bool:
    return posting_account(reply) is not None


# --- Approval hands over ---------------------------------------------------------------------


def after_approval(*, reply: Reply, now: datetime) -> None:
    """Called by approvals inside its transaction once a reply is APPROVED: if Calma can post
    it, the account is fixed and the send is queued once committed; otherwise it stays
    APPROVED without an account, which the panel shows ready to copy."""
    account = posting_account(reply)
    Reply.objects.filter(pk=reply.pk).update(account=account, updated_at=now)
    reply.account = account
    if account is not None:
        queue_send_after_commit(reply.pk)


def queue_send_after_commit(reply_id: int) -> None:
    transaction.on_commit(lambda: queue_send(reply_id), robust=True)


def queue_send(reply_id: int) -> bool:
    """Enqueue the send by task name; False (one log line) when the broker is unreachable:
    the sweep queues it again."""
    try:
        current_app.send_task(SEND_TASK, args=[reply_id])
    except (KombuError, OSError) as error:
        logger.warning("send of reply %s not enqueued (%s)", reply_id, error)
        return False
    return True


# --- The send (task body) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claim:
    reply: Reply
    attempt: int  # the reply's send_attempts once claimed: names this attempt


def send_reply(*, reply_id: int, now: datetime, final_attempt: bool = False) -> Reply | None:
    """Post one approved reply. Idempotent: a reply already sent, or in flight in another
    attempt, is left alone (returns None). A transient failure hands the claim back (state
    stays SENDING) and re-raises for the task to retry, unless `final_attempt`, when it is
    recorded as FAILED like a permanent one."""
    claim = _claim(reply_id, now)
    if claim is None:
        return None
    reply = claim.reply
    mention = reply.in_reply_to
    account = reply.account
    if not reaches_platforms(mention.origin) or not account_can_post(account, mention.platform):
        _hand_to_copy(claim, now)
        return reply
    config = account_config(account)
    target = writing.Target(
        platform=mention.platform,
        external_id=mention.external_id,
        thread_id=mention.thread_id,
        url=mention.url,
        raw=mention.raw,
    )
    try:
        posted, how = _deliver(reply, config, target, retrying=claim.attempt > 1)
    except RateLimited as error:
        if final_attempt:
            _fail(claim, now, ERROR_RATE_LIMITED, error)
            return reply
        _hand_back(claim, now, ERROR_RATE_LIMITED_RETRYING)
        raise
    except PermanentError as error:
        _fail(claim, now, _permanent_message(error), error)
        return reply
    except (TransientError, ConnectorError) as error:
        if final_attempt:
            _fail(claim, now, ERROR_UNAVAILABLE, error)
            return reply
        _hand_back(claim, now, ERROR_RETRYING)
        raise
    return _record_sent(reply, now, external_id=posted.external_id, url=posted.url, how=how)


def _claim(reply_id: int, now: datetime) -> Claim | None:
    """APPROVED (with an account) or FAILED, or SENDING and not in flight (waiting for its
    retry, or stuck past STUCK_AFTER) → SENDING, one more attempt. Committed before the call."""
    claimable = (
        Q(state__in=[ReplyState.APPROVED, ReplyState.FAILED], account__isnull=False)
        | Q(state=ReplyState.SENDING, sending_started_at__isnull=True)
        | Q(state=ReplyState.SENDING, sending_started_at__lt=now - STUCK_AFTER)
    )
    with transaction.atomic():
        before = Reply.objects.filter(pk=reply_id).values_list("state", flat=True).first()
        claimed = Reply.objects.filter(claimable, pk=reply_id).update(
            state=ReplyState.SENDING,
            sending_started_at=now,
            send_attempts=F("send_attempts") + 1,
            updated_at=now,
        )
        if not claimed:
            return None
        reply = Reply.objects.select_related("in_reply_to", "account", "corrects", "incident").get(
            pk=reply_id
        )
        record_audit_event(
            actor=None,
            verb="reply.send_started",
            target=reply,
            before={"state": before},
            after={
                "state": reply.state,
                "attempt": reply.send_attempts,
                "account": reply.account_id,
            },
        )
    return Claim(reply=reply, attempt=reply.send_attempts)


def _deliver(reply: Reply, config, target, *, retrying: bool) -> tuple["writing.Posted", str]:
    """The platform call: edit the corrected reply in place where the platform can, else post
    (after looking for our own reply on the thread when retrying without an idempotency key).
    Returns what was posted and how ("edited", "found", "posted")."""
    original = reply.corrects
    if (
        reply.purpose == ReplyPurpose.CORRECTION
        and original is not None
        and original.state == ReplyState.SENT
        and original.external_id
        and not original.sent_by_hand
        and original.account_id == reply.account_id
        and "edit" in writing.capabilities(config.platform)
    ):
        return writing.edit_reply(config, original.external_id, reply.text), "edited"
    if retrying and config.platform not in IDEMPOTENT_PLATFORMS:
        # A post of ours with this text on the thread is this reply (or says exactly what it
        # says): posting again could only double it.
        found = writing.find_own_reply(config, target, text=reply.text)
        if found is not None:
            return found, "found"
    posted = writing.post_reply(
        config, target, reply.text, idempotency_key=str(reply.idempotency_key)
    )
    return posted, "posted"


def _hand_back(claim: Claim, now: datetime, message: str) -> None:
    """A transient failure: still SENDING, no longer in flight, waiting for the retry."""
    Reply.objects.filter(
        pk=claim.reply.pk, state=ReplyState.SENDING, send_attempts=claim.attempt
    ).update(sending_started_at=None, last_error=message, updated_at=now)


def _hand_to_copy(claim: Claim, now: datetime) -> None:
    """The account can no longer post (disabled, secret removed): the reply goes back to
    APPROVED without an account, shown ready to copy, and its people are told."""
    reply = claim.reply
    with transaction.atomic():
        changed = Reply.objects.filter(
            pk=reply.pk, state=ReplyState.SENDING, send_attempts=claim.attempt
        ).update(
            state=ReplyState.APPROVED,
            account=None,
            sending_started_at=None,
            last_error=ERROR_CANNOT_POST,
            updated_at=now,
        )
        if not changed:
            return
        event = record_audit_event(
            actor=None,
            verb="reply.send_failed",
            target=reply,
            before={"state": ReplyState.SENDING, "account": reply.account_id},
            after={"state": ReplyState.APPROVED, "error": "account_cannot_post"},
        )
        _tell_failure(reply, now, ERROR_CANNOT_POST, event_id=event.pk)


def _fail(claim: Claim, now: datetime, message: str, error: Exception | None) -> None:
    reply = claim.reply
    with transaction.atomic():
        changed = Reply.objects.filter(
            pk=reply.pk, state=ReplyState.SENDING, send_attempts=claim.attempt
        ).update(
            state=ReplyState.FAILED,
            sending_started_at=None,
            last_error=message,
            updated_at=now,
        )
        if not changed:
            return
        event = record_audit_event(
            actor=None,
            verb="reply.send_failed",
            target=reply,
            before={"state": ReplyState.SENDING},
            after={
                "state": ReplyState.FAILED,
                "attempts": claim.attempt,
                "error": message,
                "detail": error_detail(error),
            },
        )
        _tell_failure(reply, now, message, event_id=event.pk)


def _tell_failure(reply: Reply, now: datetime, message: str, *, event_id: int) -> None:
    incident = reply.incident
    people = [reply.drafted_by_id, incident.owner_id]
    incident_services.notify_after_commit(
        user_ids=sorted({person for person in people if person is not None}),
        kind=NotificationKind.REPLY_FAILED,
        title=(gettext_noop("A reply on incident #%(id)s was not sent"), {"id": incident.pk}),
        body=(message, {}),
        incident=incident,
        dedupe_key=f"reply:{reply.pk}:failed:{event_id}",
        now=now,
    )


_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")


def _status_of(error: Exception | None) -> int | None:
    status = getattr(error, "status", None) or getattr(error, "status_code", None)
    if isinstance(status, int):
        return status
    match = _HTTP_STATUS.search(str(error or ""))
    return int(match.group(1)) if match else None


def error_detail(error: Exception | None) -> str:
    """For the audit log: the error's kind and HTTP status, never its text (which may carry a
    URL with a key)."""
    if error is None:
        return ""
    status = _status_of(error)
    return f"{type(error).__name__}" + (f" HTTP {status}" if status else "")


def _permanent_message(error: PermanentError) -> str:
    status = _status_of(error)
    if status in (401, 403):
        return ERROR_CREDENTIALS
    if status in (404, 410):
        return ERROR_GONE
    return ERROR_REFUSED


def safe_url(url: str) -> str:
    """The link if it is http(s), else "" (a platform or a person may hand us anything)."""
    url = (url or "").strip()
    if not url or len(url) > Reply._meta.get_field("url").max_length:
        return ""
    try:
        SAFE_URL(url)
    except ValidationError:
        return ""
    return url


def _record_sent(
    reply: Reply,
    now: datetime,
    *,
    external_id: str = "",
    url: str = "",
    actor: AbstractBaseUser | None = None,
    how: str = "posted",
) -> Reply | None:
    """The reply is out: store its link and platform id, SENT; for a public reply the incident
    is replied and its SLA clock stops; an acknowledgement hands over to the private follow-up.
    Returns None when another attempt recorded it first."""
    by_hand = how == "by_hand"
    from_states = [ReplyState.APPROVED, ReplyState.FAILED] if by_hand else [ReplyState.SENDING]
    link = safe_url(url)
    with transaction.atomic():
        before = Reply.objects.filter(pk=reply.pk).values_list("state", flat=True).first()
        changed = Reply.objects.filter(pk=reply.pk, state__in=from_states).update(
            state=ReplyState.SENT,
            external_id=(external_id or "")[: Reply._meta.get_field("external_id").max_length],
            url=link,
            sent_at=now,
            sent_by=actor,
            sent_by_hand=by_hand,
            sending_started_at=None,
            last_error="",
            updated_at=now,
        )
        if not changed:
            return None
        reply = Reply.objects.select_related("incident", "in_reply_to").get(pk=reply.pk)
        record_audit_event(
            actor=actor,
            verb="reply.marked_sent" if by_hand else "reply.sent",
            target=reply,
            before={"state": before},
            after={
                "state": ReplyState.SENT,
                "how": how,
                "url": link,
                "attempts": reply.send_attempts,
                **({"edited": reply.corrects_id} if how == "edited" else {}),
            },
        )
        if reply.visibility == ReplyVisibility.PUBLIC:
            incident_services.record_reply_sent(actor=actor, incident=reply.incident, now=now)
        if reply.purpose == ReplyPurpose.ACKNOWLEDGEMENT:
            _after_acknowledgement_sent(reply, now)
    return reply


def _after_acknowledgement_sent(reply: Reply, now: datetime) -> None:
    from crisis.replies import private  # the private slice imports sending in turn

    private.after_acknowledgement_sent(reply=reply, now=now)


# --- The sweep -----------------------------------------------------------------------------


def sweep_stuck_sends(*, now: datetime) -> int:
    """Beat, every minute: sends whose worker died (in flight past STUCK_AFTER), whose retry
    was lost (waiting past it) or that never got their task (approved with an account, not
    claimed) are queued again; the send finds its own reply or reuses the idempotency key, so
    nothing is posted twice. A reply that used up MAX_ATTEMPTS is recorded as failed."""
    stale = now - STUCK_AFTER
    # updated_at is touched when queued, so a reply waits STUCK_AFTER between two queueings.
    stuck = Reply.objects.filter(
        Q(state=ReplyState.SENDING, sending_started_at__lt=stale)
        | Q(state=ReplyState.SENDING, sending_started_at__isnull=True)
        | Q(state=ReplyState.APPROVED, account__isnull=False),
        updated_at__lt=stale,
    ).order_by("updated_at", "pk")
    queued = 0
    for reply_id, state, attempts in stuck.values_list("pk", "state", "send_attempts")[
        :SWEEP_BATCH
    ]:
        if state == ReplyState.SENDING and attempts >= MAX_ATTEMPTS:
            _give_up(reply_id, attempts, now)
            continue
        Reply.objects.filter(pk=reply_id, state=state, send_attempts=attempts).update(
            updated_at=now
        )
        if queue_send(reply_id):
            queued += 1
    return queued


def _give_up(reply_id: int, attempts: int, now: datetime) -> None:
    reply = Reply.objects.select_related("incident").get(pk=reply_id)
    _fail(Claim(reply=reply, attempt=attempts), now, ERROR_UNAVAILABLE, None)


# --- What people do ----------------------------------------------------------------------------


def _locked(reply: Reply) -> Reply:
    return (
        Reply.objects.select_for_update(of=("self",))
        .select_related("incident", "in_reply_to", "account")
        .get(pk=reply.pk)
    )


def can_mark_sent(reply: Reply) -> bool:
    """Ready to copy (approved, Calma will not post it) or failed: a person may post it."""
    return reply.state == ReplyState.FAILED or (
        reply.state == ReplyState.APPROVED and reply.account_id is None
    )


def retry_send(*, actor: AbstractBaseUser, reply: Reply, now: datetime) -> Reply:
    """Send again a reply that failed, or send through Calma a ready-to-copy reply whose
    source got a working account since. Audited; the send is queued on commit."""
    with transaction.atomic():
        reply = _locked(reply)
        _require_can_act(actor, reply)
        if not reaches_platforms(reply.in_reply_to.origin):
            raise SendingError(
                gettext("Calma never posts a drill's reply on a platform: mark it sent by hand.")
            )
        if reply.state == ReplyState.FAILED:
            usable = account_can_post(reply.account, reply.in_reply_to.platform)
            account = reply.account if usable else posting_account(reply)
        elif reply.state == ReplyState.APPROVED and reply.account_id is None:
            account = posting_account(reply)
        else:
            raise SendingError(gettext("Only a reply that failed to send can be sent again."))
        if account is None:
            raise SendingError(
                gettext("Calma cannot post this reply on the platform: copy it by hand.")
            )
        record_audit_event(
            actor=actor,
            verb="reply.retry",
            target=reply,
            before={"state": reply.state, "account": reply.account_id, "error": reply.last_error},
            after={"account": account.pk, "attempts": reply.send_attempts},
        )
        reply.account = account
        reply.updated_at = now
        reply.save(update_fields=["account", "updated_at"])
        queue_send_after_commit(reply.pk)
    return reply


def mark_sent_by_hand(*, actor: AbstractBaseUser, reply: Reply, url: str, now: datetime) -> Reply:
    """A person posted the approved reply themselves: record it sent with its link (http or
    https only). Stops the SLA clock like any sent public reply."""
    link = safe_url(url)
    if not link:
        raise ValidationError(gettext("Give the reply's link, starting with http:// or https://."))
    with transaction.atomic():
        reply = _locked(reply)
        _require_can_act(actor, reply)
        if not can_mark_sent(reply):
            raise SendingError(
                gettext("Only an approved reply that Calma does not post can be marked sent.")
            )
        sent = _record_sent(reply, now, url=link, actor=actor, how="by_hand")
    return sent or reply


def correct_sent_reply(
    *, actor: AbstractBaseUser, reply: Reply, text: str | None = None, now: datetime
) -> Reply:
    """Start a correction of a wrong reply already sent: a new CORRECTION draft, prefilled with
    the old text (or `text`), that goes through drafts and approval like any other. Once
    approved it edits the original post in place where the platform can, else it is posted
    as a new reply."""
    from crisis.replies import drafts  # the drafts slice; it imports sending in turn

    with transaction.atomic():
        reply = _locked(reply)
        _require_may_amend(actor, reply)
        if reply.state != ReplyState.SENT:
            raise SendingError(gettext("Only a reply already sent can be corrected."))
        draft = drafts.start_draft(
            actor=actor,
            incident=reply.incident,
            now=now,
            language=reply.language,
            visibility=reply.visibility,
            purpose=ReplyPurpose.CORRECTION,
        )
        Reply.objects.filter(pk=draft.pk).update(
            corrects=reply, in_reply_to_id=reply.in_reply_to_id, updated_at=now
        )
        draft.refresh_from_db()
        draft = drafts.save_draft(actor=actor, reply=draft, text=text or reply.text, now=now)
        record_audit_event(
            actor=actor,
            verb="reply.corrected",
            target=reply,
            before={"state": reply.state},
            after={"correction": draft.pk},
        )
    return draft


def can_delete_on_platform(reply: Reply) -> bool:
    account = reply.account
    return bool(
        reply.state == ReplyState.SENT
        and reply.external_id
        and not reply.sent_by_hand
        and account is not None
        and account.enabled
        and "delete_own" in writing.capabilities(account.platform)
        and credentials_present(account)
    )


def delete_sent_reply(
    *,
    actor: AbstractBaseUser,
    reply: Reply,
    justification: str,
    now: datetime,
    by_hand: bool = False,
) -> Reply:
    """Delete a wrong reply already sent, with a justification kept in the audit log: through
    the platform where it allows it, else a person deletes it there and confirms here
    (`by_hand=True`). Calma keeps the reply, DELETED."""
    justification = (justification or "").replace("\x00", "").strip()
    if not justification:
        raise ValidationError(gettext("Say why the reply is deleted."))
    reply = Reply.objects.select_related("incident", "account", "in_reply_to").get(pk=reply.pk)
    _require_may_amend(actor, reply)
    if reply.state != ReplyState.SENT:
        raise SendingError(gettext("Only a reply already sent can be deleted."))
    if not by_hand:
        if not can_delete_on_platform(reply):
            raise SendingError(
                gettext("Calma cannot delete this reply: delete it on the platform, then confirm.")
            )
        _delete_on_platform(reply)
    with transaction.atomic():
        # An edited-in-place correction shares the original's post: both are gone.
        same_post = Q(pk=reply.pk)
        if not by_hand:
            same_post |= Q(account=reply.account_id, external_id=reply.external_id)
        changed = Reply.objects.filter(same_post, state=ReplyState.SENT).update(
            state=ReplyState.DELETED, deleted_at=now, updated_at=now
        )
        if not changed:
            raise SendingError(gettext("This reply was deleted already."))
        record_audit_event(
            actor=actor,
            verb="reply.deleted",
            target=reply,
            before={"state": ReplyState.SENT, "url": reply.url},
            after={
                "state": ReplyState.DELETED,
                "by_hand": by_hand,
                "justification": justification,
            },
        )
    reply.refresh_from_db()
    return reply


def _delete_on_platform(reply: Reply) -> None:
    config = account_config(reply.account)
    try:
        writing.delete_reply(config, reply.external_id)
    except PermanentError as error:
        if _status_of(error) in (404, 410):
            return  # gone already (a retried deletion, or removed on the platform)
        raise SendingError(gettext(_permanent_message(error))) from error
    except ConnectorError as error:
        raise SendingError(
            gettext("The platform did not answer; nothing was deleted. Try again later.")
        ) from error


def _require_can_act(actor: AbstractBaseUser, reply: Reply) -> None:
    if not can_act(actor, reply.incident):
        raise PermissionDenied(
            gettext("You cannot act on incident #%(id)s.") % {"id": reply.incident_id}
        )


def may_amend(actor: AbstractBaseUser, reply: Reply) -> bool:
    """Correct or delete a sent reply: its drafter, the incident's owner or a supervisor."""
    if not works_incidents(actor):
        return False
    return (
        is_supervisor(actor)
        or actor.pk == reply.drafted_by_id
        or actor.pk == reply.incident.owner_id
    )


def _require_may_amend(actor: AbstractBaseUser, reply: Reply) -> None:
    if not may_amend(actor, reply):
        raise PermissionDenied(
            gettext("Only the reply's author, the incident's owner or a supervisor can do this.")
        )


# --- What the panel shows --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendStatus:
    reply: Reply
    link: str  # the sent reply's, http(s) only
    mention_link: str  # the post being answered, http(s) only
    queued: bool  # approved, Calma will post it
    ready_to_copy: bool
    can_act: bool
    can_retry: bool
    can_mark_sent: bool
    can_send_now: bool  # ready to copy, but an account can post it now
    can_correct: bool
    can_delete_on_platform: bool
    can_delete_by_hand: bool
    polling: bool  # the status changes without a person: the partial refreshes itself


def send_status(reply: Reply, viewer: AbstractBaseUser | None) -> SendStatus:
    acting = bool(viewer is not None and can_act(viewer, reply.incident))
    amending = bool(viewer is not None and may_amend(viewer, reply))
    state = reply.state
    sent = state == ReplyState.SENT
    ready = state == ReplyState.APPROVED and reply.account_id is None
    send_now = acting and ready and can_post(reply)
    on_platform = amending and sent and can_delete_on_platform(reply)
    return SendStatus(
        reply=reply,
        link=safe_url(reply.url),
        mention_link=safe_url(reply.in_reply_to.url),
        queued=state == ReplyState.APPROVED and reply.account_id is not None,
        ready_to_copy=ready or state == ReplyState.FAILED,
        can_act=acting,
        can_retry=acting and (state == ReplyState.FAILED or send_now),
        can_mark_sent=acting and can_mark_sent(reply),
        can_send_now=send_now,
        can_correct=amending and sent,
        can_delete_on_platform=on_platform,
        can_delete_by_hand=amending and sent and not on_platform,
        polling=state == ReplyState.SENDING
        or (state == ReplyState.APPROVED and reply.account_id is not None),
    )
