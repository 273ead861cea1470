"""The embedded default (`make run` with no services): SQLite and the filesystem broker.

The suite itself runs on Postgres and Redis only; this test runs the product's own
commands in a subprocess configured like a fresh machine, to prove the quick start works.
"""

import json
import multiprocessing
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from kombu import Connection

SCRIPT = """
import json
from datetime import datetime, timezone
from django.conf import settings
from django.db import connection
from monitoring.connectors.base import AuthorIn, MentionIn
from monitoring.ingest import ingest_mentions
from monitoring.models import Mention
from protocols.models import MentionScore
from protocols.pipeline import score_and_store
from protocols.services import active_version, raise_crisis_suggestion

mentions = [
    MentionIn(platform="mastodon", external_id=str(n), url="https://m.example/%d" % n,
              text=text, published_at=datetime(2026, 11, 1, 9, n, tzinfo=timezone.utc),
              author=AuthorIn(handle="ana", followers=None if n else 10))
    for n, text in enumerate(["Me han cobrado dos veces, pésimo", "Gracias por todo, genial"])
]
ids = ingest_mentions(mentions, source_id=None).new_mention_ids
again = ingest_mentions(mentions, source_id=None).new_mention_ids
score_and_store(ids, version=active_version())
# SQLite names the columns, not the constraint, when the second open suggestion is refused.
raised = [
    raise_crisis_suggestion(topic="billing", reason="incidents", version=active_version(),
                            origin="live", at=datetime(2026, 11, 1, 9, 5, tzinfo=timezone.utc))
    for _twice in range(2)
]
print(json.dumps({
    "suggestions": [suggestion is not None for suggestion in raised],
    "vendor": connection.vendor,
    "broker": settings.CELERY_BROKER_URL,
    "transport": settings.CELERY_BROKER_TRANSPORT,
    "new": len(ids), "again": len(again),
    "mentions": Mention.objects.count(), "scores": MentionScore.objects.count(),
    "followers": Mention.objects.get(external_id="1").author.followers,
}))
"""


def test_the_embedded_default_migrates_ingests_and_scores_without_services(tmp_path):
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update({"DEBUG": "true", "CALMA_VAR_DIR": str(tmp_path)})

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )

    manage("migrate", "--noinput")
    result = json.loads(manage("shell", "-c", SCRIPT).stdout.strip().splitlines()[-1])
    assert result == {
        "suggestions": [True, False],
        "vendor": "sqlite",
        "broker": "filesystem://",
        "transport": "crisis.embedded_broker:Transport",
        "new": 2,
        "again": 0,
        "mentions": 2,
        "scores": 2,
        "followers": 10,
    }
    assert (tmp_path / "calma.sqlite3").exists()


def broker_options(folder) -> dict[str, str]:
    """The embedded default's transport options (crisis/settings.py), under `folder`."""
    for name in ("queue", "processed", "control"):
        (folder / name).mkdir()
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
    }


def publish_in_batches(transport: str, options: dict, writer: int, batches: int, size: int):
    """One writer process: each batch on a new connection, which declares the queue again."""
    for batch in range(batches):
        with Connection("filesystem://", transport=transport, transport_options=options) as conn:
            queue = conn.SimpleQueue("race")
            for n in range(batch * size, (batch + 1) * size):
                queue.put({"writer": writer, "n": n})


def test_the_embedded_broker_delivers_every_message_once_to_concurrent_writers(tmp_path):
    """Issue 8, item 9: kombu's filesystem transport let a reader see a file still empty.

    Writer processes declaring the queue and publishing while a consumer reads made the
    stock transport (transport="filesystem") raise JSONDecodeError("Expecting value") in
    the consumer or a writer, in most runs within two seconds.
    """
    transport = "crisis.embedded_broker:Transport"
    options = broker_options(tmp_path)
    writers, batches, size = 6, 6, 40
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=publish_in_batches, args=(transport, options, w, batches, size))
        for w in range(writers)
    ]
    for process in processes:
        process.start()
    received, error = [], None
    deadline = time.monotonic() + 60
    with Connection("filesystem://", transport=transport, transport_options=options) as conn:
        queue = conn.SimpleQueue("race")
        while len(received) < writers * batches * size and time.monotonic() < deadline:
            try:
                message = queue.get(timeout=0.5)
            except queue.Empty:
                if not any(process.is_alive() for process in processes):
                    break  # every writer is done and nothing is left to read
                continue
            except ValueError as exc:  # the stock transport's JSONDecodeError
                error = exc
                break
            received.append((message.payload["writer"], message.payload["n"]))
            message.ack()
    for process in processes:
        process.join(timeout=30)

    assert error is None
    assert [process.exitcode for process in processes] == [0] * writers
    assert sorted(received) == [(w, n) for w in range(writers) for n in range(batches * size)]
    assert os.listdir(options["processed_folder"]) == []


def test_a_message_file_not_yet_written_does_not_stop_the_consumer(tmp_path):
    """Issue 8, item 9: the worker's "Unrecoverable error: JSONDecodeError('Expecting value')".

    kombu's writer creates a message file and only then fills it; an empty one is what a
    reader found in between (or what a crash mid-write leaves). The stock transport raised
    on it; ours never shows a file before it is complete, and skips one that is broken.
    """
    transport = "crisis.embedded_broker:Transport"
    options = broker_options(tmp_path)
    with Connection("filesystem://", transport=transport, transport_options=options) as conn:
        # kombu keeps a process-wide record of bindings: a queue name of this test's own.
        queue = conn.SimpleQueue("unwritten")
        (tmp_path / "queue" / "0_empty.unwritten.msg").write_bytes(b"")
        queue.put({"n": 1})
        message = queue.get(timeout=5)
        message.ack()

    assert message.payload == {"n": 1}
    assert os.listdir(tmp_path / "queue") == []


def test_the_embedded_worker_writes_no_remote_control_exchange(tmp_path):
    """Issue 8, item 9: the "pidbox" fanout table was one more file rewritten by every worker.

    A real worker on the embedded settings, with `make run`'s flags, writes only the table
    of its task queue's exchange.
    """
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update({"DEBUG": "true", "CALMA_VAR_DIR": str(tmp_path)})
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crisis",
            "worker",
            "--pool=threads",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = worker.stdout.readline()
            if not line:
                break
            output.append(line)
            if " ready." in line:
                break
        assert any(" ready." in line for line in output), "".join(output)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    control = tmp_path / "broker" / "control"
    assert sorted(p.name for p in control.iterdir() if not p.name.startswith(".")) == [
        "celery.exchange"
    ]


@pytest.mark.django_db
def test_the_demo_team_puts_the_demo_manager_on_shift_around_the_clock():
    from datetime import UTC, datetime, timedelta

    from crisis.demo import create_demo_team, create_demo_users
    from crisis.people.selectors import managers_on_shift

    create_demo_users()
    create_demo_team()
    create_demo_team()  # make run seeds at every start: nothing doubles
    monday = datetime(2026, 12, 7, tzinfo=UTC)
    for hours in range(0, 7 * 24, 5):
        names = managers_on_shift(monday + timedelta(hours=hours)).values_list(
            "username", flat=True
        )
        assert list(names) == ["manager"]
