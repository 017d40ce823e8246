"""fork() beside SQLite: children never inherit a held SQLite mutex, nor close the parent's
connections (which would lose the parent's later commits)."""

from __future__ import annotations

import gc
import multiprocessing
import os
import sqlite3
import threading
from pathlib import Path

import pytest

import tracklet as mlflow
from tracklet import MlflowClient
from tracklet.store.sql.store import SqlStore

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")]


def _log_in_child(args: tuple[str, int]) -> int:
    uri, worker = args
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("fork")
    assert experiment is not None
    run = client.create_run(experiment.experiment_id)
    for step in range(10):
        client.log_metric(run.info.run_id, "loss", worker + step, step=step)
    client.set_terminated(run.info.run_id)
    return len(client.get_metric_history(run.info.run_id, "loss"))


def test_pools_fork_while_another_thread_is_inside_sqlite(sqlite_uri: str) -> None:
    mlflow.set_tracking_uri(sqlite_uri)
    client = MlflowClient()
    experiment_id = client.create_experiment("fork")
    busy_run = client.create_run(experiment_id).info.run_id
    stop = threading.Event()
    logged: list[int] = []

    def keep_sqlite_busy() -> None:
        step = 0
        while not stop.is_set():
            client.log_metric(busy_run, "busy", step, step=step)
            client.get_run(busy_run)
            step += 1
        logged.append(step)

    thread = threading.Thread(target=keep_sqlite_busy)
    thread.start()
    try:
        for _ in range(8):
            with multiprocessing.get_context("fork").Pool(4) as pool:
                counts = pool.map_async(_log_in_child, [(sqlite_uri, w) for w in range(4)])
                assert counts.get(timeout=60) == [10, 10, 10, 10]
    finally:
        stop.set()
        thread.join()
    assert len(client.get_metric_history(busy_run, "busy")) == logged[0]
    assert len(client.search_runs([experiment_id])) == 1 + 8 * 4


def test_a_child_leaves_the_parents_connections_alone(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = SqlStore(f"sqlite:///{path}")
    experiment_id = store.create_experiment("fork")
    run_id = store.create_run(experiment_id, "", 0, [], "parent").info.run_id
    store.log_param(run_id, mlflow.entities.Param("before", "fork"))

    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        gc.collect()  # collecting what the child inherited must not close it
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0

    # Written by the parent after the child is gone: a fresh connection must see it.
    store.log_param(run_id, mlflow.entities.Param("after", "fork"))
    with sqlite3.connect(path) as fresh:
        keys = {
            row[0] for row in fresh.execute("SELECT key FROM params WHERE run_uuid = ?", [run_id])
        }
        assert fresh.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert keys == {"before", "after"}
    store.close()
