"""Engines, connection settings and the single-writer discipline for SQLite and PostgreSQL.

Writes go through one :class:`Writer` per store: one connection guarded by a lock, in autocommit
mode, whose multi-statement transactions start with ``BEGIN IMMEDIATE`` on SQLite. Taking the
write lock up front is what makes many processes writing one file safe: a deferred transaction
that reads and then writes fails at once with SQLITE_BUSY when another process committed in
between, whereas an immediate one simply waits its turn (``busy_timeout``). Reads use pooled
connections of their own, which WAL lets run beside the writer.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tracklet import env
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.store.sql.compiled import Db
from tracklet.store.sql.file_lock import FileLock
from tracklet.store.sql.fork_gate import GATE, keep_inherited


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def normalize_db_uri(uri: str) -> str:
    """The SQLAlchemy URL for a tracking URI: absolute SQLite paths, psycopg 3 for PostgreSQL."""
    if uri.startswith("sqlite:"):
        if uri in ("sqlite://", "sqlite:///:memory:"):
            raise MlflowException(
                "An in-memory SQLite database cannot be shared between connections; use a file, "
                "e.g. sqlite:///tracklet.db",
                INVALID_PARAMETER_VALUE,
            )
        if not uri.startswith("sqlite:///"):
            raise MlflowException(
                f"Invalid SQLite URI {uri!r}: expected sqlite:///relative/path.db or "
                "sqlite:////absolute/path.db",
                INVALID_PARAMETER_VALUE,
            )
        path, _, query = uri[len("sqlite:///") :].partition("?")
        absolute = os.path.abspath(path)
        return f"sqlite:///{absolute}" + (f"?{query}" if query else "")
    scheme, _, rest = uri.partition("://")
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return uri


def sqlite_path(engine: Engine) -> str:
    return str(engine.url.database)


def create_sql_engine(db_uri: str) -> Engine:
    url = sa.engine.make_url(db_uri)
    if url.get_backend_name() == "sqlite":
        directory = os.path.dirname(str(url.database))
        if directory and not os.path.isdir(directory):
            raise MlflowException(
                f"Cannot open the SQLite database {url.database}: the directory {directory} "
                "does not exist.",
                INVALID_PARAMETER_VALUE,
            )
        engine = sa.create_engine(
            url,
            connect_args={
                "timeout": env.TRACKLET_SQLITE_BUSY_TIMEOUT.get(),
                "check_same_thread": False,
            },
            pool_size=8,
            max_overflow=16,
        )
        sa.event.listen(engine, "connect", _configure_sqlite_connection)
        return engine
    # Autocommit: a read is one statement (READ COMMITTED gave each statement its own snapshot
    # anyway), so no BEGIN and ROLLBACK round trips around every search page; the writer
    # BEGINs its own transactions.
    try:
        engine = sa.create_engine(
            url, pool_size=8, max_overflow=16, pool_pre_ping=True, isolation_level="AUTOCOMMIT"
        )
    except ModuleNotFoundError as e:
        # The driver is an optional extra; say which one instead of a bare import error.
        if url.get_backend_name() != "postgresql" or e.name not in ("psycopg", "psycopg2"):
            raise
        raise MlflowException(
            f"A PostgreSQL tracking URI needs the psycopg driver ({e.name} is not installed): "
            "pip install 'tracklet[postgres]'",
            INVALID_PARAMETER_VALUE,
        ) from None
    sa.event.listen(engine, "connect", _configure_postgres_connection)
    return engine


def _configure_postgres_connection(dbapi_connection: Any, _record: Any) -> None:
    # No parallel workers: a search page stops after a few hundred index probes, and starting
    # workers (10-25 ms) costs more than the query itself. Autocommit first, so the SET does
    # not leave a transaction open.
    dbapi_connection.autocommit = True
    dbapi_connection.execute("SET max_parallel_workers_per_gather = 0")


# Address space, not memory: pages are shared with the OS page cache.
_READER_MMAP_BYTES = 1 << 30


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Per connection, once: these are not persistent settings of the file (WAL is; see schema).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    # NORMAL in WAL mode: a commit is durable against a crash of the process (the point survives
    # kill -9), and costs no fsync per commit; only an OS crash can lose the last commits.
    cursor.execute("PRAGMA synchronous = NORMAL")
    # LIKE is case-sensitive in MLflow's SQL store; ILIKE is compiled to lower() LIKE lower().
    cursor.execute("PRAGMA case_sensitive_like = true")
    # Readers map the file: a search page reads pages all over it (its runs, their packs), and
    # a mapped page costs a memory access where a read costs a system call into the page
    # cache: a full scan of 100,000 runs goes 25% faster. The writer turns it off (Writer.db).
    cursor.execute(f"PRAGMA mmap_size = {_READER_MMAP_BYTES}")
    cursor.close()


class WriteLock:
    """The writer's lock, taken inside the fork gate: whoever holds it may be inside SQLite.
    On a SQLite file it also holds the file's lock shared by every process (``file_lock``)."""

    __slots__ = ("_file", "_lock")

    def __init__(self, file_lock: FileLock | None = None) -> None:
        self._lock = threading.Lock()
        self._file = file_lock

    def acquire(self) -> None:
        GATE.enter()
        try:
            self._lock.acquire()
        except BaseException:
            GATE.leave()
            raise
        if self._file is not None:
            try:
                self._file.acquire()
            except BaseException:
                self._lock.release()
                GATE.leave()
                raise

    def release(self) -> None:
        if self._file is not None:
            self._file.release()
        self._lock.release()
        GATE.leave()

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        self.release()


