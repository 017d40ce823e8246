"""Writing metric points (one at a time, or in batches as columns) and reading a history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tracklet.entities import Metric, MetricHistory
from tracklet.store.base import MetricColumns
from tracklet.store.sql import metric_codec
from tracklet.store.sql.hot_statements import TAIL_FLUSH_POINTS, HotStatements

# A batch's points for one key go to the tail when there are few of them (one upsert, no new
# row), and into a chunk row of their own otherwise.
_SMALL_GROUP = 32
# Split very long series into chunks of at most this many points (about 1.5 MB each).
_MAX_CHUNK_POINTS = 65536


def point_params(run_id: str, metric: Metric) -> dict[str, Any]:
    """Parameters of ``append_point_guarded`` for a single point."""
    value = metric.value
    is_nan = value != value
    return {
        "run_uuid": run_id,
        "key": metric.key,
        "value": None if is_nan else value,
        "is_nan": is_nan,
        "timestamp": metric.timestamp,
        "step": metric.step,
        "points": metric_codec.pack_point(metric.step, metric.timestamp, value),
        "count": 1,
    }


def flush_tail(dbapi: Any, hot: HotStatements, run_id: str, key: str, begin_sql: str) -> None:
    """Move one full tail into a chunk, in its own transaction."""
    cursor = dbapi.cursor()
    cursor.execute(begin_sql)
    try:
        keys = {"run_uuid": run_id, "key": key}
        cursor.execute(hot.move_tail, keys)
        cursor.execute(hot.clear_tail, {**keys, "empty": b""})
    except BaseException:
        cursor.execute("ROLLBACK")
        raise
    cursor.execute("COMMIT")


def group_by_key(metrics: Sequence[Metric]) -> dict[str, MetricColumns]:
    series: dict[str, tuple[list[int], list[int], list[float]]] = {}
    for metric in metrics:
        columns = series.get(metric.key)
        if columns is None:
            columns = series[metric.key] = ([], [], [])
        columns[0].append(metric.step)
        columns[1].append(metric.timestamp)
        columns[2].append(metric.value)
    return dict(series)


def write_series(
    dbapi: Any, hot: HotStatements, run_id: str, series: Mapping[str, MetricColumns]
) -> None:
    """Write points grouped by key, inside the caller's transaction (run already checked)."""
    appends: list[dict[str, Any]] = []
    chunks: list[dict[str, Any]] = []
    any_tail_growth = False
    for key, (steps, timestamps, values) in series.items():
        n = len(steps)
        if n == 0:
            continue
        if n == 1:
            step, timestamp, value = steps[0], timestamps[0], values[0]
        else:
            step, timestamp, value = metric_codec.latest_of(steps, timestamps, values)
        is_nan = value != value
        row = {
            "run_uuid": run_id,
            "key": key,
            "value": None if is_nan else value,
            "is_nan": is_nan,
            "timestamp": timestamp,
            "step": step,
        }
        if n < _SMALL_GROUP:
            row["points"] = metric_codec.pack_points(steps, timestamps, values)
            row["count"] = n
            any_tail_growth = True
        else:
            row["points"] = b""
            row["count"] = 0
            for start in range(0, n, _MAX_CHUNK_POINTS):
                end = min(start + _MAX_CHUNK_POINTS, n)
                chunks.append(
                    {
                        "run_uuid": run_id,
                        "key": key,
                        "n": end - start,
                        "data": metric_codec.pack_points(
                            steps[start:end], timestamps[start:end], values[start:end]
                        ),
                    }
                )
        appends.append(row)
    cursor = dbapi.cursor()
    if chunks:
        cursor.executemany(hot.insert_chunk, chunks)
    if appends:
        cursor.executemany(hot.append_points, appends)
    if any_tail_growth:
        flush = {"run_uuid": run_id, "threshold": TAIL_FLUSH_POINTS}
        cursor.execute(hot.move_full_tails, flush)
        cursor.execute(hot.clear_full_tails, {**flush, "empty": b""})


def read_history(conn: Any, hot: HotStatements, run_id: str, key: str) -> MetricHistory | None:
    """The metric's points in MLflow's order; None if nothing at all is stored for it."""
    blobs = [
        row[0]
        for row in conn.exec_driver_sql(hot.read_points, {"run_uuid": run_id, "key": key})
    ]
    if not blobs:
        return None
    steps, timestamps, values = metric_codec.unpack_points(blobs)
    steps_o, timestamps_o, values_o = metric_codec.in_history_order(steps, timestamps, values)
    return MetricHistory(key, steps_o, timestamps_o, values_o)
