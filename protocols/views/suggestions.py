"""Crisis suggestions: the list supervisors act on, and dismissing one with a reason; the
topic mutes are listed and set on the same page (protocols.views.mutes). Board readers
(executives) open the same list read-only: the board's headline links to it."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisis.roles import Perm
from crisis.views.rendering import render_page_or_partial
from protocols import selectors, services
from protocols.forms import DismissSuggestionForm
from protocols.models import CrisisSuggestion, SurgeAlert
from protocols.views.mutes import MuteTopicForm, mute_form_for

KNOWN_TOPICS = 100  # offered when muting (the topics live alerts were raised on)

declare_crisis = permission_required(Perm.DECLARE_CRISIS, raise_exception=True)


def render_list(
    request: HttpRequest,
    *,
    failed: tuple[int, DismissSuggestionForm] | None = None,
    mute_form: MuteTopicForm | None = None,
) -> HttpResponse:
    """The list; `failed` is the suggestion whose dismissal did not validate, with its form;
    `mute_form` a mute that did not validate."""
    can_decide = request.user.has_perm(Perm.DECLARE_CRISIS)
    suggestions = list(selectors.open_suggestions())
    for suggestion in suggestions if can_decide else ():
        bound = failed is not None and failed[0] == suggestion.pk
        suggestion.dismiss_form = (
            failed[1] if bound else DismissSuggestionForm(auto_id=f"dismiss-{suggestion.pk}-%s")
        )
    return render_page_or_partial(
        request,
        "protocols/suggestions.html",
        "protocols/partials/suggestions_body.html",
        {
            "suggestions": suggestions,
            "can_decide": can_decide,
            "dismissed": selectors.recently_dismissed(),
            "mutes": services.active_mutes(timezone.now()),
            "mute_form": (mute_form or mute_form_for()) if can_decide else None,
            "known_topics": SurgeAlert.objects.filter(origin="live")
            .order_by("topic")
            .values_list("topic", flat=True)
            .distinct()[:KNOWN_TOPICS]
            if can_decide
            else (),
        },
        status=200 if failed is None and mute_form is None else 400,
    )


def may_read_suggestions(user) -> bool:
    """Supervisors decide them; board readers (executives, admins) may read them."""
    return user.has_perm(Perm.DECLARE_CRISIS) or user.has_perm(Perm.VIEW_BOARD)


def suggestion_list(request: HttpRequest) -> HttpResponse:
    if not may_read_suggestions(request.user):
        raise PermissionDenied
    return render_list(request)


@declare_crisis
@require_POST
def dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    suggestion = get_object_or_404(CrisisSuggestion, pk=pk)
    form = DismissSuggestionForm(request.POST, auto_id=f"dismiss-{pk}-%s")
    if not form.is_valid():
        return render_list(request, failed=(pk, form))
    try:
        services.dismiss_suggestion(
            actor=request.user,
            suggestion=suggestion,
            reason=form.cleaned_data["reason"],
            now=timezone.now(),
        )
    except services.SuggestionAlreadyDismissed:
        messages.info(request, _("Someone else dismissed this suggestion first."))
    else:
        messages.success(request, _("Suggestion dismissed."))
    return redirect("protocols:suggestions")
