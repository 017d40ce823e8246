"""Metric points in the SQL store: latest values, history, tails and chunks."""

from __future__ import annotations

import math
import threading

import pytest

from tracklet.entities import Metric, MetricHistory
from tracklet.exceptions import MlflowException
from tracklet.store.sql.metrics import TAIL_FLUSH_POINTS
from tracklet.store.sql.store import SqlStore


def _run(store: SqlStore) -> str:
    return store.create_run("0", "u", 1, [], "r").info.run_id


def _points(history: MetricHistory) -> list[tuple[int, int, float]]:
    return [(m.timestamp, m.step, m.value) for m in history]


def test_latest_value_is_largest_step_then_latest_time(store: SqlStore) -> None:
    run_id = _run(store)
    for step, timestamp, value in [(1, 10, 0.1), (5, 5, 0.5), (75, 1, 0.75), (-20, 99, -0.2)]:
        store.log_metric(run_id, Metric("m", value, timestamp, step))
    store.log_metric(run_id, Metric("m", 0.76, 2, 75))  # same step, later time wins
    run = store.get_run(run_id)
    assert run.data.metrics == {"m": 0.76}
    (latest,) = run.data.metric_objs
    assert (latest.step, latest.timestamp) == (75, 2)


def test_history_holds_every_point_in_mlflow_order(store: SqlStore) -> None:
    run_id = _run(store)
    logged = [(1, 10, 0.1), (5, 5, 0.5), (75, 1, 0.75), (-20, 99, -0.2), (3, 5, 0.3)]
    for step, timestamp, value in logged:
        store.log_metric(run_id, Metric("m", value, timestamp, step))
    history = store.get_metric_history(run_id, "m")
    assert _points(history) == sorted((t, s, v) for s, t, v in logged)
    assert all(m.key == "m" for m in history)


def test_int64_steps_and_extreme_values(store: SqlStore) -> None:
    run_id = _run(store)
    big, small = 2**63 - 1, -(2**63)
    store.log_metric(run_id, Metric("m", math.inf, 1, big))
    store.log_metric(run_id, Metric("m", -math.inf, 2, small))
    store.log_metric(run_id, Metric("m", math.nan, 3, 0))
    history = store.get_metric_history(run_id, "m")
    assert [m.step for m in history] == [big, small, 0]
    assert history[0].value == math.inf
    assert history[1].value == -math.inf
    assert math.isnan(history[2].value)
    assert store.get_run(run_id).data.metrics == {"m": math.inf}


def test_nan_latest_value(store: SqlStore) -> None:
    run_id = _run(store)
    store.log_metric(run_id, Metric("m", 1.0, 1, 0))
    store.log_metric(run_id, Metric("m", math.nan, 2, 1))
    assert math.isnan(store.get_run(run_id).data.metrics["m"])
    store.log_batch(run_id, [Metric("n", math.nan, 1, 0)] * 40 + [Metric("n", 2.0, 1, 0)])
    # At equal step and time a real value beats NaN.
    assert store.get_run(run_id).data.metrics["n"] == 2.0


def test_identical_points_are_stored_once(store: SqlStore) -> None:
    run_id = _run(store)
    for _ in range(3):
        store.log_metric(run_id, Metric("m", 0.5, 7, 1))
    store.log_metric(run_id, Metric("m", 0.6, 7, 1))
    assert _points(store.get_metric_history(run_id, "m")) == [(7, 1, 0.5), (7, 1, 0.6)]


def test_long_sync_series_moves_through_tail_into_chunks(store: SqlStore) -> None:
    run_id = _run(store)
    n = TAIL_FLUSH_POINTS * 3 + 17
    for i in range(n):
        store.log_metric(run_id, Metric("loss", 1.0 / (i + 1), 1000 + i, i))
    history = store.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(n))
    assert [m.value for m in history] == [1.0 / (i + 1) for i in range(n)]
    with store.engine.connect() as conn:
        chunks = conn.exec_driver_sql("SELECT COUNT(*), SUM(n) FROM metric_chunks").one()
        tail = conn.exec_driver_sql("SELECT tail_n FROM latest_metrics").scalar()
    assert chunks == (3, TAIL_FLUSH_POINTS * 3)
    assert tail == 17


def test_batches_of_few_and_many_points_per_key(store: SqlStore) -> None:
    run_id = _run(store)
    wide = [Metric(f"k{i}", float(i), 5, 0) for i in range(300)]
    deep = [Metric("deep", float(i), 100 + i, i) for i in range(1000)]
    store.log_batch(run_id, wide + deep)
    store.log_batch(run_id, [Metric("k1", 99.0, 6, 1)] * 1)
    metrics = store.get_run(run_id).data.metrics
    assert len(metrics) == 301
    assert metrics["k1"] == 99.0
    assert metrics["k299"] == 299.0
    assert metrics["deep"] == 999.0
    assert _points(store.get_metric_history(run_id, "k1")) == [(5, 0, 1.0), (6, 1, 99.0)]
    assert [m.value for m in store.get_metric_history(run_id, "deep")] == [
        float(i) for i in range(1000)
    ]


def test_metric_columns_path(store: SqlStore) -> None:
    run_id = _run(store)
    steps = list(range(5000))
    store.log_metric_columns(
        run_id,
        {"a": (steps, [1] * 5000, [s * 0.5 for s in steps]), "b": ([7], [2], [1.5])},
    )
    history = store.get_metric_history(run_id, "a")
    assert len(history) == 5000
    assert list(history.steps) == steps
    assert history[4999].value == 2499.5
    assert store.get_run(run_id).data.metrics == {"a": 2499.5, "b": 1.5}


