"""A private Calma stack for the chaos test: its own Postgres, Redis and supervised processes.

Nothing here touches the shared services on 127.0.0.1:5432 and :6379: Postgres is a fresh
cluster (initdb) in a temporary folder, Redis a private redis-server, both on free ports,
and the worker, beat and platform simulator run under a supervisord of the test's own,
which restarts whichever of them exits.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import xmlrpc.client
from collections.abc import Callable
from pathlib import Path

import psycopg

BASE_DIR = Path(__file__).resolve().parents[2]
PROGRAMS = ("simulator", "worker", "beat")
RPC_TIMEOUT_SECONDS = 10


def dying_with_the_test(command: list[str]) -> list[str]:
    """`command`, SIGTERMed by the kernel when the test process dies however it dies (util-
    linux setpriv, an exec: no preexec_fn, which may deadlock under xdist's threads), so a
    killed pytest leaves no redis-server or supervisord (which then stops its programs)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", *command] if setpriv else command


def postgres_bin() -> Path | None:
    """The newest installed Postgres server binaries, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(path: str) -> int:
    try:
        return int(Path(path).parts[-3])
    except ValueError:
        return 0


def free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float, message: str) -> float:
    """Poll `condition` until it is true; returns the seconds it took."""
    started = time.monotonic()
    while True:
        try:
            if condition():
                return time.monotonic() - started
        except (OSError, psycopg.Error, xmlrpc.client.Error):
            pass  # a service on its way back up
        if time.monotonic() - started > timeout:
            raise AssertionError(message)
        time.sleep(0.2)


class PrivatePostgres:
    """A throwaway cluster: trust auth on loopback, no fsync (speed), run as `postgres` when
    the test runs as root (initdb refuses root)."""

    def __init__(self, folder: Path, binaries: Path) -> None:
        self.folder = folder
        self.data = folder / "pgdata"
        self.binaries = binaries
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = [str(self.binaries / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.data.mkdir(parents=True)
        if self._as_postgres:
            owner = pwd.getpwnam("postgres")
            # The postgres user must reach its data folder through the test's private ones.
            for folder in (self.folder.parent, self.folder):
                os.chmod(folder, 0o711)  # noqa: S103 - traverse only, nothing listed
            os.chown(self.data, owner.pw_uid, owner.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.data / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        """A fast shutdown: every session is ended, as in a restart or a crash of the host."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def stop_for_good(self) -> None:
        """Stop at the end of the test whatever state it is in: fast, else immediate."""
        try:
            self.stop()
        except (subprocess.TimeoutExpired, subprocess.CalledProcessError):
            with contextlib.suppress(subprocess.TimeoutExpired, subprocess.CalledProcessError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(
            self.url, autocommit=True, connect_timeout=3, options="-c statement_timeout=10s"
        )

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.connect() as connection:
            return connection.execute(sql, params).fetchall()


class PrivateRedis:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        # Append-only file on: a restart keeps the queued tasks, as a production Redis does.
        self.process = subprocess.Popen(
            dying_with_the_test(
                [
                    shutil.which("redis-server") or "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(self.folder),
                    "--save",
                    "",
                    "--appendonly",
                    "yes",
                ]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, 10, "private redis-server did not start")

    def answers(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class Supervisor:
    """supervisord with the simulator, a Celery worker and beat, each restarted on exit."""

    def __init__(self, folder: Path, environment: dict[str, str], simulator_port: int) -> None:
        self.folder = folder
        self.environment = environment
        self.simulator_port = simulator_port
        self.rpc_port = free_port()
        self.process: subprocess.Popen | None = None
        self.rpc = xmlrpc.client.ServerProxy(
            f"http://127.0.0.1:{self.rpc_port}/RPC2", transport=_TimeoutTransport()
        )
        self.program_pids: dict[str, int] = {}  # the last pid seen of each program

    def config(self) -> str:
        python = sys.executable
        commands = {
            "simulator": (
                f"{python} manage.py simulate_platforms --port {self.simulator_port} "
                "--speed 1 --rewind-minutes 20 --hours 3 --chatter-per-hour 240 "
                "--crisis-at-minutes 21"
            ),
            "worker": f"{python} -m celery -A crisis worker --pool=threads --concurrency=3 -l INFO",
            "beat": f"{python} -m celery -A crisis beat -l INFO -s {self.folder}/beat-schedule",
        }
        sections = [
            "[supervisord]",
            f"logfile={self.folder}/supervisord.log",
            f"pidfile={self.folder}/supervisord.pid",
            f"childlogdir={self.folder}",
            f"directory={BASE_DIR}",
            "nodaemon=true",
            "[inet_http_server]",
            f"port=127.0.0.1:{self.rpc_port}",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        ]
        for name, command in commands.items():
            sections += [
                f"[program:{name}]",
                f"command={command}",
                "autorestart=true",
                "startsecs=1",
                "startretries=100",
                "stopasgroup=true",
                "killasgroup=true",
                "stopwaitsecs=5",
                "redirect_stderr=true",
                f"stdout_logfile={self.folder}/{name}.log",
            ]
        return "\n".join(sections) + "\n"

    def start(self) -> None:
        path = self.folder / "supervisord.conf"
        path.write_text(self.config())
        supervisord = str(Path(sys.executable).parent / "supervisord")
        self.process = subprocess.Popen(
            dying_with_the_test([supervisord, "-c", str(path)]),
            env=self.environment,
            cwd=BASE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.all_running, 60, "supervised processes did not start")

    def info(self, name: str) -> dict:
        info = self.rpc.supervisor.getProcessInfo(name)
        if info.get("pid"):
            self.program_pids[name] = int(info["pid"])  # to be sure it is gone at the end
        return info

    def all_running(self) -> bool:
        return all(self.info(name)["statename"] == "RUNNING" for name in PROGRAMS)

    def pid(self, name: str) -> int:
        return int(self.info(name)["pid"])

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """supervisord stops its programs (their whole process groups); if it cannot, or was
        gone already, every program it ever ran is killed here, so nothing outlives the test."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(OSError, xmlrpc.client.Error):
                for name in PROGRAMS:
                    self.info(name)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        for pid in self.program_pids.values():
            if _runs_our_python(pid):  # still ours, not a recycled pid
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)  # supervisord runs each program as a group


def _runs_our_python(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return command.startswith(sys.executable.encode() + b"\0")


class _TimeoutTransport(xmlrpc.client.Transport):
    """XML-RPC to supervisord with a timeout, so a stuck supervisord fails the test instead
    of hanging it."""

    def make_connection(self, host):
        connection = super().make_connection(host)
        connection.timeout = RPC_TIMEOUT_SECONDS
        return connection


class Simulator:
    """The simulator's control API (/_control/…), over HTTP like any client."""

    def __init__(self, port: int) -> None:
        self.base_url = f"http://127.0.0.1:{port}"

    def _call(self, method: str, path: str, payload: dict | None = None) -> dict:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback, our own simulator
            f"{self.base_url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())

    def state(self) -> dict:
        return self._call("GET", "/_control/state")

    def add_fault(self, **fault) -> dict:
        return self._call("POST", "/_control/faults", fault)

    def clear_faults(self) -> None:
        self._call("DELETE", "/_control/faults")

    def clock(self, **change) -> dict:
        return self._call("POST", "/_control/clock", change)

    def served(self) -> set[tuple[str, str]]:
        return {tuple(item) for item in self._call("GET", "/_control/served")["items"]}
