"""The crisis timeline: what happened, in time order, read in one query from the audit log (the
room's own events and its incidents' openings and resolutions), the suggestion the crisis came
from, and the manual entries and pinned mentions; each event told as a sentence in the reader's
language. Also the hourly mention volume and negative share of the crisis's topics (the chart).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    F,
    JSONField,
    Q,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Left, TruncHour
from django.utils import timezone
from django.utils.translation import gettext

from crisis.models import AuditEvent
from crisis.rooms import access
from crisis.rooms.models import (
    CabinetRole,
    Crisis,
    CrisisIncident,
    TaskStatus,
    TimelineEntry,
)
from crisis.rooms.plan import clean_moment, clean_text, locked_crisis, require_record_open
from crisis.services.audit import SYSTEM_ACTOR_LABEL, record_audit_event
from monitoring.models import Mention
from protocols.evaluation import NEGATIVE_BELOW
from protocols.models import CrisisSuggestion, MentionTopic, Severity

ENTRY_TEXT_MAX_LENGTH = 2_000
MENTION_EXCERPT_LENGTH = 500
EVENTS_PER_PAGE = 50
LATEST_EVENTS = 20
PINNABLE_SHOWN = 10
# The incident events the timeline tells (crisis.incidents.services verbs).
INCIDENT_VERBS = ("incident.open", "incident.resolve", "incident.close", "incident.reopen")
# Manual entries and pins are audited too, but shown from their own rows (with their text);
# edits of drafts (autosaved), impact refreshes and a worker's claim are not events to tell.
HIDDEN_VERBS = (
    "crisis.timeline_entry",
    "crisis.timeline_pin",
    "crisis.statement_edit",
    "crisis.statement_publish_started",
    "crisis.post_mortem.edit",
    "crisis.post_mortem.impact",
)
# The chart covers from a day before the declaration; at most this many bars (longer crises
# are drawn with wider bars: 2, 3, 4, 6, 12 or 24 hours each).
HOURS_BEFORE_DECLARATION = 24
MAX_BARS = 168
BAR_WIDTHS = (1, 2, 3, 4, 6, 12, 24)


# --- manual entries and pins -----------------------------------------------------------------


def add_timeline_entry(
    *, actor: AbstractBaseUser, crisis: Crisis, text: str, at: datetime | None = None, now: datetime
) -> TimelineEntry:
    """Whoever acts in the room writes what the automatic timeline cannot know (a call with
    the regulator, a press enquiry); `at` may be in the past, never in the future."""
    text = clean_text(text, limit=ENTRY_TEXT_MAX_LENGTH)
    at = clean_moment(at) or now
    if at > now:
        raise ValidationError(gettext("A timeline entry cannot be in the future."), code="at")
    with transaction.atomic():
        crisis = locked_crisis(crisis)
        access.require_act(actor, crisis)
        require_record_open(crisis)
        entry = TimelineEntry.objects.create(
            crisis=crisis, at=at, text=text, author=actor, created_at=now
        )
        record_audit_event(
            actor=actor,
            verb="crisis.timeline_entry",
            target=crisis,
            after={"entry": entry.pk, "at": at.isoformat(), "text": text[:500]},
        )
    return entry


def pin_mention(
    *, actor: AbstractBaseUser, crisis: Crisis, mention: Mention, note: str = "", now: datetime
) -> TimelineEntry:
    """Pin a mention of one of the crisis's incidents, or on one of its topics, to the
    timeline at the time it was published (once)."""
    note = clean_text(note, limit=ENTRY_TEXT_MAX_LENGTH, required=False)
    with transaction.atomic():
        crisis = locked_crisis(crisis)
        access.require_act(actor, crisis)
        require_record_open(crisis)
        if not is_pinnable(crisis, mention):
            raise ValidationError(
                gettext(
                    "This mention is neither in one of the crisis's incidents nor on its topics."
                ),
                code="mention",
            )
        if TimelineEntry.objects.filter(crisis=crisis, mention=mention).exists():
            raise ValidationError(gettext("This mention is already pinned."), code="mention")
        entry = TimelineEntry.objects.create(
            crisis=crisis,
            at=mention.published_at,
            text=note,
            mention=mention,
            author=actor,
            created_at=now,
        )
        record_audit_event(
            actor=actor,
            verb="crisis.timeline_pin",
            target=crisis,
            after={"entry": entry.pk, "mention": mention.pk},
        )
    return entry


def is_pinnable(crisis: Crisis, mention: Mention) -> bool:
    in_incident = CrisisIncident.objects.filter(
        crisis=crisis, incident__links__mention=mention
    ).exists()
    return (
        in_incident
        or MentionTopic.objects.filter(mention=mention, topic__in=_topics(crisis)).exists()
    )


def find_mention(reference: str) -> Mention | None:
    """A mention by its number in Calma or by its address on the platform."""
    reference = (reference or "").strip()
    if reference.isdigit() and len(reference) < 19:
        return Mention.objects.filter(pk=int(reference)).first()
    if reference.startswith(("http://", "https://")) and len(reference) <= 2000:
        return Mention.objects.filter(url=reference).order_by("pk").first()
    return None


def pinnable_mentions(crisis: Crisis, *, limit: int = PINNABLE_SHOWN) -> list[Mention]:
    """The newest mentions on the crisis's topics not pinned yet (to pin with one click)."""
    start, end = chart_window(crisis, now=timezone.now())
    pinned = TimelineEntry.objects.filter(crisis=crisis, mention__isnull=False).values("mention_id")
    ids = (
        MentionTopic.objects.filter(
            topic__in=_topics(crisis),
            origin=crisis.origin,
            published_at__gte=start,
            published_at__lte=end,
        )
        .exclude(mention_id__in=pinned)
        .order_by("-published_at", "-mention_id")
        .values_list("mention_id", flat=True)
    )
    return list(
        Mention.objects.filter(pk__in=list(dict.fromkeys(ids[: limit * 3]))[:limit])
        .select_related("author")
        .order_by("-published_at", "-id")
    )


