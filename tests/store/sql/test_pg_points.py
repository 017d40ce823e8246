"""PostgreSQL's one-statement metric writes (``pg_points``) keep their run's books themselves:
the pack cleared, the run numbered once, under the pack lock, after the latest values; the
latest_metrics triggers skip them, and only them (migration 0012)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from tests.store.sql.lock_waits import waits_for_commit

from tracklet.entities import Metric, Param
from tracklet.store.base import MetricPoints
from tracklet.store.sql import migrations, pg_points
from tracklet.store.sql.compiled import Db
from tracklet.store.sql.engine import normalize_db_uri
from tracklet.store.sql.pack_triggers import BOOKKEPT_RUN, PACK_LOCK_BUCKETS, PACK_LOCK_SPACE
from tracklet.store.sql.store import SqlStore

pytestmark = pytest.mark.postgres

T0 = 1_700_000_000_000


@pytest.fixture
def pg_store(postgres_uri: str, tmp_path: Any) -> Iterator[SqlStore]:
    store = SqlStore(postgres_uri, default_artifact_root=str(tmp_path))
    yield store
    store.close()


def _sql(store: SqlStore, sql: str, **params: Any) -> Any:
    with store.engine.begin() as conn:
        return conn.exec_driver_sql(sql, params).fetchall()


def _books(store: SqlStore, run_id: str) -> tuple[str | None, int]:
    """The run's pack and change number."""
    ((pack, change_seq),) = _sql(
        store, "SELECT pack, change_seq FROM runs WHERE run_uuid = %(r)s", r=run_id
    )
    return pack, change_seq


def _numbers_taken(store: SqlStore) -> int:
    ((value, called),) = _sql(store, "SELECT last_value, is_called FROM runs_change_seq")
    return int(value) if called else 0


def _packed_run(store: SqlStore) -> str:
    experiment_id = store.create_experiment(f"e{time.monotonic_ns()}")
    run_id = store.create_run(experiment_id, "u", T0, [], "r").info.run_id
    store.log_batch(run_id, [Metric("a", 1.0, T0, 0), Metric("b", 2.0, T0, 0)], [], [])
    store.update_run_info(run_id, "FINISHED", T0 + 1, None)  # packs it
    assert _books(store, run_id)[0] is not None
    return run_id


def _points(keys: list[str], steps: range) -> MetricPoints:
    columns: tuple[list[str], list[int], list[int], list[float]] = ([], [], [], [])
    for key in keys:
        for step in steps:
            columns[0].append(key)
            columns[1].append(step)
            columns[2].append(T0 + step)
            columns[3].append(step * 0.5)
    return columns


def test_a_batch_clears_the_pack_and_takes_one_number(pg_store: SqlStore) -> None:
    run_id = _packed_run(pg_store)
    for first in (0, 100, 50):  # new keys (inserts), then later and earlier points (updates)
        _, numbered = _books(pg_store, run_id)
        taken = _numbers_taken(pg_store)
        pg_store.log_metric_points(run_id, _points(["a", "b", "new"], range(first, first + 100)))
        pack, change_seq = _books(pg_store, run_id)
        assert pack is None
        # One number: the statement's own; the triggers, skipped, took none.
        assert _numbers_taken(pg_store) == taken + 1 == change_seq > numbered
        assert pg_store.change_cursor() == change_seq
        pg_store.update_run_info(run_id, "FINISHED", T0 + 2, None)  # packed again
    run = pg_store.get_run(run_id)
    assert run.data.metrics == {"a": 99.5, "b": 99.5, "new": 99.5}  # step 199 is the latest
    history = pg_store.get_metric_history(run_id, "new")
    # The third batch repeated points of the first two: a history holds a point once (MLflow).
    assert sorted(m.step for m in history) == list(range(200))
    assert _sql(pg_store, f"SELECT current_setting('{BOOKKEPT_RUN}', true)") in ([("",)], [(None,)])


