"""The embedded Celery broker: kombu's filesystem transport with every write made atomic.

kombu's own filesystem transport creates a file and only then writes into it, so a reader
in another process (or thread) can open it in between and read nothing: the worker dies
with ``Unrecoverable error: JSONDecodeError('Expecting value…')`` (kombu #1551). Two
places race: a message file read by the consumer before the producer has filled it, and
an exchange table (``<exchange>.exchange``) truncated by one process declaring a queue
while another reads it to route a message. Here every file is written under a temporary
name that no reader looks at and then renamed into place (``os.replace`` is atomic on one
filesystem), a message is claimed by renaming it (only one consumer wins), and changes to
an exchange table are serialised by a lock file. Remote control (the "pidbox" fanout) is
also switched off in the worker options (settings), so no fanout table is written at all.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

# A temporary file's name ends in this suffix, so the transport's filter ("<queue>.msg")
# never matches a file that is still being written.
PARTIAL_SUFFIX = ".partial"
# Exchange names become file names: Celery's own names only, never a path.
EXCHANGE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
# kombu records a binding in memory (shared by every connection of the process) before it
# writes the table file: another thread that saw the binding could publish, read a table
# without it and drop the message. Binding is done under this lock, file write included.
BIND_LOCK = threading.Lock()


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees either no file or the whole file."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}{PARTIAL_SUFFIX}")
    with open(partial, "wb") as handle:
        handle.write(data)
    os.replace(partial, path)


class Channel(filesystem.Channel):
    """A filesystem channel whose writes are atomic and whose reads claim by rename."""

    def queue_bind(self, *args, **kwargs):
        with BIND_LOCK:
            return super().queue_bind(*args, **kwargs)

    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        write_atomically(Path(self.data_folder_out) / name, str_to_bytes(dumps(payload)))

    def _get(self, queue):
        wanted = f"{queue}.msg"
        claimed_folder = Path(self.processed_folder)
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            claimed = claimed_folder / name
            try:
                # Same filesystem (both under var/broker): a rename, so one consumer wins.
                os.rename(os.path.join(self.data_folder_in, name), claimed)
            except FileNotFoundError:
                continue
            payload = claimed.read_bytes()
            if not self.store_processed:
                claimed.unlink()
            try:
                return loads(bytes_to_str(payload))
            except ValueError:
                # Never written by this transport (a file dropped in by hand, a disk
                # error): skip it rather than let one file stop the worker for good.
                logger.error("Skipped an unreadable broker message %s", name)
        raise Empty()

    def _table_file(self, exchange: str) -> Path:
        # "" is AMQP's default exchange; kombu names its table ".exchange" too.
        if exchange and not EXCHANGE_NAME.fullmatch(exchange):
            raise ChannelError(f"Invalid exchange name: {exchange!r}")
        return self.control_folder / f"{exchange}.exchange"

    def get_table(self, exchange):
        file = self._table_file(exchange)
        try:
            return [filesystem.exchange_queue_t(*row) for row in loads(file.read_bytes())]
        except FileNotFoundError:
            return []

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        row = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with self._table_lock():
            rows = self.get_table(exchange)
            if row not in rows:
                self._write_table(exchange, [row, *rows])

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        # The virtual base class forgets the queue's bindings in memory; the file is ours.
        super(filesystem.Channel, self)._delete(
            queue, exchange, routing_key, pattern, *args, **kwargs
        )
        row = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with self._table_lock():
            rows = self.get_table(exchange)
            if row in rows:
                rows.remove(row)
                self._write_table(exchange, rows)

    def _write_table(self, exchange, rows) -> None:
        write_atomically(self._table_file(exchange), str_to_bytes(dumps(rows)))

    @contextmanager
    def _table_lock(self) -> Iterator[None]:
        """Serialise read-modify-write of exchange tables across processes."""
        self.control_folder.mkdir(parents=True, exist_ok=True)
        with open(self.control_folder / ".tables.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class Transport(filesystem.Transport):
    """The filesystem transport with :class:`Channel`'s atomic writes."""

    Channel = Channel
