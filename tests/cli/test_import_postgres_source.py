"""``tracklet import postgresql://...``: an MLflow 3.17.2 database on PostgreSQL (a fresh
schema of the machine's server, its tables created by MLflow's own SqlAlchemyStore) imported
and compared entity by entity, point by point, with what MLflow's client reads from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli.mlflow_scenario import make_mlflow_store
from tests.cli.transfer_checks import _count, _mlflow_snapshot, _row_counts, run, snapshot

from tracklet.tracking.client import MlflowClient


@pytest.mark.postgres
def test_import_from_an_mlflow_postgresql_database(postgres_uri: str, tmp_path: Path) -> None:
    # MLflow's SQLAlchemy URI with psycopg 3 (the driver installed; MLflow defaults to psycopg2).
    source_uri = postgres_uri.replace("postgresql://", "postgresql+psycopg://", 1)
    made = make_mlflow_store(tmp_path, uri=source_uri)
    dest = tmp_path / "from-postgres.db"
    out = run("import", source_uri, "--to", f"sqlite:///{dest}").output
    assert _count(out, "runs") == len(made["runs"])
    assert _count(out, "traces") == 1
    mine = snapshot(MlflowClient(f"sqlite:///{dest}"), made)
    assert mine == _mlflow_snapshot(source_uri, made)
    assert mine["runs"][made["runs"][0]]["histories"]["odd"] == [(0, 1_700_000_000_000, "nan")]
    first = _row_counts(str(dest))
    again = run("import", source_uri, "--to", f"sqlite:///{dest}").output
    assert _count(again, "runs already present") == len(made["runs"])
    assert _row_counts(str(dest)) == first
