"""Opening a database: create tracklet's schema in an empty one, migrate an older one, and refuse
one that another program (MLflow, say) created, without changing it.

Many processes may open one fresh file at once. Whoever takes the write lock first creates the
schema; the others wait for the lock, then find it there.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tracklet.entities import LifecycleStage
from tracklet.exceptions import INVALID_STATE, MlflowException
from tracklet.store.sql import migrations
from tracklet.store.sql.engine import is_sqlite, sqlite_path
from tracklet.store.sql.schema import VERSION_TABLE, experiments, metadata
from tracklet.uri import append_to_uri_path

DEFAULT_EXPERIMENT_ID = 0
DEFAULT_EXPERIMENT_NAME = "Default"
# Any key: it serialises schema creation between processes on one PostgreSQL database.
_PG_INIT_LOCK = 7_264_531_908


def ensure_schema(engine: Engine, default_artifact_root: str) -> None:
    """Make the database ready for tracklet, or raise naming it and what to do."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if is_sqlite(engine):
            _enable_wal(conn)
        if _current_revision(conn) == migrations.HEAD:
            return
        _begin_exclusive(conn)
        try:
            _create_or_migrate(conn, engine, default_artifact_root)
        except BaseException:
            conn.exec_driver_sql("ROLLBACK")
            raise
        conn.exec_driver_sql("COMMIT")


def database_revision(engine: Engine) -> str | None:
    """The tracklet schema revision of the database behind ``engine``; None when it has none."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return _current_revision(conn)


def _enable_wal(conn: Connection) -> None:
    # Persistent for the file. Switching needs a moment alone with the file; when a crowd of
    # processes opens a fresh file, retry until one of them has done it.
    deadline = time.monotonic() + 30
    while True:
        try:
            mode = conn.exec_driver_sql("PRAGMA journal_mode = WAL").scalar()
            if str(mode).lower() == "wal":
                return
        except sa.exc.OperationalError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.01)


def _begin_exclusive(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_INIT_LOCK)))


def _table_names(conn: Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names())


def _current_revision(conn: Connection) -> str | None:
    try:
        return conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()
    except sa.exc.DBAPIError:
        # No version table (yet). The connection is in autocommit, so even on PostgreSQL the
        # failed statement leaves it usable.
        return None


def _create_or_migrate(conn: Connection, engine: Engine, default_artifact_root: str) -> None:
    tables = _table_names(conn) - {"sqlite_sequence"}
    if not tables:
        metadata.create_all(conn)
        conn.execute(
            sa.text(f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        )
        conn.execute(sa.text(f"INSERT INTO {VERSION_TABLE} VALUES (:v)"), {"v": migrations.HEAD})
    elif VERSION_TABLE not in tables:
        raise _foreign_database(engine, tables)
    else:
        revision = _current_revision(conn)
        if revision == migrations.HEAD:
            pass
        elif revision in migrations.KNOWN_REVISIONS:
            migrations.upgrade(conn)
        else:
            raise MlflowException(
                f"The database {_describe(engine)} has tracklet schema revision {revision!r}, "
                f"which this version of tracklet does not know (its newest is "
                f"{migrations.HEAD!r}). Upgrade tracklet to open it.",
                INVALID_STATE,
            )
    _ensure_default_experiment(conn, default_artifact_root)


def _ensure_default_experiment(conn: Connection, default_artifact_root: str) -> None:
    exists = conn.execute(
        sa.select(experiments.c.experiment_id).where(
            experiments.c.experiment_id == DEFAULT_EXPERIMENT_ID
        )
    ).first()
    if exists:
        return
    now = int(time.time() * 1000)
    conn.execute(
        experiments.insert().values(
            experiment_id=DEFAULT_EXPERIMENT_ID,
            name=DEFAULT_EXPERIMENT_NAME,
            artifact_location=append_to_uri_path(default_artifact_root, str(DEFAULT_EXPERIMENT_ID)),
            lifecycle_stage=LifecycleStage.ACTIVE,
            creation_time=now,
            last_update_time=now,
        )
    )


def _describe(engine: Engine) -> str:
    if is_sqlite(engine):
        return sqlite_path(engine)
    return engine.url.render_as_string(hide_password=True)


def _foreign_database(engine: Engine, tables: set[str]) -> MlflowException:
    listed = ", ".join(sorted(tables)[:8]) + (", ..." if len(tables) > 8 else "")
    made_by = " It looks like an MLflow database." if "alembic_version" in tables else ""
    return MlflowException(
        f"The database {_describe(engine)} was not created by tracklet: it already has tables "
        f"({listed}) but no tracklet schema.{made_by} tracklet does not change another "
        "program's database. Point tracklet at a new database instead, for example "
        "sqlite:///tracklet.db (the default) or an empty PostgreSQL database.",
        INVALID_STATE,
    )