def _topics(crisis: Crisis) -> list[str]:
    return [str(topic) for topic in (crisis.topics or []) if isinstance(topic, str) and topic]


# --- the timeline ----------------------------------------------------------------------------

# The columns every part of the union gives, in this order.
COLUMNS = (
    "t_kind",
    "t_at",
    "t_row",
    "t_verb",
    "t_actor",
    "t_object_type",
    "t_object_id",
    "t_data",
    "t_text",
    "t_extra",
    "t_mention",
    "t_mention_url",
    "t_mention_author",
    "t_mention_platform",
)
_TEXT = TextField()
_NULL_TEXT = Value("", output_field=_TEXT)
_NULL_JSON = Value(None, output_field=JSONField())
_NULL_ID = Value(None, output_field=BigIntegerField())


def timeline_rows(crisis: Crisis):
    """One SQL query (a UNION) of every timeline row of the crisis, as dicts of COLUMNS; the
    caller orders and slices it (`.order_by("-t_at", "-t_row")[a:b]`)."""
    incident_ids = CrisisIncident.objects.filter(crisis=crisis).values(
        as_text=Cast("incident_id", CharField())
    )
    audit = (
        AuditEvent.objects.filter(
            Q(object_type="rooms.crisis", object_id=str(crisis.pk))
            | Q(
                object_type="incidents.incident",
                object_id__in=incident_ids,
                verb__in=INCIDENT_VERBS,
            )
        )
        .exclude(verb__in=HIDDEN_VERBS)
        .order_by()
        .annotate(
            t_kind=Value("audit", output_field=_TEXT),
            t_at=F("occurred_at"),
            t_row=F("id"),
            t_verb=Cast("verb", _TEXT),
            t_actor=Cast("actor_label", _TEXT),
            t_object_type=Cast("object_type", _TEXT),
            t_object_id=Cast("object_id", _TEXT),
            t_data=F("after"),
            t_text=_NULL_TEXT,
            t_extra=_NULL_TEXT,
            t_mention=_NULL_ID,
            t_mention_url=_NULL_TEXT,
            t_mention_author=_NULL_TEXT,
            t_mention_platform=_NULL_TEXT,
        )
        .values(*COLUMNS)
    )
    entries = (
        TimelineEntry.objects.filter(crisis=crisis)
        .order_by()
        .annotate(
            t_kind=Value("entry", output_field=_TEXT),
            t_at=F("at"),
            t_row=F("id"),
            t_verb=_NULL_TEXT,
            t_actor=Cast("author__username", _TEXT),
            t_object_type=_NULL_TEXT,
            t_object_id=_NULL_TEXT,
            t_data=_NULL_JSON,
            t_text=F("text"),
            t_extra=Left("mention__text", MENTION_EXCERPT_LENGTH),
            t_mention=F("mention_id"),
            t_mention_url=Cast("mention__url", _TEXT),
            t_mention_author=Cast("mention__author__handle", _TEXT),
            t_mention_platform=Cast("mention__platform", _TEXT),
        )
        .values(*COLUMNS)
    )
    suggestion = (
        CrisisSuggestion.objects.filter(crisis=crisis)
        .order_by()
        .annotate(
            t_kind=Value("suggestion", output_field=_TEXT),
            t_at=F("raised_at"),
            t_row=F("id"),
            t_verb=Cast("reason", _TEXT),
            t_actor=_NULL_TEXT,
            t_object_type=_NULL_TEXT,
            t_object_id=_NULL_TEXT,
            t_data=_NULL_JSON,
            t_text=Cast("topic", _TEXT),
            t_extra=Cast("detail", _TEXT),
            t_mention=_NULL_ID,
            t_mention_url=_NULL_TEXT,
            t_mention_author=_NULL_TEXT,
            t_mention_platform=_NULL_TEXT,
        )
        .values(*COLUMNS)
    )
    return audit.union(entries, suggestion, all=True)


