"""Alembic migrations of the auth database (users, grants, access tokens), apart from the
tracking schema's, as MLflow's auth database has its own (``alembic_version_auth``).

``migrate`` brings a database to ``HEAD`` under a write lock (several server workers may open
one fresh file at once): an empty one is created by the migrations; one made by the releases
that used ``create_all`` (the three tables, no version table) is stamped at the first revision,
whose schema it has, then upgraded; a database with other tables is refused, unchanged.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tracklet.exceptions import INVALID_STATE, MlflowException

HEAD = "0001_auth_initial"
FIRST = "0001_auth_initial"
VERSION_TABLE = "tracklet_auth_alembic_version"
TABLES = frozenset({"users", "grants", "access_tokens"})
_HERE = os.path.dirname(os.path.abspath(__file__))
_PG_LOCK = 7_264_531_909  # any key: serialises migrations between processes on PostgreSQL


def _config(connection: Connection) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", _HERE)
    config.set_main_option("version_table", VERSION_TABLE)
    config.attributes["connection"] = connection
    return config


def revision(conn: Connection) -> str | None:
    """The auth schema revision; None without a version table."""
    if VERSION_TABLE not in sa.inspect(conn).get_table_names():
        return None
    return conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()


def migrate(engine: Engine) -> None:
    """Bring the auth database to HEAD (see the module docstring).

    Raises:
        MlflowException: INVALID_STATE for a database that is not an auth database tracklet
            made, or one of a newer revision.
    """
    from alembic import command

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if revision(conn) == HEAD:
            return
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_LOCK)))
        try:
            tables = set(sa.inspect(conn).get_table_names()) - {"sqlite_sequence"}
            current = revision(conn)
            if current is None and tables:
                if tables != TABLES:
                    raise _foreign(engine, tables)
                command.stamp(_config(conn), FIRST)  # type: ignore[arg-type]
            elif current is not None and current != HEAD and current not in _known():
                raise MlflowException(
                    f"The auth database {_describe(engine)} has revision {current!r}, which this "
                    f"version of tracklet does not know (its newest is {HEAD!r}).",
                    INVALID_STATE,
                )
            command.upgrade(_config(conn), "head")  # type: ignore[arg-type]
        except BaseException:
            conn.exec_driver_sql("ROLLBACK")
            raise
        conn.exec_driver_sql("COMMIT")


def _known() -> set[str]:
    versions = os.path.join(_HERE, "versions")
    return {name[:-3] for name in os.listdir(versions) if name.endswith(".py")}


def _describe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _foreign(engine: Engine, tables: set[str]) -> MlflowException:
    made_by = " It looks like MLflow's auth database." if "alembic_version_auth" in tables else ""
    return MlflowException(
        f"The auth database {_describe(engine)} was not created by tracklet: it has tables "
        f"{', '.join(sorted(tables)[:8])} but not tracklet's ({', '.join(sorted(TABLES))})."
        f"{made_by} Point --auth-database-uri (or the auth settings) at a new database.",
        INVALID_STATE,
    )
