"""Polling sources: leases (one poller per source), page commits, backoff and health.

A poll holds a lease on its source (a token with an expiry, taken with one conditional
UPDATE), so two workers never poll one source at once, and a killed worker's lease simply
expires. The lease is short (LEASE_SECONDS) and renewed before each page fetch and with
each page commit, so one left behind by a crash or a failed release (the database down at
that moment) lapses within one renewal interval. Each page is committed in one transaction
together with the source's new cursor, and only while the lease is still ours; a crash loses
at most the page in flight, which the next poll fetches again from the committed cursor.
New mentions are handed to the next stage after commit; if the broker is unreachable then,
they stay stored and the next stage's sweeper picks them up.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import ngettext, override
from kombu.exceptions import KombuError

from monitoring.connectors import connector_for
from monitoring.connectors.base import (
    ConnectorError,
    Page,
    PermanentError,
    RateLimited,
    SourceConfig,
)
from monitoring.credentials import resolve_credentials
from monitoring.ingest import IngestResult, ingest_mentions, quarantine
from monitoring.models import AlertKind, Source, SourceAlert, SourceHealth
from monitoring.platforms import POLLED_PLATFORMS

logger = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another poller took the source over (our lease expired); our page is not committed."""


@dataclass(frozen=True, slots=True)
class PollOutcome:
    status: str  # "ok", "busy", "rate_limited", "failed", "lease_lost", "database_unavailable"
    pages: int = 0
    new_mentions: int = 0
    error: str = ""


def poll_setting(name: str):
    return settings.MONITORING[name]


# --- dispatch ---------------------------------------------------------------------------
def due_sources(now=None) -> list[int]:
    return [source_id for source_id, _interval in _due(now or timezone.now())]


def _due(now) -> list[tuple[int, int]]:
    return list(
        Source.objects.filter(enabled=True, platform__in=POLLED_PLATFORMS)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .order_by("next_poll_at")
        .values_list("pk", "poll_interval_seconds")
    )


def dispatch_due_polls() -> list[int]:
    """Enqueue one poll per due source; push its next poll forward so it is not queued twice."""
    from monitoring.tasks import poll_source

    now = timezone.now()
    dispatched = []
    for source_id, interval in _due(now):
        # Conditional, so two dispatchers running at once never queue one source twice.
        claimed = Source.objects.filter(
            Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now), pk=source_id
        ).update(next_poll_at=now + timedelta(seconds=interval))
        if claimed:
            poll_source.delay(source_id)
            dispatched.append(source_id)
    return dispatched


# --- leases -----------------------------------------------------------------------------
def lease_duration() -> timedelta:
    return timedelta(seconds=poll_setting("LEASE_SECONDS"))


def acquire_lease(source_id: int, *, now=None) -> uuid.UUID | None:
    now = now or timezone.now()
    token = uuid.uuid4()
    taken = Source.objects.filter(
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now), pk=source_id
    ).update(lease_token=token, lease_expires_at=now + lease_duration(), last_polled_at=now)
    return token if taken else None


def renew_lease(source_id: int, token: uuid.UUID) -> None:
    """Extend our lease by LEASE_SECONDS from now; LeaseLost if it lapsed or was taken over."""
    now = timezone.now()
    renewed = Source.objects.filter(
        pk=source_id, lease_token=token, lease_expires_at__gte=now
    ).update(lease_expires_at=now + lease_duration())
    if not renewed:
        raise LeaseLost(f"source {source_id}: lease lost")


def release_lease(source_id: int, token: uuid.UUID) -> bool:
    """Free the source for the next poll. Never raises: if the database is unreachable the
    lease stays behind and lapses LEASE_SECONDS after its last renewal."""
    try:
        Source.objects.filter(pk=source_id, lease_token=token).update(
            lease_token=None, lease_expires_at=None
        )
    except DatabaseError as error:
        logger.warning(
            "source %s: lease not released (%s); it lapses by itself", source_id, one_line(error)
        )
        return False
    return True


