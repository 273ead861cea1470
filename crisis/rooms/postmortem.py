"""The blameless post-mortem of a resolved crisis: starting it, writing it (summary, root
cause, processes and policies involved, what worked, what did not), its impact figures
(computed, refreshed on demand, frozen on completion), follow-up items tracked until done,
completing it, and the protocol draft its proposed changes become.

Who: the cabinet members who act in the room and supervisors write it (access.can_act);
the commander or a supervisor completes it; a protocol editor (supervisors) turns it into a
protocol draft. Executives read it. Every change is audited with the crisis as the target.
"""

from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop

from crisis.roles import Perm
from crisis.rooms import access
from crisis.rooms.crises import CrisisError, check_move
from crisis.rooms.impact import compute_impact
from crisis.rooms.models import (
    Crisis,
    CrisisStatus,
    FollowUpItem,
    PostMortem,
    PostMortemState,
)
from crisis.services.audit import record_audit_event
from crisis.services.permissions import require_permission
from protocols import services as protocol_services
from protocols.models import ProtocolVersion

TEXT_FIELDS = ("summary", "root_cause", "processes", "what_worked", "what_did_not")
TEXT_MAX_LENGTH = 20_000
ITEM_TITLE_MAX_LENGTH = 300
# A follow-up item is due within this long of its creation (no dates decades ahead).
LATEST_DUE = timedelta(days=3 * 365)
# The protocol draft's notes (stored as typed; the protocol editor shows them as they are).
DRAFT_NOTES = gettext_noop(
    "Proposed by the post-mortem of the crisis “%(title)s” (%(link)s), based on the protocol "
    "version the crisis ran on (v%(number)s)."
)


class PostMortemError(CrisisError):
    """The post-mortem cannot do this now; the message says why, in the reader's language."""


def _clean(text: str, max_length: int = TEXT_MAX_LENGTH) -> str:
    return (text or "").replace("\x00", "").strip()[:max_length]


def can_write(actor, post_mortem: PostMortem) -> bool:
    """Write the post-mortem: the room's workers (can_act), while it is a draft."""
    return post_mortem.state == PostMortemState.DRAFT and access.can_act(actor, post_mortem.crisis)


def can_complete(actor, post_mortem: PostMortem) -> bool:
    return post_mortem.state == PostMortemState.DRAFT and access.can_resolve(
        actor, post_mortem.crisis
    )


def can_propose_protocol(actor, crisis: Crisis) -> bool:
    return (
        access.can_view(actor, crisis)
        and actor.is_authenticated
        and actor.has_perm(Perm.EDIT_PROTOCOL)
    )


def _require_write(actor, post_mortem: PostMortem) -> None:
    access.require_act(actor, post_mortem.crisis)
    if post_mortem.state != PostMortemState.DRAFT:
        raise PostMortemError(gettext("This post-mortem is completed; it no longer changes."))


def _locked(post_mortem: PostMortem) -> PostMortem:
    return (
        PostMortem.objects.select_for_update(of=("self",))
        .select_related("crisis")
        .get(pk=post_mortem.pk)
    )


def _audit(actor, crisis: Crisis, verb: str, *, before=None, after=None) -> None:
    record_audit_event(
        actor=actor, verb=f"crisis.{verb}", target=crisis, before=before, after=after
    )


def start_post_mortem(*, actor: AbstractBaseUser, crisis: Crisis, now: datetime) -> PostMortem:
    """Open the post-mortem of a resolved crisis (its impact computed at once). Starting it
    twice returns the one already started."""
    with transaction.atomic():
        crisis = Crisis.objects.select_for_update().get(pk=crisis.pk)
        access.require_act(actor, crisis)
        existing = PostMortem.objects.filter(crisis=crisis).first()
        if existing is not None:
            return existing
        if crisis.status != CrisisStatus.RESOLVED:
            raise PostMortemError(
                gettext("The post-mortem starts once the crisis is resolved (it is %(state)s).")
                % {"state": str(crisis.get_status_display()).lower()}
            )
        post_mortem = PostMortem.objects.create(
            crisis=crisis,
            created_by=actor,
            created_at=now,
            impact=compute_impact(crisis, now=now),
            impact_computed_at=now,
        )
        _audit(actor, crisis, "post_mortem.start", after={"post_mortem": post_mortem.pk})
    return post_mortem


