"""Approval of replies (four-eyes): approve, edit and approve, send back with a comment, and
the escalation of drafts that waited too long.

Nobody approves their own draft, nor a text they edited; when the protocol wants a legal
approval too, it comes from another person than the supervisor's approval of that revision.
An approval holds for one revision: an edit after it puts the reply back to approval.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from crisis.incidents import services as incident_services
from crisis.models import AuditEvent
from crisis.notifications.services import absolute_link
from crisis.replies.drafts import (
    ReplyError,
    _require_revision,
    approval_roles_given,
    audit,
    audit_text,
    check_text,
    clean_text,
    edit_summary,
    incident_reply_url,
    locked,
    mark_approved,
    missing_roles,
    notify_after_commit,
    refusal,
    request_approval,
    submission_key,
    supervisor_ids,
)
from crisis.replies.models import ApprovalDecision, Reply, ReplyApproval, ReplyState
from crisis.roles import Perm
from protocols import replies as rules
from protocols.models import ProtocolVersion
from protocols.schema import section, upgrade
from protocols.scoring.types import Severity

logger = logging.getLogger(__name__)

COMMENT_MAX_LENGTH = 2_000
# Verbs by which a person wrote (part of) a reply's text: they may not approve it.
AUTHORING_VERBS = ("reply.draft", "reply.edit")
# Replies looked at per escalation sweep (oldest first); the next minute takes the rest.
ESCALATION_BATCH = 500
ROLE_PERMISSIONS = {rules.SUPERVISOR: Perm.APPROVE_REPLIES, rules.LEGAL: Perm.APPROVE_LEGAL}


def approver_roles(actor: AbstractBaseUser | None) -> list[str]:
    """The approvals this person can give: "supervisor", "legal", both or none."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return []
    return [role for role, perm in ROLE_PERMISSIONS.items() if actor.has_perm(perm)]


def wrote_reply(actor: AbstractBaseUser, reply: Reply) -> bool:
    """Whether the person drafted the reply or saved an edit of its text."""
    if reply.drafted_by_id == actor.pk:
        return True
    return AuditEvent.objects.filter(
        object_type=Reply._meta.label_lower,
        object_id=str(reply.pk),
        actor=actor,
        verb__in=AUTHORING_VERBS,
    ).exists()


def _require_not_author(actor: AbstractBaseUser, reply: Reply) -> None:
    if reply.drafted_by_id == actor.pk:
        raise PermissionDenied(
            gettext("Nobody approves their own draft: another approver must decide on it.")
        )
    if wrote_reply(actor, reply):
        raise PermissionDenied(
            gettext("You edited this reply: another approver must decide on it.")
        )


def _require_awaiting(reply: Reply) -> None:
    if reply.state != ReplyState.AWAITING_APPROVAL:
        raise ReplyError(
            gettext("This reply is no longer waiting for approval (it is %(state)s).")
            % {"state": str(reply.get_state_display()).lower()}
        )


def _role_to_give(
    actor: AbstractBaseUser, capable: list[str], missing: list[str], role: str | None
) -> str:
    if role:
        if role not in capable:
            raise PermissionDenied(gettext("You cannot give this approval."))
        if role not in missing:
            raise ReplyError(gettext("This reply already has that approval."))
        return role
    for candidate in missing:
        if candidate in capable:
            return candidate
    raise PermissionDenied(
        gettext("This reply waits for an approval you cannot give (%(roles)s).")
        % {"roles": ", ".join(_role_label(role) for role in missing)}
    )


def _role_label(role: str) -> str:
    """An approving role as the reader says it (the same words as approval_role.html)."""
    labels = {rules.SUPERVISOR: gettext("supervisor"), rules.LEGAL: gettext("legal reviewer")}
    return labels.get(role, role)


