"""Drafts of replies: started from the protocol's templates, edited and saved on the server
(revision-checked), submitted for approval or straight to sending, discarded.

Every function takes the acting user and `now`, runs in one transaction, checks permission,
writes the audit event and tells people after the commit. The rules of approval itself live in
`crisis.replies.approvals`.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from crisis.incidents import services as incident_services
from crisis.incidents.models import Incident, IncidentState
from crisis.incidents.transitions import InvalidTransition, require_can_act
from crisis.replies.models import (
    LIVE_DRAFT_STATES,
    Reply,
    ReplyPurpose,
    ReplyState,
    ReplyVisibility,
)
from crisis.services.audit import record_audit_event
from monitoring.platforms import Platform
from protocols import replies as rules
from protocols.schema import section, upgrade

logger = logging.getLogger(__name__)

LANGUAGES = ("es", "en")
# A reply longer than this is not a reply; it also bounds what one save stores.
MAX_TEXT_LENGTH = 20_000
# The audit trail keeps what was submitted and approved (capped), and of an edit its length
# and first words only (autosave writes many).
AUDIT_TEXT_LIMIT = 5_000
AUDIT_PREFIX_LENGTH = 80
BLANK_TEMPLATE = "blank"
ACKNOWLEDGEMENT_KEY = "ack"

# A reply's text may be edited in these states; an edit of a submitted one goes back to approval.
EDITABLE_STATES = (ReplyState.DRAFT, ReplyState.AWAITING_APPROVAL, ReplyState.APPROVED)
DISCARDABLE_STATES = EDITABLE_STATES
CLOSED_INCIDENT_STATES = (IncidentState.RESOLVED, IncidentState.CLOSED)


class ReplyError(InvalidTransition):
    """The reply cannot do this now; the message says why, in the reader's language."""


class StaleRevision(ReplyError):
    """The reply changed since the person loaded it (another tab, device or person)."""

    def __init__(self, message: str, *, current_revision: int) -> None:
        super().__init__(message)
        self.current_revision = current_revision


# --- Templates -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TemplateChoice:
    key: str
    language: str
    index: int
    text: str  # as the protocol writes it, with its {variables}


def protocol_config(incident: Incident) -> dict[str, Any]:
    """The incident's protocol document, with sections added since it was written."""
    return upgrade(incident.protocol_version.config)


def default_language(incident: Incident) -> str:
    """The first mention's language when it is one Calma answers in, else the score's, else
    the organisation's (Spanish when that is neither)."""
    for candidate in (
        incident.first_mention.language,
        (incident.opened_score or {}).get("language"),
        settings.LANGUAGE_CODE,
    ):
        if candidate and candidate[:2] in LANGUAGES:
            return candidate[:2]
    return "es"


def template_choices(
    config: dict[str, Any], incident: Incident, *, language: str, purpose: str = ReplyPurpose.ANSWER
) -> list[TemplateChoice]:
    """The templates a draft may start from: the acknowledgement ones for a reply that takes
    the case private, else those of the incident's class at its severity."""
    if purpose == ReplyPurpose.ACKNOWLEDGEMENT:
        texts = rules.acknowledgement_templates(config, language=language)
        prefix = ACKNOWLEDGEMENT_KEY
    else:
        texts = rules.templates_for(
            config,
            severity=incident.severity,
            triage_class=incident.triage_class,
            language=language,
        )
        prefix = incident.triage_class
    return [
        TemplateChoice(f"{prefix}:{language}:{index}", language, index, str(text))
        for index, text in enumerate(texts)
        if isinstance(text, str)
    ]