def update_post_mortem(
    *, actor: AbstractBaseUser, post_mortem: PostMortem, now: datetime, **texts: str
) -> PostMortem:
    """Save the post-mortem's texts (any of TEXT_FIELDS); the audit names the fields changed."""
    unknown = set(texts) - set(TEXT_FIELDS)
    if unknown:
        raise TypeError(f"unknown post-mortem fields: {sorted(unknown)}")
    with transaction.atomic():
        post_mortem = _locked(post_mortem)
        _require_write(actor, post_mortem)
        changed = []
        for name, value in texts.items():
            value = _clean(value)
            if getattr(post_mortem, name) != value:
                setattr(post_mortem, name, value)
                changed.append(name)
        if changed:
            post_mortem.save(update_fields=changed)
            _audit(
                actor,
                post_mortem.crisis,
                "post_mortem.edit",
                after={"post_mortem": post_mortem.pk, "fields": changed, "at": now.isoformat()},
            )
    return post_mortem


def refresh_impact(
    *, actor: AbstractBaseUser, post_mortem: PostMortem, now: datetime
) -> PostMortem:
    """Compute the impact figures again from the data (never once completed: they froze)."""
    with transaction.atomic():
        post_mortem = _locked(post_mortem)
        _require_write(actor, post_mortem)
        post_mortem.impact = compute_impact(post_mortem.crisis, now=now)
        post_mortem.impact_computed_at = now
        post_mortem.save(update_fields=["impact", "impact_computed_at"])
        _audit(
            actor,
            post_mortem.crisis,
            "post_mortem.impact",
            after={"post_mortem": post_mortem.pk, "at": now.isoformat()},
        )
    return post_mortem