def approve_reply(
    *,
    actor: AbstractBaseUser,
    reply: Reply,
    now: datetime,
    text: str | None = None,
    role: str | None = None,
    expected_revision: int | None = None,
) -> Reply:
    """Approve the reply's current revision in one role (the first missing one the approver
    can give, unless `role` says). With `text`, the approver edits first: that makes a new
    revision, approved by them in that role (earlier approvals were of another text). Once
    every required role approved the current revision, the reply is approved and handed to
    sending."""
    with transaction.atomic():
        reply, incident = locked(reply)
        capable = approver_roles(actor)
        if not capable:
            raise PermissionDenied(gettext("You cannot approve replies."))
        _require_not_author(actor, reply)
        _require_awaiting(reply)
        _require_revision(reply, expected_revision)
        given = approval_roles_given(reply)
        if actor.pk in given.values():
            raise PermissionDenied(
                gettext(
                    "You already approved this version: the other approval must come from "
                    "someone else."
                )
            )
        chosen = _role_to_give(actor, capable, missing_roles(reply, given), role)
        edited = False
        before = None
        if text is not None:
            text = clean_text(text)
            if text != reply.text:
                reason = refusal(
                    check_text(
                        text,
                        config=upgrade(reply.protocol_version.config),
                        platform=reply.in_reply_to.platform,
                        visibility=reply.visibility,
                    )
                )
                if reason:
                    raise ReplyError(reason)
                before = {"revision": reply.revision, **edit_summary(reply.text)}
                reply.text = text
                reply.revision += 1
                reply.submitted_at = now
                reply.approval_escalated_at = None
                edited = True
                given = {}
        try:
            with transaction.atomic():
                ReplyApproval.objects.create(
                    reply=reply,
                    revision=reply.revision,
                    role=chosen,
                    decision=ApprovalDecision.APPROVED,
                    decided_by=actor,
                    decided_at=now,
                )
        except IntegrityError as clash:
            raise ReplyError(gettext("Someone gave this approval a moment ago.")) from clash
        given[chosen] = actor.pk
        still_missing = missing_roles(reply, given)
        reply.updated_at = now
        reply.save()
        audit(
            actor,
            "reply.approve",
            reply,
            before=before,
            after={
                "role": chosen,
                "edited": edited,
                "complete": not still_missing,
                "missing": still_missing,
                "text": audit_text(reply.text),
            },
        )
        if still_missing:
            if edited:
                request_approval(reply, incident, actor=actor, now=now, roles=still_missing)
            return reply
        mark_approved(reply, incident, actor=actor, now=now)
        _tell_author(
            reply,
            incident,
            now=now,
            title=(
                gettext_noop("Your reply on incident #%(id)s was approved"),
                {"id": incident.pk},
            ),
            key=f"approved:r{reply.revision}",
        )
    return reply


def send_back_reply(
    *,
    actor: AbstractBaseUser,
    reply: Reply,
    comment: str,
    now: datetime,
    expected_revision: int | None = None,
) -> Reply:
    """Send the reply back to its author with a comment (mandatory): a draft again, the
    incident back in progress, the author told and shown the comment in the editor."""
    comment = clean_text(comment).strip()
    if not comment:
        raise ReplyError(gettext("Say what should change before sending the reply back."))
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ReplyError(
            gettext("A comment can have at most %(limit)s characters.")
            % {"limit": COMMENT_MAX_LENGTH}
        )
    with transaction.atomic():
        reply, incident = locked(reply)
        capable = approver_roles(actor)
        if not capable:
            raise PermissionDenied(gettext("You cannot decide on replies."))
        if reply.drafted_by_id == actor.pk:
            raise PermissionDenied(
                gettext("This is your own draft: edit it instead of sending it back.")
            )
        _require_awaiting(reply)
        _require_revision(reply, expected_revision)
        missing = missing_roles(reply)
        role = next((r for r in missing if r in capable), capable[0])
        decision = ReplyApproval.objects.create(
            reply=reply,
            revision=reply.revision,
            role=role,
            decision=ApprovalDecision.SENT_BACK,
            comment=comment,
            decided_by=actor,
            decided_at=now,
        )
        reply.state = ReplyState.DRAFT
        reply.sent_back_comment = comment
        reply.approval_escalated_at = None
        reply.updated_at = now
        reply.save()
        incident_services.end_reply_approval(actor=actor, incident=incident, now=now)
        audit(actor, "reply.send_back", reply, after={"role": role, "comment": comment})
        _tell_author(
            reply,
            incident,
            now=now,
            title=(
                gettext_noop("Your reply on incident #%(id)s was sent back by %(approver)s"),
                {"id": incident.pk, "approver": actor.get_username()},
            ),
            body=comment,
            key=f"sent_back:{decision.pk}",
        )
    return reply


def _tell_author(
    reply: Reply, incident, *, now: datetime, title: Any, key: str, body: Any = ""
) -> None:
    notify_after_commit(
        user_ids=[reply.drafted_by_id],
        kind="approval_decided",
        title=title,
        body=body,
        url=incident_reply_url(incident.pk),
        dedupe_key=f"reply:{reply.pk}:{key}",
        now=now,
        origin=incident.origin,
        incident_id=incident.pk,
    )


# --- Escalation -----------------------------------------------------------------------------------


def escalate_minutes(replies_section: dict[str, Any] | None) -> int:
    """The section's approval_escalate_minutes (the shipped default when it has none)."""
    value = (replies_section or {}).get("approval_escalate_minutes")
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return int(section({}, "replies")["approval_escalate_minutes"])


def escalate_minutes_by_version(version_ids: Any) -> dict[int, int]:
    """approval_escalate_minutes of each protocol version (ids or a subquery of ids; one query
    that reads only that section)."""
    rows = ProtocolVersion.objects.filter(pk__in=version_ids).values("pk", "config__replies")
    return {row["pk"]: escalate_minutes(row["config__replies"]) for row in rows}


