"""PostgreSQL's kept connections (``statement_pool``): reads probe instead of pinging, and a
kept connection the server dropped is replaced, the read answered."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tracklet.entities import Metric
from tracklet.store.sql.store import SqlStore

pytestmark = pytest.mark.postgres


def _kept_backend_pids(store: SqlStore) -> list[int]:
    return [raw.driver_connection.info.backend_pid for raw in store._statements._idle]


def test_read_after_the_server_dropped_the_kept_connection(
    postgres_uri: str, tmp_path: Path
) -> None:
    store = SqlStore(postgres_uri, default_artifact_root=str(tmp_path))
    try:
        experiment = store.create_experiment("kept")
        run_id = store.create_run(experiment, "u", 0, [], "r").info.run_id
        store.log_batch(run_id, metrics=[Metric("m", 1.5, 10, 3)])
        assert store.get_run(run_id).data.metrics == {"m": 1.5}
        pids = _kept_backend_pids(store)
        assert pids  # the reads and the batch left their connections kept
        with psycopg.connect(postgres_uri.split("?")[0], autocommit=True) as admin:
            for pid in pids:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        # Every kept connection is dead now: each read replaces the one it takes.
        for _ in range(len(pids) + 1):
            assert store.get_run(run_id).data.metrics == {"m": 1.5}
        found = store.search_runs([experiment], "metrics.m > 1")
        assert [r.info.run_id for r in found] == [run_id]
        assert not set(_kept_backend_pids(store)) & set(pids)
    finally:
        store.close()


def test_reads_run_one_probe_and_no_ping(postgres_uri: str, tmp_path: Path) -> None:
    store = SqlStore(postgres_uri, default_artifact_root=str(tmp_path))
    try:
        experiment = store.create_experiment("probe")
        run_id = store.create_run(experiment, "u", 0, [], "r").info.run_id
        store.get_run(run_id)
        sent: list[str] = []
        original = psycopg.Cursor.execute

        def execute(self: psycopg.Cursor, query: str, *args: object, **kwargs: object) -> object:
            sent.append(str(query))
            return original(self, query, *args, **kwargs)  # type: ignore[arg-type]

        psycopg.Cursor.execute = execute  # type: ignore[assignment,method-assign]
        try:
            store.get_run(run_id)
        finally:
            psycopg.Cursor.execute = original  # type: ignore[method-assign]
        assert sent, "the read ran no statement"
        assert "metric_batches" in sent[0]  # the pending-batch probe comes first...
        assert all(q.strip() not in ("", ";", "SELECT 1") for q in sent)  # ...and no ping
    finally:
        store.close()