@dataclass(frozen=True, slots=True)
class TimelineItem:
    at: datetime
    kind: str  # event, incident, suggestion, entry, pin
    sentence: str
    actor: str = ""
    incident_id: int | None = None
    text: str = ""  # an entry's own text or a pin's note
    mention_id: int | None = None
    mention_text: str = ""
    mention_url: str = ""
    mention_author: str = ""
    mention_platform: str = ""


@dataclass(frozen=True, slots=True)
class TimelinePage:
    items: list[TimelineItem]
    number: int
    has_previous: bool
    has_next: bool
    newest_first: bool
    per_page: int = EVENTS_PER_PAGE
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def timeline_page(
    crisis: Crisis, *, page: int = 1, per_page: int = EVENTS_PER_PAGE, newest_first: bool = True
) -> TimelinePage:
    """One page of the timeline, in one query (one row more than the page tells whether
    another page follows, so no count is needed)."""
    page = max(1, min(int(page), 10_000))
    order = ("-t_at", "-t_kind", "-t_row") if newest_first else ("t_at", "t_kind", "t_row")
    offset = (page - 1) * per_page
    rows = list(timeline_rows(crisis).order_by(*order)[offset : offset + per_page + 1])
    return TimelinePage(
        items=describe_rows(rows[:per_page]),
        number=page,
        has_previous=page > 1,
        has_next=len(rows) > per_page,
        newest_first=newest_first,
        per_page=per_page,
    )


def latest_events(crisis: Crisis, *, limit: int = LATEST_EVENTS) -> list[TimelineItem]:
    return timeline_page(crisis, per_page=limit).items


def describe_rows(rows: Iterable[dict[str, Any]]) -> list[TimelineItem]:
    """Each row as a sentence in the active language."""
    return [describe(row) for row in rows]


def describe(row: dict[str, Any]) -> TimelineItem:
    kind = row["t_kind"]
    if kind == "entry":
        return _describe_entry(row)
    if kind == "suggestion":
        reason = CrisisSuggestion.Reason
        label = (
            str(reason(row["t_verb"]).label) if row["t_verb"] in reason.values else row["t_verb"]
        )
        return TimelineItem(
            at=row["t_at"],
            kind="suggestion",
            sentence=gettext("Calma suggested a crisis on %(topic)s: %(reason)s.")
            % {"topic": row["t_text"], "reason": label.lower()},
            text=row["t_extra"] or "",
        )
    if row["t_object_type"] == "incidents.incident":
        return _describe_incident(row)
    return _describe_event(row)


