"""Read paths of the monitoring screens, with their joins in one place."""

from datetime import datetime, time

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from monitoring.models import Mention, QuarantinedItem, QuarantineStatus, Source, SourceAlert


def mentions_for_explorer(filters: dict) -> QuerySet[Mention]:
    """Newest first; `filters` is MentionFilterForm.cleaned_data."""
    # The score (protocols) is read alongside for display: "why this score" on each row.
    mentions = Mention.objects.select_related("author", "source", "score").defer("raw")
    if query := filters.get("q"):
        mentions = mentions.filter(
            Q(text__icontains=query)
            | Q(author__handle__icontains=query)
            | Q(author__display_name__icontains=query)
        )
    if platform := filters.get("platform"):
        mentions = mentions.filter(platform=platform)
    if source := filters.get("source"):
        mentions = mentions.filter(source=source)
    if language := filters.get("language"):
        mentions = mentions.filter(language=language)
    zone = timezone.get_current_timezone()
    if date_from := filters.get("date_from"):
        mentions = mentions.filter(
            published_at__gte=timezone.make_aware(datetime.combine(date_from, time.min), zone)
        )
    if date_to := filters.get("date_to"):
        mentions = mentions.filter(
            published_at__lte=timezone.make_aware(datetime.combine(date_to, time.max), zone)
        )
    return mentions.order_by("-published_at", "-id")


def sources_with_counts() -> QuerySet[Source]:
    return Source.objects.annotate(
        mention_count=Count("mentions", distinct=True),
        pending_quarantine=Count(
            "quarantined_items",
            filter=Q(quarantined_items__status=QuarantineStatus.PENDING),
            distinct=True,
        ),
    ).order_by("name")


def source_health(source: Source) -> dict:
    return {
        "open_alerts": list(SourceAlert.objects.filter(source=source, resolved_at=None)),
        "recent_alerts": list(SourceAlert.objects.filter(source=source)[:10]),
        "mention_count": source.mentions.count(),
        "latest_mentions": list(
            source.mentions.select_related("author").defer("raw").order_by("-published_at")[:10]
        ),
        "pending_quarantine": source.quarantined_items.filter(
            status=QuarantineStatus.PENDING
        ).count(),
    }


def quarantine_queue(status: str) -> QuerySet[QuarantinedItem]:
    return (
        QuarantinedItem.objects.filter(status=status)
        .select_related("source", "resolved_by")
        .order_by("-received_at", "-id")
    )