def template_values(
    incident: Incident, actor: AbstractBaseUser, config: dict[str, Any], *, language: str
) -> dict[str, str]:
    """What {author}, {brand}, {agent}, {case} and {channel} stand for in this draft."""
    author = incident.author
    platform = incident.first_mention.platform
    with translation.override(language):
        channel = str(Platform(platform).label) if platform in Platform.values else platform
    return {
        "author": (author.display_name or "").strip() or author.handle,
        "brand": str(section(config, "replies").get("brand") or "").strip(),
        "agent": (getattr(actor, "first_name", "") or "").strip() or actor.get_username(),
        "case": f"#{incident.pk}",
        "channel": channel,
    }


def _template_text(
    config: dict[str, Any], incident: Incident, *, key: str, language: str, purpose: str
) -> tuple[str, str, str]:
    """(template text, stored key, language) for a requested key: "" is the first template of
    the purpose (or a blank draft when the protocol has none), "blank" an empty draft."""
    if key == BLANK_TEMPLATE:
        return "", "", language
    if not key:
        if purpose == ReplyPurpose.CORRECTION:
            return "", "", language
        choices = template_choices(config, incident, language=language, purpose=purpose)
        return (choices[0].text, choices[0].key, language) if choices else ("", "", language)
    parts = key.split(":")
    if len(parts) == 3 and parts[1] in LANGUAGES and parts[2].isdigit():
        kind, key_language, index = parts[0], parts[1], int(parts[2])
        expected = (
            ACKNOWLEDGEMENT_KEY
            if purpose == ReplyPurpose.ACKNOWLEDGEMENT
            else incident.triage_class
        )
        if kind == expected:
            choices = template_choices(config, incident, language=key_language, purpose=purpose)
            if index < len(choices):
                return choices[index].text, choices[index].key, key_language
    raise ReplyError(gettext("That template is not in the protocol for this incident."))


# --- Checks -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DraftChecks:
    """What the editor warns about, and what blocks a submission."""

    length: int
    limit: int | None
    over_limit: bool
    unfilled: list[str]
    boilerplate: list[str]
    empty: bool

    @property
    def blocks_submission(self) -> bool:
        return self.empty or self.over_limit or bool(self.unfilled)


def character_limit(reply_or_platform: Reply | str) -> int | None:
    platform = (
        reply_or_platform
        if isinstance(reply_or_platform, str)
        else reply_or_platform.in_reply_to.platform
    )
    return rules.CHARACTER_LIMITS.get(platform)


def check_text(text: str, *, config: dict[str, Any], platform: str, visibility: str) -> DraftChecks:
    limit = character_limit(platform)
    length = len(text)
    # The platform's limit binds a public reply; a private one goes by DM, e-mail or phone.
    over = visibility == ReplyVisibility.PUBLIC and limit is not None and length > limit
    return DraftChecks(
        length=length,
        limit=limit,
        over_limit=over,
        unfilled=rules.unfilled_variables(text),
        boilerplate=rules.boilerplate_found(config, text),
        empty=not text.strip(),
    )


def checks_for(reply: Reply, config: dict[str, Any] | None = None) -> DraftChecks:
    config = config if config is not None else upgrade(reply.protocol_version.config)
    return check_text(
        reply.text,
        config=config,
        platform=reply.in_reply_to.platform,
        visibility=reply.visibility,
    )


def refusal(checks: DraftChecks) -> str:
    """Why a text cannot be submitted ("" when it can)."""
    if checks.empty:
        return gettext("Write the reply before submitting it.")
    if checks.unfilled:
        return gettext("Fill in or remove %(names)s before submitting.") % {
            "names": ", ".join("{" + name + "}" for name in checks.unfilled)
        }
    if checks.over_limit:
        return gettext(
            "The reply has %(length)s characters; the platform takes at most %(limit)s."
        ) % {"length": checks.length, "limit": checks.limit}
    return ""


def clean_text(text: str) -> str:
    """Text as stored: no NUL (Postgres refuses it), no lone surrogates, bounded."""
    text = (text or "").replace("\x00", "")
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = text.replace("\r\n", "\n")
    if len(text) > MAX_TEXT_LENGTH:
        raise ReplyError(
            gettext("A reply can have at most %(limit)s characters.") % {"limit": MAX_TEXT_LENGTH}
        )
    return text


