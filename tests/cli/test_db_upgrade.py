"""``tracklet db upgrade URL``: migrates an older tracklet database, creates an empty one, and
refuses (unchanged) one it did not make."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from tracklet.cli import main
from tracklet.store.sql import migrations
from tracklet.store.sql.schema import VERSION_TABLE
from tracklet.store.sql.store import SqlStore

OLD = "0004_run_packs"


def _revision(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        row = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
    return str(row[0])


def _upgrade(url: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["db", "upgrade", url])
    return result.exit_code, result.output


def test_upgrades_an_older_database_then_reports_it_current(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        migrations.upgrade(conn, OLD)
    engine.dispose()
    assert _revision(path) == OLD

    assert _upgrade(f"sqlite:///{path}") == (
        0,
        f"Upgraded the database from revision {OLD} to {migrations.HEAD}.\n",
    )
    assert _revision(path) == migrations.HEAD
    store = SqlStore(f"sqlite:///{path}")
    try:  # usable: the default experiment is there and a run can be made
        assert [e.name for e in store.search_experiments()] == ["Default"]
    finally:
        store.close()
    assert _upgrade(f"sqlite:///{path}") == (
        0,
        f"The database is already at the newest revision, {migrations.HEAD}.\n",
    )


def test_creates_the_schema_in_an_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    assert _upgrade(f"sqlite:///{path}") == (
        0,
        f"Created the tracklet schema at revision {migrations.HEAD}.\n",
    )
    assert _revision(path) == migrations.HEAD


def test_refuses_a_foreign_database_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "mlflow.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
    code, output = _upgrade(f"sqlite:///{path}")
    assert code == 1
    assert len(output.splitlines()) == 1
    assert output.startswith(f"Error: The database {path} was not created by tracklet")
    assert "It looks like an MLflow database." in output
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert tables == {"alembic_version"}


def test_refuses_a_uri_that_is_not_a_database() -> None:
    code, output = _upgrade("http://127.0.0.1:5000")
    assert code == 2
    assert "'http://127.0.0.1:5000' is not a database URI" in output
