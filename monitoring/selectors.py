"""Read paths of the monitoring screens, with their joins in one place."""

from datetime import datetime, time

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from monitoring.connectors.boundary import display_window
from monitoring.models import Mention, QuarantinedItem, QuarantineStatus, Source, SourceAlert


def displayable(mentions: QuerySet[Mention], *, now: datetime) -> QuerySet[Mention]:
    """Only mentions dated inside the window the validation boundary accepts.

    A row stored before the boundary existed may be dated 9999 or year 1: Postgres holds
    it, but Python cannot load it nor show it in local time, and it would sit on top of
    every list. It stays in the database (and in counts) but is never shown.
    """
    earliest, latest = display_window(now)
    return mentions.filter(published_at__gte=earliest, published_at__lte=latest)


def mentions_for_explorer(filters: dict, *, now: datetime) -> QuerySet[Mention]:
    """Newest first; `filters` is MentionFilterForm.cleaned_data."""
    # The score (protocols) is read alongside for display: "why this score" on each row.
    mentions = displayable(
        Mention.objects.select_related("author", "source", "score").defer("raw"), now=now
    )
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
        mentions = mentions.filter(language="" if language == "und" else language)
    zone = timezone.get_current_timezone()
    if date_from := filters.get("date_from"):
        mentions = mentions.filter(
            published_at__gte=timezone.make_aware(datetime.combine(date_from, time.min), zone)
        )
    if date_to := filters.get("date_to"):
        mentions = mentions.filter(
            published_at__lte=timezone.make_aware(datetime.combine(date_to, time.max), zone)
        )
    return _narrowed_for_the_board(mentions, filters).order_by("-published_at", "-id")


def _narrowed_for_the_board(mentions: QuerySet[Mention], filters: dict) -> QuerySet[Mention]:
    """The filters behind the board's numbers: topic, scorer's class, severity and polarity,
    one author, an exact [since, until) span and live mentions only."""
    # Imported here: the polarity threshold is the scorer's (protocols), read only by this
    # filter; monitoring does not otherwise load the evaluation module.
    from protocols.evaluation import NEGATIVE_BELOW

    if topic := filters.get("topic"):
        mentions = mentions.filter(topics__topic=topic)  # one row per (mention, topic)
    if triage_class := filters.get("triage"):
        mentions = mentions.filter(score__triage_class=triage_class)
    if severity := filters.get("severity"):
        serious = severity == "serious"  # monitoring.forms.SERIOUS: high or critical
        mentions = mentions.filter(
            score__severity__in=("high", "critical") if serious else (severity,)
        )
    if filters.get("negative"):
        mentions = mentions.filter(score__sentiment__lte=NEGATIVE_BELOW)
    if filters.get("complaint"):
        mentions = mentions.filter(score__is_complaint=True)
    if author_id := filters.get("author"):
        mentions = mentions.filter(author_id=author_id)
    if since := filters.get("since"):
        mentions = mentions.filter(published_at__gte=since)
    if until := filters.get("until"):
        mentions = mentions.filter(published_at__lt=until)
    if filters.get("live"):
        mentions = mentions.filter(origin="live")
    return mentions


def sources_with_counts() -> QuerySet[Source]:
    """Each source with its mention and pending-quarantine counts, one query.

    Each count is its own correlated subquery (an index scan per source), never a join of
    mentions with quarantine, which grows as the product of the two tables.
    """
    return Source.objects.annotate(
        mention_count=_count_per_source(Mention.objects.all()),
        pending_quarantine=_count_per_source(
            QuarantinedItem.objects.filter(status=QuarantineStatus.PENDING)
        ),
    ).order_by("name")


def _count_per_source(rows: QuerySet) -> Coalesce:
    counted = (
        rows.filter(source=OuterRef("pk"))
        .order_by()
        .values("source")
        .annotate(count=Count("*"))
        .values("count")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def source_health(source: Source, *, now: datetime) -> dict:
    return {
        "open_alerts": list(SourceAlert.objects.filter(source=source, resolved_at=None)),
        "recent_alerts": list(SourceAlert.objects.filter(source=source)[:10]),
        "mention_count": source.mentions.count(),
        "latest_mentions": list(
            displayable(source.mentions.select_related("author").defer("raw"), now=now).order_by(
                "-published_at"
            )[:10]
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