class _Transaction:
    """``with writer.transaction() as db``: takes the write lock, BEGINs, and COMMITs (or rolls
    back on an exception). A class rather than a generator-based context manager: it is on every
    write path, and this is measurably cheaper."""

    __slots__ = ("_cursor", "_writer")

    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    def __enter__(self) -> Db:
        writer = self._writer
        writer.lock.acquire()
        try:
            db = writer.db()
            self._cursor = db.dbapi.cursor()
            self._cursor.execute(writer.begin_sql)
        except BaseException:
            writer.lock.release()
            raise
        return db

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        try:
            if exc_type is None:
                try:
                    self._cursor.execute("COMMIT")
                except BaseException:
                    self._rollback()
                    raise
            else:
                self._rollback()
        finally:
            # Released here, inside the gate: freeing a cursor resets its statement in SQLite.
            self._cursor.close()
            del self._cursor
            self._writer.lock.release()

    def _rollback(self) -> None:
        try:
            self._cursor.execute("ROLLBACK")
        except Exception:  # the failure may have ended the transaction already
            pass


class Writer:
    """The store's one write connection, its lock, and its transactions."""

    def __init__(self, engine: Engine, file_lock: FileLock | None = None) -> None:
        self._engine = engine
        self.dialect_name = engine.dialect.name
        self._file_lock = file_lock
        self.lock = WriteLock(file_lock)
        self._raw: Any = None
        self._db: Db | None = None
        self.begin_sql = "BEGIN IMMEDIATE" if is_sqlite(engine) else "BEGIN"
        # Points this process appended to each (run, key) tail since it last moved (metrics).
        self.tail_sizes: dict[tuple[str, str], int] = {}

    def db(self) -> Db:
        """The write connection, in autocommit mode. Call with ``lock`` held."""
        if self._db is None:
            raw = self._engine.raw_connection()
            dbapi: Any = raw.driver_connection
            if self.dialect_name == "sqlite":
                dbapi.isolation_level = None
                # Checkpoints run on a thread of their own (see checkpoint.py), not in a commit.
                dbapi.execute("PRAGMA wal_autocheckpoint = 0")
                # A mapped file makes each commit ~5 µs dearer (a synchronous log_metric is
                # ~33 µs); the writer reads little.
                dbapi.execute("PRAGMA mmap_size = 0")
            else:
                dbapi.autocommit = True
            self._raw, self._db = raw, Db(dbapi, self.dialect_name)
        return self._db

    def transaction(self) -> _Transaction:
        """One write transaction: all of it commits, or none of it does."""
        return _Transaction(self)

    def forget_after_fork(self) -> None:
        # The parent's connection must not be used (nor closed) in a forked child.
        keep_inherited(self._raw)
        if self._file_lock is not None:
            self._file_lock.forget_after_fork()
        self.lock = WriteLock(self._file_lock)
        self._raw = self._db = None

    def close(self) -> None:
        with self.lock:
            if self._raw is not None:
                self._raw.close()
            self._raw = self._db = None
        if self._file_lock is not None:
            self._file_lock.close()
