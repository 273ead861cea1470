"""The daily digest: yesterday's board, e-mailed to supervisors and executives in their language.

Once the organisation's clock passes BOARD_DIGEST_HOUR (default 7), each recipient gets the
digest of yesterday (the organisation's calendar day) exactly once: a DigestSent row per
person and day is the claim. The figures are the board's own (crisis.board.mention_metrics and
incident_metrics read the live rollups, so drills and replays never appear); they are computed
once per language and rendered once per language, whatever the number of recipients.

Why not the notifications e-mail outbox: a Notification carries a title and a short plain body
rendered into one template, while the digest is a long plain-text body with an HTML
alternative; its retry is simply the next beat run (every ten minutes, all day), so a claim
that is dropped when its send fails gives the same guarantee without a second copy of the
digest in the bell. The notifications app still holds the opt-out: its "daily digest" kind,
e-mail channel.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation

from crisis.board import incident_metrics, mention_metrics
from crisis.board.filters import HOUR, BoardFilters, organisation_zone, parse_filters
from crisis.board.models import DigestSent, IncidentHour
from crisis.notifications.models import (
    NotificationChannel,
    NotificationKind,
    NotificationPreference,
)
from crisis.notifications.services import absolute_link
from crisis.roles import Role
from crisis.rooms.models import LIVE_ORIGIN, Commitment, TaskStatus
from protocols.scoring.types import Severity

logger = logging.getLogger(__name__)

DIGEST_ROLES = (Role.SUPERVISOR, Role.EXECUTIVE)
DEFAULT_DIGEST_HOUR = 7
TOP_ITEMS = 5  # complaint classes, keyword groups
TOP_COMMITMENTS = 10  # overdue commitments listed (the total is always given)
# Claims are held in one transaction while their batch is mailed: a batch bounds how long.
SEND_BATCH = 50
OPEN_TASK_STATES = (TaskStatus.TODO, TaskStatus.DOING)


def digest_hour() -> int:
    """The organisation's hour (0-23) from which yesterday's digest goes out."""
    return int(getattr(settings, "BOARD_DIGEST_HOUR", DEFAULT_DIGEST_HOUR))


def day_due(now: datetime) -> date | None:
    """The day whose digest may go out at `now`: yesterday in the organisation's zone, once
    its clock has reached the digest hour; None before that."""
    local = now.astimezone(organisation_zone())
    if local.hour < digest_hour():
        return None
    return local.date() - timedelta(days=1)


def day_filters(day: date, *, now: datetime) -> BoardFilters:
    """The board's filters for one calendar day: the same range a board link to it opens."""
    return parse_filters(
        {"range": "custom", "date_from": day.isoformat(), "date_to": day.isoformat()}, now=now
    )


# --- Who gets it -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: int
    email: str
    language: str


def reader_language(chosen: str | None) -> str:
    """The profile's language when Calma speaks it, else the organisation's."""
    available = {code for code, _name in settings.LANGUAGES}
    return chosen if chosen in available else settings.LANGUAGE_CODE


def pending_recipients(day: date) -> list[Recipient]:
    """Active supervisors and executives with an address who did not turn the digest's e-mail
    off and have not had this day's digest yet: one query."""
    user_model = get_user_model()
    in_role = Group.objects.filter(
        user=OuterRef("pk"), name__in=[role.value for role in DIGEST_ROLES]
    )
    opted_out = NotificationPreference.objects.filter(
        user=OuterRef("pk"),
        kind=NotificationKind.DAILY_DIGEST,
        channel=NotificationChannel.EMAIL,
        enabled=False,
    )
    already_sent = DigestSent.objects.filter(user=OuterRef("pk"), day=day)
    rows = (
        user_model._default_manager.filter(is_active=True, email__gt="")
        .filter(Exists(in_role), ~Exists(opted_out), ~Exists(already_sent))
        .order_by("pk")
        .values_list("pk", "email", "profile__language")
    )
    return [
        Recipient(user_id=pk, email=email, language=reader_language(language))
        for pk, email, language in rows
    ]


# --- What it says ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OverdueCommitment:
    sentence: str
    crisis_title: str
    due_at: datetime
    url: str


@dataclass(frozen=True, slots=True)
class LinkedCount:
    label: str
    count: int
    url: str


@dataclass(frozen=True, slots=True)
class ActiveCrisis:
    title: str
    level_label: str
    commander: str
    url: str


def active_crises(now: datetime) -> list[ActiveCrisis]:
    """The board's active crises, each with its commander's name and its room's address."""
    return [
        ActiveCrisis(
            title=summary.crisis.title,
            level_label=summary.level_label,
            commander=summary.commander.get_full_name() or summary.commander.get_username(),
            url=link("rooms:room", summary.crisis.pk),
        )
        for summary in incident_metrics.active_crises(now)
    ]