# --- Helpers shared with approvals ------------------------------------------------------------


def _locked_incident(incident_id: int) -> Incident:
    return (
        Incident.objects.select_for_update(of=("self",))
        .select_related("author", "first_mention", "protocol_version", "owner")
        .get(pk=incident_id)
    )


def locked(reply: Reply) -> tuple[Reply, Incident]:
    """The reply and its incident as stored now, locked until the transaction ends (incident
    first, the order every incident service locks in)."""
    incident = _locked_incident(reply.incident_id)
    reply = (
        Reply.objects.select_for_update(of=("self",))
        .select_related("in_reply_to", "drafted_by", "protocol_version")
        .get(pk=reply.pk)
    )
    reply.incident = incident
    return reply, incident


def audit_text(text: str) -> str:
    return text if len(text) <= AUDIT_TEXT_LIMIT else text[:AUDIT_TEXT_LIMIT]


def edit_summary(text: str) -> dict[str, Any]:
    return {"length": len(text), "prefix": text[:AUDIT_PREFIX_LENGTH]}


def audit(
    actor: AbstractBaseUser | None,
    verb: str,
    reply: Reply,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
):
    payload = {"incident": reply.incident_id, "revision": reply.revision, "state": reply.state}
    payload.update(after or {})
    return record_audit_event(actor=actor, verb=verb, target=reply, before=before, after=payload)


def _with_permission(codename: str) -> Q:
    return Q(
        groups__permissions__content_type__app_label="crisis",
        groups__permissions__codename=codename,
    ) | Q(
        user_permissions__content_type__app_label="crisis",
        user_permissions__codename=codename,
    )


def approver_ids(roles: list[str]) -> list[int]:
    """Active people who can give any of these approvals (supervisors, legal reviewers)."""
    condition = Q(pk__in=[])
    if rules.SUPERVISOR in roles:
        condition |= _with_permission("approve_replies")
    if rules.LEGAL in roles:
        condition |= _with_permission("approve_legal")
    return list(
        get_user_model()
        .objects.filter(condition, is_active=True)
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )


def supervisor_ids() -> list[int]:
    return approver_ids([rules.SUPERVISOR])


