"""The auth database's own Alembic environment: a fresh database is made by the migrations, one
made by ``create_all`` (earlier releases) is stamped and kept, a foreign or newer one refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tracklet.exceptions import MlflowException
from tracklet.server.auth import migrations
from tracklet.server.auth.store import AuthStore, _metadata


def _schema(engine: sa.Engine) -> dict[str, Any]:
    inspector = sa.inspect(engine)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            inspector.get_pk_constraint(table)["constrained_columns"],
            sorted(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    fk["options"].get("ondelete"),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
        )
        for table in sorted(migrations.TABLES)
    }


def _revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return migrations.revision(conn)


def test_a_fresh_database_is_made_by_the_migrations(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'auth.db'}"
    store = AuthStore(uri)
    store.create_user("ann", "pw", is_admin=True)
    store.close()
    engine = sa.create_engine(uri)
    assert _revision(engine) == migrations.HEAD
    reference = sa.create_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    _metadata.create_all(reference)
    assert _schema(engine) == _schema(reference)  # the migrations make the store's tables
    AuthStore(uri).close()  # reopening is a no-op
    assert _revision(engine) == migrations.HEAD


def test_a_create_all_database_is_stamped_and_kept(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'auth.db'}"
    engine = sa.create_engine(uri)
    _metadata.create_all(engine)  # as releases before the migrations made it
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO users (username, password_hash, is_admin) VALUES ('x', 'h', 1)")
        )
    assert _revision(engine) is None
    store = AuthStore(uri)
    assert store.has_admin()
    store.close()
    assert _revision(engine) == migrations.HEAD


def test_foreign_and_newer_databases_are_refused_unchanged(tmp_path: Path) -> None:
    foreign = sa.create_engine(f"sqlite:///{tmp_path / 'mlflow-auth.db'}")
    with foreign.begin() as conn:
        conn.execute(sa.text("CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT)"))
        conn.execute(sa.text("CREATE TABLE alembic_version_auth (version_num TEXT)"))
    with pytest.raises(MlflowException, match=r"not created by tracklet.*MLflow's auth database"):
        AuthStore(str(foreign.url))
    assert set(sa.inspect(foreign).get_table_names()) == {"users", "alembic_version_auth"}

    newer = f"sqlite:///{tmp_path / 'newer.db'}"
    AuthStore(newer).close()
    engine = sa.create_engine(newer)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {migrations.VERSION_TABLE} SET version_num = '0099_later'"))
    with pytest.raises(MlflowException, match="0099_later"):
        AuthStore(newer)
