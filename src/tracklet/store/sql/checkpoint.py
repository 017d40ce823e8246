"""WAL checkpoints off the write path.

SQLite's automatic checkpoint runs inside the commit that crosses the threshold: every
thousand pages or so one commit copies megabytes back into the database file, and it roughly
halves the throughput of small commits. tracklet's writer turns that off and this thread
checkpoints instead, on a connection of its own: SQLite releases the GIL while it works, so the
copy runs on another core beside the logging process. A PASSIVE checkpoint never blocks writers;
only a WAL grown past ``TRUNCATE_BYTES`` (a reader pinned an old snapshot for very long) is
truncated with a brief wait.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sqlite3
import threading
import weakref

from tracklet.store.sql.fork_gate import GATE

_logger = logging.getLogger(__name__)

CHECK_INTERVAL_S = 0.5
PASSIVE_BYTES = 8 * 1024 * 1024
TRUNCATE_BYTES = 512 * 1024 * 1024

_checkpointers: weakref.WeakSet[Checkpointer] = weakref.WeakSet()


class Checkpointer:
    """Keeps one SQLite file's WAL short from a background thread."""

    def __init__(self, path: str, busy_timeout_s: float) -> None:
        self._path = path
        self._wal = path + "-wal"
        self._timeout = busy_timeout_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        _checkpointers.add(self)

    def ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="tracklet-wal-checkpoint", daemon=True
                )
                self._thread.start()

    def _wal_size(self) -> int:
        try:
            return os.path.getsize(self._wal)
        except OSError:
            return 0

    def checkpoint_if_needed(self) -> None:
        size = self._wal_size()
        if size < PASSIVE_BYTES:
            return
        mode = "TRUNCATE" if size >= TRUNCATE_BYTES else "PASSIVE"
        try:
            with (
                GATE,
                contextlib.closing(
                    sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None)
                ) as conn,
            ):
                conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
        except sqlite3.Error as error:  # busy or locked: try again next time
            _logger.debug("WAL checkpoint of %s skipped: %s", self._path, error)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.checkpoint_if_needed()
            self._stop.wait(CHECK_INTERVAL_S)

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._thread = None
        self._stop = threading.Event()

    def forget_after_fork(self) -> None:
        # The thread does not exist in a forked child; start a new one on the next write.
        self._thread = None
        self._stop = threading.Event()
        self._lock = threading.Lock()


def _checkpoint_at_exit() -> None:
    # A short-lived process may exit before its thread ever looked: leave the WAL short.
    for checkpointer in list(_checkpointers):
        if checkpointer._thread is not None:
            checkpointer.checkpoint_if_needed()


atexit.register(_checkpoint_at_exit)
