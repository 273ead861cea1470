"""The audit log page for supervisors and admins: filter by actor, object, verb and dates."""

import datetime as dt

from django import forms
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from crisis.models import AuditEvent
from crisis.roles import Perm

EVENTS_PER_PAGE = 50
# Dates outside this window are typing mistakes, and year 9999 would overflow a day later.
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)

_date_widget = forms.DateInput(attrs={"type": "date"})


class AuditFilterForm(forms.Form):
    actor = forms.CharField(
        label=_("Who"),
        max_length=150,
        required=False,
        help_text=_('A username, or "system" for scheduled work.'),
    )
    verb = forms.CharField(
        label=_("Action"),
        max_length=64,
        required=False,
        help_text=_('Starts with, e.g. "incident." or "team.shift_added".'),
    )
    object_type = forms.CharField(
        label=_("Object type"),
        max_length=100,
        required=False,
        help_text=_('e.g. "people.team" or "auth.user".'),
    )
    object_id = forms.CharField(label=_("Object id"), max_length=64, required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=_date_widget)
    date_to = forms.DateField(label=_("To"), required=False, widget=_date_widget)

    def _clean_date(self, name: str) -> dt.date | None:
        value = self.cleaned_data.get(name)
        if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
            raise forms.ValidationError(_("Choose a date between 2000 and 2100."))
        return value

    def clean_date_from(self) -> dt.date | None:
        return self._clean_date("date_from")

    def clean_date_to(self) -> dt.date | None:
        return self._clean_date("date_to")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


def _start_of_day(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), zone)


def audit_events(filters: dict, *, zone: dt.tzinfo) -> QuerySet[AuditEvent]:
    """Events matching the filters, newest first; dates are whole days in `zone`."""
    events = AuditEvent.objects.order_by("-occurred_at", "-id")
    if actor := filters.get("actor"):
        events = events.filter(actor_label__iexact=actor.strip())
    if verb := filters.get("verb"):
        events = events.filter(verb__istartswith=verb.strip())
    if object_type := filters.get("object_type"):
        events = events.filter(object_type=object_type.strip().lower())
    if object_id := filters.get("object_id"):
        events = events.filter(object_id=object_id.strip())
    if date_from := filters.get("date_from"):
        events = events.filter(occurred_at__gte=_start_of_day(date_from, zone))
    if date_to := filters.get("date_to"):
        events = events.filter(occurred_at__lt=_start_of_day(date_to + dt.timedelta(days=1), zone))
    return events


def _query_string(form: AuditFilterForm) -> str:
    """The valid filters as a query string, so pagination keeps them."""
    values = {name: form.data.get(name) for name in form.fields if form.data.get(name)}
    return urlencode(values)


@permission_required(Perm.VIEW_AUDIT_LOG, raise_exception=True)
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    events = audit_events(filters, zone=timezone.get_current_timezone())
    page: Page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "crisis/audit.html",
        {
            "form": form if form.is_bound else AuditFilterForm(),
            "page": page,
            "filtered": bool(filters),
            "query_string": _query_string(form) if filters else "",
        },
    )