def one_line(error: BaseException) -> str:
    first = str(error).strip().splitlines()[:1]
    return f"{type(error).__name__}: {first[0] if first else ''}"[:300]


def _locked_source_if_ours(source_id: int, token: uuid.UUID) -> Source:
    source = Source.objects.select_for_update().get(pk=source_id)
    if source.lease_token != token or source.lease_expires_at < timezone.now():
        raise LeaseLost(f"source {source_id}: lease lost")
    return source


# --- one poll ---------------------------------------------------------------------------
def source_config(source: Source) -> SourceConfig:
    return SourceConfig(
        platform=source.platform,
        kind=source.kind,
        query=source.query,
        base_url=source.base_url,
        credentials=resolve_credentials(source.credentials_ref),
        timeout_seconds=poll_setting("HTTP_TIMEOUT_SECONDS"),
    )


def poll(source_id: int) -> PollOutcome:
    """Fetch and commit pages until the source has nothing more (or the page budget ends)."""
    token = acquire_lease(source_id)
    if token is None:
        return PollOutcome(status="busy")
    try:
        return poll_holding_lease(source_id, token)
    except DatabaseError as error:
        # The database went away mid-poll: committed pages stay committed, the page in
        # flight is fetched again by the next poll, and the outcome is this return value.
        logger.warning(
            "source %s: database unavailable during poll (%s)", source_id, one_line(error)
        )
        return PollOutcome(status="database_unavailable", error=one_line(error))
    finally:
        release_lease(source_id, token)


def poll_holding_lease(source_id: int, token: uuid.UUID) -> PollOutcome:
    """The pages of one poll, the lease renewed before each fetch; records the outcome."""
    pages = new_mentions = 0
    more_waiting = False
    try:
        source = Source.objects.get(pk=source_id)
        connector = connector_for(source.platform)
        config = source_config(source)
        cursor = source.cursor
        for _ in range(poll_setting("MAX_PAGES_PER_POLL")):
            renew_lease(source_id, token)
            page = connector.fetch(config, cursor)
            result = commit_page(source_id, token, page)
            pages += 1
            new_mentions += len(result.new_mention_ids)
            cursor = page.next_cursor
            more_waiting = page.has_more
            if not more_waiting:
                break
    except LeaseLost as error:
        logger.warning("%s", error)
        return PollOutcome(status="lease_lost", pages=pages, new_mentions=new_mentions)
    except RateLimited as error:
        record_rate_limited(source_id, token, error)
        return PollOutcome("rate_limited", pages, new_mentions, str(error))
    except ConnectorError as error:
        record_failure(source_id, token, error)
        return PollOutcome("failed", pages, new_mentions, str(error))
    record_success(source_id, token, more_waiting=more_waiting)
    return PollOutcome(status="ok", pages=pages, new_mentions=new_mentions)


def commit_page(source_id: int, token: uuid.UUID, page: Page) -> IngestResult:
    """Store a page's mentions, quarantined items and the next cursor in one transaction."""
    with transaction.atomic():
        source = _locked_source_if_ours(source_id, token)
        result = ingest_mentions(page.mentions, source_id=source_id)
        quarantine(page.quarantined, platform=source.platform, source_id=source_id)
        Source.objects.filter(pk=source_id).update(
            cursor=page.next_cursor, lease_expires_at=timezone.now() + lease_duration()
        )
        hand_off_new_mentions(result.new_mention_ids)
    return result


def hand_off_new_mentions(mention_ids: list[int]) -> None:
    """After commit, give the new mentions to the next stage (one task, ids only)."""
    task_name = poll_setting("NEW_MENTIONS_TASK")
    if mention_ids and task_name:
        transaction.on_commit(lambda: send_new_mentions(task_name, mention_ids))


def send_new_mentions(task_name: str, mention_ids: list[int]) -> bool:
    """Enqueue the next stage; False (one log line) when the broker is unreachable. The
    mentions are committed by then, so the poll or upload that stored them must not fail:
    the next stage's sweeper enqueues what was stored and never handed off."""
    try:
        current_app.send_task(task_name, args=[mention_ids])
    except (KombuError, OSError) as error:
        logger.warning(
            "hand-off of %d new mentions to %s failed (%s); left to the sweeper",
            len(mention_ids),
            task_name,
            one_line(error),
        )
        return False
    return True


