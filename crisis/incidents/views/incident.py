"""The incident page: everything a manager needs before answering, and its actions."""

from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from crisis.incidents.models import Incident
from crisis.roles import Perm


@permission_required(Perm.TRIAGE, raise_exception=True)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=pk)
    if incident is None:
        raise PermissionDenied
    return render(request, "incidents/incident.html", {"incident": incident})