@dataclass(frozen=True)
class DigestContent:
    """Everything one language's digest shows; every figure comes with the link behind it."""

    day: date
    day_label: str
    filters: BoardFilters
    totals: mention_metrics.MentionTotals
    previous_totals: mention_metrics.MentionTotals
    incidents_opened: list[LinkedCount]
    sla: incident_metrics.SlaSummary
    exposure: float
    unanswered: int
    complaints: list[LinkedCount]
    keyword_groups: list[LinkedCount]
    crises: list[ActiveCrisis]
    overdue_commitments: list[OverdueCommitment]
    overdue_total: int
    links: dict[str, str]

    @property
    def volume_change_percent(self) -> float | None:
        """Yesterday's mentions against the day before, in percent (None: nothing to compare)."""
        before = self.previous_totals.mentions
        if not before:
            return None
        return (self.totals.mentions - before) * 100 / before

    @property
    def negative_share_percent(self) -> float | None:
        share = self.totals.negative_share
        return None if share is None else share * 100

    @property
    def baseline_negative_share_percent(self) -> float | None:
        share = self.totals.baseline_negative_share
        return None if share is None else share * 100

    @property
    def sla_compliance_percent(self) -> float | None:
        compliance = self.sla.today_compliance
        return None if compliance is None else compliance * 100

    @property
    def week_sla_compliance_percent(self) -> float | None:
        compliance = self.sla.week_compliance
        return None if compliance is None else compliance * 100


def link(name: str, *args, query: dict[str, str] | str = "") -> str:
    """An absolute link to a page of Calma (the address notification e-mails use)."""
    if isinstance(query, dict):
        query = urlencode({key: value for key, value in query.items() if value})
    path = reverse(name, args=args)
    return absolute_link(f"{path}?{query}" if query else path)


def board_link(filters: BoardFilters, **changes: str) -> str:
    return link("board", query=filters.as_query(**changes))


def day_end(filters: BoardFilters) -> datetime:
    """The last moment of the reported day (its last hour is on the board)."""
    return filters.end - timedelta(microseconds=1)


def overdue_commitments(*, now: datetime) -> tuple[list[OverdueCommitment], int]:
    """Live promises past their (possibly re-dated) due time and not done: the first few, and
    how many there are in all."""
    overdue = Commitment.objects.filter(
        task__status__in=OPEN_TASK_STATES,
        task__due_at__lt=now,
        version__statement__crisis__origin=LIVE_ORIGIN,
    )
    total = overdue.count()
    if not total:
        return [], 0
    rows = overdue.select_related("task__crisis").order_by("task__due_at", "pk")[:TOP_COMMITMENTS]
    return [
        OverdueCommitment(
            sentence=commitment.sentence,
            crisis_title=commitment.task.crisis.title,
            due_at=commitment.task.due_at,
            url=link("rooms:plan", commitment.task.crisis_id),
        )
        for commitment in rows
    ], total


def collect(day: date, *, now: datetime) -> DigestContent:
    """The digest's figures for `day`, read through the board's own metrics. Labels are in the
    active language: call it once per language."""
    filters = day_filters(day, now=now)
    previous = day_filters(day - timedelta(days=1), now=now)
    # The SLA summary of "today" as it stood at the day's last moment: yesterday, and the 7
    # days before it.
    sla = incident_metrics.sla_summary(day_end(filters))
    exposure, unanswered = exposure_at_end(filters)
    overdue, overdue_total = overdue_commitments(now=now)
    return DigestContent(
        day=day,
        day_label=formats.date_format(day, "DATE_FORMAT"),
        filters=filters,
        totals=mention_metrics.totals(filters),
        previous_totals=mention_metrics.totals(previous),
        incidents_opened=incidents_opened_by_severity(filters),
        sla=sla,
        exposure=exposure,
        unanswered=unanswered,
        complaints=[
            LinkedCount(item.label, item.count, link("inbox", query={"triage": item.key}))
            for item in mention_metrics.complaint_classes(filters)[:TOP_ITEMS]
        ],
        keyword_groups=[
            LinkedCount(item.label, item.count, board_link(filters, topic=item.key))
            for item in mention_metrics.keyword_groups(filters, limit=TOP_ITEMS)
        ],
        crises=active_crises(now),
        overdue_commitments=overdue,
        overdue_total=overdue_total,
        links={
            "board": board_link(filters),
            "mentions": link(
                "monitoring:mentions",
                query={"date_from": day.isoformat(), "date_to": day.isoformat()},
            ),
            "incidents": link("inbox"),
            "crises": link("rooms:list"),
            "preferences": link("notifications:preferences"),
        },
    )


def incidents_opened_by_severity(filters: BoardFilters) -> list[LinkedCount]:
    """Live incidents opened in the range per severity, critical to low, zeros included (one
    query on IncidentHour), each linked to the inbox of that severity."""
    opened = dict(
        IncidentHour.objects.filter(hour__gte=filters.start, hour__lt=filters.end)
        .order_by()
        .values("severity")
        .annotate(opened=Sum("opened"))
        .values_list("severity", "opened")
    )
    return [
        LinkedCount(
            str(Severity(severity).label),
            opened.get(severity) or 0,
            link("inbox", query={"severity": severity}),
        )
        for severity in incident_metrics.SEVERITIES_DOWN
    ]


