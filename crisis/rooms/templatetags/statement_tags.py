"""Crisis-room section tag of the statement slice (see templates/rooms/room.html): the approved
statement and its channel texts, the version being written or approved (the editor for the
spokesperson, the approval for approvers), the publication checklist, the commitments and when
the next update is due."""

from datetime import datetime
from typing import Any

from django import template
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from crisis.rooms import access, publishing
from crisis.rooms import statement as statements
from crisis.rooms.forms_statement import (
    CHANNEL_PREFIX,
    CommitmentForm,
    MarkPublishedForm,
    SendBackForm,
    StatementForm,
)
from crisis.rooms.models import (
    Commitment,
    Crisis,
    Publication,
    PublicationState,
    StatementApproval,
    StatementState,
    StatementVersion,
)

register = template.Library()


def _approvals_of(version: StatementVersion) -> list[StatementApproval]:
    return list(
        version.approvals.filter(revision=version.revision, decision=statements.APPROVED)
        .select_related("decided_by")
        .order_by("decided_at", "pk")
    )


def section_context(
    crisis: Crisis, viewer: AbstractBaseUser | None, *, now: datetime | None = None, **extra: Any
) -> dict[str, Any]:
    """Everything rooms/partials/statement_section.html reads (also the statement page's)."""
    now = now or timezone.now()
    channels = statements.channels_of(crisis)
    versions = list(
        StatementVersion.objects.filter(
            statement__crisis=crisis,
            state__in=[
                StatementState.APPROVED,
                StatementState.DRAFT,
                StatementState.AWAITING_APPROVAL,
            ],
        )
        .select_related("author")
        .order_by("-number")
    )
    approved = next((v for v in versions if v.state == StatementState.APPROVED), None)
    current = next((v for v in versions if v.state != StatementState.APPROVED), None)
    speaks = access.can_speak(viewer, crisis) and crisis.is_open
    acts = access.can_act(viewer, crisis) and crisis.is_open
    context: dict[str, Any] = {
        "crisis": crisis,
        "viewer": viewer,
        "channels": channels,
        "approved": approved,
        "current": current,
        "can_speak": speaks,
        "can_act": acts,
        "due": statements.next_update_due(crisis, now=now, approved=approved),
        "now": now,
        "version_count": StatementVersion.objects.filter(statement__crisis=crisis).count(),
    }
    if approved is not None:
        publications = list(
            Publication.objects.filter(version=approved).select_related("account", "published_by")
        )
        context.update(
            approved_texts=statements.channel_texts(approved, channels),
            approved_by=_approvals_of(approved),
            checklist=publishing.checklist(publications, crisis, viewer),
            checklist_polling=any(
                p.state == PublicationState.PUBLISHING
                or (p.state == PublicationState.PENDING and p.account_id)
                for p in publications
            ),
            mark_form=MarkPublishedForm(auto_id="mark-%s"),
            can_edit_approved=speaks
            and current is None
            and not any(p.state in statements.OUT_STATES for p in publications),
        )
    if current is not None:
        given = _approvals_of(current)
        context.update(
            current_texts=statements.channel_texts(current, channels),
            current_refusal=statements.refusal(current, channels),
            given=given,
            missing=statements.missing_roles(current, {a.role: a.decided_by_id for a in given}),
            my_roles=statements.approval_roles_for(viewer, current, crisis) if acts else [],
            may_send_back=acts and statements.may_send_back(viewer, current, crisis),
            send_back_form=SendBackForm(
                initial={"revision": current.revision}, auto_id="send-back-%s"
            ),
            sent_back_by=StatementApproval.objects.filter(
                version=current, decision=statements.SENT_BACK
            )
            .select_related("decided_by")
            .order_by("-decided_at", "-pk")
            .first()
            if current.sent_back_comment
            else None,
        )
    # The spokesperson edits the version being written or approved, or the approved one while
    # nothing of it is out (an edit sends it back to approval).
    target = current if speaks else None
    if target is None and context.get("can_edit_approved"):
        target = approved
    if target is not None:
        form = extra.pop("form", None) or StatementForm(
            initial={
                "revision": target.revision,
                "text": target.text,
                **{
                    CHANNEL_PREFIX + key: value
                    for key, value in (target.channel_texts or {}).items()
                },
            },
            channels=channels,
            auto_id=f"statement-{target.pk}-%s",
        )
        editor_texts = statements.channel_texts(target, channels)
        context.update(
            editor_version=target,
            editor_form=form,
            editor_texts=editor_texts,
            # The channels' texts stay folded until one has its own or the statement is too
            # long for one (a failed form shows them too).
            editor_channels_open=form.is_bound
            or any(not text.same_as_main or text.over_limit for text in editor_texts),
        )
    context["commitments"] = list(
        Commitment.objects.filter(version__statement__crisis=crisis)
        .select_related("task", "task__owner", "version")
        .order_by("due_at", "pk")
    )
    if speaks and approved is not None:
        context["commitment_form"] = extra.pop("commitment_form", None) or CommitmentForm(
            crisis=crisis, auto_id="commitment-%s"
        )
    context.update(extra)
    return context


@register.inclusion_tag("rooms/partials/statement_section.html", takes_context=True)
def statement_section(context, crisis):
    """The statement: versions, approval, channel texts, publication checklist, commitments."""
    request = context.get("request")
    viewer = request.user if request is not None else context.get("user")
    values = section_context(crisis, viewer)
    values["request"] = request
    values["csrf_token"] = context.get("csrf_token")
    return values


@register.filter
def overdue_at(due_at, now) -> bool:
    return bool(due_at and now and due_at <= now)
