"""PostgreSQL connections for one-statement writes (``pg_points``) and reads, kept checked out.

The engine's pool pings a connection at every checkout (``pool_pre_ping``): a round trip as
dear as a small write's statement. Writers and readers here keep up to ``IDLE`` connections of
their own between calls instead, so a write is the statement's round trip alone, and a read's
first statement doubles as the liveness check (``reader``). A connection that fails (the server
restarted, say) is invalidated, not reused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from tracklet.store.sql.compiled import Db
from tracklet.store.sql.fork_gate import GATE, keep_inherited

IDLE = 8  # connections kept between calls (more are checked out while more run at once)

T = TypeVar("T")


class StatementPool:
    """Checked-out autocommit connections reused for one-statement writes."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._idle: list[Any] = []
        self._lock = threading.Lock()

    @contextmanager
    def connection(self) -> Iterator[Db]:
        with GATE:
            raw = self._take()
            try:
                yield self._db(raw)
            except BaseException as error:
                self._give_back(raw, error)
                raise
            self._give_back(raw, None)

    @contextmanager
    def reader(self, probe: Callable[[Db], T]) -> Iterator[tuple[Db, T]]:
        """A kept connection and what ``probe`` (its first statement) returned. A search under
        load paid one round trip, and a wake-up, for the pool's ping: here the probe is the
        check. If it finds a kept connection broken (the database restarted since, say), it
        runs again, once, on a new connection from the engine's pool, which pings."""
        with GATE:
            raw = self._take()
            try:
                db = self._db(raw)
                try:
                    result = probe(db)
                except Exception as error:
                    if not _is_broken(raw, error):
                        raise
                    _discard(raw)
                    raw = self._engine.raw_connection()
                    db = self._db(raw)
                    result = probe(db)
                yield db, result
            except BaseException as error:
                self._give_back(raw, error)
                raise
            self._give_back(raw, None)

    def _take(self) -> Any:
        """A kept connection, or a new one from the engine's pool."""
        with self._lock:
            raw = self._idle.pop() if self._idle else None
        return raw if raw is not None else self._engine.raw_connection()

    def _db(self, raw: Any) -> Db:
        return Db(raw.driver_connection, self._engine.dialect.name)

    def _give_back(self, raw: Any, error: BaseException | None) -> None:
        """Keep ``raw`` for the next call, unless ``error`` left it unusable."""
        if error is not None and _is_broken(raw, error):
            _discard(raw)
        else:
            self._keep(raw)

    def _keep(self, raw: Any) -> None:
        with self._lock:
            if len(self._idle) < IDLE:
                self._idle.append(raw)
                return
        raw.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for raw in idle:
            raw.close()

    def forget_after_fork(self) -> None:
        # The parent's connections must not be used (nor closed) in a forked child.
        for raw in self._idle:
            keep_inherited(raw)
        self._idle = []
        self._lock = threading.Lock()


def _discard(raw: Any) -> None:
    raw.invalidate()
    raw.close()


def _is_broken(raw: Any, error: BaseException) -> bool:
    """Whether the connection is unusable after ``error`` (closed, or in a failed state)."""
    connection = raw.driver_connection
    if connection is None or connection.closed or connection.broken:
        return True
    return type(error).__name__ == "OperationalError"
