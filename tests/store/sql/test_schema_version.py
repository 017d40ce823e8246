"""Opening databases: fresh ones get tracklet's schema, foreign ones are refused untouched."""

from __future__ import annotations

import importlib
import pkgutil
import sqlite3
from pathlib import Path

import pytest

import tracklet.store.sql as sql_package
from tracklet.exceptions import MlflowException
from tracklet.store.sql import migrations
from tracklet.store.sql.compiled import Compiled
from tracklet.store.sql.schema import VERSION_TABLE
from tracklet.store.sql.store import SqlStore


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_fresh_sqlite_file_gets_schema_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    store = SqlStore(f"sqlite:///{path}")
    store.close()
    assert {"experiments", "runs", "latest_metrics", "metric_chunks", VERSION_TABLE} <= _tables(
        path
    )
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()[0] == (
            migrations.HEAD
        )
    # Opening it again changes nothing and keeps its data.
    store = SqlStore(f"sqlite:///{path}")
    experiment_id = store.create_experiment("kept")
    store.close()
    assert SqlStore(f"sqlite:///{path}").get_experiment(experiment_id).name == "kept"


def test_mlflow_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    path = tmp_path / "mlflow.db"
    mlflow_store = SqlAlchemyStore(f"sqlite:///{path}", str(tmp_path / "mlruns"))
    mlflow_store.create_experiment("theirs")
    mlflow_store.engine.dispose()
    before = _tables(path)
    with sqlite3.connect(path) as conn:
        experiments_before = conn.execute("SELECT * FROM experiments").fetchall()
    with pytest.raises(MlflowException) as error:
        SqlStore(f"sqlite:///{path}")
    message = error.value.message
    assert str(path) in message
    assert "not created by tracklet" in message
    assert "MLflow" in message
    assert "sqlite:///tracklet.db" in message
    assert _tables(path) == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT * FROM experiments").fetchall() == experiments_before


def test_unknown_newer_revision_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    SqlStore(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"UPDATE {VERSION_TABLE} SET version_num = '9999_future'")
    with pytest.raises(MlflowException) as error:
        SqlStore(f"sqlite:///{path}")
    assert "9999_future" in error.value.message
    assert "Upgrade tracklet" in error.value.message


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MlflowException) as error:
        SqlStore(f"sqlite:///{tmp_path}/no/such/dir/x.db")
    assert "does not exist" in error.value.message


def test_every_compiled_statement_compiles_for_its_dialects() -> None:
    # Compiled refuses constants that would become parameters nobody passes (a frequent slip).
    count = 0
    for module_info in pkgutil.iter_modules(sql_package.__path__):
        module = importlib.import_module(f"tracklet.store.sql.{module_info.name}")
        for value in vars(module).values():
            candidates = value.values() if isinstance(value, dict) else [value]
            for statement in candidates:
                if isinstance(statement, Compiled):
                    for dialect in statement.dialects:
                        assert statement.text(dialect)
                        count += 1
    assert count > 50
