"""Source management for admins: list with health, create, edit, delete, poll now."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisis.roles import Perm
from monitoring import services
from monitoring.forms import SourceForm
from monitoring.models import Source
from monitoring.platforms import Platform
from monitoring.selectors import source_health, sources_with_counts

manage_sources = permission_required(Perm.MANAGE_SOURCES, raise_exception=True)


@manage_sources
def source_list(request: HttpRequest) -> HttpResponse:
    return render(request, "monitoring/sources.html", {"sources": sources_with_counts()})


@manage_sources
def source_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, Source())


@manage_sources
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, get_object_or_404(Source, pk=pk))


def _edit(request: HttpRequest, source: Source) -> HttpResponse:
    form = SourceForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        is_new = source.pk is None
        source = services.save_source(actor=request.user, source=form.save(commit=False))
        message = _("Source “%(name)s” created.") if is_new else _("Source “%(name)s” saved.")
        messages.success(request, message % {"name": source.name})
        return redirect("monitoring:source_detail", pk=source.pk)
    return render(request, "monitoring/source_form.html", {"form": form, "source": source})


@manage_sources
def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    webhook_url = None
    if source.platform == Platform.WEBHOOK:
        webhook_url = request.build_absolute_uri(reverse("monitoring:webhook", args=[source.pk]))
    return render(
        request,
        "monitoring/source_detail.html",
        {
            "source": source,
            "webhook_url": webhook_url,
            **source_health(source, now=timezone.now()),
        },
    )


@manage_sources
def source_delete(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    if request.method == "POST":
        name = source.name
        services.delete_source(actor=request.user, source=source)
        messages.success(request, _("Source “%(name)s” deleted.") % {"name": name})
        return redirect("monitoring:sources")
    return render(
        request,
        "monitoring/source_confirm_delete.html",
        {"source": source, "mention_count": source.mentions.count()},
    )


@manage_sources
@require_POST
def source_poll_now(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    services.poll_now(actor=request.user, source=source)
    messages.success(
        request, _("“%(name)s” will be polled within a few seconds.") % {"name": source.name}
    )
    return redirect("monitoring:source_detail", pk=source.pk)