def exposure_at_end(filters: BoardFilters) -> tuple[float, int]:
    """Exposure (reach x minutes unanswered) and the incidents still unanswered at the end of
    the range: the end-of-hour snapshot of its last hour, as the board's series ends."""
    snapshot = IncidentHour.objects.filter(hour=filters.end - HOUR).aggregate(
        exposure=Sum("exposure_at_end"), unanswered=Sum("unanswered_at_end")
    )
    return snapshot["exposure"] or 0.0, snapshot["unanswered"] or 0


# --- Rendering and sending ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    subject: str
    text: str
    html: str


def render(content: DigestContent) -> RenderedDigest:
    """Subject, plain text and HTML in the active language, dates in the organisation's zone
    (the templates escape everything in the HTML; the plain text is not HTML)."""
    with timezone.override(organisation_zone()):
        context = {"digest": content, "time_zone": settings.TIME_ZONE}
        subject = render_to_string("board/email/digest_subject.txt", context)
        text = render_to_string("board/email/digest_body.txt", context)
        html = render_to_string("board/email/digest_body.html", context)
    return RenderedDigest(subject=" ".join(subject.split()), text=text, html=html)


def compose(day: date, language: str, *, now: datetime) -> RenderedDigest:
    """One language's digest of `day`: figures read and rendered once for all its readers."""
    with translation.override(language):
        return render(collect(day, now=now))


def _claim(day: str | date, language: str, user_ids: Sequence[int], now: datetime) -> set[int]:
    """Insert this day's DigestSent rows for these people, skipping those another run holds or
    has sent; return whom this run now holds (one statement, also on SQLite). A row held by a
    concurrent, uncommitted run makes this wait for its end, then counts as taken."""
    if not user_ids:
        return set()
    quote = connection.ops.quote_name
    table = quote(DigestSent._meta.db_table)
    user_column = quote(DigestSent._meta.get_field("user").column)
    day_value = connection.ops.adapt_datefield_value(day)
    sent_at = connection.ops.adapt_datetimefield_value(now)
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(user_ids))
    params: list = []
    for user_id in user_ids:
        params += [user_id, day_value, sent_at, language]
    # Only quoted names from the model's metadata are formatted in; values are parameters.
    sql = (
        f"INSERT INTO {table} ({user_column}, {quote('day')}, {quote('sent_at')}, "  # noqa: S608
        f"{quote('language')}) VALUES {rows} "
        f"ON CONFLICT ({user_column}, {quote('day')}) DO NOTHING RETURNING {user_column}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _message(digest: RenderedDigest, recipient: Recipient) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(digest.subject, digest.text, None, [recipient.email])
    message.attach_alternative(digest.html, "text/html")
    return message


def _send_batch(
    day: date, language: str, digest: RenderedDigest, batch: Sequence[Recipient], now: datetime
) -> tuple[int, int]:
    """Claim, mail, and give back the claims of the mails that failed, in one transaction: a
    worker that dies mid-batch leaves no claim behind, so the next run sends again (at least
    once, never silently lost). Returns (sent, failed)."""
    failed: list[int] = []
    with transaction.atomic():
        claimed = _claim(day, language, [recipient.user_id for recipient in batch], now)
        for recipient in batch:
            if recipient.user_id not in claimed:
                continue  # sent by another run meanwhile
            try:
                _message(digest, recipient).send()
            except Exception:  # any failure of one mail must not cost the others theirs
                logger.exception("daily digest of %s for user %s not sent", day, recipient.user_id)
                failed.append(recipient.user_id)
        if failed:
            DigestSent.objects.filter(day=day, user_id__in=failed).delete()
    return len(claimed) - len(failed), len(failed)


@dataclass(frozen=True, slots=True)
class DigestRun:
    day: date | None
    sent: int = 0
    failed: int = 0


def _batches(items: Sequence[Recipient], size: int) -> Iterable[Sequence[Recipient]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def send_daily_digests(*, now: datetime) -> DigestRun:
    """Send yesterday's digest to everyone due one (idempotent: safe every few minutes, from
    several workers at once). Nothing before the digest hour."""
    day = day_due(now)
    if day is None:
        return DigestRun(day=None)
    by_language: dict[str, list[Recipient]] = defaultdict(list)
    for recipient in pending_recipients(day):
        by_language[recipient.language].append(recipient)
    sent = failed = 0
    for language, recipients in sorted(by_language.items()):
        digest = compose(day, language, now=now)
        for batch in _batches(recipients, SEND_BATCH):
            batch_sent, batch_failed = _send_batch(day, language, digest, batch, now)
            sent, failed = sent + batch_sent, failed + batch_failed
    return DigestRun(day=day, sent=sent, failed=failed)
