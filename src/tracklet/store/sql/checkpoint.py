"""WAL checkpoints off the write path.

SQLite's automatic checkpoint runs inside the commit that crosses the threshold: every
thousand pages or so one commit copies megabytes back into the database file, and it roughly
halves the throughput of small commits. tracklet's writer turns that off and this thread
checkpoints instead, on a connection of its own: SQLite releases the GIL while it works, so the
copy runs on another core beside the logging process.

A PASSIVE checkpoint never blocks writers, but while a writer keeps committing SQLite does
not start the WAL over, even when a pass copied every frame (measured: a writer logging in a
tight loop grew the file by every frame it wrote, 100 MB in a few seconds). Each write then
lands past the end of the file, where the kernel allocates and zeroes fresh blocks: a sixth of
a busy server's CPU went there. So once the log in use passes ``PASSIVE_BYTES``, a PASSIVE pass
copies the bulk and a RESTART pass copies the few frames left and starts the log over: the next
commits write from the start of the file again, over blocks already allocated and cached.
RESTART needs a moment without writers, so it takes tracklet's own write lock first (every
tracklet writer of the file, in any process, waits there in turn; SQLite's busy loop would
retry at random moments and seldom find a gap between a tight loop's commits). Readers it
gives ``RESTART_WAIT_MS`` to leave the log; if one stays (a long read holds an old snapshot)
it gives up and waits before trying again: one look at first (the reader may have been brief,
or another process checkpointing), twice as long after each failure up to
``RESTART_BACKOFF_S``, so a long reader costs writers a short wait every few seconds.
A WAL grown past ``TRUNCATE_BYTES`` (a reader pinned an old snapshot for very long) is
truncated with a brief wait.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager

from tracklet.store.sql.fork_gate import GATE

_logger = logging.getLogger(__name__)

CHECK_INTERVAL_S = 0.5
PASSIVE_BYTES = 8 * 1024 * 1024
TRUNCATE_BYTES = 512 * 1024 * 1024
RESTART_WAIT_MS = 50
RESTART_BACKOFF_S = 5.0
_FRAME_HEADER = 24  # bytes before each page in the WAL

_checkpointers: weakref.WeakSet[Checkpointer] = weakref.WeakSet()


class Checkpointer:
    """Keeps one SQLite file's WAL short from a background thread."""

    def __init__(
        self,
        path: str,
        busy_timeout_s: float,
        write_lock: Callable[[], AbstractContextManager[None]] | None = None,
    ) -> None:
        """``write_lock`` gives the lock tracklet's writers of the file hold (taken for RESTART;
        without one, only SQLite's own locks keep writers out)."""
        self._path = path
        self._write_lock = write_lock
        self._wal = path + "-wal"
        self._timeout = busy_timeout_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._restart_after = 0.0  # monotonic time before which RESTART is not tried again
        self._restart_backoff = 0.0  # how long the last failed RESTART put the next one off
        # The WAL's (size, mtime) when a look last found every frame copied: the file keeps its
        # size once reused, so an idle server would otherwise connect on every look.
        self._settled: tuple[int, int] | None = None
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

    def _wal_state(self) -> tuple[int, int]:
        try:
            stat = os.stat(self._wal)
        except OSError:
            return 0, 0
        return stat.st_size, stat.st_mtime_ns

    def checkpoint_if_needed(self) -> None:
        state = self._wal_state()
        size = state[0]
        if size < PASSIVE_BYTES or state == self._settled:
            return
        self._settled = None
        try:
            with GATE, self._connect(self._timeout) as conn:
                if size >= TRUNCATE_BYTES:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                    return
                # The file keeps its size when SQLite starts it over: count the frames in use.
                _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            restart = frames * (page_size + _FRAME_HEADER) >= PASSIVE_BYTES
            if restart and time.monotonic() >= self._restart_after:
                restart = not self._restart()
            if not restart and copied == frames:
                # All copied: the next writer starts the log over itself. Until one writes
                # (the file's mtime moves), there is nothing to look at.
                self._settled = state
        except sqlite3.Error as error:  # busy or locked: try again next time
            _logger.debug("WAL checkpoint of %s skipped: %s", self._path, error)

    def _connect(self, timeout_s: float) -> contextlib.closing[sqlite3.Connection]:
        return contextlib.closing(
            sqlite3.connect(self._path, timeout=timeout_s, isolation_level=None)
        )

    def _restart(self) -> bool:
        """Copy the frames the PASSIVE pass left and start the WAL over, writers held back;
        whether it did."""
        lock = GATE if self._write_lock is None else self._write_lock()
        with lock, self._connect(RESTART_WAIT_MS / 1000) as conn:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        if busy:
            backoff = min(RESTART_BACKOFF_S, max(CHECK_INTERVAL_S, 2 * self._restart_backoff))
            self._restart_backoff = backoff
            self._restart_after = time.monotonic() + backoff
            return False
        self._restart_backoff = 0.0
        return True

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