def notify_after_commit(
    *,
    user_ids: list[int],
    kind: str,
    title: Any,
    url: str,
    dedupe_key: str,
    now: datetime,
    origin: str,
    incident_id: int,
    body: Any = "",
) -> None:
    """Tell people once the change is committed (as the incident services do)."""
    if not user_ids:
        return

    def send() -> None:
        incident_services.notify_or_log(
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


def incident_reply_url(incident_id: int) -> str:
    return reverse("incidents:detail", args=[incident_id]) + "#incident-replies"


def approval_roles_given(reply: Reply) -> dict[str, int]:
    """Role -> approver id of the approvals given to the reply's current revision."""
    return dict(
        reply.approvals.filter(revision=reply.revision, decision="approved").values_list(
            "role", "decided_by_id"
        )
    )


def submission_key(reply: Reply) -> str:
    """Names one wait for approval in notification keys: the revision, and how many times the
    reply was sent back (a draft sent back and submitted again unchanged waits afresh), so a
    retried step tells nobody twice while a new wait is told again."""
    sent_back = reply.approvals.filter(decision="sent_back").count()
    return f"r{reply.revision}" + (f"s{sent_back}" if sent_back else "")


def missing_roles(reply: Reply, given: dict[str, int] | None = None) -> list[str]:
    given = approval_roles_given(reply) if given is None else given
    return [role for role in reply.approvers_required if role not in given]


def request_approval(
    reply: Reply,
    incident: Incident,
    *,
    actor: AbstractBaseUser | None,
    now: datetime,
    roles: list[str] | None = None,
) -> None:
    """Tell the people who can give the missing approvals of this revision (never the
    reply's author, nor the person acting)."""
    roles = roles if roles is not None else missing_roles(reply)
    excluded = {reply.drafted_by_id, actor.pk if actor is not None else None}
    notify_after_commit(
        user_ids=[pk for pk in approver_ids(roles) if pk not in excluded],
        kind="approval_requested",
        title=(
            gettext_noop("A reply on incident #%(id)s needs your approval"),
            {"id": incident.pk},
        ),
        body=audit_text(reply.text),
        url=reverse("approvals"),
        dedupe_key=f"reply:{reply.pk}:approval_requested:{submission_key(reply)}",
        now=now,
        origin=incident.origin,
        incident_id=incident.pk,
    )


def mark_approved(
    reply: Reply, incident: Incident, *, actor: AbstractBaseUser | None, now: datetime
) -> Reply:
    """Every required approval is in (or none was needed): approved, the incident's wait
    ends, and the reply goes to sending (inside this transaction)."""
    reply.state = ReplyState.APPROVED
    reply.approved_at = now
    reply.updated_at = now
    reply.save(update_fields=["state", "approved_at", "updated_at"])
    incident_services.end_reply_approval(actor=actor, incident=incident, now=now)
    from crisis.replies.sending import after_approval

    after_approval(reply=reply, now=now)
    return reply


def required_approvers(reply: Reply, incident: Incident, config: dict[str, Any]) -> list[str]:
    """Who the protocol says must approve: by severity and class, legal for legal groups
    matched by any mention of the incident."""
    groups = set((incident.opened_score or {}).get("matched_groups") or [])
    for matched in incident.links.values_list("mention__score__matched_groups", flat=True):
        groups.update(matched or [])
    return rules.approvers_required(
        config,
        severity=incident.severity,
        triage_class=incident.triage_class,
        keyword_groups=sorted(groups),
    )


def _enter_approval(
    reply: Reply,
    incident: Incident,
    *,
    actor: AbstractBaseUser,
    config: dict[str, Any],
    now: datetime,
) -> None:
    """Submitted (or edited after submission): waiting for the approvals this revision needs,
    or approved straight away when the protocol needs none."""
    reply.approvers_required = required_approvers(reply, incident, config)
    reply.submitted_at = now
    reply.approved_at = None
    reply.approval_escalated_at = None
    reply.sent_back_comment = ""
    reply.updated_at = now
    if not reply.approvers_required:
        reply.save()
        mark_approved(reply, incident, actor=actor, now=now)
        return
    reply.state = ReplyState.AWAITING_APPROVAL
    reply.save()
    incident_services.await_reply_approval(actor=actor, incident=incident, now=now)
    request_approval(reply, incident, actor=actor, now=now, roles=reply.approvers_required)


# --- Services -----------------------------------------------------------------------------------


def start_draft(
    *,
    actor: AbstractBaseUser,
    incident: Incident,
    now: datetime,
    language: str | None = None,
    template_key: str = "",
    visibility: str = ReplyVisibility.PUBLIC,
    purpose: str = ReplyPurpose.ANSWER,
) -> Reply:
    """Start the incident's reply from a protocol template (variables filled). The incident
    becomes the actor's if nobody owns it, and goes in progress."""
    if visibility not in ReplyVisibility.values:
        raise ReplyError(gettext("Choose public or private."))
    if purpose not in ReplyPurpose.values:
        raise ReplyError(gettext("Unknown kind of reply."))
    if language is not None and language not in LANGUAGES:
        raise ReplyError(gettext("Replies are written in Spanish or English."))
    try:
        with transaction.atomic():
            incident = _locked_incident(incident.pk)
            require_can_act(actor, incident)
            if incident.state in CLOSED_INCIDENT_STATES:
                raise ReplyError(
                    gettext("Incident #%(id)s is %(state)s: reopen it before replying.")
                    % {"id": incident.pk, "state": str(incident.get_state_display()).lower()}
                )
            if Reply.objects.filter(incident=incident, state__in=LIVE_DRAFT_STATES).exists():
                raise ReplyError(
                    gettext("Incident #%(id)s already has a reply in progress.")
                    % {"id": incident.pk}
                )
            if incident.owner_id is None:
                incident = incident_services.take_incident(actor=actor, incident=incident, now=now)
            if incident.state != IncidentState.IN_PROGRESS:
                incident = incident_services.start_progress(actor=actor, incident=incident, now=now)
            incident = _locked_incident(incident.pk)
            config = protocol_config(incident)
            language = language or default_language(incident)
            template, key, language = _template_text(
                config, incident, key=template_key, language=language, purpose=purpose
            )
            filled = rules.fill_template(
                template, template_values(incident, actor, config, language=language)
            )
            reply = Reply.objects.create(
                incident=incident,
                in_reply_to=incident.first_mention,
                drafted_by=actor,
                visibility=visibility,
                purpose=purpose,
                language=language,
                template_key=key,
                text=filled.text,
                protocol_version=incident.protocol_version,
                created_at=now,
                updated_at=now,
            )
            audit(
                actor,
                "reply.draft",
                reply,
                after={
                    "template": key,
                    "language": language,
                    "visibility": visibility,
                    "purpose": purpose,
                    **edit_summary(reply.text),
                },
            )
    except IntegrityError as clash:
        # Two starts at once: the one-live-reply constraint keeps the first.
        raise ReplyError(
            gettext("Incident #%(id)s already has a reply in progress.") % {"id": incident.pk}
        ) from clash
    return reply


def save_draft(
    *,
    actor: AbstractBaseUser,
    reply: Reply,
    text: str,
    now: datetime,
    expected_revision: int | None = None,
) -> Reply:
    """Store the edited text as a new revision. A reply already submitted (awaiting approval or
    approved) goes back to approval: earlier approvals were of another text. A save based on an
    older revision than the stored one is refused (StaleRevision) instead of overwriting it."""
    text = clean_text(text)
    with transaction.atomic():
        reply, incident = locked(reply)
        require_can_act(actor, incident)
        _require_editable(reply)
        if text == reply.text:
            # Nothing to store (an autosave of what a save just stored, say): not stale either.
            return reply
        _require_revision(reply, expected_revision)
        before = {"revision": reply.revision, "state": reply.state, **edit_summary(reply.text)}
        submitted = reply.state != ReplyState.DRAFT
        reply.text = text
        reply.revision += 1
        reply.updated_at = now
        if submitted:
            _resubmit_or_back_to_draft(reply, incident, actor=actor, now=now)
        else:
            reply.save(update_fields=["text", "revision", "updated_at"])
        audit(actor, "reply.edit", reply, before=before, after=edit_summary(text))
    return reply


def _resubmit_or_back_to_draft(
    reply: Reply, incident: Incident, *, actor: AbstractBaseUser, now: datetime
) -> None:
    """An edit of a submitted reply: back to approval when the text could be submitted and the
    protocol wants an approval; otherwise back to draft, for the author to submit again."""
    config = upgrade(reply.protocol_version.config)
    needs = required_approvers(reply, incident, config)
    if needs and not checks_for(reply, config).blocks_submission:
        reply.state = ReplyState.AWAITING_APPROVAL
        _enter_approval(reply, incident, actor=actor, config=config, now=now)
        return
    reply.state = ReplyState.DRAFT
    reply.approved_at = None
    reply.approval_escalated_at = None
    reply.save()
    incident_services.end_reply_approval(actor=actor, incident=incident, now=now)


def apply_template(
    *,
    actor: AbstractBaseUser,
    reply: Reply,
    now: datetime,
    template_key: str = "",
    language: str,
    expected_revision: int | None = None,
) -> Reply:
    """Replace the draft's text with a protocol template (e.g. switch language)."""
    if language not in LANGUAGES:
        raise ReplyError(gettext("Replies are written in Spanish or English."))
    with transaction.atomic():
        reply, incident = locked(reply)
        require_can_act(actor, incident)
        if reply.state != ReplyState.DRAFT:
            raise ReplyError(gettext("Only a draft can start again from a template."))
        _require_revision(reply, expected_revision)
        config = protocol_config(incident)
        template, key, language = _template_text(
            config, incident, key=template_key, language=language, purpose=reply.purpose
        )
        filled = rules.fill_template(
            template, template_values(incident, actor, config, language=language)
        )
        before = {
            "revision": reply.revision,
            "language": reply.language,
            "template": reply.template_key,
        }
        reply.text = clean_text(filled.text)
        reply.language = language
        reply.template_key = key
        reply.revision += 1
        reply.updated_at = now
        reply.save(update_fields=["text", "language", "template_key", "revision", "updated_at"])
        audit(
            actor,
            "reply.edit",
            reply,
            before=before,
            after={"language": language, "template": key, **edit_summary(reply.text)},
        )
    return reply


def submit_draft(*, actor: AbstractBaseUser, reply: Reply, now: datetime) -> Reply:
    """Submit a draft: approved at once when the protocol needs no approval (then sent, or
    ready to copy), else waiting for the approvers, who are told."""
    with transaction.atomic():
        reply, incident = locked(reply)
        require_can_act(actor, incident)
        if reply.state != ReplyState.DRAFT:
            raise ReplyError(
                gettext("This reply is %(state)s; only a draft can be submitted.")
                % {"state": str(reply.get_state_display()).lower()}
            )
        if incident.state in CLOSED_INCIDENT_STATES:
            raise ReplyError(
                gettext("Incident #%(id)s is %(state)s: reopen it before replying.")
                % {"id": incident.pk, "state": str(incident.get_state_display()).lower()}
            )
        config = upgrade(reply.protocol_version.config)
        reason = refusal(checks_for(reply, config))
        if reason:
            raise ReplyError(reason)
        _enter_approval(reply, incident, actor=actor, config=config, now=now)
        audit(
            actor,
            "reply.submit",
            reply,
            after={
                "approvers_required": reply.approvers_required,
                "visibility": reply.visibility,
                "text": audit_text(reply.text),
            },
        )
    return reply


def discard_draft(
    *, actor: AbstractBaseUser, reply: Reply, now: datetime, expected_revision: int | None = None
) -> Reply:
    """Give up a reply not yet sent; the incident stays with its owner, in progress."""
    with transaction.atomic():
        reply, incident = locked(reply)
        require_can_act(actor, incident)
        if reply.state not in DISCARDABLE_STATES:
            raise ReplyError(
                gettext("This reply is %(state)s and cannot be discarded.")
                % {"state": str(reply.get_state_display()).lower()}
            )
        _require_revision(reply, expected_revision)
        before = {"state": reply.state}
        reply.state = ReplyState.DISCARDED
        reply.updated_at = now
        reply.save(update_fields=["state", "updated_at"])
        incident_services.end_reply_approval(actor=actor, incident=incident, now=now)
        audit(actor, "reply.discard", reply, before=before, after=edit_summary(reply.text))
    return reply


def _require_editable(reply: Reply) -> None:
    if reply.state not in EDITABLE_STATES:
        raise ReplyError(
            gettext("This reply is %(state)s and can no longer be edited.")
            % {"state": str(reply.get_state_display()).lower()}
        )


def _require_revision(reply: Reply, expected_revision: int | None) -> None:
    if expected_revision is not None and expected_revision != reply.revision:
        raise StaleRevision(
            gettext(
                "Not saved: this reply was changed in another tab or by someone else since you "
                "opened it (it is now at revision %(revision)s). Reload to see that version."
            )
            % {"revision": reply.revision},
            current_revision=reply.revision,
        )
