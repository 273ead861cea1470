"""Exposure: the author's reach times the minutes an incident stayed unanswered in public, for
one incident and as a database annotation the inbox sorts by."""

from datetime import datetime

from django.db.models import (
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Extract, Greatest

from crisis.incidents.models import Incident


def exposure(incident: Incident, *, now: datetime) -> float:
    """Reach (followers at open, 0 when unknown) times minutes from opening to the first public
    response, or to `now` while unanswered."""
    return incident.exposure(now)


def exposure_expression(*, now: datetime) -> ExpressionWrapper:
    """exposure() computed by the database (Postgres), so the inbox sorts without Python."""
    unanswered = ExpressionWrapper(
        Coalesce(F("first_response_at"), Value(now)) - F("opened_at"),
        output_field=DurationField(),
    )
    minutes = Greatest(Cast(Extract(unanswered, "epoch"), FloatField()) / Value(60.0), Value(0.0))
    reach = Cast(Coalesce(F("reach"), Value(0)), FloatField())
    return ExpressionWrapper(reach * minutes, output_field=FloatField())


def with_exposure(queryset: QuerySet, *, now: datetime) -> QuerySet:
    """The queryset annotated with `exposure` (sort with `.order_by("-exposure")`)."""
    return queryset.annotate(exposure=exposure_expression(now=now))