def _describe_entry(row: dict[str, Any]) -> TimelineItem:
    actor = row["t_actor"] or ""
    if row["t_mention"] is None:
        return TimelineItem(
            at=row["t_at"],
            kind="entry",
            sentence=gettext("%(actor)s noted:") % {"actor": actor},
            actor=actor,
            text=row["t_text"] or "",
        )
    return TimelineItem(
        at=row["t_at"],
        kind="pin",
        sentence=gettext("%(actor)s pinned a mention by %(author)s:")
        % {"actor": actor, "author": row["t_mention_author"] or "?"},
        actor=actor,
        text=row["t_text"] or "",
        mention_id=row["t_mention"],
        mention_text=row["t_extra"] or "",
        mention_url=_safe_url(row["t_mention_url"] or ""),
        mention_author=row["t_mention_author"] or "",
        mention_platform=row["t_mention_platform"] or "",
    )


def _describe_incident(row: dict[str, Any]) -> TimelineItem:
    number = int(row["t_object_id"]) if (row["t_object_id"] or "").isdigit() else None
    values = {"id": number or "?", "actor": _actor(row)}
    data = row["t_data"] if isinstance(row["t_data"], dict) else {}
    messages = {
        "incident.open": gettext("Incident #%(id)s opened (%(severity)s)."),
        "incident.resolve": gettext("Incident #%(id)s resolved by %(actor)s."),
        "incident.close": gettext("Incident #%(id)s closed by %(actor)s."),
        "incident.reopen": gettext("Incident #%(id)s reopened by %(actor)s."),
    }
    values["severity"] = _severity_label(data.get("severity"))
    sentence = messages.get(row["t_verb"], gettext("Incident #%(id)s: %(action)s."))
    values["action"] = _humanised(row["t_verb"])
    return TimelineItem(
        at=row["t_at"],
        kind="incident",
        sentence=sentence % values,
        actor=row["t_actor"] or "",
        incident_id=number,
    )


def _describe_event(row: dict[str, Any]) -> TimelineItem:
    verb = row["t_verb"] or ""
    data = row["t_data"] if isinstance(row["t_data"], dict) else {}
    actor = _actor(row)
    values = _Values(data, actor=actor)
    template = _event_message(verb, data)
    if template is None:
        sentence = gettext("%(actor)s: %(action)s.") % {
            "actor": actor,
            "action": _humanised(verb),
        }
    else:
        sentence = template % values
    return TimelineItem(at=row["t_at"], kind="event", sentence=sentence, actor=actor)


class _Values(dict):
    """The values a message names: the audit event's `after`, the actor, and "?" for a
    value the event does not carry (so a message never fails on an older event)."""

    def __init__(self, data: dict[str, Any], *, actor: str) -> None:
        super().__init__({key: _plain(value) for key, value in data.items()})
        self["actor"] = actor
        if "role" in self:
            self["role"] = _role_label(self["role"])

    def __missing__(self, key: str) -> str:
        return "?"


