"""Inbox benchmark: 10,000 open incidents, then the first page of each queue, filter and sort
through Django's test client as a signed-in community manager.

Run with `make bench-inbox` (Postgres at DATABASE_URL; a scratch database `calma_bench_inbox`
is created and dropped). Prints exactly one line per view,
`inbox <view> open=<n> p50_ms=<x> p95_ms=<y> queries=<q>`, where open is the number of open
incidents the view lists (all pages); the target is p95 < 150 ms and the same query count
for 25 and 100 rows. It asserts nothing. Not collected by pytest.
"""

import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
TOTAL = int(os.environ.get("BENCH_INCIDENTS", "10000"))
RUNS = int(os.environ.get("BENCH_RUNS", "30"))
BENCH_DB = "calma_bench_inbox"
SERVER_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BATCH = 2000

# (view name, query parameters): each queue, each filter, each sort, and the 100-row page.
VIEWS = [
    ("mine", {"queue": "mine"}),
    ("team", {"queue": "team"}),
    ("unassigned", {"queue": "unassigned"}),
    ("severity", {"severity": "critical"}),
    ("class", {"triage": "question"}),
    ("platform", {"platform": "mastodon"}),
    ("language", {"language": "en"}),
    ("state", {"state": "escalated"}),
    ("sla_breached", {"sla": "breached"}),
    ("sla_warning", {"sla": "warning"}),
    ("search", {"q": "factura"}),
    ("sort_severity", {"sort": "severity"}),
    ("sort_exposure", {"sort": "exposure"}),
    ("team_size100", {"queue": "team", "size": "100"}),
    ("exposure_size100", {"sort": "exposure", "size": "100"}),
]

WORDS = tuple(
    "me habéis cobrado dos veces la factura sin fibra desde ayer nadie contesta "
    "my bill is wrong again support never answers the router died".split()
)