# --- outcomes ---------------------------------------------------------------------------
def record_success(source_id: int, token: uuid.UUID, *, more_waiting: bool = False) -> None:
    """Healthy again; poll again at once when the page budget ran out with pages left."""
    now = timezone.now()
    with transaction.atomic():
        source = Source.objects.select_for_update().get(pk=source_id)
        source.last_success_at = now
        source.consecutive_failures = 0
        source.health = SourceHealth.HEALTHY
        source.next_poll_at = (
            now if more_waiting else now + timedelta(seconds=source.poll_interval_seconds)
        )
        source.save(
            update_fields=["last_success_at", "consecutive_failures", "health", "next_poll_at"]
        )
        # Only the polling alert: a full quarantine stays full until someone reviews it.
        SourceAlert.objects.filter(
            source_id=source_id, kind=AlertKind.POLLING_FAILING, resolved_at=None
        ).update(resolved_at=now)


def record_rate_limited(source_id: int, token: uuid.UUID, error: RateLimited) -> None:
    """Honour the platform's wait; a rate limit degrades health but is not a failure."""
    now = timezone.now()
    wait = max(error.retry_after_seconds, 1.0)
    Source.objects.filter(pk=source_id).update(
        next_poll_at=now + timedelta(seconds=wait),
        health=SourceHealth.DEGRADED,
        last_error=str(error)[:2000],
        last_error_at=now,
    )


def record_failure(source_id: int, token: uuid.UUID, error: ConnectorError) -> None:
    now = timezone.now()
    with transaction.atomic():
        source = Source.objects.select_for_update().get(pk=source_id)
        source.consecutive_failures += 1
        source.last_error = f"{type(error).__name__}: {error}"[:2000]
        source.last_error_at = now
        source.next_poll_at = now + timedelta(seconds=backoff_seconds(source, error))
        failing = source.consecutive_failures >= poll_setting("FAILING_AFTER")
        source.health = SourceHealth.FAILING if failing else SourceHealth.DEGRADED
        source.save(
            update_fields=[
                "consecutive_failures",
                "last_error",
                "last_error_at",
                "next_poll_at",
                "health",
            ]
        )
        if failing:
            raise_alert(source)


def backoff_seconds(source: Source, error: ConnectorError) -> float:
    """Exponential backoff with full jitter (Celery's own formula), capped; permanent
    errors wait the maximum, since retrying soon cannot help."""
    maximum = poll_setting("BACKOFF_MAX_SECONDS")
    if isinstance(error, PermanentError):
        return maximum
    return max(
        1.0,
        get_exponential_backoff_interval(
            factor=poll_setting("BACKOFF_BASE_SECONDS"),
            retries=source.consecutive_failures - 1,
            maximum=maximum,
            full_jitter=True,
        ),
    )


def raise_alert(source: Source) -> None:
    """Open the source's polling-failing alert, unless one is open (the caller holds the
    source's row lock, so two failing polls cannot both open one)."""
    open_alerts = SourceAlert.objects.filter(
        source=source, kind=AlertKind.POLLING_FAILING, resolved_at=None
    )
    if open_alerts.exists():
        return
    # Written once for everyone, so in the organisation's language, never in whichever
    # language the thread that happens to poll last served a page in.
    with override(settings.LANGUAGE_CODE):
        message = ngettext(
            "%(name)s failed %(count)s poll in a row; last error: %(error)s",
            "%(name)s failed %(count)s polls in a row; last error: %(error)s",
            source.consecutive_failures,
        ) % {
            "name": source.name,
            "count": source.consecutive_failures,
            "error": source.last_error,
        }
    SourceAlert.objects.create(source=source, kind=AlertKind.POLLING_FAILING, message=message)
    logger.error("source failing: %s", message)
