"""Template tags of the sending slice: a reply's send status for the viewer (used by
replies/partials/send_status.html, which the drafts panel includes), and the answering account
shown on a source's page."""

from django import template

from crisis.replies import sending
from crisis.replies.models import SourceAccount
from crisis.roles import Perm

register = template.Library()


def _viewer(context):
    viewer = context.get("viewer")
    if viewer is None and context.get("request") is not None:
        viewer = context["request"].user
    return viewer if viewer is not None else context.get("user")


@register.simple_tag(takes_context=True)
def send_status_for(context, reply) -> sending.SendStatus:
    """What the viewer sees and may do about this reply's sending."""
    viewer = _viewer(context)
    if viewer is not None and not viewer.is_authenticated:
        viewer = None
    incident = context.get("incident")
    if incident is not None and reply.incident_id == incident.pk:
        reply.incident = incident  # the panel's, already loaded: no query per reply
    return sending.send_status(reply, viewer)


@register.inclusion_tag("replies/partials/source_answering_account.html", takes_context=True)
def answering_account(context, source) -> dict:
    """The account that answers on a source (one query), for the source's page."""
    link = SourceAccount.objects.select_related("account").filter(source=source).first()
    viewer = _viewer(context)
    return {
        "source": source,
        "account": link.account if link else None,
        "can_manage": bool(viewer and viewer.has_perm(Perm.MANAGE_PUBLISHING)),
    }
