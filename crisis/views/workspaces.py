"""The three role homes: the manager's inbox, the supervisor's approval queue, the board."""

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse

from crisis.incidents.views import inbox as incident_inbox
from crisis.replies.views import approvals as reply_approvals
from crisis.roles import Perm
from crisis.views.rendering import render_page_or_partial

# The manager's home is the incidents inbox (its queues, filters and keys live there).
inbox = incident_inbox.inbox


# The supervisor's home is the live approval queue of replies (legal reviewers see there the
# replies that need a legal approval).
approvals = reply_approvals.queue


@permission_required(Perm.VIEW_BOARD, raise_exception=True)
def board(request: HttpRequest) -> HttpResponse:
    return render_page_or_partial(
        request, "crisis/board.html", "crisis/partials/board_status.html", {"crises": []}
    )
