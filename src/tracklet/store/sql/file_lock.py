"""The write lock of one SQLite file shared by every tracklet process: ``flock`` on a file beside
the database (``<database>-writer.lock``).

SQLite's own lock makes a blocked writer poll: its busy handler sleeps 1, 2, 5, 10, ... up to 100
ms between tries, so with a few processes writing short transactions most of the time goes to
sleeping while the lock is free (four processes creating runs on one file reached 125 runs/s).
A writer that first takes this lock waits in the kernel instead and is woken the moment the
holder lets go; it then finds SQLite's lock free. Other programs writing the file (the sqlite3
shell, MLflow) do not take it and are still handled by SQLite's lock and ``busy_timeout``.

A separate file, not the database: closing any descriptor of the database would drop the POSIX
locks SQLite holds on it. Where the lock file cannot be created (a read-only directory) or
``flock`` does not exist (Windows), writers rely on SQLite's lock alone.
"""

from __future__ import annotations

import os

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

from tracklet.store.sql.fork_gate import keep_inherited

SUFFIX = "-writer.lock"


class FileLock:
    """An exclusive ``flock`` on ``<database>-writer.lock``, opened on first use."""

    __slots__ = ("_fd", "_path", "_usable")

    def __init__(self, database_path: str) -> None:
        self._path = database_path + SUFFIX
        self._fd: int | None = None
        self._usable = fcntl is not None

    def acquire(self) -> None:
        if not self._usable:
            return
        if self._fd is None:
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError:
                self._usable = False  # read-only directory: SQLite's lock alone
                return
        fcntl.flock(self._fd, fcntl.LOCK_EX)  # releases the GIL while it waits

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        self.release()

    def forget_after_fork(self) -> None:
        # The child shares the parent's open file description, and with it the lock: it opens
        # its own. The inherited descriptor is kept open (closing it is harmless for flock,
        # but keeping it costs one descriptor and keeps the rule of never closing inherited
        # handles simple).
        keep_inherited(self._fd)
        self._fd = None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
