"""Issue 18 item 5: runs, experiments and logged models created in the same millisecond.

Runs and logged models come back newest first under ``start_time DESC`` / ``creation_timestamp
DESC`` and the default orders, oldest first under ASC: ties are broken by creation order (the
``creation_seq`` column of migration 0007), page after page, on SQLite and PostgreSQL. MLflow
3.17.2 breaks these ties on the random run or model id, so there is no order of its to match.

Experiments are numbered in creation order, and MLflow's tie-breaker on them is deterministic:
the default order is ``creation_time DESC, experiment_id ASC`` (ties oldest first), and an
explicit order ends with ``experiment_id DESC`` (ties newest first, ``creation_time ASC``
included). tracklet answers exactly MLflow's order, compared with MLflow's own SQL store.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tracklet.entities import Metric, ViewType
from tracklet.store.sql import experiment_store, logged_model_store, migrations
from tracklet.store.sql.engine import normalize_db_uri
from tracklet.store.sql.store import SqlStore

T = 1_700_000_000_000


def pages(
    search: Callable[[int, str | None], Any], size: int, key: Callable[[Any], str]
) -> list[str]:
    """Every page of a search, as ids."""
    found: list[str] = []
    token = None
    while True:
        page = search(size, token)
        found += [key(x) for x in page]
        token = page.token
        if not token:
            return found


def run_ids(
    store: SqlStore, experiments: Sequence[str], order_by: list[str] | None, size: int
) -> list[str]:
    return pages(
        lambda n, token: store.search_runs(
            list(experiments), "", ViewType.ACTIVE_ONLY, n, order_by, token
        ),
        size,
        lambda run: run.info.run_id,
    )


def test_runs_started_in_one_millisecond_come_back_in_creation_order(store: SqlStore) -> None:
    e1, e2 = store.create_experiment("a"), store.create_experiment("b")
    created = []
    for i in range(7):  # interleaved over two experiments, one start time
        run = store.create_run(e1 if i % 2 else e2, "u", T, [], f"r{i}")
        store.log_metric(run.info.run_id, Metric("m", 1.0, T, 0))
        created.append(run.info.run_id)
    newest_first = created[::-1]
    for size in (1, 2, 3, 7, 100):
        for order in (None, ["start_time DESC"], ["attributes.start_time DESC"], ["metrics.m"]):
            assert run_ids(store, [e1, e2], order, size) == newest_first, (order, size)
        assert run_ids(store, [e1, e2], ["start_time ASC"], size) == created, size
        assert run_ids(store, [e2], ["start_time"], size) == created[0::2], size
        assert run_ids(store, [e1], None, size) == created[1::2][::-1], size
    # Distinct start times still lead; a tie among the later ones is broken by creation.
    later = [store.create_run(e1, "u", T + 1, [], "x").info.run_id for _ in range(3)]
    assert run_ids(store, [e1, e2], None, 2) == [*later[::-1], *newest_first]
    assert run_ids(store, [e1, e2], ["start_time"], 4) == [*created, *later]


def test_logged_models_created_in_one_millisecond(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logged_model_store, "now_ms", lambda: T)
    e = store.create_experiment("models")
    created = [store.create_logged_model(e, name=f"m{i}").model_id for i in range(6)]

    def ids(order_by: list[dict[str, Any]] | None, size: int) -> list[str]:
        return pages(
            lambda n, token: store.search_logged_models([e], None, None, n, order_by, token),
            size,
            lambda model: model.model_id,
        )

    for size in (1, 4, 100):
        assert ids(None, size) == created[::-1]
        for name in ("creation_timestamp", "creation_time"):
            assert ids([{"field_name": name, "ascending": False}], size) == created[::-1]
            assert ids([{"field_name": name, "ascending": True}], size) == created
        # Ties on another field: MLflow's creation_timestamp DESC, then creation, newest first.
        assert ids([{"field_name": "status"}], size) == created[::-1]


def _experiment_orders(search: Callable[[list[str] | None], list[str]]) -> dict[str, list[str]]:
    orders: dict[str, list[str] | None] = {
        "default": None,
        "creation DESC": ["creation_time DESC"],
        "creation ASC": ["creation_time ASC"],
        "last_update DESC": ["last_update_time DESC"],
        "creation DESC, id ASC": ["creation_time DESC", "experiment_id ASC"],
    }
    return {label: search(order) for label, order in orders.items()}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_experiments_created_in_one_millisecond_match_mlflow(
    store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow.store.tracking import sqlalchemy_store as mlflow_sql

    monkeypatch.setattr(mlflow_sql, "get_current_time_millis", lambda: T)
    monkeypatch.setattr(experiment_store, "now_ms", lambda: T)
    mlflow_store = mlflow_sql.SqlAlchemyStore(
        f"sqlite:///{tmp_path / 'mlflow.db'}", str(tmp_path / "mlruns")
    )
    names = [f"x{i}" for i in range(5)]
    theirs_ids = {mlflow_store.create_experiment(n): n for n in names}
    ours_ids = {store.create_experiment(n): n for n in names}

    def searcher(target: Any, by_id: dict[str, str]) -> Callable[[list[str] | None], list[str]]:
        def search(order_by: list[str] | None) -> list[str]:
            found: list[str] = []
            token = None
            while True:  # pages of 2: the tie-breaker holds across page boundaries
                page = target.search_experiments(
                    ViewType.ACTIVE_ONLY, 2, "name LIKE 'x%'", order_by, token
                )
                found += [by_id[e.experiment_id] for e in page]
                token = page.token
                if not token:
                    return found

        return search

    theirs = _experiment_orders(searcher(mlflow_store, theirs_ids))
    ours = _experiment_orders(searcher(store, ours_ids))
    assert ours == theirs
    # What MLflow's order is, spelled out.
    assert theirs["default"] == names
    assert theirs["creation ASC"] == names[::-1]
    mlflow_store.engine.dispose()


def test_migration_numbers_existing_rows_by_time_then_insertion(
    store_uri: str, tmp_path: Path
) -> None:
    """A database at 0006 with runs and models gets creation_seq by (time, rowid or id); rows
    created afterwards are numbered after them."""
    engine = sa.create_engine(normalize_db_uri(store_uri))
    start_times = {"r1": 5, "r2": 3, "r3": 5, "r4": None, "r5": 3}
    try:
        with engine.begin() as conn:
            migrations.upgrade(conn, "0006_traces")
            conn.exec_driver_sql(
                "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage,"
                " creation_time, last_update_time) VALUES (1, 'e', 'x', 'active', 1, 1)"
            )
            for run_id, start in start_times.items():
                conn.execute(
                    sa.text(
                        "INSERT INTO runs (run_uuid, experiment_id, status, start_time,"
                        " lifecycle_stage) VALUES (:r, 1, 'RUNNING', :s, 'active')"
                    ),
                    {"r": run_id, "s": start},
                )
            for model_id, created in (("m-b", 2), ("m-a", 2), ("m-c", 1)):
                conn.execute(
                    sa.text(
                        "INSERT INTO logged_models (model_id, experiment_id, name,"
                        " artifact_location, creation_timestamp, last_updated_timestamp, status,"
                        " lifecycle_stage) VALUES (:m, 1, 'n', 'x', :c, :c, 1, 'active')"
                    ),
                    {"m": model_id, "c": created},
                )
            migrations.upgrade(conn)
            numbered = dict(conn.exec_driver_sql("SELECT run_uuid, creation_seq FROM runs").all())
            models = dict(
                conn.exec_driver_sql("SELECT model_id, creation_seq FROM logged_models").all()
            )
    finally:
        engine.dispose()
    # By start time (a missing one first), then insertion (SQLite) or id (PostgreSQL): the
    # same here, as the ids were inserted in their own order.
    assert sorted(numbered, key=numbered.__getitem__) == ["r4", "r2", "r5", "r1", "r3"]
    insertion_or_id = ["m-b", "m-a"] if store_uri.startswith("sqlite") else ["m-a", "m-b"]
    assert sorted(models, key=models.__getitem__) == ["m-c", *insertion_or_id]
    store = SqlStore(store_uri, default_artifact_root=str(tmp_path / "artifacts"))
    try:
        new = store.create_run("1", "u", 5, [], "new").info.run_id
        assert run_ids(store, ["1"], ["start_time DESC"], 2)[:3] == [new, "r3", "r1"]
        model = store.create_logged_model("1", name="late")
        first = store.search_logged_models(["1"], None, None, 1, None, None)[0]
        assert first.model_id == model.model_id
    finally:
        store.close()
