"""Chaos: the real stack under faults keeps every served mention, once, scored.

A private Postgres and Redis, the platform simulator, a Celery worker and beat under a
supervisord that restarts what exits. While the simulator's fault storms run, the test kills
the worker mid-poll, takes the broker down during a hand-off and the database down during
a poll, printing one line per fault. Then every served mention must be stored exactly once
and scored, every process must be back by itself, and no source may stay blocked longer
than its lease (renewed while a poll runs) plus a little slack.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.chaos.stack import (
    BASE_DIR,
    PrivatePostgres,
    PrivateRedis,
    Simulator,
    Supervisor,
    free_port,
    postgres_bin,
    wait_until,
)

LEASE_SECONDS = 8
# After a fault, a source is polled again within its lease, its poll interval, one backoff,
# one dispatch tick and this much slack for two shared cores.
SLACK_SECONDS = 8
POLL_INTERVAL_SECONDS = 2
BLOCKED_AT_MOST = LEASE_SECONDS + POLL_INTERVAL_SECONDS + 2 + 1 + SLACK_SECONDS
DEMO_KEY = "AIzaSyCalmaSimulatorDemoKey-000000000000"

pytestmark = pytest.mark.skipif(
    postgres_bin() is None, reason="the Postgres server binaries (initdb, pg_ctl) are missing"
)


class Chaos:
    """The private stack, a clock for the log, and what the test asserts on."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started = time.monotonic()
        self.postgres = PrivatePostgres(folder / "postgres", postgres_bin())
        self.redis = PrivateRedis(folder)
        self.simulator_port = free_port()
        self.simulator = Simulator(self.simulator_port)
        self.supervisor = Supervisor(folder, self.environment(), self.simulator_port)
        self.log: list[str] = []

    def environment(self) -> dict[str, str]:
        env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
        (self.folder / "var").mkdir(exist_ok=True)
        env.update(
            {
                "DATABASE_URL": self.postgres.url,
                "REDIS_URL": self.redis.url,
                "DEBUG": "true",
                "SECRET_KEY": "chaos-test-only",
                "DB_CONN_MAX_AGE": "0",
                "CALMA_VAR_DIR": str(self.folder / "var"),
                "PYTHONUNBUFFERED": "1",
                "SIMULATOR_URL": f"http://127.0.0.1:{self.simulator_port}",
                "CALMA_SECRET_SIMULATOR_API_KEY": DEMO_KEY,
                "POLL_LEASE_SECONDS": str(LEASE_SECONDS),
                "POLL_HTTP_TIMEOUT_SECONDS": "2",
                "POLL_BACKOFF_BASE_SECONDS": "1",
                "POLL_BACKOFF_MAX_SECONDS": "2",
                "POLL_DISPATCH_SECONDS": "1",
                "SCORING_SWEEP_EVERY_SECONDS": "3",
                "SCORING_SWEEP_AFTER_SECONDS": "5",
            }
        )
        return env

    def say(self, line: str) -> None:
        entry = f"[chaos +{time.monotonic() - self.started:6.1f}s] {line}"
        self.log.append(entry)
        print(entry, file=sys.stderr, flush=True)

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.environment(),
            check=True,
            capture_output=True,
            timeout=180,
        )

    # -- what the database says --
    def count(self, sql: str) -> int:
        return self.postgres.query(sql)[0][0]

    def stored(self) -> set[tuple[str, str]]:
        return set(self.postgres.query("SELECT platform, external_id FROM monitoring_mention"))

    def unscored(self) -> int:
        return self.count(
            "SELECT count(*) FROM monitoring_mention m LEFT JOIN protocols_mentionscore s "
            "ON s.mention_id = m.id WHERE s.id IS NULL"
        )

    def a_poll_is_running(self, for_seconds: float = 0.0) -> bool:
        """A lease is held by a poll that started at least `for_seconds` ago."""
        rows = self.postgres.query(
            "SELECT count(*) FROM monitoring_source WHERE lease_token IS NOT NULL "
            "AND last_polled_at <= now() - make_interval(secs => %s)",
            (for_seconds,),
        )
        return rows[0][0] > 0

    def database_now(self):
        return self.postgres.query("SELECT now()")[0][0]

    def seconds_until_every_source_polled_since(self, moment) -> float:
        """How long until every enabled source has been polled after `moment`."""
        return wait_until(
            lambda: self.count_not_polled_since(moment) == 0,
            BLOCKED_AT_MOST + 30,
            f"a source stayed blocked for more than {BLOCKED_AT_MOST + 30} s",
        )

    def count_not_polled_since(self, moment) -> int:
        rows = self.postgres.query(
            "SELECT count(*) FROM monitoring_source WHERE enabled "
            "AND (last_polled_at IS NULL OR last_polled_at < %s)",
            (moment,),
        )
        return rows[0][0]

    def stop(self) -> None:
        """Every process the test started is stopped, even when stopping one of them fails."""
        try:
            self.supervisor.stop()
        finally:
            try:
                self.redis.stop()
            finally:
                self.postgres.stop_for_good()


@pytest.fixture
def chaos():
    folder = Path(tempfile.mkdtemp(prefix="calma-chaos-"))
    stack = Chaos(folder)
    try:
        stack.postgres.init()
        stack.redis.start()
        stack.manage("migrate", "--noinput")
        stack.supervisor.start()
        wait_until(stack.simulator.state, 30, "the simulator did not answer")
        channel = stack.simulator.state()["world"]["youtube_channel_id"]
        stack.manage(
            "shell",
            "-c",
            "from monitoring.demo import create_demo_sources; "
            f"create_demo_sources({stack.simulator.base_url!r}, {channel!r}, "
            f"poll_interval_seconds={POLL_INTERVAL_SECONDS})",
        )
        stack.say(
            f"stack up: postgres :{stack.postgres.port}, redis :{stack.redis.port}, "
            f"simulator :{stack.simulator_port}; simulator, worker and beat under supervisord"
        )
        yield stack
    finally:
        stack.stop()
        if not os.environ.get("CHAOS_KEEP"):  # CHAOS_KEEP=1 keeps the logs for a look
            shutil.rmtree(folder, ignore_errors=True)