def _plain(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return ", ".join(str(item) for item in value) if isinstance(value, list) else "…"
    return "" if value is None else value


def _event_message(verb: str, data: dict[str, Any]) -> str | None:
    """The sentence of a crisis-room verb (None: not known here, told generically). A few
    verbs read differently with what their event carries."""
    if verb == "crisis.task_status":
        by_status = {
            TaskStatus.DONE: gettext("%(actor)s completed the task “%(title)s”."),
            TaskStatus.DOING: gettext("%(actor)s started the task “%(title)s”."),
            TaskStatus.CANCELLED: gettext("%(actor)s cancelled the task “%(title)s”."),
            TaskStatus.TODO: gettext("%(actor)s reopened the task “%(title)s”."),
        }
        return by_status.get(data.get("status"), gettext("%(actor)s moved the task “%(title)s”."))
    if verb == "crisis.incident_linked" and data.get("automatic"):
        return gettext("Incident #%(incident)s joined the crisis (its topic is %(topic)s).")
    if verb == "crisis.statement_published" and data.get("by_hand"):
        return gettext(
            "%(actor)s marked version %(number)s of the statement published on %(channel)s."
        )
    return _messages().get(verb)


def _messages() -> dict[str, str]:
    """Verb → sentence, looked up in the active language (the verbs of every slice of the
    room; a verb missing here is still shown, generically)."""
    return {
        # Declaration, status, incidents and cabinet (crisis.rooms.crises, resolution).
        "crisis.declare": gettext("%(actor)s declared the crisis “%(title)s” (level %(level)s)."),
        "crisis.suggestion_accepted": gettext(
            "%(actor)s declared the crisis from Calma's suggestion on %(topic)s."
        ),
        "crisis.incident_linked": gettext("%(actor)s linked incident #%(incident)s to the crisis."),
        "crisis.incident_unlinked": gettext(
            "%(actor)s took incident #%(incident)s out of the crisis."
        ),
        "crisis.contain": gettext("%(actor)s marked the crisis contained."),
        "crisis.reactivate": gettext("%(actor)s made the crisis active again."),
        "crisis.resolve": gettext("%(actor)s resolved the crisis."),
        "crisis.member_added": gettext(
            "%(actor)s added %(username)s to the cabinet (%(role)s, %(department)s)."
        ),
        "crisis.member_role_changed": gettext("%(actor)s made %(username)s %(role)s."),
        "crisis.member_removed": gettext("%(actor)s removed %(username)s from the cabinet."),
        "crisis.command_handed_over": gettext("%(actor)s handed over command to %(username)s."),
        # Plan, decisions, budget (this slice).
        "crisis.task_add": gettext("%(actor)s added the task “%(title)s”."),
        "crisis.task_update": gettext("%(actor)s changed the task “%(title)s”."),
        "crisis.decision": gettext("%(actor)s recorded a decision: %(what)s (why: %(why)s)."),
        "crisis.budget_set": gettext(
            "%(actor)s set aside %(amount)s %(currency)s for compensations."
        ),
        # The statement (crisis.rooms.statement, publishing).
        "crisis.statement_draft": gettext("%(actor)s started version %(number)s of the statement."),
        "crisis.statement_submit": gettext(
            "%(actor)s submitted version %(number)s of the statement for approval."
        ),
        "crisis.statement_approval": gettext(
            "%(actor)s approved version %(number)s of the statement (%(role)s)."
        ),
        "crisis.statement_approved": gettext("Version %(number)s of the statement is approved."),
        "crisis.statement_send_back": gettext(
            "%(actor)s sent version %(number)s of the statement back: %(comment)s"
        ),
        "crisis.statement_discard": gettext(
            "%(actor)s discarded version %(number)s of the statement."
        ),
        "crisis.statement_commitment": gettext("%(actor)s marked a commitment: “%(sentence)s”."),
        "crisis.statement_publish_requested": gettext(
            "%(actor)s asked Calma to publish version %(number)s of the statement on %(channel)s."
        ),
        "crisis.statement_published": gettext(
            "Version %(number)s of the statement was published on %(channel)s."
        ),
        "crisis.statement_publish_failed": gettext(
            "Publishing version %(number)s of the statement on %(channel)s failed."
        ),
        # The post-mortem.
        "crisis.post_mortem.start": gettext("%(actor)s started the post-mortem."),
        "crisis.post_mortem.item_add": gettext("%(actor)s added the follow-up item “%(title)s”."),
        "crisis.post_mortem.item_done": gettext(
            "%(actor)s completed the follow-up item “%(title)s”."
        ),
        "crisis.post_mortem.protocol_draft": gettext(
            "%(actor)s proposed protocol changes as a draft version."
        ),
        "crisis.post_mortem.backtest": gettext(
            "%(actor)s backtested the proposed protocol on the crisis's mentions."
        ),
        "crisis.post_mortem.complete": gettext("%(actor)s completed the post-mortem."),
    }


def _role_label(value: Any) -> Any:
    """A cabinet role, or the role a statement approval was given as, in the reader's words."""
    if value in CabinetRole.values:
        return str(CabinetRole(value).label).lower()
    approvals = {"supervisor": gettext("as supervisor"), "legal": gettext("legal approval")}
    return approvals.get(value, value)


def _severity_label(value: Any) -> str:
    if value in Severity.values:
        return str(Severity(value).label).lower()
    return str(value or "?")


def _humanised(verb: str) -> str:
    """crisis.member_add → "member add": readable enough for a verb nobody described."""
    action = verb.split(".", 1)[-1] if "." in verb else verb
    return action.replace("_", " ").replace(".", " ").strip() or "?"


def _actor(row: dict[str, Any]) -> str:
    """Who acted, as the audit log names them; Calma itself for a task or a schedule."""
    label = row["t_actor"] or ""
    return gettext("Calma") if label in ("", SYSTEM_ACTOR_LABEL) else label


def _safe_url(url: str) -> str:
    return url if url.startswith(("https://", "http://")) else ""


# --- the chart: volume and negative share per hour -------------------------------------------


@dataclass(frozen=True, slots=True)
class VolumeBucket:
    start: datetime  # UTC
    hours: int
    volume: int
    negative: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.volume if self.volume else None


@dataclass(frozen=True, slots=True)
class VolumeSeries:
    start: datetime
    end: datetime
    declared_at: datetime
    hours_per_bar: int
    buckets: list[VolumeBucket]

    @property
    def total(self) -> int:
        return sum(bucket.volume for bucket in self.buckets)

    @property
    def peak(self) -> VolumeBucket | None:
        busiest = max(self.buckets, key=lambda bucket: (bucket.volume, bucket.start), default=None)
        return busiest if busiest is not None and busiest.volume else None

    @property
    def latest(self) -> VolumeBucket | None:
        return self.buckets[-1] if self.buckets else None


def _floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def chart_window(crisis: Crisis, *, now: datetime) -> tuple[datetime, datetime]:
    """From a day before the declaration to the resolution (or now)."""
    start = _floor_hour(crisis.declared_at - timedelta(hours=HOURS_BEFORE_DECLARATION))
    end = crisis.resolved_at or now
    end = max(end, start)
    longest = timedelta(hours=MAX_BARS * BAR_WIDTHS[-1])
    if end - start > longest:
        start = _floor_hour(end - longest)
    return start, end


def hourly_volume(crisis: Crisis, *, now: datetime) -> VolumeSeries:
    """Mentions on the crisis's topics and how many were negative, per hour, in one aggregate
    query (bucketed by the database, in UTC hours; the reader's zone only labels them).

    A mention counts once per hour even with several of the topics. Negative is the scoring
    stage's sentiment at or below protocols.evaluation.NEGATIVE_BELOW (the same threshold the
    scorer is evaluated with); a mention not scored yet counts in the volume only."""
    start, end = chart_window(crisis, now=now)
    first_hour, last_hour = start, _floor_hour(end)
    hours = int((last_hour - first_hour).total_seconds() // 3600) + 1
    width = next((w for w in BAR_WIDTHS if -(-hours // w) <= MAX_BARS), BAR_WIDTHS[-1])
    bars = -(-hours // width)
    volume = [0] * bars
    negative = [0] * bars
    topics = _topics(crisis)
    if topics:
        rows = (
            MentionTopic.objects.filter(
                topic__in=topics,
                origin=crisis.origin,
                published_at__gte=first_hour,
                published_at__lte=end,
            )
            .annotate(hour=TruncHour("published_at", tzinfo=UTC))
            .values("hour")
            .annotate(
                volume=Count("mention_id", distinct=True),
                negative=Count(
                    "mention_id",
                    distinct=True,
                    filter=Q(mention__score__sentiment__lte=NEGATIVE_BELOW),
                ),
            )
            .order_by("hour")
        )
        for row in rows:
            hour = row["hour"]
            if timezone.is_naive(hour):  # SQLite without time zone support
                hour = timezone.make_aware(hour, UTC)
            index = int((hour - first_hour).total_seconds() // 3600) // width
            if 0 <= index < bars:
                volume[index] += row["volume"]
                negative[index] += row["negative"]
    buckets = [
        VolumeBucket(
            start=first_hour + timedelta(hours=index * width),
            hours=width,
            volume=volume[index],
            negative=negative[index],
        )
        for index in range(bars)
    ]
    return VolumeSeries(
        start=first_hour,
        end=end,
        declared_at=crisis.declared_at,
        hours_per_bar=width,
        buckets=buckets,
    )