def escalate_waiting_approvals(*, now: datetime) -> int:
    """Drafts waiting for approval longer than their protocol allows: every supervisor is
    told and the severity's escalation contacts get an e-mail, once per revision (a new
    revision waits afresh). Returns how many replies escalated now."""
    candidates = list(
        Reply.objects.filter(
            state=ReplyState.AWAITING_APPROVAL,
            approval_escalated_at__isnull=True,
            submitted_at__isnull=False,
            submitted_at__lte=now,
        )
        .order_by("submitted_at", "pk")
        .values("pk", "revision", "submitted_at", "protocol_version_id")[:ESCALATION_BATCH]
    )
    minutes = escalate_minutes_by_version({row["protocol_version_id"] for row in candidates})
    escalated = 0
    for row in candidates:
        limit = minutes.get(row["protocol_version_id"], escalate_minutes(None))
        if row["submitted_at"] + timedelta(minutes=limit) <= now:
            escalated += _escalate(row["pk"], row["revision"], now=now)
    return escalated


def _escalate(reply_id: int, revision: int, *, now: datetime) -> int:
    with transaction.atomic():
        # The claim: a second sweep (another worker, a retried task) finds nothing to do.
        claimed = Reply.objects.filter(
            pk=reply_id,
            revision=revision,
            state=ReplyState.AWAITING_APPROVAL,
            approval_escalated_at__isnull=True,
        ).update(approval_escalated_at=now)
        if not claimed:
            return 0
        reply = Reply.objects.select_related("incident", "protocol_version").get(pk=reply_id)
        incident = reply.incident
        config = reply.protocol_version.config
        waited = max(0, int((now - reply.submitted_at).total_seconds() // 60))
        contacts = valid_contacts(rules.escalation_contacts(config, severity=incident.severity))
        missing = missing_roles(reply)
        audit(
            None,
            "reply.escalate_approval",
            reply,
            after={"waited_minutes": waited, "missing": missing, "contacts": len(contacts)},
        )
        notify_after_commit(
            user_ids=supervisor_ids(),
            kind="approval_overdue",
            title=(
                gettext_noop(
                    "A reply on incident #%(id)s has waited %(minutes)s minutes for approval"
                ),
                {"id": incident.pk, "minutes": waited},
            ),
            url=reverse("approvals"),
            dedupe_key=f"reply:{reply.pk}:approval_overdue:{submission_key(reply)}",
            now=now,
            origin=incident.origin,
            incident_id=incident.pk,
        )
        if contacts and incident.origin == incident_services.LIVE_ORIGIN:
            subject, body = overdue_mail(
                incident_id=incident.pk, severity=incident.severity, minutes=waited
            )
            transaction.on_commit(
                lambda: _mail_contacts(reply_id, subject, body, contacts), robust=True
            )
    return 1


def valid_contacts(contacts: list[Any]) -> list[str]:
    """The protocol's contacts that look like e-mail addresses (protocol text is typed by
    people: anything else is skipped), each once."""
    valid: list[str] = []
    for contact in contacts:
        if not isinstance(contact, str):
            continue
        address = contact.strip()
        try:
            validate_email(address)
        except ValidationError:
            continue
        if address not in valid:
            valid.append(address)
    return valid


def overdue_mail(*, incident_id: int, severity: str, minutes: int) -> tuple[str, str]:
    """Subject and body in the organisation's language and the other one Calma speaks."""
    first = (settings.LANGUAGE_CODE or "en")[:2]
    languages = [first] + [code for code, _name in settings.LANGUAGES if code != first]
    link = absolute_link(reverse("approvals"))
    subjects: list[str] = []
    bodies: list[str] = []
    for language in languages:
        with translation.override(language):
            label = str(Severity(severity).label) if severity in Severity.values else severity
            subject = gettext("Calma: a reply on incident #%(id)s is waiting for approval") % {
                "id": incident_id
            }
            body = gettext(
                "A reply on incident #%(id)s (severity: %(severity)s) has waited %(minutes)s "
                "minutes for approval, longer than the protocol allows. Please make sure an "
                "approver looks at it.\n\nApproval queue: %(link)s"
            ) % {"id": incident_id, "severity": label, "minutes": minutes, "link": link}
        if subject not in subjects:
            subjects.append(subject)
        if body not in bodies:
            bodies.append(body)
    return " / ".join(subjects), "\n\n---\n\n".join(bodies)


def _mail_contacts(reply_id: int, subject: str, body: str, contacts: list[str]) -> None:
    # One message per contact: the protocol's contacts do not see each other's addresses.
    for contact in contacts:
        try:
            send_mail(subject, body, None, [contact])
        except Exception as error:  # committed already: log it and go on
            logger.error(
                "reply %s: approval escalation e-mail not sent (%s)",
                reply_id,
                type(error).__name__,
            )
