"""Keep ``fork()`` from landing while a thread of this process is inside SQLite.

SQLite guards its allocator and file-lock tables with process-wide pthread mutexes, and Python
releases the GIL while SQLite runs. A fork at the moment another thread holds one of those
mutexes (a background writer committing, a server thread reading) hands the child a mutex
that nobody will ever release: the child's first SQLite call hangs for good, and a
``multiprocessing.Pool`` waits on it forever. So every stretch of SQLite work enters this gate,
and a fork waits (briefly; a few milliseconds at most in practice) until no thread is inside.

The child also inherits the parent's open connections. SQLite forbids using them there,
closing included (a close can checkpoint and delete the WAL other processes still use), so
they are kept referenced for the child's whole life instead of being garbage collected.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

_logger = logging.getLogger(__name__)

# A fork waits at most this long for threads to leave SQLite, then goes ahead and says so.
FORK_WAIT_S = 30.0


class ForkGate:
    """Counts threads inside SQLite; a fork waits for zero and holds new entrants back."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._inside = 0
        self._forking = False

    def enter(self) -> None:
        with self._lock:
            while self._forking:
                self._changed.wait()
            self._inside += 1

    def leave(self) -> None:
        with self._lock:
            self._inside -= 1
            if self._forking and not self._inside:
                self._changed.notify_all()

    def __enter__(self) -> None:
        self.enter()

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        self.leave()

    def before_fork(self) -> None:
        self._lock.acquire()  # held across the fork: nobody enters until it is over
        self._forking = True
        deadline = time.monotonic() + FORK_WAIT_S
        while self._inside:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _logger.warning(
                    "fork(): %d thread(s) still inside SQLite after %.0f s; forking anyway, the "
                    "child may hang on its first database call",
                    self._inside,
                    FORK_WAIT_S,
                )
                break
            self._changed.wait(remaining)

    def after_fork_in_parent(self) -> None:
        self._forking = False
        self._changed.notify_all()
        self._lock.release()

    def after_fork_in_child(self) -> None:
        # Only the forking thread exists here, and it was outside SQLite.
        self._reset()


GATE = ForkGate()

_inherited: list[Any] = []


def keep_inherited(connection_or_pool: Any) -> None:
    """Never close (nor collect) a connection, or pool of them, inherited from the parent."""
    if connection_or_pool is not None:
        _inherited.append(connection_or_pool)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=GATE.before_fork,
        after_in_parent=GATE.after_fork_in_parent,
        after_in_child=GATE.after_fork_in_child,
    )