def item_owners(crisis: Crisis) -> QuerySet:
    """Who may own a follow-up item: the crisis's cabinet (present seats) and supervisors."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(cabinet_seats__crisis=crisis, cabinet_seats__removed_at__isnull=True)
            | Q(groups__permissions__codename=Perm.RUN_CRISES.split(".", 1)[1])
        )
        .distinct()
        .order_by("username")
    )


def add_follow_up_item(
    *,
    actor: AbstractBaseUser,
    post_mortem: PostMortem,
    title: str,
    owner: AbstractBaseUser,
    due_on: date,
    now: datetime,
) -> FollowUpItem:
    with transaction.atomic():
        post_mortem = _locked(post_mortem)
        _require_write(actor, post_mortem)
        title = _clean(title, ITEM_TITLE_MAX_LENGTH)
        if not title:
            raise PostMortemError(gettext("Say what is to be done."))
        if not item_owners(post_mortem.crisis).filter(pk=owner.pk).exists():
            raise PostMortemError(
                gettext("The owner must sit in the crisis cabinet or be a supervisor.")
            )
        if not (now - timedelta(days=1)).date() <= due_on <= (now + LATEST_DUE).date():
            raise PostMortemError(
                gettext("The due date must be between today and three years from now.")
            )
        item = FollowUpItem.objects.create(
            post_mortem=post_mortem, title=title, owner=owner, due_on=due_on, created_at=now
        )
        _audit(
            actor,
            post_mortem.crisis,
            "post_mortem.item_add",
            after={
                "item": item.pk,
                "title": title,
                "owner": owner.get_username(),
                "due_on": due_on.isoformat(),
            },
        )
    return item


def can_mark_done(actor, item: FollowUpItem) -> bool:
    """The item's owner, or anyone who acts in the room (also after completion: items are
    tracked until done)."""
    if item.done_at is not None or not actor.is_authenticated or not actor.is_active:
        return False
    crisis = item.post_mortem.crisis
    return access.can_act(actor, crisis) or (
        item.owner_id == actor.pk and access.can_view(actor, crisis)
    )


def mark_follow_up_done(
    *, actor: AbstractBaseUser, item: FollowUpItem, now: datetime
) -> FollowUpItem:
    with transaction.atomic():
        item = (
            FollowUpItem.objects.select_for_update(of=("self",))
            .select_related("post_mortem__crisis")
            .get(pk=item.pk)
        )
        if item.done_at is not None:
            raise PostMortemError(gettext("This follow-up item is already done."))
        if not can_mark_done(actor, item):
            raise PermissionDenied(gettext("You cannot mark this follow-up item done."))
        item.done_at = now
        item.save(update_fields=["done_at"])
        _audit(
            actor,
            item.post_mortem.crisis,
            "post_mortem.item_done",
            after={"item": item.pk, "title": item.title, "at": now.isoformat()},
        )
    return item


def complete_post_mortem(
    *, actor: AbstractBaseUser, post_mortem: PostMortem, now: datetime
) -> PostMortem:
    """The commander or a supervisor completes it: the impact is computed a last time and
    frozen, and the crisis becomes "post-mortem done". It needs a summary and a root cause."""
    with transaction.atomic():
        post_mortem = _locked(post_mortem)
        crisis = Crisis.objects.select_for_update().get(pk=post_mortem.crisis_id)
        access.require_resolve(actor, crisis)
        if post_mortem.state != PostMortemState.DRAFT:
            raise PostMortemError(gettext("This post-mortem is already completed."))
        check_move(crisis, CrisisStatus.POST_MORTEM_DONE)
        no_summary = not post_mortem.summary.strip()
        no_cause = not post_mortem.root_cause.strip()
        if no_summary or no_cause:
            if no_summary and no_cause:
                message = gettext(
                    "Write a summary and a root cause before completing the post-mortem."
                )
            elif no_summary:
                message = gettext("Write a summary before completing the post-mortem.")
            else:
                message = gettext("Write a root cause before completing the post-mortem.")
            raise PostMortemError(message)
        post_mortem.impact = compute_impact(crisis, now=now)
        post_mortem.impact_computed_at = now
        post_mortem.state = PostMortemState.DONE
        post_mortem.completed_at = now
        post_mortem.save(update_fields=["impact", "impact_computed_at", "state", "completed_at"])
        before = {"status": crisis.status}
        crisis.status = CrisisStatus.POST_MORTEM_DONE
        crisis.save(update_fields=["status", "updated_at"])
        post_mortem.crisis = crisis
        _audit(
            actor,
            crisis,
            "post_mortem.complete",
            before=before,
            after={
                "post_mortem": post_mortem.pk,
                "status": CrisisStatus.POST_MORTEM_DONE.value,
                "open_items": post_mortem.items.filter(done_at__isnull=True).count(),
            },
        )
    return post_mortem


def post_mortem_path(crisis: Crisis) -> str:
    return reverse("rooms:post_mortem", args=[crisis.pk])


def create_protocol_draft_from_post_mortem(
    *, actor: AbstractBaseUser, post_mortem: PostMortem, now: datetime
) -> ProtocolVersion:
    """A draft protocol version based on the version the crisis ran on, its notes linking the
    post-mortem, linked in post_mortem.protocol_draft (a protocol editor: supervisors). While
    that draft is still a draft, asking again returns it."""
    require_permission(actor, Perm.EDIT_PROTOCOL)
    with transaction.atomic():
        post_mortem = _locked(post_mortem)
        crisis = post_mortem.crisis
        access.require_view(actor, crisis)
        current = post_mortem.protocol_draft
        if current is not None and current.is_draft:
            return current
        base = crisis.protocol_version
        draft = protocol_services.create_draft(actor=actor, based_on=base)
        draft = protocol_services.update_draft(
            actor=actor,
            version=draft,
            name=(gettext("Post-mortem: %(title)s") % {"title": crisis.title})[:200],
            notes=gettext(DRAFT_NOTES)
            % {"title": crisis.title, "link": post_mortem_path(crisis), "number": base.number},
        )
        post_mortem.protocol_draft = draft
        # A backtest of another draft says nothing about this one.
        post_mortem.backtest = {}
        post_mortem.save(update_fields=["protocol_draft", "backtest"])
        _audit(
            actor,
            crisis,
            "post_mortem.protocol_draft",
            after={
                "post_mortem": post_mortem.pk,
                "protocol_version": draft.pk,
                "number": draft.number,
                "based_on": base.number,
                "at": now.isoformat(),
            },
        )
    return draft
