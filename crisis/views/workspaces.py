"""Two role homes: the manager's inbox and the supervisor's approval queue (the executive's,
the board, is crisis.board.views_board)."""

from crisis.incidents.views import inbox as incident_inbox
from crisis.replies.views import approvals as reply_approvals

# The manager's home is the incidents inbox (its queues, filters and keys live there).
inbox = incident_inbox.inbox


# The supervisor's home is the live approval queue of replies (legal reviewers see there the
# replies that need a legal approval).
approvals = reply_approvals.queue
