"""Moderation on the incident page (`{% moderation_panel incident %}`), the platform badge of a
mention card (`{% moderation_badge mention %}`) and the supervisors' navigation link."""

from dataclasses import dataclass, field

from django import template
from django.urls import reverse
from django.utils.html import format_html

from crisis.incidents import page
from crisis.incidents.transitions import is_supervisor, works_incidents
from crisis.replies import moderation
from crisis.replies.forms_moderation import ModerationRequestForm
from crisis.replies.models import ModerationAction, ModerationRequest, ModerationState
from monitoring.models import Mention

register = template.Library()

# Where a page's platform statuses are kept for the request (one query per page).
_STATUS_CACHE = "_calma_moderation_statuses"


@dataclass(slots=True)
class PanelRow:
    mention: Mention
    status: str
    status_label: str
    history: list[ModerationRequest]
    waiting: ModerationRequest | None
    form: ModerationRequestForm | None
    # Actions Calma carries out through the platform itself; the others are done by hand.
    through_platform: list[str] = field(default_factory=list)

    @property
    def by_hand(self) -> list[str]:
        """Labels of the offered actions a person must do on the platform themselves."""
        choices = self.form.fields["action"].choices if self.form else []
        return [str(label) for value, label in choices if value not in self.through_platform]


@register.inclusion_tag("replies/partials/moderation_panel.html", takes_context=True)
def moderation_panel(context, incident):
    """Per mention of the incident's thread: its platform status, a request form (for those
    who may act on the incident) and its history. Uses the page's thread when it has it."""
    request = context.get("request")
    viewer = getattr(request, "user", None)
    entries = context.get("thread")
    if entries is None:
        entries = page.thread(incident)
    mentions = [entry.mention for entry in entries]
    history = moderation.history_for([mention.pk for mention in mentions])
    may_request = moderation.can_request(viewer, incident)
    accounts = (
        moderation.accounts_for({m.source_id for m in mentions if m.source_id})
        if may_request
        else {}
    )
    rows = []
    for mention in mentions:
        items = history[mention.pk]
        done = sorted(
            (item for item in items if item.state == ModerationState.DONE),
            key=lambda item: (item.done_at, item.pk),
        )
        status = moderation.status_after([item.action for item in done])
        waiting = next((item for item in items if item.state in moderation.OPEN_STATES), None)
        actions = moderation.actions_for(status) if may_request and waiting is None else []
        form = None
        through_platform = []
        if actions:
            form = ModerationRequestForm(actions=actions, auto_id=f"id_moderate_{mention.pk}_%s")
            account = accounts.get(mention.source_id)
            through_platform = [
                action for action in actions if moderation.writer_of(account, mention, action)
            ]
        rows.append(
            PanelRow(
                mention=mention,
                status=status,
                status_label=moderation.PlatformStatus.LABELS[status],
                history=items,
                waiting=waiting,
                form=form,
                through_platform=through_platform,
            )
        )
    return {
        "incident": incident,
        "rows": rows,
        "may_request": may_request,
        "has_history": any(row.history for row in rows),
        "hide_needs_approval": moderation.needs_approval(ModerationAction.HIDE, incident),
        "visible": moderation.PlatformStatus.VISIBLE,
    }


@register.simple_tag(takes_context=True)
def moderation_badge(context, mention) -> str:
    """A small badge on a mention card hidden or deleted on its platform by Calma. The page's
    statuses are read once per request, for every mention the page shows."""
    if mention is None or getattr(mention, "pk", None) is None:
        return ""
    request = context.get("request")
    statuses = getattr(request, _STATUS_CACHE, None) if request is not None else None
    if statuses is None or mention.pk not in statuses:
        ids = {mention.pk, *_page_mention_ids(context)}
        fresh = moderation.platform_statuses(ids)
        statuses = {**(statuses or {}), **fresh}
        if request is not None:
            setattr(request, _STATUS_CACHE, statuses)
    status = statuses.get(mention.pk, moderation.PlatformStatus.VISIBLE)
    if status == moderation.PlatformStatus.VISIBLE:
        return ""
    return format_html(
        '<span class="badge moderation-badge moderation-{}">{}</span>',
        status,
        moderation.PlatformStatus.LABELS[status],
    )


def _page_mention_ids(context) -> set[int]:
    """Every mention the incident page shows (its thread and the topic around it)."""
    ids: set[int] = set()
    for entry in context.get("thread") or []:
        ids.add(entry.mention.pk)
    for mention in context.get("related") or []:
        ids.add(mention.pk)
    first = context.get("first_on_topic")
    if first is not None:
        ids.add(first.pk)
    return ids


@register.inclusion_tag("replies/moderation_nav_link.html", takes_context=True)
def moderation_nav_link(context):
    """The supervisors' link to the moderation queue, with the number waiting (one COUNT on
    a partial index)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not (works_incidents(user) and is_supervisor(user)):
        return {"show": False}
    url = reverse("replies:moderation_queue")
    return {
        "show": True,
        "url": url,
        "active": request.path == url,
        "pending": moderation.pending_count(),
    }
