"""Reading an MLflow database's metric points as tracklet's rows: one packed blob
(``metric_codec``) per (run, key) for ``metric_chunks`` and its latest value for
``latest_metrics``. ``read_metrics_job`` does the same in a worker process (``tracklet import``
reads batches of runs on the other cores while it writes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from tracklet.store.sql import metric_codec
from tracklet.transfer import mlflow_tables as theirs
from tracklet.transfer.bulk import compile_text

_MAX_CHUNK_POINTS = 65536
MetricRows = tuple[list[dict[str, Any]], list[dict[str, Any]], int]
_worker_engine: dict[str, sa.engine.Engine] = {}


def read_metrics_job(source_uri: str, ids: list[str]) -> MetricRows:
    """``read_metrics`` in a worker process, on an engine it keeps for the next batch."""
    engine = _worker_engine.get(source_uri)
    if engine is None:
        from tracklet.store.sql.engine import normalize_db_uri

        engine = _worker_engine[source_uri] = sa.create_engine(normalize_db_uri(source_uri))
    wrapper = engine.raw_connection()
    try:
        return read_metrics(wrapper.driver_connection, engine.dialect.name, ids)
    finally:
        wrapper.close()


def read_metrics(dbapi: Any, dialect: str, ids: list[str]) -> MetricRows:
    """metric_chunks and latest_metrics rows of these runs, and the number of points.

    One select per (run, key) walks MLflow's (run_uuid, key, step) index and returns only the
    numbers: no strings are made per point, and the columns come out of one ``zip``."""
    m = theirs.metrics
    chunks: list[dict[str, Any]] = []
    latest: list[dict[str, Any]] = []
    total = 0
    keys_text, _ = compile_text(
        sa.select(m.c.key).distinct().where(m.c.run_uuid == sa.bindparam("run_uuid")),
        dialect,
    )
    points_text, _ = compile_text(
        # NaN (stored as 0 with is_nan set) comes back as NULL: three columns, not four, a
        # third less work per point. ORDER BY step makes SQLite walk the (run, key, step) index.
        sa.select(m.c.step, m.c.timestamp, sa.case((m.c.is_nan, sa.null()), else_=m.c.value))
        .where(m.c.run_uuid == sa.bindparam("run_uuid"), m.c.key == sa.bindparam("key"))
        .order_by(m.c.step, m.c.timestamp),
        dialect,
    )
    cursor = dbapi.cursor()
    for run_id in ids:
        cursor.execute(keys_text, {"run_uuid": run_id})
        for (key,) in cursor.fetchall():
            cursor.execute(points_text, {"run_uuid": run_id, "key": key})
            steps, timestamps, values = zip(*cursor.fetchall(), strict=True)
            if None in values:
                values = tuple(float("nan") if v is None else v for v in values)
            total += series_rows(run_id, key, steps, timestamps, values, chunks, latest)
    return chunks, latest, total


def series_rows(
    run_id: str,
    key: str,
    steps: Sequence[int],
    timestamps: Sequence[int],
    values: Sequence[float],
    chunks: list[dict[str, Any]],
    latest: list[dict[str, Any]],
) -> int:
    """Append one (run, key) history's metric_chunks rows (packed, 64k points a chunk) and its
    latest_metrics row (MLflow's latest: max step, then timestamp, then value); returns the
    number of points. Shared by every import source."""
    n = len(steps)
    if n == 0:
        return 0
    for at in range(0, n, _MAX_CHUNK_POINTS):
        end = at + _MAX_CHUNK_POINTS
        chunks.append(
            {
                "run_uuid": run_id,
                "key": key,
                "n": min(n, end) - at,
                "data": metric_codec.pack_points(steps[at:end], timestamps[at:end], values[at:end]),
            }
        )
    step, timestamp, value = metric_codec.latest_of(steps, timestamps, values)
    is_nan = value != value
    latest.append(
        {
            "run_uuid": run_id,
            "key": key,
            "value": None if is_nan else value,
            "is_nan": is_nan,
            "timestamp": timestamp,
            "step": step,
            "tail_n": 0,
            "tail": b"",
        }
    )
    return n
