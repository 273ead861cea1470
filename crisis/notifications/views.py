"""Every signed-in user's own notifications: the list, the live bell count, marking read."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from crisis.notifications import selectors, services
from crisis.notifications.forms import MarkReadForm
from crisis.notifications.models import Notification
from crisis.people.selectors import preferences_for

# htmx stops polling on this status: a signed-out page stops asking for its count.
HTMX_STOP_POLLING = 286


@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    page = selectors.notifications_page(request.user, request.GET.get("page"))
    _language, time_zone = preferences_for(request.user)
    return render(request, "notifications/list.html", {"page": page, "time_zone": time_zone})


@login_not_required  # a page left open after signing out gets "stop", not the login page
@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The bell's unread count, polled by every page (one COUNT query)."""
    if not request.user.is_authenticated:
        return HttpResponse(status=HTMX_STOP_POLLING)
    if not request.htmx:
        return redirect("notifications:list")
    count = selectors.unread_count(request.user)
    # Without the request: the page's context processors (navigation, permissions) would
    # cost queries on every poll of every open page.
    html = render_to_string("notifications/partials/bell_count.html", {"unread_count": count})
    return HttpResponse(html)


@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    form = MarkReadForm(request.POST)
    form.is_valid()  # one optional checkbox: anything unreadable means "not checked"
    try:
        notification = services.mark_read(user=request.user, notification_id=pk, now=timezone.now())
    except Notification.DoesNotExist:
        raise Http404 from None  # someone else's notification does not exist for you
    if form.cleaned_data.get("open") and _is_local(request, notification.url):
        return redirect(notification.url)
    return redirect("notifications:list")


@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.mark_all_read(user=request.user, now=timezone.now())
    messages.success(
        request,
        ngettext(
            "%(count)d notification marked as read.",
            "%(count)d notifications marked as read.",
            count,
        )
        % {"count": count},
    )
    return redirect("notifications:list")


def _is_local(request: HttpRequest, url: str) -> bool:
    # notify() stores only local paths; checked again because it becomes a redirect.
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