def fault_storm(stack: Chaos) -> None:
    simulator = stack.simulator
    simulator.add_fault(kind="429", probability=0.08, retry_after=1)
    simulator.add_fault(kind="500", probability=0.08)
    simulator.add_fault(kind="timeout", probability=0.05, delay=2.5)  # the client gives up
    simulator.add_fault(kind="malformed_json", probability=0.08)  # feeds: cut short
    for platform in ("mastodon", "bluesky", "reddit", "youtube"):
        simulator.add_fault(kind="malformed_item", platform=platform, probability=0.1)
    simulator.add_fault(kind="duplicate", probability=0.2)
    simulator.add_fault(kind="out_of_order", probability=0.2)
    stack.say(
        "fault storm on: 429, 500, timeouts, bodies cut short, malformed items, "
        "duplicates, out-of-order pages"
    )


def kill_worker_mid_poll(stack: Chaos) -> None:
    wait_until(stack.a_poll_is_running, 30, "no poll ever ran")
    before = stack.supervisor.pid("worker")
    moment = stack.database_now()
    os.kill(before, signal.SIGKILL)
    stack.say(f"worker (pid {before}) SIGKILLed while a poll held a lease")
    back = wait_until(
        lambda: (
            stack.supervisor.info("worker")["statename"] == "RUNNING"
            and stack.supervisor.pid("worker") != before
        ),
        10,
        "the killed worker was not restarted within 10 s",
    )
    stack.say(f"worker back by itself in {back:.1f} s (pid {stack.supervisor.pid('worker')})")
    blocked = stack.seconds_until_every_source_polled_since(moment)
    stack.say(f"every source polled again {blocked:.1f} s after the kill")
    assert blocked <= BLOCKED_AT_MOST, stack.log


def broker_down_during_a_hand_off(stack: Chaos) -> None:
    failures_before = stack.supervisor.log("worker").count("hand-off of")
    # Slow answers (still inside the HTTP timeout) with new posts behind them, so polls are
    # in flight, holding pages to commit, when the broker goes away.
    stack.simulator.add_fault(kind="timeout", count=30, delay=1.5)
    stack.simulator.clock(advance_minutes=2)
    wait_until(lambda: stack.a_poll_is_running(0.5), 30, "no slow poll in flight")
    stack.redis.stop()
    stack.say("broker (private redis-server) stopped while polls were in flight")
    time.sleep(4)
    stack.redis.start()
    failed = stack.supervisor.log("worker").count("hand-off of") - failures_before
    stack.say(f"broker back after 4 s; hand-offs that failed meanwhile: {failed}")


def database_down_during_a_poll(stack: Chaos) -> None:
    stack.simulator.add_fault(kind="timeout", count=10, delay=1.5)
    stack.simulator.clock(advance_minutes=1)
    wait_until(lambda: stack.a_poll_is_running(0.5), 30, "no slow poll in flight")
    stack.postgres.stop()
    stack.say("database (private Postgres) stopped during a poll")
    time.sleep(5)
    stack.postgres.start()
    moment = stack.database_now()
    stack.say("database back after 5 s")
    blocked = stack.seconds_until_every_source_polled_since(moment)
    stack.say(f"every source polled again {blocked:.1f} s after the database came back")
    assert blocked <= BLOCKED_AT_MOST, stack.log


def test_served_mentions_survive_kills_outages_and_fault_storms(chaos: Chaos):
    fault_storm(chaos)
    wait_until(
        lambda: chaos.count("SELECT count(*) FROM monitoring_mention") >= 50,
        60,
        "nothing was stored under the fault storm",
    )
    kill_worker_mid_poll(chaos)
    broker_down_during_a_hand_off(chaos)
    database_down_during_a_poll(chaos)
    time.sleep(5)  # a little more storm with everything back

    chaos.simulator.clear_faults()
    chaos.simulator.clock(speed=0)  # nothing new from here on: what was served is final
    chaos.say("faults cleared, simulator clock stopped; waiting for the stack to catch up")

    def caught_up() -> bool:
        return chaos.stored() == chaos.simulator.served() and chaos.unscored() == 0

    try:
        settled = wait_until(caught_up, 90, "not every served mention was stored and scored")
    except AssertionError:
        served, stored = chaos.simulator.served(), chaos.stored()
        chaos.say(
            f"not caught up: {len(served - stored)} served but not stored "
            f"{sorted(served - stored)[:5]}, {len(stored - served)} stored but never served "
            f"{sorted(stored - served)[:5]}, {chaos.unscored()} unscored"
        )
        raise AssertionError("\n".join(chaos.log)) from None
    served = chaos.simulator.served()
    stored_rows = chaos.count("SELECT count(*) FROM monitoring_mention")
    chaos.say(
        f"caught up in {settled:.1f} s: {len(served)} served, {stored_rows} stored, all scored"
    )

    assert chaos.stored() == served
    assert stored_rows == len(served)  # once each
    assert chaos.unscored() == 0
    assert chaos.supervisor.all_running(), chaos.log
    worker_log = chaos.supervisor.log("worker")
    assert not re.search(r"Traceback[\s\S]{0,400}hand-off", worker_log), "hand-off raised"
