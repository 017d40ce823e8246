"""Opening another program's database for reading: the URI checked, the engine made, and MLflow's
schema recognised (or refused with what was found)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException


def is_database_uri(uri: str) -> bool:
    return uri.partition(":")[0].partition("+")[0].lower() in ("sqlite", "postgresql", "postgres")


def mlflow_engine(uri: str, must_exist: bool = True) -> sa.engine.Engine:
    """An engine on an MLflow database; refuses a tracklet database or one without MLflow's
    tables (``must_exist``)."""
    from tracklet.store.sql.engine import create_sql_engine, normalize_db_uri

    if uri.startswith("sqlite:///"):
        import os

        path = uri[len("sqlite:///") :].partition("?")[0]
        if must_exist and not os.path.isfile(path):
            raise MlflowException(f"No SQLite database at {path}", INVALID_PARAMETER_VALUE)
    engine = create_sql_engine(normalize_db_uri(uri))
    if must_exist:
        names = set(sa.inspect(engine).get_table_names())
        if "tracklet_alembic_version" in names:
            engine.dispose()
            raise MlflowException(
                f"{uri} is a tracklet database, not an MLflow one", INVALID_PARAMETER_VALUE
            )
        if not {"alembic_version", "experiments", "runs", "metrics"} <= names:
            engine.dispose()
            raise MlflowException(
                f"{uri} has no MLflow tracking tables (experiments, runs, metrics)",
                INVALID_PARAMETER_VALUE,
            )
        check_revision(engine, uri)
    return engine


# The alembic revision of MLflow 3.17.2's schema, whose tables import and export read and write.
MLFLOW_REVISION = "dc11669786a5"


def check_revision(engine: sa.engine.Engine, uri: str) -> None:
    """Refuse an MLflow database at another schema revision (its columns may differ)."""
    with engine.connect() as connection:
        found = [
            r[0] for r in connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        ]
    if found != [MLFLOW_REVISION]:
        engine.dispose()
        raise MlflowException(
            f"{uri} is at MLflow schema revision {', '.join(found) or 'none'}, not MLflow "
            f"3.17.2's ({MLFLOW_REVISION}). Bring it there first with MLflow 3.17.2: "
            f"mlflow db upgrade {uri}",
            INVALID_PARAMETER_VALUE,
        )


def raw(engine: sa.engine.Engine) -> Any:
    """A DB-API connection of ``engine`` (the caller closes its wrapper)."""
    return engine.raw_connection()
