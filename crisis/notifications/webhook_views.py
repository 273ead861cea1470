"""Admins' outgoing webhooks: the endpoints, their delivery logs, a test event, the settings."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crisis.notifications import deliveries, selectors
from crisis.notifications.forms import WebhookEndpointForm, WebhookSettingsForm
from crisis.notifications.models import WebhookEndpoint, WebhookSettings
from crisis.people.selectors import preferences_for
from crisis.roles import Perm

manage_webhooks = permission_required(Perm.MANAGE_PUBLISHING, raise_exception=True)


@manage_webhooks
@require_GET
def webhook_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request, WebhookSettingsForm(instance=WebhookSettings.load()))


def _list_page(request: HttpRequest, settings_form: WebhookSettingsForm, status: int = 200):
    page = selectors.endpoints_page(request.GET.get("page"))
    return render(
        request,
        "notifications/webhooks.html",
        {"page": page, "settings_form": settings_form},
        status=status,
    )


@manage_webhooks
@require_POST
def webhook_settings(request: HttpRequest) -> HttpResponse:
    form = WebhookSettingsForm(request.POST, instance=WebhookSettings.load())
    if not form.is_valid():
        return _list_page(request, form, status=400)
    deliveries.change_webhook_settings(
        actor=request.user,
        allow_private_addresses=form.cleaned_data["allow_private_addresses"],
        now=timezone.now(),
    )
    messages.success(request, _("Webhook settings saved."))
    return redirect("notifications:webhooks")


@manage_webhooks
def webhook_create(request: HttpRequest) -> HttpResponse:
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = deliveries.create_endpoint(
                actor=request.user, fields=form.cleaned_data, now=timezone.now()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Webhook endpoint added."))
            return redirect("notifications:webhook_detail", endpoint.pk)
    return render(request, "notifications/webhook_form.html", {"form": form, "endpoint": None})


@manage_webhooks
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    form = WebhookEndpointForm(request.POST or None, instance=endpoint)
    if request.method == "POST" and form.is_valid():
        try:
            deliveries.update_endpoint(
                actor=request.user,
                endpoint=endpoint,
                fields=form.cleaned_data,
                now=timezone.now(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Webhook endpoint saved."))
            return redirect("notifications:webhook_detail", endpoint.pk)
    endpoint.refresh_from_db()  # the form's failed validation may have changed the instance
    return render(request, "notifications/webhook_form.html", {"form": form, "endpoint": endpoint})


@manage_webhooks
@require_GET
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The endpoint and its delivery log; an htmx request gets only the log (it refreshes)."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    _language, time_zone = preferences_for(request.user)
    context = {
        "endpoint": endpoint,
        "log": selectors.delivery_log(endpoint),
        "time_zone": time_zone,
        "log_length": selectors.DELIVERY_LOG_LENGTH,
    }
    if request.htmx:
        return render(request, "notifications/partials/delivery_log.html", context)
    return render(request, "notifications/webhook_detail.html", context)


@manage_webhooks
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    delivery = deliveries.send_test_event(actor=request.user, endpoint=endpoint, now=timezone.now())
    messages.success(
        request,
        _("Test event %(event_id)s queued; its result appears in the delivery log.")
        % {"event_id": delivery.event_id},
    )
    return redirect("notifications:webhook_detail", endpoint.pk)


@manage_webhooks
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    name = endpoint.name
    deliveries.delete_endpoint(actor=request.user, endpoint=endpoint, now=timezone.now())
    messages.success(request, _("Webhook endpoint “%(name)s” deleted.") % {"name": name})
    return redirect("notifications:webhooks")
