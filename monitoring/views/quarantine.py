"""Quarantined items: what a connector could not parse, with its reason and payload."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisis.roles import Perm
from monitoring import services
from monitoring.forms import QuarantineDiscardForm
from monitoring.models import QuarantinedItem, QuarantineStatus
from monitoring.selectors import quarantine_queue

manage_sources = permission_required(Perm.MANAGE_SOURCES, raise_exception=True)


@manage_sources
def quarantine_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", QuarantineStatus.PENDING)
    if status not in QuarantineStatus.values:
        status = QuarantineStatus.PENDING
    page = Paginator(quarantine_queue(status), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "monitoring/quarantine.html",
        {"page": page, "status": status, "statuses": QuarantineStatus.choices},
    )


@manage_sources
def quarantine_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(QuarantinedItem.objects.select_related("source"), pk=pk)
    return render(
        request,
        "monitoring/quarantine_detail.html",
        {
            "item": item,
            "raw_pretty": json.dumps(item.raw, indent=2, ensure_ascii=False, default=str),
            "discard_form": QuarantineDiscardForm(),
        },
    )


@manage_sources
@require_POST
def quarantine_reprocess(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(QuarantinedItem, pk=pk, status=QuarantineStatus.PENDING)
    try:
        services.reprocess_quarantined(actor=request.user, item=item)
    except services.StillMalformed as error:
        messages.error(request, _("Still cannot be parsed: %(reason)s") % {"reason": error})
        return redirect("monitoring:quarantine_detail", pk=pk)
    messages.success(request, _("The item was parsed and stored as a mention."))
    return redirect("monitoring:quarantine")


@manage_sources
@require_POST
def quarantine_discard(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(QuarantinedItem, pk=pk, status=QuarantineStatus.PENDING)
    form = QuarantineDiscardForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "monitoring/quarantine_detail.html",
            {
                "item": item,
                "raw_pretty": json.dumps(item.raw, indent=2, ensure_ascii=False, default=str),
                "discard_form": form,
            },
            status=400,
        )
    services.discard_quarantined(
        actor=request.user, item=item, justification=form.cleaned_data["justification"]
    )
    messages.success(request, _("The item was discarded."))
    return redirect("monitoring:quarantine")