def test_latest_values_follow_mlflows_order(pg_store: SqlStore) -> None:
    experiment_id = pg_store.create_experiment("order")
    run_id = pg_store.create_run(experiment_id, "u", T0, [], "r").info.run_id
    log = pg_store.log_metric_points
    log(run_id, (["x"] * 20, [5] * 20, [T0] * 20, [float(i) for i in range(20)]))
    log(run_id, (["x"] * 20, [5] * 20, [T0] * 20, [math.nan] * 20))  # a NaN never wins a tie
    assert pg_store.get_run(run_id).data.metrics["x"] == 19.0
    log(run_id, (["x"] * 20, [4] * 20, [T0 + 9] * 20, [50.0] * 20))  # an earlier step
    assert pg_store.get_run(run_id).data.metrics["x"] == 19.0
    log(run_id, (["x"] * 20, [5] * 20, [T0 + 1] * 20, [-1.0] * 20))  # same step, later time
    assert pg_store.get_run(run_id).data.metrics["x"] == -1.0
    log(run_id, (["x"] * 20, list(range(6, 26)), [T0] * 20, [math.nan] * 20))
    assert math.isnan(pg_store.get_run(run_id).data.metrics["x"])
    # 20 values, then one point each for the three repeated ones, then 20 steps.
    assert len(pg_store.get_metric_history(run_id, "x")) == 43


def test_a_later_statement_of_the_transaction_is_not_skipped(pg_store: SqlStore) -> None:
    """The mark is emptied within the statement: another run's latest values written next in
    the same transaction still clear its pack and number it (through the triggers)."""
    a, b = _packed_run(pg_store), _packed_run(pg_store)
    with pg_store.engine.begin() as conn:
        db = Db(conn.connection.driver_connection, "postgresql")
        series = {"a": ([7], [T0 + 7], [7.0])}
        assert pg_points.write_series(db, a, series, {}, guarded=False) == []
        assert conn.exec_driver_sql(f"SELECT current_setting('{BOOKKEPT_RUN}')").scalar() == ""
        conn.exec_driver_sql(
            "UPDATE latest_metrics SET value = 9, step = 9 WHERE run_uuid = %(b)s", {"b": b}
        )
    assert _books(pg_store, a)[0] is None
    assert _books(pg_store, b)[0] is None
    assert _books(pg_store, b)[1] > _books(pg_store, a)[1]


def test_a_batch_waits_for_a_packer_and_clears_its_pack(pg_store: SqlStore) -> None:
    """A packer holding the run's lock (exclusively) makes the batch wait; the pack it commits
    is cleared by the batch once it has the lock (shared), and the run numbered after it."""
    run_id = _packed_run(pg_store)
    packer = sa.create_engine(normalize_db_uri(pg_store.engine.url.render_as_string(False)))
    with packer.connect() as conn:
        conn.exec_driver_sql(
            "SELECT pg_advisory_xact_lock(%(space)s, hashtext(%(r)s) & %(mask)s)",
            {"space": PACK_LOCK_SPACE, "r": run_id, "mask": PACK_LOCK_BUCKETS - 1},
        )
        conn.exec_driver_sql(
            "UPDATE runs SET pack = 'packed' WHERE run_uuid = %(r)s", {"r": run_id}
        )
        # The batch waits for the packer's lock.
        waits_for_commit(
            conn, lambda: pg_store.log_metric_points(run_id, _points(["a"], range(1, 101)))
        )
    packer.dispose()
    assert _books(pg_store, run_id)[0] is None
    assert pg_store.get_run(run_id).data.metrics["a"] == 50.0


def test_a_batch_for_an_inactive_run_writes_nothing(pg_store: SqlStore) -> None:
    run_id = _packed_run(pg_store)
    pg_store.delete_run(run_id)
    books = _books(pg_store, run_id)
    with pytest.raises(Exception, match=r"deleted|active"):
        pg_store.log_metric_points(run_id, _points(["a"], range(5, 105)))
    assert _books(pg_store, run_id) == books
    assert len(pg_store.get_metric_history(run_id, "a")) == 1


def _skipping_triggers(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t"
            " JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
        )
        return {name for name, sql in rows if BOOKKEPT_RUN in sql}


