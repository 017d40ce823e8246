"""The core every SQL store mixin shares: one engine, one writer, pooled readers, the background
helpers (repacker, WAL checkpointer), the lifecycle and the reset after ``fork``.

The per-resource mixins (``experiment_store``, ``run_store``, ...) subclass :class:`SqlStoreBase`
for its attributes and add only methods; :class:`~tracklet.store.sql.store.SqlStore` composes
them. See that module's docstring for how a new resource slots in.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from tracklet import env
from tracklet.store.sql import metric_batches
from tracklet.store.sql.checkpoint import Checkpointer
from tracklet.store.sql.compiled import Db
from tracklet.store.sql.engine import (
    Writer,
    create_sql_engine,
    is_sqlite,
    normalize_db_uri,
    sqlite_path,
)
from tracklet.store.sql.file_lock import FileLock
from tracklet.store.sql.fork_gate import GATE, keep_inherited
from tracklet.store.sql.planner_stats import PlannerStats
from tracklet.store.sql.repacker import Repacker
from tracklet.store.sql.schema_version import ensure_schema
from tracklet.store.sql.statement_pool import StatementPool

ARTIFACTS_FOLDER = "artifacts"
DEFAULT_ARTIFACT_DIR = "tracklet-artifacts"

_logger = logging.getLogger(__name__)
_open_stores: weakref.WeakSet[SqlStoreBase] = weakref.WeakSet()


def now_ms() -> int:
    """The current time in milliseconds, as the tables store it."""
    return int(time.time() * 1000)


def _local_artifact_root(db_uri: str) -> str:
    """Artifacts of a local SQLite store live beside the file; otherwise under the cwd."""
    if db_uri.startswith("sqlite:///"):
        path = db_uri[len("sqlite:///") :].partition("?")[0]
        return os.path.join(os.path.dirname(os.path.abspath(path)), DEFAULT_ARTIFACT_DIR)
    return os.path.abspath(DEFAULT_ARTIFACT_DIR)


class SqlStoreBase:
    """Connections and lifecycle of a SQL store (``sqlite:///`` or ``postgresql://``).

    Writes go through ``self._writer`` (one connection, one lock: SQLite has a single writer),
    reads through ``self._reader()`` (pooled connections; WAL lets them run beside the writer).
    """

    def __init__(self, tracking_uri: str, default_artifact_root: str | None = None) -> None:
        self._tracking_uri = tracking_uri
        db_uri = normalize_db_uri(tracking_uri)
        self.artifact_root = default_artifact_root or _local_artifact_root(db_uri)
        self._engine = create_sql_engine(db_uri)
        # Every tracklet process writing a SQLite file queues on one lock in the kernel
        # instead of polling SQLite's (see file_lock); opening a fresh file included.
        file_lock = FileLock(sqlite_path(self._engine)) if is_sqlite(self._engine) else None
        with GATE:
            if file_lock is None:
                ensure_schema(self._engine, self.artifact_root)
            else:
                with file_lock:
                    ensure_schema(self._engine, self.artifact_root)
        self._writer = Writer(self._engine, file_lock)
        self._repacker = Repacker(self._writer)
        self._checkpointer = (
            Checkpointer(
                sqlite_path(self._engine),
                env.TRACKLET_SQLITE_BUSY_TIMEOUT.get(),
                lambda: self._writer.lock,  # looked up each time: a forked child gets a new one
            )
            if is_sqlite(self._engine)
            else None
        )
        if self._checkpointer is not None:
            self._checkpointer.ensure_started()
        self._dialect_name = self._engine.dialect.name
        self._planner_stats = PlannerStats(self._dialect_name)
        # Points per (run, metric) in the row-per-point tail, kept by the metric writes.
        self._tail_sizes: dict[tuple[str, str], int] = self._writer.tail_sizes
        # Wide batches are written as one row and folded before reads (see metric_batches).
        self._defers_wide_batches = self._dialect_name in metric_batches.DEFERRING_DIALECTS
        self._deferred_points = 0
        # The key lists this store has registered for its wide batches' rows (metric_batches).
        self._key_sets = metric_batches.KeySets()
        # PostgreSQL: a metrics-only batch is one statement on a pooled connection (pg_points).
        self._one_statement_batches = self._dialect_name == "postgresql"
        self._statements = StatementPool(self._engine)
        _open_stores.add(self)

    @property
    def tracking_uri(self) -> str:
        return self._tracking_uri

    @property
    def is_local(self) -> bool:
        """True for a SQLite file: calls take microseconds and no network round trip."""
        return self._dialect_name == "sqlite"

    @property
    def quick_calls(self) -> bool:
        """True: every call is a statement or two on this store's own database."""
        return True

    @property
    def checks_points_remotely(self) -> bool:
        """False: this store checks points itself (and names them differently per method)."""
        return False

    @property
    def engine(self) -> sa.engine.Engine:
        return self._engine

    def wait_for_packing(self, timeout: float = 30.0) -> bool:
        """Wait until the runs searches handed to the repacker so far are packed (see
        ``repacker``); False if ``timeout`` seconds passed first. Benchmarks and tests call it
        to read the steady state, where a search a moment after the first reads packs."""
        return self._repacker.flush(timeout)

    def close(self) -> None:
        """Stop the background helpers, checkpoint the WAL and close every connection."""
        self._repacker.stop()
        self._statements.close()
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer.checkpoint_if_needed()
        self._writer.close()
        with GATE:
            self._engine.dispose()

    @contextmanager
    def _reader(self) -> Iterator[Db]:
        """A pooled connection for reads; WAL lets it run beside the writer. Wide metric
        batches still pending (from any process) are folded first, so the read sees them."""
        if self._one_statement_batches:  # PostgreSQL: a kept connection, probed (see reader)
            with self._statements.reader(metric_batches.any_pending) as (db, pending):
                if not pending:
                    yield db
                    return
            self._fold_pending()  # outside the reader: the fold takes the writer's lock
            with self._statements.reader(metric_batches.any_pending) as (db, _):
                yield db
            return
        GATE.enter()
        try:
            raw = self._engine.raw_connection()
            try:
                db = Db(raw.driver_connection, self._dialect_name)
                if self._defers_wide_batches and metric_batches.any_pending(db):
                    # Outside the gate while waiting for the write lock (which enters it).
                    GATE.leave()
                    try:
                        self._fold_pending()
                    except sqlite3.Error as error:  # a read-only file: read what is there
                        _logger.warning(
                            "wide metric batches not folded: reads miss them: %s", error
                        )
                    finally:
                        GATE.enter()
                yield db
            finally:
                raw.close()
        finally:
            GATE.leave()

    def _fold_pending(self) -> None:
        """Fold every pending wide metric batch into the usual layout (see metric_batches)."""
        with self._writer.transaction() as db:
            metric_batches.fold(db, self._tail_sizes)
        self._deferred_points = 0

    def _deferred_some(self, points: int) -> None:
        """Count points this writer deferred; fold when they pass ``FOLD_POINTS``."""
        self._deferred_points += points
        if self._deferred_points >= metric_batches.FOLD_POINTS:
            self._fold_pending()

    def _after_fork(self) -> None:
        self._writer.forget_after_fork()
        self._statements.forget_after_fork()
        self._repacker.forget_after_fork()
        self._planner_stats = PlannerStats(self._dialect_name)  # its lock may be held
        if self._checkpointer is not None:
            self._checkpointer.forget_after_fork()
            self._checkpointer.ensure_started()
        # The parent's pooled connections stay open and untouched; the child opens its own.
        keep_inherited(self._engine.pool)
        self._engine.dispose(close=False)


def _reset_stores_after_fork() -> None:
    for store in list(_open_stores):
        store._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_stores_after_fork)
