"""Board benchmark (issue 12, acceptance 1): with 1,000,000 mentions and 100,000 incidents,
the board page and each live fragment through Django's test client as a signed-in executive,
with a cold cache (cleared before every request) and a warm one.

Run with `make bench-board` (Postgres at DATABASE_URL, Redis at REDIS_URL). The data lives in
a database `calma_bench` that is kept between runs: it is generated once with
`generate_demo_data` (COPY, a few minutes) and reused while it holds the sizes asked for and
its newest mention is recent (else regenerated, so the default 24 hours are never empty).
Prints a `# cold cache` line, then exactly one line per request type,
`board <fragment> mentions=<n> p50_ms=<x> p95_ms=<y> queries=<q>` (the whole page is the
fragment `page`), then the same under `# warm cache`. Targets: page p95 < 200 ms, every
fragment p95 < 50 ms, warm and cold. Fragments are requested as htmx polls them (HX-Request).
It asserts nothing. Not collected by pytest.

Environment: BENCH_MENTIONS (1000000), BENCH_INCIDENTS (100000), BENCH_DAYS (30), BENCH_RUNS
(30), BENCH_QUERY (board filters, e.g. "range=30d"), BENCH_MAX_AGE_HOURS (6: older data is
regenerated), BENCH_REGENERATE=1 to force a new data set, BENCH_CONN_MAX_AGE (60, the
settings' default: connections persist between requests as deployed).
"""

import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
MENTIONS = int(os.environ.get("BENCH_MENTIONS", "1000000"))
INCIDENTS = int(os.environ.get("BENCH_INCIDENTS", "100000"))
DAYS = int(os.environ.get("BENCH_DAYS", "30"))
RUNS = int(os.environ.get("BENCH_RUNS", "30"))
QUERY = os.environ.get("BENCH_QUERY", "")
MAX_AGE_HOURS = float(os.environ.get("BENCH_MAX_AGE_HOURS", "6"))
REGENERATE = os.environ.get("BENCH_REGENERATE", "") == "1"
BENCH_DB = "calma_bench"
SERVER_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
FRAGMENTS = (
    "headline",
    "crises",
    "volume",
    "incidents",
    "exposure",
    "sla",
    "agitators",
    "complaints",
    "channels",
    "alerts",
)


def bench_database_url() -> str:
    """The kept benchmark database, created empty the first time."""
    with psycopg.connect(SERVER_URL, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]
        ).fetchone()
        if not exists:
            connection.execute(f"CREATE DATABASE {BENCH_DB}")
    return SERVER_URL.rsplit("/", 1)[0] + f"/{BENCH_DB}"


def data_is_usable() -> bool:
    """The demo rows hold the sizes asked for and their newest mention is recent enough."""
    from datetime import timedelta

    from django.db.models import Max
    from django.utils import timezone

    from crisis.board.demo_data import demo_mentions
    from crisis.incidents.models import Incident

    if REGENERATE:
        return False
    newest = demo_mentions().aggregate(newest=Max("published_at"))["newest"]
    if newest is None or timezone.now() - newest > timedelta(hours=MAX_AGE_HOURS):
        return False
    incidents = Incident.objects.filter(first_mention__external_id__startswith="demo-")
    return demo_mentions().count() == MENTIONS and incidents.count() == INCIDENTS


def ensure_data() -> None:
    from django.core.management import call_command

    if data_is_usable():
        print(f"reusing {MENTIONS:,} mentions in {BENCH_DB}", file=sys.stderr)
        return
    started = time.perf_counter()
    call_command(
        "generate_demo_data",
        mentions=MENTIONS,
        incidents=INCIDENTS,
        days=DAYS,
        replace=True,
        stdout=sys.stderr,
    )
    print(f"generated in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def bench_executive():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from crisis.roles import Role, ensure_role_groups

    ensure_role_groups()
    user, _created = get_user_model().objects.get_or_create(username="bench-executive")
    user.groups.set([Group.objects.get(name=Role.EXECUTIVE.value)])
    return user


def url_of(name: str) -> str:
    from django.urls import reverse

    url = reverse("board") if name == "page" else reverse("board_fragment", args=[name])
    return f"{url}?{QUERY}" if QUERY else url


def headers_of(name: str) -> dict:
    """A fragment is requested as the board's poll asks for it; the page as a browser does."""
    return {} if name == "page" else {"HX-Request": "true"}


def get(client, name: str):
    response = client.get(url_of(name), headers=headers_of(name))
    assert response.status_code == 200, (name, response.status_code)
    return response


def measure(client, name: str, *, cold: bool) -> tuple[float, float, int]:
    """(p50 ms, p95 ms, queries of one request); cold clears the cache before each request."""
    from django.core.cache import cache
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    get(client, name)  # warm-up: plans cached, templates compiled, the warm cache filled
    if cold:
        cache.clear()
    reset_queries()  # DEBUG's query log is bounded: a full one would hide what is added
    with CaptureQueriesContext(connection) as captured:
        get(client, name)
    timings = []
    for _ in range(RUNS):
        if cold:
            cache.clear()
        started = time.perf_counter()
        get(client, name)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return statistics.median(timings), p95, len(captured.captured_queries)


def main() -> None:
    os.environ["DATABASE_URL"] = bench_database_url()
    # As deployed (the settings' default): a request reuses its process's database connection.
    # The test command's DB_CONN_MAX_AGE=0 would add a new connection to every request.
    os.environ["DB_CONN_MAX_AGE"] = os.environ.get("BENCH_CONN_MAX_AGE", "60")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisis.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client

    from monitoring.models import Mention

    try:
        call_command("migrate", verbosity=0)
        ensure_data()
        mentions = Mention.objects.filter(origin="live").count()
        # Without setup_test_environment: its template instrumentation (a signal and a
        # context copy per rendered template) is test machinery a real request never pays.
        client = Client(HTTP_HOST="localhost")
        client.force_login(bench_executive())
        for label, cold in (("cold cache", True), ("warm cache", False)):
            print(f"# {label}")
            for name in ("page", *FRAGMENTS):
                p50, p95, queries = measure(client, name, cold=cold)
                print(
                    f"board {name} mentions={mentions} p50_ms={p50:.1f} p95_ms={p95:.1f} "
                    f"queries={queries}",
                    flush=True,
                )
    finally:
        connections.close_all()


if __name__ == "__main__":
    main()