def test_the_migration_makes_only_the_latest_values_triggers_skip(postgres_uri: str) -> None:
    engine = sa.create_engine(normalize_db_uri(postgres_uri))
    with engine.begin() as conn:
        migrations.upgrade(conn, "0011_compact_metric_batches")
    assert _skipping_triggers(engine) == set()
    store = SqlStore(postgres_uri)  # migrates to the head
    try:
        assert _skipping_triggers(engine) == {
            f"tr_latest_metrics_{event}_{kind}"
            for event in ("insert", "update")
            for kind in ("unpack", "watched")
        }
        run_id = _packed_run(store)
        taken = _numbers_taken(store)
        store.log_metric_points(run_id, _points(["a"], range(1, 101)))
        assert _numbers_taken(store) == taken + 1
        assert _books(store, run_id) == (None, taken + 1)
        # Other writes of latest values still go through the triggers (a batch with params is
        # written in a transaction of the writer's).
        store.update_run_info(run_id, "FINISHED", T0 + 6, None)
        store.log_batch(run_id, [Metric("a", 3.0, T0, 500)], [Param("p", "1")], [])
        pack, change_seq = _books(store, run_id)
        assert pack is None
        assert change_seq > taken + 1
        assert store.get_run(run_id).data.metrics["a"] == 3.0
        with engine.begin() as conn:
            command.downgrade(migrations.alembic_config(conn), "0011_compact_metric_batches")  # type: ignore[arg-type]
        assert _skipping_triggers(engine) == set()
        store.update_run_info(run_id, "FINISHED", T0 + 7, None)
        taken = _numbers_taken(store)
        store.log_metric_points(run_id, _points(["a"], range(501, 601)))
        # The triggers keep the books again (as well): more numbers, the pack cleared.
        assert _numbers_taken(store) > taken + 1
        assert _books(store, run_id)[0] is None
    finally:
        store.close()
        engine.dispose()


def test_keys_values_and_layouts_survive_the_parameters(pg_store: SqlStore) -> None:
    """Keys that need quoting in an array literal (a space, NULL), non-finite and extreme
    values, tails (a few points a key), chunks, a key split over two chunks, keys interleaved
    or in runs."""
    experiment_id = pg_store.create_experiment("params")
    run_id = pg_store.create_run(experiment_id, "u", T0, [], "r").info.run_id
    keys = ["a b", "c:d", "NULL", "null", "é ü", "x/y.z-_"]
    odd = [math.inf, -math.inf, 1e300, 5e-324, -0.0, 0.1]
    # Interleaved keys (one step of every key at a time), 3 points each: tails.
    for step in range(3):
        pg_store.log_metric_points(
            run_id, (keys, [step] * 6, [T0 + step] * 6, [v * (step + 1) for v in odd])
        )
    # Keys in runs: 40 points each, chunks; one key with 70,000 points: two chunks.
    columns = _points(keys, range(3, 43))
    big = _points(["big"], range(70_000))
    pg_store.log_metric_points(run_id, tuple(c + b for c, b in zip(columns, big, strict=True)))  # type: ignore[arg-type]
    pg_store.log_metric_points(run_id, (["nan"] * 40, list(range(40)), [T0] * 40, [math.nan] * 40))
    pg_store.log_metric(run_id, Metric("nan", 1.0, T0, 39))  # a number beats a NaN at a tie
    metrics = pg_store.get_run(run_id).data.metrics
    assert metrics == {**{k: 21.0 for k in keys}, "big": 34999.5, "nan": 1.0}
    for key, value in zip(keys, odd, strict=True):
        history = pg_store.get_metric_history(run_id, key)
        assert [m.step for m in history] == list(range(43))
        assert [m.value for m in history][:3] == [value, value * 2, value * 3]
    history = pg_store.get_metric_history(run_id, "big")
    assert [m.step for m in history] == list(range(70_000))
    assert history[69_999].value == 34999.5
    assert _sql(
        pg_store,
        "SELECT key, count(*), sum(n) FROM metric_chunks WHERE run_uuid = %(r)s"
        " AND key IN ('big', 'a b') GROUP BY key ORDER BY key",
        r=run_id,
    ) == [("a b", 1, 40), ("big", 2, 70_000)]
    assert math.isnan(pg_store.get_metric_history(run_id, "nan")[0].value)