def test_metric_points_wide_and_narrow(store: SqlStore) -> None:
    run_id = _run(store)
    keys = [f"k{i}" for i in range(100)]  # wide: one row, folded before any read
    store.log_metric_points(run_id, (keys, [3] * 100, [9] * 100, [i / 4 for i in range(100)]))
    store.log_metric_points(run_id, (["a", "b", "a"], [1, 1, 2], [5, 5, 6], [0.5, 1.5, 2.5]))
    metrics = store.get_run(run_id).data.metrics
    assert len(metrics) == 102
    assert (metrics["k99"], metrics["a"], metrics["b"]) == (24.75, 2.5, 1.5)
    assert _points(store.get_metric_history(run_id, "k7")) == [(9, 3, 1.75)]
    assert _points(store.get_metric_history(run_id, "a")) == [(5, 1, 0.5), (6, 2, 2.5)]
    with pytest.raises(MlflowException, match="differ in length"):
        store.log_metric_points(run_id, (["a"], [1, 2], [5], [0.5]))
    with pytest.raises(MlflowException, match="'bad key!'"):
        store.log_metric_points(run_id, ([*keys[:20], "bad key!"], [0] * 21, [0] * 21, [0.0] * 21))
    assert len(store.get_run(run_id).data.metrics) == 102  # nothing of it written


def test_metric_points_in_runs_of_keys(store: SqlStore) -> None:
    """A client's key after key (``log_batch`` of 10 keys x 100 steps): columns per key as
    slices of the flat points; a key in two runs, or interleaved keys, grouped point by point.
    Every way gives the same histories and latest values."""
    run_id = _run(store)
    steps = list(range(100))
    keys = [f"m{k}" for k in range(10) for _ in steps]
    store.log_metric_points(
        run_id,
        (
            keys,
            steps * 10,
            [1000 + s for s in steps] * 10,
            [k + s / 100 for k in range(10) for s in steps],
        ),
    )
    # Step 99 again for m3, logged later with a smaller value: the later time wins the tie.
    store.log_metric_points(run_id, (["m3", "m3"], [99, 98], [5000, 5000], [-1.0, -2.0]))
    # A key in two runs ("a" twice) and interleaved keys take the point-by-point grouping.
    store.log_metric_points(
        run_id, (["a", "a", "b", "b", "a"], [1, 2, 1, 2, 3], [7] * 5, [0.1, 0.2, 1.1, 1.2, 0.3])
    )
    store.log_metric_points(
        run_id, (["c", "d", "c", "d"], [1, 1, 2, 2], [8] * 4, [1.0, 2.0, 3.0, 4.0])
    )
    metrics = store.get_run(run_id).data.metrics
    assert metrics == {
        **{f"m{k}": k + 0.99 for k in range(10)},
        "m3": -1.0,
        "a": 0.3,
        "b": 1.2,
        "c": 3.0,
        "d": 4.0,
    }
    history = _points(store.get_metric_history(run_id, "m7"))
    assert history == [(1000 + s, s, 7 + s / 100) for s in steps]
    # MLflow's history order: by timestamp, then step.
    assert _points(store.get_metric_history(run_id, "m3"))[-3:] == [
        (1099, 99, 3.99),
        (5000, 98, -2.0),
        (5000, 99, -1.0),
    ]
    assert _points(store.get_metric_history(run_id, "a")) == [(7, 1, 0.1), (7, 2, 0.2), (7, 3, 0.3)]
    assert _points(store.get_metric_history(run_id, "d")) == [(8, 1, 2.0), (8, 2, 4.0)]


def test_unknown_metric_key_and_run(store: SqlStore) -> None:
    run_id = _run(store)
    assert list(store.get_metric_history(run_id, "nothing")) == []
    with pytest.raises(MlflowException) as error:
        store.get_metric_history("a" * 32, "m")
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize(
    ("metric", "fragment"),
    [
        (Metric("bad key!", 1.0, 1, 0), "Names may only contain"),
        (Metric("../up", 1.0, 1, 0), "resolve to"),
        (Metric("k" * 251, 1.0, 1, 0), "250"),
        (Metric("m", "0.5", 1, 0), "valid double"),  # type: ignore[arg-type]
        (Metric("m", True, 1, 0), "valid double"),
        (Metric("m", 1.0, -1, 0), "timestamp"),
        (Metric("m", 1.0, 1, 2**63), "step"),
        (Metric("m", 1.0, 1, 1.5), "step"),  # type: ignore[arg-type]
    ],
)
def test_bad_metrics_change_nothing(store: SqlStore, metric: Metric, fragment: str) -> None:
    run_id = _run(store)
    for write in (
        lambda: store.log_metric(run_id, metric),
        lambda: store.log_batch(run_id, [Metric("good", 1.0, 1, 0), metric]),
    ):
        with pytest.raises(MlflowException) as error:
            write()
        assert error.value.error_code == "INVALID_PARAMETER_VALUE"
        assert fragment in error.value.message
    assert store.get_run(run_id).data.metrics == {}


def test_concurrent_threads_lose_no_point(store: SqlStore) -> None:
    run_id = _run(store)

    def work(worker: int) -> None:
        for i in range(150):
            store.log_metric(run_id, Metric(f"w{worker}", float(i), 1000 + i, i))

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in range(4):
        assert [m.step for m in store.get_metric_history(run_id, f"w{worker}")] == list(range(150))
