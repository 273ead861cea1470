"""Reads of the protocols app for screens: open crisis suggestions (banner, list)."""

from django.db.models import OuterRef, QuerySet, Subquery

from monitoring.models import LIVE_ORIGIN
from protocols.models import CrisisSuggestion

LIVE = LIVE_ORIGIN
RECENTLY_DISMISSED = 20


def open_suggestion_count() -> int:
    """Open live crisis suggestions: the supervisors' banner on every page (one COUNT)."""
    return CrisisSuggestion.objects.filter(origin=LIVE, dismissed_at__isnull=True).count()


def open_suggestions() -> QuerySet[CrisisSuggestion]:
    """Open live suggestions, newest first, each with the last dismissal on its topic (why,
    when, by whom), so a supervisor sees what was decided the last time; one query."""
    previous = CrisisSuggestion.objects.filter(
        topic=OuterRef("topic"), origin=OuterRef("origin"), dismissed_at__isnull=False
    ).order_by("-dismissed_at", "-pk")
    return (
        CrisisSuggestion.objects.filter(origin=LIVE, dismissed_at__isnull=True)
        .select_related("protocol_version")
        .annotate(
            previous_reason=Subquery(previous.values("dismiss_reason")[:1]),
            previous_dismissed_at=Subquery(previous.values("dismissed_at")[:1]),
            previous_dismissed_by=Subquery(previous.values("dismissed_by__username")[:1]),
        )
        .order_by("-raised_at", "-pk")
    )


def recently_dismissed() -> QuerySet[CrisisSuggestion]:
    return (
        CrisisSuggestion.objects.filter(origin=LIVE, dismissed_at__isnull=False)
        .select_related("dismissed_by")
        .order_by("-dismissed_at", "-pk")[:RECENTLY_DISMISSED]
    )
