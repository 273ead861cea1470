"""The incident page's take-private and compensation panel (see
templates/replies/partials/incident_panel.html): the open follow-up or the form to take the
conversation private, past follow-ups, and the incident's compensations."""

from datetime import datetime

from django import template
from django.utils import timezone

from crisis.incidents.models import Incident, IncidentState
from crisis.incidents.transitions import can_act
from crisis.replies import compensation as compensations
from crisis.replies import private
from crisis.replies.forms_compensation import OfferCompensationForm
from crisis.replies.forms_private import CompleteFollowUpForm, TakePrivateForm
from crisis.replies.models import CompensationState, FollowUp, FollowUpState

register = template.Library()

PAST_FOLLOW_UPS_SHOWN = 5


def panel_context(
    incident: Incident,
    viewer,
    *,
    now: datetime,
    take_form: TakePrivateForm | None = None,
    complete_form: CompleteFollowUpForm | None = None,
    offer_form: OfferCompensationForm | None = None,
    notice: str = "",
    error: str = "",
) -> dict:
    """What the panel shows this viewer: three queries (follow-ups, compensations, and the
    owner choices when the take-private form is offered)."""
    acts = can_act(viewer, incident)
    follow_ups = list(
        FollowUp.objects.filter(incident=incident)
        .select_related("owner", "contact")
        .order_by("-created_at", "-id")[: PAST_FOLLOW_UPS_SHOWN + 1]
    )
    for follow_up in follow_ups:
        follow_up.incident = incident
        follow_up.show_contact = private.can_see_contact(viewer, follow_up)
    open_follow_up = next((item for item in follow_ups if item.state == FollowUpState.OPEN), None)
    past = [item for item in follow_ups if item is not open_follow_up][:PAST_FOLLOW_UPS_SHOWN]
    can_take = (
        acts
        and open_follow_up is None
        and incident.state not in (IncidentState.RESOLVED, IncidentState.CLOSED)
    )
    if can_take and take_form is None:
        take_form = TakePrivateForm(incident=incident, prefix="private")
    can_complete = open_follow_up is not None and private.can_complete(viewer, open_follow_up)
    if can_complete and complete_form is None:
        complete_form = CompleteFollowUpForm(prefix="complete")
    rows = []
    for item in compensations.incident_compensations(incident):
        item.incident = incident
        rows.append(
            {
                "compensation": item,
                "can_grant": acts and item.state == CompensationState.OFFERED,
                "can_withdraw": acts
                and item.state in (CompensationState.OFFERED, CompensationState.AWAITING_APPROVAL),
                "can_decide": compensations.can_decide(viewer, item),
            }
        )
    if acts and offer_form is None:
        offer_form = OfferCompensationForm(prefix="offer")
    overdue = open_follow_up is not None and open_follow_up.due_at < now
    return {
        "incident": incident,
        "now": now,
        "can_act": acts,
        "open_follow_up": open_follow_up,
        "overdue": overdue,
        "past_follow_ups": past,
        "can_take": can_take,
        "take_form": take_form if can_take else None,
        "can_complete": can_complete,
        "complete_form": complete_form if can_complete else None,
        "compensations": rows,
        "offer_form": offer_form if acts else None,
        "notice": notice,
        "error": error,
    }


@register.inclusion_tag("replies/partials/private_panel.html", takes_context=True)
def private_panel(context, incident):
    viewer = context["request"].user
    return panel_context(incident, viewer, now=timezone.now())