def scratch_database_url() -> str:
    with psycopg.connect(SERVER_URL, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {BENCH_DB}")
    return SERVER_URL.rsplit("/", 1)[0] + f"/{BENCH_DB}"


def drop_scratch_database() -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def make_people():
    """A team, the benchmarked manager on it and four colleagues; returns (manager, all)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from crisis.people.models import Profile, Team
    from crisis.roles import Role, ensure_role_groups

    ensure_role_groups()
    care = Team.objects.create(name="Customer care", is_default=True)
    group = Group.objects.get(name=Role.COMMUNITY_MANAGER.value)
    people = []
    for index in range(5):
        user = get_user_model().objects.create_user(f"bench-cm{index}", password="x")
        user.groups.add(group)
        Profile.objects.update_or_create(user=user, defaults={"team": care})
        people.append(user)
    return people[0], people, care


def generate(total: int, seed: int = 9):
    """`total` open incidents, each with its author, first mention, score and link, in bulk."""
    from crisis.incidents.models import Incident, IncidentMention, IncidentState
    from monitoring.models import Author, Mention
    from protocols.models import MentionScore
    from protocols.services import active_version

    rng = random.Random(seed)  # noqa: S311 - benchmark data
    manager, people, care = make_people()
    version = active_version()
    now = datetime.now(UTC)
    platforms = ("mastodon", "bluesky", "reddit", "youtube")
    authors = Author.objects.bulk_create(
        Author(
            platform=platforms[index % len(platforms)],
            handle=f"author{index}",
            display_name=f"Author {index}",
            followers=rng.randrange(10, 200_000),
        )
        for index in range(total // 3)
    )
    severities = ("low", "medium", "high", "critical")
    classes = ("complaint_company_fault", "complaint_no_reason", "troll_abuse", "question")
    states = (IncidentState.NEW, IncidentState.ASSIGNED, IncidentState.IN_PROGRESS)
    for start in range(0, total, BATCH):
        count = min(BATCH, total - start)
        picked = [authors[rng.randrange(len(authors))] for _ in range(count)]
        opened = [now - timedelta(minutes=rng.randrange(0, 600)) for _ in range(count)]
        mentions = Mention.objects.bulk_create(
            Mention(
                platform=who.platform,
                external_id=f"bench-{start + index}",
                author=who,
                text=" ".join(rng.choices(WORDS, k=rng.randint(6, 30))),
                language=rng.choice(("es", "en")),
                published_at=opened[index],
                ingested_at=opened[index],
                url=f"https://example.social/@{who.handle}/{start + index}",
            )
            for index, who in enumerate(picked)
        )
        severity = [rng.choice(severities) for _ in range(count)]
        triage = [rng.choice(classes) for _ in range(count)]
        MentionScore.objects.bulk_create(
            MentionScore(
                mention=mention,
                protocol_version=version,
                value=50,
                severity=severity[index],
                triage_class=triage[index],
                sentiment=-0.5,
                language=mention.language,
                matched_groups=[],
                signals=[],
                scored_at=mention.published_at,
            )
            for index, mention in enumerate(mentions)
        )
        incidents = []
        for index, mention in enumerate(mentions):
            owner = rng.choice((None, None, manager, *people[1:]))
            state = rng.choice(states[1:]) if owner else IncidentState.NEW
            if rng.random() < 0.03:
                state = IncidentState.ESCALATED
            incidents.append(
                Incident(
                    team=care,
                    owner=owner,
                    state=state,
                    severity=severity[index],
                    triage_class=triage[index],
                    topic=rng.choice(("__all__", "billing", "outage")),
                    author=mention.author,
                    first_mention=mention,
                    opened_at=opened[index],
                    opened_score={"value": 50, "severity": severity[index]},
                    protocol_version=version,
                    sla_due_at=opened[index] + timedelta(minutes=rng.choice((30, 60, 240, 480))),
                    reach=mention.author.followers,
                    last_activity_at=opened[index],
                )
            )
        incidents = Incident.objects.bulk_create(incidents)
        IncidentMention.objects.bulk_create(
            IncidentMention(
                incident=incident,
                mention=incident.first_mention,
                severity=incident.severity,
                attached_at=incident.opened_at,
            )
            for incident in incidents
        )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return manager


def listed(manager, params: dict) -> int:
    """How many open incidents the view lists over all its pages (the selector's count)."""
    from django.http import QueryDict
    from django.utils import timezone
    from django.utils.http import urlencode

    from crisis.incidents.forms import InboxFilterForm
    from crisis.incidents.selectors import inbox_incident_ids, inbox_viewer
    from crisis.incidents.sla import sla_policy

    filters = InboxFilterForm(QueryDict(urlencode(params))).filters()
    ids = inbox_incident_ids(
        inbox_viewer(manager), filters, now=timezone.now(), policy=sla_policy()
    )
    return ids.count()


def measure(client, params: dict) -> tuple[float, float, int]:
    """(p50 ms, p95 ms, queries of one request)."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    url = reverse("inbox")
    response = client.get(url, params)  # warm-up: plans cached, templates compiled
    assert response.status_code == 200, response.status_code
    reset_queries()  # DEBUG's query log is bounded: a full one would hide what is added
    with CaptureQueriesContext(connection) as captured:
        client.get(url, params)
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        client.get(url, params)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return statistics.median(timings), p95, len(captured.captured_queries)


def main() -> None:
    os.environ["DATABASE_URL"] = scratch_database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisis.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        manager = generate(TOTAL)
        print(
            f"generated {TOTAL:,} open incidents in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        # Without setup_test_environment: its template instrumentation (a signal and a
        # context copy per rendered template) is test machinery a real request never pays.
        client = Client(HTTP_HOST="localhost")
        client.force_login(manager)
        for name, params in VIEWS:
            p50, p95, queries = measure(client, params)
            count = listed(manager, params)
            print(f"inbox {name} open={count} p50_ms={p50:.1f} p95_ms={p95:.1f} queries={queries}")
    finally:
        from django.db import connections

        connections.close_all()
        drop_scratch_database()


if __name__ == "__main__":
    main()
