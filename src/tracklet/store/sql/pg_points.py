"""PostgreSQL: a metrics-only ``log_batch`` as one statement, on any pooled connection.

A batch written in a transaction of the writer's costs five round trips (BEGIN, the run
check, the chunks, the latest values, COMMIT) under the writer's lock, so a server's concurrent
requests queued behind each other's commits. Here the run check, the chunk rows and the
upsert of the latest values (or a wide batch's one ``metric_batches`` row) are one statement in
autocommit: one round trip, one commit, atomic as any statement, and run beside other writers
(PostgreSQL's row locks order them; keys go in sorted order so two batches never deadlock).
A batch for a missing or inactive run writes nothing and says so (no row returned).

The statement keeps its run's books itself, in the order the triggers would: after the latest
values are written, it takes the run's pack lock (shared), clears the pack and numbers the run
(``pack_triggers``, ``change_triggers``); the latest_metrics triggers skip it, seeing
``BOOKKEPT_RUN`` set while it writes those rows (set by the run check, emptied once they are
written, so no later statement of a transaction is skipped). Measured on a 10 x 100 log-batch:
the triggers' plpgsql and transition-table queries were ~0.1 ms of ~0.65 ms of database CPU.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from tracklet.entities import LifecycleStage
from tracklet.store.base import MetricColumns, MetricPoints
from tracklet.store.sql import metric_codec, metric_layout
from tracklet.store.sql.change_triggers import CHANGE_SEQUENCE
from tracklet.store.sql.compiled import Compiled, Db
from tracklet.store.sql.pack_triggers import BOOKKEPT_RUN, PACK_LOCK_BUCKETS, PACK_LOCK_SPACE

# The run check also marks the run's books as kept by this statement (see the module's doc).
_RUN = f"SELECT run_uuid, set_config('{BOOKKEPT_RUN}', run_uuid, true) FROM runs"
_ACTIVE_RUN = f"{_RUN} WHERE run_uuid = :run_uuid AND lifecycle_stage = '{LifecycleStage.ACTIVE}'"
# MLflow's order for the latest value: step, then timestamp, then value; a NaN never wins a tie
# (as ``metrics._append_set_clause``).
_NEWER = (
    "(excluded.step > lm.step OR (excluded.step = lm.step AND excluded.timestamp > lm.timestamp)"
    " OR (excluded.step = lm.step AND excluded.timestamp = lm.timestamp"
    " AND (excluded.value > lm.value OR (lm.is_nan AND NOT excluded.is_nan))))"
)
_SET_LATEST = ", ".join(
    f"{column} = CASE WHEN {_NEWER} THEN excluded.{column} ELSE lm.{column} END"
    for column in ("value", "is_nan", "timestamp", "step")
)
_ANY_RUN = f"{_RUN} WHERE run_uuid = :run_uuid"
# Once every latest value is written (``written`` reads them all, so the latest_metrics
# statement triggers have been queued, or skipped, by then): the pack lock, then the run's row,
# as the triggers take them; the mark emptied.
_BOOKKEEPING = (
    " written AS (SELECT count(*) AS n FROM latest),"
    " locked AS (SELECT run.run_uuid,"
    f" pg_advisory_xact_lock_shared({PACK_LOCK_SPACE}, hashtext(run.run_uuid)"
    f" & {PACK_LOCK_BUCKETS - 1}), set_config('{BOOKKEPT_RUN}', '', true) FROM run, written),"
    f" book AS (UPDATE runs SET pack = NULL, change_seq = nextval('{CHANGE_SEQUENCE}')"
    " FROM locked WHERE runs.run_uuid = locked.run_uuid)"
)


def _series(run_check: str) -> Any:
    return sa.text(
        f"WITH run AS ({run_check}),"
        " chunks AS (INSERT INTO metric_chunks (run_uuid, key, n, data)"
        " SELECT run.run_uuid, c.key, c.n, c.data FROM run, unnest(CAST(:chunk_keys AS VARCHAR[]),"
        " CAST(:chunk_n AS INTEGER[]), CAST(:chunk_data AS BYTEA[])) AS c(key, n, data)),"
        " latest AS (INSERT INTO latest_metrics AS lm"
        " (run_uuid, key, value, is_nan, timestamp, step, tail_n, tail)"
        " SELECT run.run_uuid, a.key, a.value, a.is_nan, a.timestamp, a.step, a.tail_n, a.tail"
        " FROM run, unnest(CAST(:key AS VARCHAR[]), CAST(:value AS FLOAT[]),"
        " CAST(:is_nan AS BOOLEAN[]), CAST(:timestamp AS BIGINT[]), CAST(:step AS BIGINT[]),"
        " CAST(:count AS INTEGER[]), CAST(:points AS BYTEA[]))"
        " AS a(key, value, is_nan, timestamp, step, tail_n, tail)"
        f" ON CONFLICT (run_uuid, key) DO UPDATE SET {_SET_LATEST},"
        " tail_n = lm.tail_n + excluded.tail_n, tail = lm.tail || excluded.tail RETURNING 1),"
        f"{_BOOKKEEPING} SELECT 1 FROM run"
    )


_WIDE = sa.text(
    "INSERT INTO metric_batches (run_uuid, metric_keys, key_set_id, step, timestamp, data)"
    " SELECT run_uuid, :metric_keys, :key_set_id, :step, :timestamp, :data"
    f" FROM ({_ACTIVE_RUN}) AS run RETURNING 1"
)
_SERIES_STATEMENT = Compiled(
    lambda _name: _series(_ACTIVE_RUN), dialects=("postgresql",), binary=True
)
# The same for a run in any stage, in a transaction that has checked it (a fold, say).
_SERIES_UNGUARDED = Compiled(lambda _name: _series(_ANY_RUN), dialects=("postgresql",), binary=True)
_WIDE_STATEMENT = Compiled(lambda _name: _WIDE, dialects=("postgresql",), binary=True)
# Moves full tails into chunks in one statement: the rows are locked (FOR UPDATE re-reads a
# row another writer changed meanwhile), so a point appended concurrently is moved or kept,
# never cleared unmoved.
_MOVE_TAILS = Compiled(
    lambda _name: sa.text(
        "WITH old AS (SELECT run_uuid, key, tail_n, tail FROM latest_metrics"
        " WHERE run_uuid = :run_uuid AND key = ANY(CAST(:keys AS VARCHAR[])) AND tail_n > 0"
        " ORDER BY key FOR UPDATE),"
        " cleared AS (UPDATE latest_metrics AS lm SET tail = ''::bytea, tail_n = 0 FROM old"
        " WHERE lm.run_uuid = old.run_uuid AND lm.key = old.key)"
        " INSERT INTO metric_chunks (run_uuid, key, n, data)"
        " SELECT run_uuid, key, tail_n, tail FROM old"
    ),
    dialects=("postgresql",),
    binary=True,
)


# Flat points (keys, steps, timestamps, values) and each key's (start, end) in them.
Spans = tuple[MetricPoints, Mapping[str, tuple[int, int]]]


def write_series(
    db: Db,
    run_id: str,
    series: Mapping[str, MetricColumns],
    tail_sizes: dict[tuple[str, str], int],
    guarded: bool = True,
    spans: Spans | None = None,
) -> list[str] | None:
    """Write points grouped by key in one statement; None if the run is missing (or, when
    ``guarded``, not active), else the keys whose tails are full (for :func:`move_tails`).

    ``spans``: the flat points ``series`` was sliced from, one span per key: packed in one
    call, each key's blob a slice of it (a call per key cost a third more)."""
    blob = b""
    if spans is not None:
        (_keys, all_steps, all_timestamps, all_values), key_spans = spans
        blob = metric_codec.pack_points(all_steps, all_timestamps, all_values)
    chunk_keys: list[str] = []
    chunk_n: list[int] = []
    chunk_data: list[bytes] = []
    appends: list[tuple[str, Any, bool, int, int, int, bytes]] = []
    full_tails: list[str] = []
    for key in sorted(series):
        steps, timestamps, values = series[key]
        n = len(steps)
        if n == 0:
            continue
        if n == 1:
            step, timestamp, value = steps[0], timestamps[0], values[0]
        else:
            step, timestamp, value = metric_codec.latest_of(steps, timestamps, values)
        is_nan = value != value
        points, count = b"", 0
        packed = None
        if spans is not None:
            start, end = key_spans[key]
            packed = blob[start * metric_codec.RECORD_SIZE : end * metric_codec.RECORD_SIZE]
        if n < metric_layout.SMALL_GROUP:
            points = (
                metric_codec.pack_points(steps, timestamps, values) if packed is None else packed
            )
            count = n
            size = tail_sizes.get((run_id, key), 0) + n
            if size >= metric_layout.TAIL_FLUSH_POINTS:
                full_tails.append(key)
                size = 0
            tail_sizes[(run_id, key)] = size
        elif packed is not None and n <= metric_layout.MAX_CHUNK_POINTS:
            chunk_keys.append(key)
            chunk_n.append(n)
            chunk_data.append(packed)
        else:
            step_max = metric_layout.MAX_CHUNK_POINTS
            for start in range(0, n, step_max):
                end = min(start + step_max, n)
                chunk_keys.append(key)
                chunk_n.append(end - start)
                chunk_data.append(
                    metric_codec.pack_points(
                        steps[start:end], timestamps[start:end], values[start:end]
                    )
                )
        appends.append((key, None if is_nan else value, is_nan, timestamp, step, count, points))
    columns: list[Sequence[Any]] = list(zip(*appends, strict=True)) if appends else [()] * 7
    cursor = db.execute_kept(
        _SERIES_STATEMENT if guarded else _SERIES_UNGUARDED,
        {
            "run_uuid": run_id,
            "chunk_keys": chunk_keys,
            "chunk_n": chunk_n,
            "chunk_data": chunk_data,
            **{name: list(column) for name, column in zip(_APPEND_NAMES, columns, strict=True)},
        },
    )
    if cursor.fetchone() is None:
        return None
    if len(tail_sizes) > metric_layout.MAX_TRACKED_TAILS:
        tail_sizes.clear()
    return full_tails


_APPEND_NAMES = ("key", "value", "is_nan", "timestamp", "step", "count", "points")


def write_wide(db: Db, row: Mapping[str, Any]) -> bool:
    """A wide batch's ``metric_batches`` row (``metric_batches.row``); False if the run is
    missing or not active."""
    cursor = db.execute(_WIDE_STATEMENT, row)
    try:
        return cursor.fetchone() is not None
    finally:
        cursor.close()


def move_tails(db: Db, run_id: str, keys: list[str]) -> None:
    """Move these keys' tails into chunks (one statement; see ``_MOVE_TAILS``)."""
    db.execute(_MOVE_TAILS, {"run_uuid": run_id, "keys": sorted(keys)}).close()
