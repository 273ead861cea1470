"""Incident-page panel tag of replies (see templates/replies/partials/incident_panel.html): the
incident's live reply (its editor when the viewer may act), the replies already sent, and how
to start a new one."""

from typing import Any

from django import template
from django.contrib.auth.models import AbstractBaseUser

from crisis.incidents.models import Incident
from crisis.replies import selectors
from crisis.replies.drafts import EDITABLE_STATES
from crisis.replies.forms import StartReplyForm
from crisis.replies.models import ReplyState

register = template.Library()

# States of the live reply whose sending the sending slice's partial shows.
SEND_STATUS_STATES = (ReplyState.APPROVED, ReplyState.SENDING, ReplyState.FAILED)


def panel_context(incident: Incident, viewer: AbstractBaseUser, **extra: Any) -> dict[str, Any]:
    """Everything replies/partials/reply_panel.html reads (also used by the editor's page)."""
    panel = selectors.reply_panel(incident, viewer)
    live = panel.live
    context = {
        "incident": incident,
        "panel": panel,
        "viewer": viewer,
        "editable": bool(live and panel.can_act and live.state in EDITABLE_STATES),
        "show_send_status": bool(live and live.state in SEND_STATUS_STATES),
        "start_form": StartReplyForm(
            choices=panel.template_choices, language=panel.default_language, prefix="reply"
        )
        if panel.can_start
        else None,
        "draft_text": None,
    }
    context.update(extra)
    return context


@register.inclusion_tag("replies/partials/reply_panel.html", takes_context=True)
def reply_panel(context, incident):
    request = context.get("request")
    viewer = request.user if request is not None else context.get("user")
    values = panel_context(incident, viewer)
    values["request"] = request
    values["csrf_token"] = context.get("csrf_token")
    return values
