"""Demo and benchmark data for the board: weeks of live mentions with their scores and topics,
incidents and active crises, written fast enough to fill a database with a million mentions
in minutes (COPY on Postgres, bulk_create elsewhere), then the rollups rebuilt from them.

Every row is recognisable, so a second run can replace the first: mentions have external ids
starting with `demo-`, authors handles starting with `demo-`, incidents are the ones whose
first mention is a demo mention, crises are declared by the `demo-supervisor` user.

The data is shaped like a real month rather than uniform noise, because the board's charts,
baselines and top lists are what it is for: a daily rhythm in the organisation's time zone,
quieter weekends, three surges (one still running, with an active crisis on its topic), a few
platforms, Spanish and English with some unknown languages, authors with lognormal follower
counts and a few flags, scores consistent with the active protocol's severity thresholds
and incident policy, and incidents mostly answered within their SLA and closed, with a few
hundred still open.
"""

from __future__ import annotations

import json
import math
import random
import time
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min
from psycopg import postgres
from psycopg.adapt import Dumper
from psycopg.pq import Format

from monitoring.models import LIVE_ORIGIN
from protocols.topics import topics_for

DEMO_PREFIX = "demo-"
DEMO_SUPERVISOR = "demo-supervisor"
DEMO_MANAGERS = tuple(f"demo-cm-{index}" for index in range(1, 7))
CHUNK = 20_000  # mentions generated and written at once: bounds the memory used
OPEN_WINDOW = timedelta(hours=2)  # incidents opened this recently are still being worked on
STRAGGLER_SHARE = 0.003  # older incidents still open (escalated, private follow-ups)
LIVE = LIVE_ORIGIN

Progress = Callable[[str], None]


class DemoDataExists(Exception):
    """The database already holds demo rows and replacing them was not asked for."""


# --- What the month looks like ---------------------------------------------------------------
PLATFORMS = (("mastodon", 30), ("bluesky", 25), ("reddit", 20), ("youtube", 15), ("feed", 10))
HOSTS = {
    "mastodon": "mastodon.social",
    "bluesky": "bsky.app/profile",
    "reddit": "www.reddit.com/user",
    "youtube": "www.youtube.com",
    "feed": "news.example.org",
}
LANGUAGES = (("es", 60), ("en", 34), ("", 6))  # "" = the detector could not tell
# Mentions per local hour of the day (0-23), relative: quiet nights, busy evenings.
DIURNAL = (
    *(0.18, 0.12, 0.08, 0.06, 0.06, 0.08, 0.15, 0.35, 0.6, 0.8, 0.9, 0.95),
    *(1.0, 1.0, 0.95, 0.9, 0.9, 0.95, 1.0, 1.0, 0.95, 0.8, 0.55, 0.3),
)
WEEKEND = 0.75
CLASSES = (
    ("neutral", 30),
    ("praise", 12),
    ("question", 18),
    ("complaint_company_fault", 18),
    ("complaint_no_reason", 12),
    ("troll_abuse", 10),
)
SURGE_CLASSES = (
    ("complaint_company_fault", 55),
    ("complaint_no_reason", 25),
    ("troll_abuse", 10),
    ("question", 10),
)
# (lowest, highest) score value and sentiment of a mention of each class.
VALUE_RANGE = {
    "neutral": (0, 25),
    "praise": (0, 15),
    "question": (10, 50),
    "complaint_company_fault": (20, 95),
    "complaint_no_reason": (15, 80),
    "troll_abuse": (20, 90),
}
SENTIMENT_RANGE = {
    "neutral": (-0.09, 0.29),
    "praise": (0.3, 0.95),
    "question": (-0.3, 0.2),
    "complaint_company_fault": (-0.95, -0.3),
    "complaint_no_reason": (-0.95, -0.45),
    "troll_abuse": (-1.0, -0.5),
}
INCIDENT_SEVERITIES = (("medium", 60), ("high", 30), ("critical", 10))
# The surges' own hashtags: their surge alerts are recognised by them (and replaced).
SURGE_HASHTAGS = ("sinfibra", "brisaleak", "caidabrisa")
HASHTAGS = ("brisa", "brisafibra", "facturabrisa", "atencionbrisa", "brisamovil")
# Words that each shipped keyword group matches, so a mention's text shows why it matched.
GROUP_PHRASES = {
    "authority": {"es": "pondré una hoja de reclamaciones", "en": "I'm going to the ombudsman"},
    "legal_threat": {"es": "ya he hablado con mi abogado", "en": "my lawyer will hear about this"},
    "health_safety": {"es": "el cable suelto es peligroso", "en": "that loose cable is dangerous"},
    "data_breach": {"es": "han filtrado mis datos", "en": "you leaked my data"},
}
TEXTS = {
    "es": {
        "neutral": (
            "¿Alguien más tiene Brisa en el barrio?",
            "Cambiando de compañía, mirando ofertas de Brisa",
            "Hoy han instalado la fibra de Brisa en el edificio",
        ),
        "praise": (
            "Gracias Brisa, me lo solucionasteis en cinco minutos 👏",
            "La atención de Brisa hoy ha sido de diez",
            "Por fin una compañía que contesta rápido, bien Brisa",
        ),
        "question": (
            "¿Cómo cambio la tarifa en la app de Brisa?",
            "¿Sabéis si Brisa cubre la zona centro?",
            "¿A qué número llamo para una avería de Brisa?",
        ),
        "complaint_company_fault": (
            "Tres días sin fibra y Brisa no da fecha",
            "Me habéis cobrado dos veces la factura, Brisa",
            "El router de Brisa se reinicia cada hora desde ayer",
        ),
        "complaint_no_reason": (
            "Brisa es la peor compañía del mundo y punto",
            "No pienso pagar la permanencia, Brisa sois unos ladrones",
            "Odio Brisa, todo me va lento",
        ),
        "troll_abuse": (
            "Brisa sois una panda de inútiles",
            "Vaya basura de empresa, Brisa, idiotas",
            "Los de Brisa son unos payasos",
        ),
    },
    "en": {
        "neutral": (
            "Anyone else on Brisa in this area?",
            "Brisa is installing fibre in our building today",
            "Comparing Brisa's plans with the others",
        ),
        "praise": (
            "Thanks Brisa, fixed in five minutes 👏",
            "Brisa support was great today",
            "Finally a provider that answers fast, well done Brisa",
        ),
        "question": (
            "How do I change my Brisa plan in the app?",
            "Does Brisa cover the city centre?",
            "Which number do I call to report a Brisa outage?",
        ),
        "complaint_company_fault": (
            "Three days without internet and Brisa gives no date",
            "Brisa charged me twice this month",
            "My Brisa router keeps rebooting since yesterday",
        ),
        "complaint_no_reason": (
            "Brisa is the worst company ever, period",
            "Not paying the cancellation fee, Brisa are thieves",
            "I hate Brisa, everything is slow",
        ),
        "troll_abuse": (
            "Brisa you bunch of useless clowns",
            "What a garbage company, Brisa, idiots",
            "Brisa staff are morons",
        ),
    },
    # Mentions whose language the detector could not tell.
    "": {
        "any": (
            "Brisa sem internet outra vez",
            "Brisa, encara sense connexió",
            "Brisa ne marche plus depuis ce matin",
            "Brisa 👎👎👎",
        )
    },
}
FIRST_NAMES = ("Ana", "Luis", "Marta", "Jorge", "Lucía", "Pablo", "Sara", "Tom", "Emma", "Noah")
LAST_NAMES = ("García", "López", "Martín", "Ruiz", "Smith", "Brown", "Navarro", "Gil", "Moreno")


