"""Backtests: start one on a draft, watch its progress, read what would change."""

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from crisis.roles import Perm
from crisis.views.rendering import render_page_or_partial
from protocols import services
from protocols.forms import BacktestForm
from protocols.models import BacktestRun, ProtocolStatus, ProtocolVersion

edit_protocol = permission_required(Perm.EDIT_PROTOCOL, raise_exception=True)


@edit_protocol
@require_POST
def start(request: HttpRequest, pk: int) -> HttpResponse:
    draft = get_object_or_404(ProtocolVersion, pk=pk, status=ProtocolStatus.DRAFT)
    form = BacktestForm(request.POST)
    days = form.cleaned_data["days"] if form.is_valid() else 7
    run = services.start_backtest(actor=request.user, draft=draft, days=days)
    return redirect("protocols:backtest", pk=run.pk)


@edit_protocol
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(BacktestRun.objects.select_related("draft", "baseline"), pk=pk)
    return render_page_or_partial(
        request,
        "protocols/backtest.html",
        "protocols/partials/backtest_body.html",
        {"run": run},
    )
