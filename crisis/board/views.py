"""CSV downloads of the lists, each guarded like its page."""

from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from crisis.board import exports
from crisis.board.csv_export import stream_csv
from crisis.roles import Perm
from crisis.rooms import selectors as room_selectors


def _filename(name: str) -> str:
    return f"{name}-{timezone.now():%Y%m%d-%H%M}.csv"


@require_GET
@permission_required(Perm.TRIAGE, raise_exception=True)
def incidents_csv(request: HttpRequest) -> StreamingHttpResponse:
    header, rows = exports.incident_rows(request.user, request.GET, now=timezone.now())
    return stream_csv(_filename("incidents"), header, rows)


@require_GET
@permission_required(Perm.VIEW_MENTIONS, raise_exception=True)
def mentions_csv(request: HttpRequest) -> StreamingHttpResponse:
    header, rows = exports.mention_rows(request.GET, now=timezone.now())
    return stream_csv(_filename("mentions"), header, rows)


@require_GET
@permission_required(Perm.VIEW_AUDIT_LOG, raise_exception=True)
def audit_csv(request: HttpRequest) -> StreamingHttpResponse:
    header, rows = exports.audit_rows(request.GET, zone=timezone.get_current_timezone())
    return stream_csv(_filename("audit"), header, rows)


@require_GET
def crises_csv(request: HttpRequest) -> StreamingHttpResponse:
    user = request.user
    # The crisis list's own guard: the crises role, or a seat in some cabinet.
    if not (user.has_perm(Perm.VIEW_CRISES) or room_selectors.has_any_seat(user)):
        raise PermissionDenied(gettext("You sit in no crisis cabinet."))
    header, rows = exports.crisis_rows(user)
    return stream_csv(_filename("crises"), header, rows)
