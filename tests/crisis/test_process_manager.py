"""`make run`'s process manager (scripts/supervisord.conf) restarts a dead process.

Issue 8 found the embedded default dead: the worker exited and honcho stopped the web
server, beat and the simulator with it. This starts supervisord with the product's own
config on the embedded default (SQLite and the filesystem broker in a temporary var dir,
free ports, the simulator left out), kills the worker by its pid and watches a new one
come up while the web page keeps answering.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

CONFIG = settings.BASE_DIR / "scripts" / "supervisord.conf"
BIN = Path(sys.executable).parent
SPAWNED = re.compile(r"spawned: '(?P<name>\w+)' with pid (?P<pid>\d+)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def embedded_environment(var_dir: Path, port: int) -> dict[str, str]:
    """What the Makefile's `run` target sets, with no DATABASE_URL and no REDIS_URL."""
    env = {key: os.environ[key] for key in ("HOME", "LANG") if key in os.environ}
    env.update(
        PATH=f"{BIN}:{os.environ['PATH']}",
        DEBUG="true",
        CALMA_VAR_DIR=str(var_dir),
        PORT=str(port),
        SIMULATOR_PORT=str(free_port()),
        SIMULATOR_URL="",
        CALMA_SIMULATOR_AUTOSTART="false",
        CELERY_POOL="threads",
        CELERY_WORKER_FLAGS="--without-mingle --without-gossip --without-heartbeat",
    )
    return env


def poll(condition, *, timeout: float, interval: float = 0.2):
    """Return condition()'s first truthy value, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not reached within {timeout} s: {condition.__doc__}")


def page_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our http URL
            return response.status == 200
    except OSError:
        return False


def spawned_pids(log: Path, name: str) -> list[int]:
    text = log.read_text() if log.exists() else ""
    return [int(m["pid"]) for m in SPAWNED.finditer(text) if m["name"] == name]


def is_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def processes_in_groups(groups: set[int]) -> list[int]:
    """Pids of live processes whose process group is one of `groups`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        state, process_group = fields[0], int(fields[2])
        if process_group in groups and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture
def supervisord(tmp_path) -> Iterator[tuple[subprocess.Popen, Path, str]]:
    var_dir = tmp_path / "var"
    port = free_port()
    env = embedded_environment(var_dir, port)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        timeout=120,
        check=True,
    )
    manager = subprocess.Popen(
        [str(BIN / "supervisord"), "--configuration", str(CONFIG)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield manager, var_dir / "supervisord.log", f"http://127.0.0.1:{port}/accounts/login/"
    finally:
        if manager.poll() is None:
            manager.send_signal(signal.SIGTERM)
            try:
                manager.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(manager.pid, signal.SIGKILL)
                manager.wait(timeout=10)


def test_a_killed_worker_is_restarted_while_the_web_keeps_answering(supervisord):
    _manager, log, url = supervisord

    def web_answers():
        """the web page answers"""
        return page_answers(url)

    def worker_running():
        """the worker has been spawned"""
        pids = spawned_pids(log, "worker")
        return pids[-1] if pids and is_alive(pids[-1]) else None

    poll(web_answers, timeout=40)
    first_worker = poll(worker_running, timeout=20)

    os.kill(first_worker, signal.SIGKILL)
    killed_at = time.monotonic()
    answers: list[bool] = []

    def new_worker_running():
        """a new worker pid is running"""
        answers.append(page_answers(url))
        pid = worker_running()
        return pid if pid and pid != first_worker else None

    second_worker = poll(new_worker_running, timeout=10)
    restarted_after = time.monotonic() - killed_at
    answers.append(page_answers(url))

    assert restarted_after < 10
    assert all(answers), f"the web page failed {answers.count(False)} of {len(answers)} times"
    assert not is_alive(first_worker)
    assert "worker" in Path(f"/proc/{second_worker}/cmdline").read_text()


def test_stopping_the_process_manager_leaves_no_process_behind(supervisord):
    manager, log, url = supervisord

    def all_spawned():
        """web, worker and beat have been spawned and the web page answers"""
        return all(spawned_pids(log, name) for name in ("web", "worker", "beat")) and (
            page_answers(url)
        )

    poll(all_spawned, timeout=40)
    # Each program runs in its own process group (stopasgroup): its pid is the group's id.
    groups = {pid for name in ("web", "worker", "beat") for pid in spawned_pids(log, name)}

    manager.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends
    assert manager.wait(timeout=40) == 0

    assert processes_in_groups(groups | {manager.pid}) == []