class Weighted:
    """Pick from (value, weight) pairs with one random draw (faster than random.choices)."""

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.values = [value for value, _weight in pairs]
        self.cumulative = list(_accumulate(weight for _value, weight in pairs))

    def pick(self, rng: random.Random) -> Any:
        return self.values[bisect(self.cumulative, rng.random() * self.cumulative[-1])]


def _accumulate(weights: Iterable[float]) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


# --- The plan: what to write and when ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Surge:
    """A few hours of extra, mostly negative mentions on one topic (a hashtag or a group)."""

    start: datetime
    hours: int
    factor: float  # the hour's usual volume times this
    hashtag: str = ""
    group: str = ""

    def covers(self, hour: datetime) -> bool:
        return self.start <= hour < self.start + timedelta(hours=self.hours)


@dataclass(frozen=True, slots=True)
class CrisisPlan:
    title: str
    level: int
    topic: str
    declared_ago: timedelta


@dataclass(frozen=True, slots=True)
class Plan:
    mentions: int
    incidents: int
    days: int
    seed: int
    now: datetime

    @property
    def start(self) -> datetime:
        return floor_hour(self.now - timedelta(days=self.days))

    @property
    def end(self) -> datetime:
        """The end (exclusive) of the hours the data falls in: after the current hour."""
        return floor_hour(self.now) + timedelta(hours=1)

    @property
    def authors(self) -> int:
        return max(20, self.mentions // 10)

    def surges(self, groups: Sequence[str]) -> list[Surge]:
        """Two past surges and one still running (the active crisis is on its hashtag)."""
        span = self.now - self.start
        group = "data_breach" if "data_breach" in groups else (groups[0] if groups else "")
        first, second, running = SURGE_HASHTAGS
        return [
            Surge(floor_hour(self.now - span * 0.62), 6, 4.0, hashtag=first),
            Surge(floor_hour(self.now - span * 0.27), 4, 3.0, hashtag=second, group=group),
            Surge(floor_hour(self.now) - timedelta(hours=5), 6, 3.5, hashtag=running),
        ]

    def crises(self) -> list[CrisisPlan]:
        return [
            CrisisPlan("Fibre outage in the north", 2, SURGE_HASHTAGS[2], timedelta(hours=3)),
            CrisisPlan(
                "Double charges after the tariff change", 1, "facturabrisa", timedelta(hours=20)
            ),
        ]


def floor_hour(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_weights(plan: Plan, surges: Sequence[Surge], zone) -> list[tuple[datetime, float, list]]:
    """Each hour of the plan with its relative volume and the surges' share of it."""
    hours = []
    hour = plan.start
    while hour < plan.now:
        local = hour.astimezone(zone)
        base = DIURNAL[local.hour] * (WEEKEND if local.weekday() >= 5 else 1.0)
        base *= min(1.0, (plan.now - hour) / timedelta(hours=1))  # the current hour so far
        extra = [(surge, base * (surge.factor - 1)) for surge in surges if surge.covers(hour)]
        hours.append((hour, base + sum(weight for _surge, weight in extra), extra))
        hour += timedelta(hours=1)
    return hours


def split_by_weight(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split proportionally to `weights` in whole numbers (largest remainders)."""
    whole = sum(weights) or 1.0
    exact = [total * weight / whole for weight in weights]
    counts = [math.floor(value) for value in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])
    for index in by_remainder[: total - sum(counts)]:
        counts[index] += 1
    return counts


# --- Rows ------------------------------------------------------------------------------------
@dataclass(slots=True)
class AuthorRow:
    id: int
    platform: str
    handle: str
    followers: int | None
    flags: list[str]


@dataclass(slots=True)
class MentionRow:
    id: int
    external_id: str
    author: AuthorRow
    text: str
    language: str
    published_at: datetime
    ingested_at: datetime
    value: int
    severity: str
    triage_class: str
    sentiment: float
    groups: list[str]
    topics: list[str]
    scored_at: datetime
    opens_incident: bool


@dataclass(slots=True)
class Totals:
    authors: int = 0
    mentions: int = 0
    scores: int = 0
    topics: int = 0
    incidents: int = 0
    open_incidents: int = 0
    crises: int = 0
    crisis_links: int = 0
    surge_alerts: int = 0
    rollup_hours: int = 0
    incident_rollup_hours: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


class Protocol:
    """What the generator needs of the active protocol version, read once."""

    def __init__(self, version) -> None:
        from protocols.scoring.engine import compile_protocol

        config = version.config
        self.version_id = version.pk
        self.compiled = compile_protocol(config)
        self.thresholds = {
            severity: float(value)
            for severity, value in (config.get("severity_thresholds") or {}).items()
        }
        self.groups = [str(group.get("key")) for group in config.get("keyword_groups") or ()]
        incidents = config.get("incidents") or {}
        self.open_classes = list(incidents.get("open_classes") or ["complaint_company_fault"])
        self.open_severities = list(incidents.get("open_severities") or ["high", "critical"])
        self.crisis_factor = float((config.get("crisis_threshold") or {}).get("spike_factor") or 4)
        self.sla_minutes = {
            str(severity): int((policy or {}).get("sla_minutes") or 0)
            for severity, policy in (config.get("policies") or {}).items()
        }

    def severity(self, value: float) -> str:
        from protocols.scoring.engine import severity_for

        return severity_for(value, self.compiled)

    def band(self, severity: str) -> tuple[int, int]:
        """The score values that give `severity` (lowest, highest inclusive)."""
        order = ("low", "medium", "high", "critical")
        low = math.ceil(self.thresholds.get(severity, 0)) if severity != "low" else 0
        higher = [
            self.thresholds[s] for s in order[order.index(severity) + 1 :] if s in self.thresholds
        ]
        high = math.ceil(min(higher)) - 1 if higher else 100
        return low, max(low, min(high, 100))


class MentionMaker:
    """Draws one mention at a time: author, words, score and topics, all consistent."""

    def __init__(
        self, plan: Plan, protocol: Protocol, authors: list[AuthorRow], rng: random.Random
    ) -> None:
        self.plan = plan
        self.protocol = protocol
        self.authors = authors
        self.rng = rng
        self.languages = Weighted(LANGUAGES)
        self.classes = Weighted(CLASSES)
        self.surge_classes = Weighted(SURGE_CLASSES)
        open_classes = [(c, w) for c, w in CLASSES if c in protocol.open_classes]
        self.incident_classes = Weighted(open_classes or [(protocol.open_classes[0], 1)])
        severities = [(s, w) for s, w in INCIDENT_SEVERITIES if s in protocol.open_severities]
        self.incident_severities = Weighted(severities or [(protocol.open_severities[0], 1)])

    def author(self) -> AuthorRow:
        # Skewed: the most active author writes ~0.3% of the volume (100,000 authors: ~100 a
        # day at a million a month), the top 1% a tenth of it: the agitators stand out.
        return self.authors[int(len(self.authors) * self.rng.random() ** 2)]

    def make(
        self, mention_id: int, number: int, at: datetime, surge: Surge | None, opens_incident: bool
    ) -> MentionRow:
        rng = self.rng
        author = self.author()
        language = self.languages.pick(rng)
        triage = self._triage_class(author, surge, opens_incident)
        if opens_incident:
            low, high = self.protocol.band(self.incident_severities.pick(rng))
            value = rng.randint(low, high)
        else:
            low, high = VALUE_RANGE[triage]
            value = int(low + (high - low) * rng.random() ** 1.6)
            if surge is not None:
                value = min(100, value + 15)
        sentiment = round(rng.uniform(*SENTIMENT_RANGE[triage]), 2)
        groups = self._groups(triage, surge)
        text = self._text(language, triage, groups, surge)
        ingested = min(self.plan.now, at + timedelta(seconds=rng.randint(5, 240)))
        return MentionRow(
            id=mention_id,
            external_id=f"{DEMO_PREFIX}{number}",
            author=author,
            text=text,
            language=language,
            published_at=at,
            ingested_at=ingested,
            value=value,
            severity=self.protocol.severity(value),
            triage_class=triage,
            sentiment=sentiment,
            groups=groups,
            topics=topics_for(text, groups),
            scored_at=min(self.plan.now, ingested + timedelta(seconds=rng.randint(1, 20))),
            opens_incident=opens_incident,
        )

    def _triage_class(self, author: AuthorRow, surge: Surge | None, opens: bool) -> str:
        if opens:
            return self.incident_classes.pick(self.rng)
        if "known_troll" in author.flags and self.rng.random() < 0.7:
            return "troll_abuse"
        return (self.surge_classes if surge is not None else self.classes).pick(self.rng)

    def _groups(self, triage: str, surge: Surge | None) -> list[str]:
        if surge is not None and surge.group:
            return [surge.group]
        negative = triage.startswith("complaint") or triage == "troll_abuse"
        if negative and self.protocol.groups and self.rng.random() < 0.08:
            return [self.rng.choice(self.protocol.groups)]
        return []

    def _text(self, language: str, triage: str, groups: list[str], surge: Surge | None) -> str:
        rng = self.rng
        texts = TEXTS[language]
        words = [rng.choice(texts.get(triage) or texts["any"])]
        for group in groups:
            phrase = GROUP_PHRASES.get(group, {}).get(language or "es")
            words.append(phrase or group.replace("_", " "))
        if surge is not None and surge.hashtag:
            words.append(f"#{surge.hashtag}")
        elif rng.random() < 0.25:
            words.append(f"#{rng.choice(HASHTAGS)}")
        return " ".join(words)


def make_authors(
    plan: Plan, first_id: Callable[[int], list[int]], rng: random.Random
) -> list[AuthorRow]:
    """The authors, with lognormal followers (median ~150, a long tail past a million) and a
    few flags; some of the most active ones are known trolls, so agitators look familiar."""
    platforms = Weighted(PLATFORMS)
    ids = first_id(plan.authors)
    authors = []
    for index, author_id in enumerate(ids):
        platform = platforms.pick(rng)
        followers = (
            None if platform == "feed" else min(50_000_000, int(rng.lognormvariate(5.0, 2.0)))
        )
        flags = []
        if followers and followers > 50_000 and rng.random() < 0.5:
            flags.append("influencer")
        if (index < len(ids) // 100 and rng.random() < 0.25) or rng.random() < 0.004:
            flags.append("known_troll")
        elif rng.random() < 0.03:
            flags.append("customer")
        elif rng.random() < 0.002:
            flags.append("ambassador")
        authors.append(AuthorRow(author_id, platform, f"{DEMO_PREFIX}{index}", followers, flags))
    return authors


# --- Writers ---------------------------------------------------------------------------------
class Encoded(str):
    """A JSON value already encoded: the generator encodes the few distinct values it writes
    a million times once (json.dumps would otherwise be a good share of the run)."""


def encoded(value: Any) -> Encoded:
    return Encoded(json.dumps(value, ensure_ascii=False))


EMPTY_OBJECT = Encoded("{}")


@cache
def encoded_list(items: tuple) -> Encoded:
    return encoded(list(items))


@cache
def encoded_engagement(likes: int, reposts: int) -> Encoded:
    return encoded({"likes": likes, "reposts": reposts})


class PreEncodedJsonbDumper(Dumper):
    """jsonb in binary COPY from an Encoded string: the format is a version byte, then text."""

    format = Format.BINARY
    oid = postgres.types["jsonb"].oid

    def dump(self, obj: str) -> bytes:
        return b"\x01" + obj.encode()


class CopyWriter:
    """Postgres: ids drawn from each table's own sequence, rows streamed with binary COPY
    (the text format spends most of its time turning datetimes into text)."""

    def __init__(self) -> None:
        self.raw = connection.cursor().cursor  # psycopg's own cursor: Django has no COPY
        # Only this cursor's COPY uses it (set_types looks dumpers up by the column's type).
        self.raw.adapters.register_dumper(None, PreEncodedJsonbDumper)

    def reserve_ids(self, model, count: int) -> list[int]:
        self.raw.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in self.raw.fetchall()]

    def write(self, model, fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        meta = model._meta
        columns = [meta.get_field(name) for name in fields]
        quote = connection.ops.quote_name
        names = ", ".join(quote(column.column) for column in columns)
        sql = f"COPY {quote(meta.db_table)} ({names}) FROM STDIN (FORMAT BINARY)"
        written = 0
        with self.raw.copy(sql) as copy:
            copy.set_types([column_type(column) for column in columns])
            for row in rows:
                copy.write_row(row)
                written += 1
        return written


def column_type(field) -> str:
    """The Postgres type name COPY's binary format needs ("varchar(16)" -> "varchar")."""
    name = field.db_type(connection).split("(")[0]
    return {"timestamp with time zone": "timestamptz", "double precision": "float8"}.get(name, name)


class OrmWriter:
    """Other databases (the embedded SQLite): bulk_create in batches; slower, fine for a demo.
    Ids are handed out after the table's highest, inside the generator's transaction."""

    BATCH = 500

    def __init__(self) -> None:
        self.next_ids: dict[type, int] = {}

    def reserve_ids(self, model, count: int) -> list[int]:
        if model not in self.next_ids:
            self.next_ids[model] = (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
        first = self.next_ids[model]
        self.next_ids[model] = first + count
        return list(range(first, first + count))

    def write(self, model, fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        attnames = [model._meta.get_field(name).attname for name in fields]
        objects = [
            model(**{
                name: json.loads(value) if isinstance(value, Encoded) else value
                for name, value in zip(attnames, row, strict=True)
            })
            for row in rows
        ]  # fmt: skip
        model.objects.bulk_create(objects, batch_size=self.BATCH)
        return len(objects)


def writer_for(use_copy: bool | None):
    """COPY on Postgres unless told otherwise (None: by the database in use)."""
    if use_copy is None:
        use_copy = connection.vendor == "postgresql"
    return CopyWriter() if use_copy else OrmWriter()


# --- Existing demo rows ----------------------------------------------------------------------
def demo_mentions():
    from monitoring.models import Mention

    return Mention.objects.filter(external_id__startswith=DEMO_PREFIX)


def existing_demo_range() -> tuple[datetime | None, datetime | None, int]:
    """(first, last published, count) of the demo mentions already stored."""
    found = demo_mentions().aggregate(first=Min("published_at"), last=Max("published_at"))
    count = demo_mentions().count() if found["first"] else 0
    return found["first"], found["last"], count


def delete_demo_rows(progress: Progress) -> None:
    """Delete every demo row, children first. Plain SQL on the rows the generator wrote (the
    ORM's cascade would load a million objects); a row someone attached to them since (a
    reply, a correction) makes the database refuse, and the whole run rolls back."""
    from crisis.incidents.models import Incident, IncidentMention
    from crisis.rooms.models import Crisis, CrisisIncident
    from monitoring.models import Author, Mention
    from protocols.models import MentionScore, MentionTopic, SurgeAlert

    Crisis.objects.filter(declared_by__username=DEMO_SUPERVISOR).delete()
    SurgeAlert.objects.filter(origin=LIVE, topic__in=SURGE_HASHTAGS).delete()
    mention_ids = f"SELECT id FROM {Mention._meta.db_table} WHERE external_id LIKE %s"  # noqa: S608
    incident_ids = (
        f"SELECT id FROM {Incident._meta.db_table} "  # noqa: S608
        f"WHERE first_mention_id IN ({mention_ids})"
    )
    pattern = f"{DEMO_PREFIX}%"
    statements = [
        (CrisisIncident, f"incident_id IN ({incident_ids})"),
        (IncidentMention, f"incident_id IN ({incident_ids})"),
        (IncidentMention, f"mention_id IN ({mention_ids})"),
        (Incident, f"first_mention_id IN ({mention_ids})"),
        (MentionTopic, f"mention_id IN ({mention_ids})"),
        (MentionScore, f"mention_id IN ({mention_ids})"),
        (Mention, "external_id LIKE %s"),
        (Author, "handle LIKE %s"),
    ]
    with connection.cursor() as cursor:
        for model, condition in statements:
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE {condition}", [pattern])  # noqa: S608
            progress(f"  deleted {cursor.rowcount:,} {model._meta.verbose_name_plural}")


# --- People, crises --------------------------------------------------------------------------
def demo_people():
    """The demo supervisor (who declares and commands the crises) and community managers
    (who own the incidents), on the default team. No password: they are data, not logins."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from crisis.demo import DEMO_TEAM
    from crisis.people.models import Profile, Team
    from crisis.roles import Role, ensure_role_groups

    ensure_role_groups()
    team = Team.objects.filter(is_default=True).first()
    if team is None:
        team, _created = Team.objects.get_or_create(name=DEMO_TEAM)
        Team.objects.filter(pk=team.pk).update(is_default=True)
    users = get_user_model().objects

    def person(username: str, role: Role):
        user, created = users.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save()
            user.groups.set([Group.objects.get(name=role.value)])
        return user

    supervisor = person(DEMO_SUPERVISOR, Role.SUPERVISOR)
    managers = [person(name, Role.COMMUNITY_MANAGER) for name in DEMO_MANAGERS]
    for manager in managers:
        Profile.objects.update_or_create(user=manager, defaults={"team": team})
    return supervisor, managers, team


def declare_crises(plan: Plan, supervisor, topic_incidents, writer, totals: Totals) -> None:
    """The plan's active crises, declared through the service (cabinet, audit, notices), with
    the incidents on their topics linked as the incident stage would have linked them."""
    from crisis.rooms.crises import declare_crisis
    from crisis.rooms.models import CrisisIncident

    for crisis_plan in plan.crises():
        declared_at = plan.now - crisis_plan.declared_ago
        crisis = declare_crisis(
            actor=supervisor,
            title=crisis_plan.title,
            level=crisis_plan.level,
            topics=[crisis_plan.topic],
            now=declared_at,
            commander=supervisor,
        )
        linked = [
            (crisis.pk, incident_id, max(opened_at, declared_at), None)
            for incident_id, opened_at in topic_incidents.get(crisis_plan.topic, ())
            if opened_at >= declared_at - timedelta(hours=12)
        ]
        totals.crises += 1
        totals.crisis_links += writer.write(
            CrisisIncident, ["crisis", "incident", "linked_at", "linked_by"], linked
        )


# --- Incidents -------------------------------------------------------------------------------
class IncidentMaker:
    """An incident for a mention that opened one: SLA from the protocol's policy, answered in
    time most of the time, closed unless recent (a few hundred are still open)."""

    OPEN_ANSWERED = ("replied", "private_follow_up", "in_progress")
    OPEN_WAITING = ("assigned", "assigned", "in_progress", "escalated")

    def __init__(self, plan: Plan, protocol: Protocol, team, managers, rng) -> None:
        self.plan = plan
        self.protocol = protocol
        self.team_id = team.pk
        self.manager_ids = [manager.pk for manager in managers]
        self.rng = rng

    def make(self, incident_id: int, mention: MentionRow) -> tuple:
        rng, now = self.rng, self.plan.now
        opened = min(now, mention.scored_at + timedelta(seconds=rng.randint(1, 30)))
        sla = self.protocol.sla_minutes.get(mention.severity) or 240
        due = opened + timedelta(minutes=sla)
        # Response time relative to the SLA: ~87% within it, a long tail beyond.
        responded = opened + timedelta(minutes=sla * math.exp(rng.gauss(-0.8, 0.7)))
        is_open = opened >= now - OPEN_WINDOW or rng.random() < STRAGGLER_SHARE
        owner = rng.choice(self.manager_ids)
        resolved = closed = None
        close_reason = ""
        if is_open:
            answered = responded <= now
            state = rng.choice(self.OPEN_ANSWERED if answered else self.OPEN_WAITING)
            if state == "assigned" and rng.random() < 0.3:
                state, owner = "new", None
            first_response = responded if answered else None
        elif rng.random() < 0.05:  # closed without a public answer (spam, nothing to do)
            first_response = None
            state = "closed"
            close_reason = rng.choice(("spam", "no_action_needed", "duplicate"))
            closed = min(now, opened + timedelta(minutes=rng.randint(5, 120)))
        else:
            first_response = min(responded, now)
            resolved = min(now, first_response + timedelta(minutes=rng.randint(10, 600)))
            closed = resolved + timedelta(hours=rng.randint(1, 48))
            state = "closed" if closed <= now else "resolved"
            closed = closed if closed <= now else None
        late = first_response is None or first_response > due
        warned_at = opened + timedelta(minutes=sla * 0.8)
        warned = warned_at if warned_at <= now and (late or first_response > warned_at) else None
        breached = due if due <= now and late and (is_open or first_response) else None
        activity = max(t for t in (opened, first_response, resolved, closed) if t is not None)
        topic = next((t for t in mention.topics if t != "__all__"), "__all__")
        return (
            incident_id,
            self.team_id,
            owner,
            state,
            mention.severity,
            mention.triage_class,
            topic,
            mention.author.id,
            mention.id,
            opened,
            encoded(
                {
                    "value": mention.value,
                    "severity": mention.severity,
                    "class": mention.triage_class,
                    "signals": signals(mention),
                    "matched_groups": mention.groups,
                    "language": mention.language,
                    "scored_at": mention.scored_at.isoformat(),
                }
            ),
            self.protocol.version_id,
            due,
            warned,
            breached,
            first_response,
            opened if is_open and first_response is None else None,
            resolved,
            closed,
            close_reason,
            "",
            mention.author.followers,
            activity,
            LIVE,
            activity,
        )


INCIDENT_FIELDS = [
    "id", "team", "owner", "state", "severity", "triage_class", "topic", "author",
    "first_mention", "opened_at", "opened_score", "protocol_version", "sla_due_at",
    "sla_warned_at", "sla_breached_at", "first_response_at", "awaiting_response_since",
    "resolved_at", "closed_at", "close_reason", "close_note", "reach", "last_activity_at",
    "origin", "updated_at",
]  # fmt: skip
MENTION_FIELDS = [
    "id", "platform", "external_id", "author", "url", "text", "language", "published_at",
    "ingested_at", "reply_to_id", "thread_id", "engagement", "raw", "origin",
]  # fmt: skip
SCORE_FIELDS = [
    "mention", "protocol_version", "value", "severity", "triage_class", "sentiment",
    "language", "matched_groups", "signals", "is_question", "is_abusive", "is_complaint",
    "scored_at", "velocity_factor", "velocity_topic", "handed_off_at",
]  # fmt: skip
AUTHOR_FIELDS = [
    "id", "platform", "handle", "display_name", "followers", "verified", "url", "flags",
    "first_seen_at", "last_seen_at",
]  # fmt: skip


def signals(mention: MentionRow) -> list[dict]:
    return json.loads(encoded_signals(mention.value, mention.sentiment, mention.triage_class))


@cache
def encoded_signals(value: int, sentiment: float, triage_class: str) -> Encoded:
    """A short "why this score" whose contributions add up to the value, as the scorer's do
    (sentiments have two decimals, so there are a few thousand distinct ones to encode)."""
    from protocols.scoring.types import explain

    base = min(5, value)
    rows = [{"name": "base", "label": "base score", "contribution": base, "params": {}}]
    if value - base:
        if sentiment <= -0.1:
            kind, params = "negative_sentiment", {"sentiment": sentiment}
        elif sentiment >= 0.3:
            kind, params = "positive_sentiment", {"sentiment": sentiment}
        else:
            kind, params = ("question" if triage_class == "question" else "complaint"), {}
        label = explain(kind, params, translate=False)
        rows.append({"name": kind, "label": label, "contribution": value - base, "params": params})
    return encoded(rows)


def mention_url(mention: MentionRow) -> str:
    return f"https://{HOSTS[mention.author.platform]}/{mention.author.handle}/{mention.id}"


# --- The run ---------------------------------------------------------------------------------
def hour_slots(
    plan: Plan, surges: Sequence[Surge], rng: random.Random, zone
) -> Iterator[tuple[datetime, Surge | None]]:
    """Every mention's publication time in order, with the surge it belongs to (if any)."""
    hours = hour_weights(plan, surges, zone)
    counts = split_by_weight(plan.mentions, [weight for _hour, weight, _extra in hours])
    for (hour, weight, extra), count in zip(hours, counts, strict=True):
        span = min(3600.0, (plan.now - hour).total_seconds())
        offsets = sorted(rng.random() * span for _ in range(count))
        for offset in offsets:
            draw = rng.random() * weight
            surge = None
            for candidate, share in extra:
                if draw < share:
                    surge = candidate
                    break
                draw -= share
            yield hour + timedelta(seconds=offset), surge


def chunks(items: Iterator, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_everything(plan: Plan, progress: Progress, totals: Totals, writer) -> None:
    """Authors, then mentions in chunks with their scores, topics and incidents; then crises."""
    from crisis.board.filters import organisation_zone
    from crisis.incidents.models import Incident, IncidentMention
    from monitoring.models import Author, Mention
    from protocols.models import MentionScore, MentionTopic
    from protocols.services import active_version

    rng = random.Random(plan.seed)  # noqa: S311 - demo data, not secrets
    protocol = Protocol(active_version())
    supervisor, managers, team = demo_people()
    authors = make_authors(plan, lambda n: writer.reserve_ids(Author, n), rng)
    totals.authors = writer.write(Author, AUTHOR_FIELDS, author_rows(authors, plan, rng))
    progress(f"  {totals.authors:,} authors")
    makers = (
        MentionMaker(plan, protocol, authors, rng),
        IncidentMaker(plan, protocol, team, managers, rng),
    )
    opening = set(rng.sample(range(plan.mentions), plan.incidents))
    crisis_topics = {crisis.topic for crisis in plan.crises()}
    topic_incidents: dict[str, list[tuple[int, datetime]]] = {}
    surge_counts: dict[tuple[Surge, datetime], int] = {}
    slots = hour_slots(plan, plan.surges(protocol.groups), rng, organisation_zone())
    number = 0
    for batch in chunks(slots, CHUNK):
        mention_ids = writer.reserve_ids(Mention, len(batch))
        mentions = []
        for (at, surge), mention_id in zip(batch, mention_ids, strict=True):
            mentions.append(makers[0].make(mention_id, number, at, surge, number in opening))
            number += 1
            if surge is not None:
                key = (surge, floor_hour(at))
                surge_counts[key] = surge_counts.get(key, 0) + 1
        totals.mentions += writer.write(Mention, MENTION_FIELDS, mention_rows(mentions))
        totals.scores += writer.write(
            MentionScore, SCORE_FIELDS, score_rows(mentions, protocol.version_id)
        )
        totals.topics += writer.write(
            MentionTopic, ["mention", "topic", "published_at", "origin"], topic_rows(mentions)
        )
        openers = [mention for mention in mentions if mention.opens_incident]
        incident_ids = writer.reserve_ids(Incident, len(openers)) if openers else []
        incidents = [
            makers[1].make(incident_id, mention)
            for incident_id, mention in zip(incident_ids, openers, strict=True)
        ]
        totals.incidents += writer.write(Incident, INCIDENT_FIELDS, incidents)
        writer.write(
            IncidentMention,
            ["incident", "mention", "severity", "attached_at"],
            ((row[0], row[8], row[4], row[9]) for row in incidents),
        )
        for row in incidents:
            if row[3] not in ("resolved", "closed"):
                totals.open_incidents += 1
            if row[6] in crisis_topics:
                topic_incidents.setdefault(row[6], []).append((row[0], row[9]))
        progress(f"  {totals.mentions:,} mentions, {totals.incidents:,} incidents")
    totals.surge_alerts = record_surge_alerts(plan, protocol, surge_counts, rng)
    declare_crises(plan, supervisor, topic_incidents, writer, totals)


def record_surge_alerts(plan: Plan, protocol: Protocol, counts: dict, rng) -> int:
    """What the live detector would have recorded: an alert per surge hour, on its hashtag."""
    from protocols.models import SurgeAlert

    alerts = []
    for (surge, hour), observed in sorted(counts.items(), key=lambda item: item[0][1]):
        factor = round(surge.factor * rng.uniform(0.85, 1.15), 2)
        alerts.append(
            SurgeAlert(
                topic=surge.hashtag,
                factor=factor,
                observed=observed,
                expected=round(observed / factor, 1),
                bucket_start=hour,
                raised_at=min(plan.now, hour + timedelta(minutes=rng.randint(5, 20))),
                origin=LIVE,
                protocol_version_id=protocol.version_id,
                crisis_suggested=factor >= protocol.crisis_factor,
            )
        )
    # A real alert already recorded in the same bucket on the topic keeps its row.
    return len(SurgeAlert.objects.bulk_create(alerts, ignore_conflicts=True))


def author_rows(authors: list[AuthorRow], plan: Plan, rng: random.Random) -> Iterator[tuple]:
    for author in authors:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        yield (
            author.id,
            author.platform,
            author.handle,
            name,
            author.followers,
            author.followers is not None and author.followers > 500_000,
            f"https://{HOSTS[author.platform]}/{author.handle}",
            encoded_list(tuple(author.flags)),
            plan.start,
            plan.now,
        )


def mention_rows(mentions: list[MentionRow]) -> Iterator[tuple]:
    for mention in mentions:
        yield (
            mention.id,
            mention.author.platform,
            mention.external_id,
            mention.author.id,
            mention_url(mention),
            mention.text,
            mention.language,
            mention.published_at,
            mention.ingested_at,
            "",
            "",
            encoded_engagement(mention.id % 37, mention.id % 7),
            EMPTY_OBJECT,
            LIVE,
        )


def score_rows(mentions: list[MentionRow], version_id: int) -> Iterator[tuple]:
    for mention in mentions:
        triage = mention.triage_class
        yield (
            mention.id,
            version_id,
            mention.value,
            mention.severity,
            triage,
            mention.sentiment,
            mention.language,
            encoded_list(tuple(mention.groups)),
            encoded_signals(mention.value, mention.sentiment, triage),
            triage == "question",
            triage == "troll_abuse",
            triage.startswith("complaint"),
            mention.scored_at,
            1.0,
            "",
            mention.scored_at,  # handed off: the sweeper must not send a month to incidents
        )


def topic_rows(mentions: list[MentionRow]) -> Iterator[tuple]:
    for mention in mentions:
        for topic in mention.topics:
            yield mention.id, topic, mention.published_at, LIVE


def rebuild_rollups(start: datetime, end: datetime, totals: Totals) -> None:
    """The board reads rollups only: rebuild every hour the demo rows fall in."""
    from crisis.board import incident_rollups, rollups

    totals.rollup_hours = rollups.rebuild_range(start, end)
    totals.incident_rollup_hours = incident_rollups.rebuild_range(start, end)


def analyzed_models() -> list:
    from crisis.board.models import AuthorHour, IncidentHour, MentionHour
    from crisis.incidents.models import Incident, IncidentMention
    from crisis.rooms.models import CrisisIncident
    from monitoring.models import Author, Mention
    from protocols.models import MentionScore, MentionTopic

    return [
        Author, Mention, MentionScore, MentionTopic, Incident, IncidentMention, CrisisIncident,
        MentionHour, AuthorHour, IncidentHour,
    ]  # fmt: skip


def analyze(*, vacuum: bool = False) -> None:
    """Fresh planner statistics: a million new rows would otherwise be planned as empty.
    With `vacuum` (Postgres, outside a transaction), also the visibility map autovacuum would
    set before long, so index-only scans read no heap pages, as on a database in use."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            quote = connection.ops.quote_name
            tables = ", ".join(quote(model._meta.db_table) for model in analyzed_models())
            command = "VACUUM ANALYZE" if vacuum and connection.get_autocommit() else "ANALYZE"
            cursor.execute(f"{command} {tables}")
        else:
            cursor.execute("ANALYZE")


def generate(
    *,
    mentions: int,
    incidents: int,
    days: int = 30,
    seed: int = 7,
    replace: bool = False,
    now: datetime | None = None,
    progress: Progress = lambda _line: None,
    use_copy: bool | None = None,
) -> Totals:
    """Fill the database with demo data (see the module docstring); returns what was written.

    Raises DemoDataExists when demo rows are present and `replace` is false."""
    from django.utils import timezone

    plan = Plan(mentions, incidents, days, seed, (now or timezone.now()).astimezone(UTC))
    totals = Totals()
    first, last, existing = existing_demo_range()
    if existing and not replace:
        raise DemoDataExists(existing)
    started = time.perf_counter()
    with transaction.atomic():
        if existing:
            progress(f"Deleting {existing:,} earlier demo mentions and what hangs on them")
            delete_demo_rows(progress)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        progress(f"Writing {plan.mentions:,} mentions over {plan.days} days")
        write_everything(plan, progress, totals, writer_for(use_copy))
    totals.seconds["write"] = time.perf_counter() - started
    started = time.perf_counter()
    # Replaced rows may have covered other hours: those are rebuilt too (to zero).
    rollup_start = min(plan.start, floor_hour(first)) if first else plan.start
    rollup_end = max(plan.end, floor_hour(last) + timedelta(hours=1)) if last else plan.end
    # The rollups' INSERT … SELECT joins a million new rows: planned without statistics (before
    # autovacuum gets to them) it ran for over 15 minutes instead of 3.
    analyze()
    progress("Rebuilding the rollups")
    rebuild_rollups(rollup_start, rollup_end, totals)
    totals.seconds["rollups"] = time.perf_counter() - started
    started = time.perf_counter()
    analyze(vacuum=True)
    totals.seconds["analyze"] = time.perf_counter() - started
    return totals
