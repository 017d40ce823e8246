"""Writing metric points (one at a time, or in batches as columns) and reading a history.

A synchronous ``log_metric`` is one statement: an upsert of the (run, key) row of
``latest_metrics`` that appends the point to the row's tail and takes the new latest value if
it is newer, guarded by a SELECT that only yields a row while the run is active. When a tail
grows past ``TAIL_FLUSH_POINTS`` it moves into ``metric_chunks`` in a transaction of its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any

import sqlalchemy as sa

from tracklet import validation
from tracklet.entities import LifecycleStage, Metric, MetricHistory
from tracklet.store.base import MetricColumns
from tracklet.store.sql import metric_codec
from tracklet.store.sql.compiled import Compiled, Db, bp, expanding, insert_for, literal, stmt
from tracklet.store.sql.metric_layout import (
    MAX_CHUNK_POINTS,
    MAX_TRACKED_TAILS,
    SMALL_GROUP,
    TAIL_FLUSH_POINTS,
    FlatPoints,
)
from tracklet.store.sql.schema import latest_metrics, metric_chunks, runs

lm = latest_metrics.c
_ZERO = literal("0")
_RUN_IS_ACTIVE = runs.c.lifecycle_stage == literal(f"'{LifecycleStage.ACTIVE}'")
_POINT_COLUMNS = ["run_uuid", "key", "value", "is_nan", "timestamp", "step", "tail_n", "tail"]


def _append_set_clause(excluded: Any) -> dict[str, Any]:
    """Append the new points to the tail; take the new latest value if it is newer (MLflow's
    order: step, then timestamp, then value; a NaN never wins a tie)."""
    newer = sa.or_(
        excluded.step > lm.step,
        sa.and_(excluded.step == lm.step, excluded.timestamp > lm.timestamp),
        sa.and_(
            excluded.step == lm.step,
            excluded.timestamp == lm.timestamp,
            sa.or_(excluded.value > lm.value, sa.and_(lm.is_nan, sa.not_(excluded.is_nan))),
        ),
    )
    return {
        "value": sa.case((newer, excluded.value), else_=lm.value),
        "is_nan": sa.case((newer, excluded.is_nan), else_=lm.is_nan),
        "timestamp": sa.case((newer, excluded.timestamp), else_=lm.timestamp),
        "step": sa.case((newer, excluded.step), else_=lm.step),
        # SQLite's || yields TEXT even for blobs; the cast keeps the bytes a BLOB.
        "tail": sa.cast(lm.tail.op("||")(excluded.tail), sa.LargeBinary),
        "tail_n": lm.tail_n + excluded.tail_n,
    }


def _append_guarded(dialect_name: str) -> Any:
    insert = insert_for(dialect_name)(latest_metrics).from_select(
        _POINT_COLUMNS,
        sa.select(
            runs.c.run_uuid,
            bp("key", sa.String),
            bp("value", sa.Float),
            bp("is_nan", sa.Boolean),
            bp("timestamp", sa.BigInteger),
            bp("step", sa.BigInteger),
            bp("count", sa.Integer),
            bp("points", sa.LargeBinary),
        ).where(runs.c.run_uuid == bp("run_uuid"), _RUN_IS_ACTIVE),
    )
    return insert.on_conflict_do_update(
        index_elements=[lm.run_uuid, lm.key], set_=_append_set_clause(insert.excluded)
    ).returning(lm.tail_n)


def _append(dialect_name: str) -> Any:
    insert = insert_for(dialect_name)(latest_metrics).values(
        run_uuid=bp("run_uuid"),
        key=bp("key"),
        value=bp("value"),
        is_nan=bp("is_nan"),
        timestamp=bp("timestamp"),
        step=bp("step"),
        tail_n=bp("count"),
        tail=bp("points"),
    )
    return insert.on_conflict_do_update(
        index_elements=[lm.run_uuid, lm.key], set_=_append_set_clause(insert.excluded)
    )


def _append_arrays(dialect_name: str) -> Any:
    """PostgreSQL: every key's append in one statement, from arrays (one per column). A
    statement per key would also run the pack trigger once per key (statement triggers)."""
    from sqlalchemy.dialects import postgresql

    def array(name: str, item: Any) -> Any:
        return sa.cast(bp(name), postgresql.ARRAY(item))

    rows = (
        sa.func.unnest(
            array("run_uuid", sa.String),
            array("key", sa.String),
            array("value", sa.Float),
            array("is_nan", sa.Boolean),
            array("timestamp", sa.BigInteger),
            array("step", sa.BigInteger),
            array("count", sa.Integer),
            array("points", sa.LargeBinary),
        )
        .table_valued(*_POINT_COLUMNS)
        .render_derived()
    )
    insert = insert_for(dialect_name)(latest_metrics).from_select(
        _POINT_COLUMNS, sa.select(*(rows.c[name] for name in _POINT_COLUMNS))
    )
    return insert.on_conflict_do_update(
        index_elements=[lm.run_uuid, lm.key], set_=_append_set_clause(insert.excluded)
    )


_APPEND_ARRAYS = Compiled(_append_arrays, dialects=("postgresql",))
_ARRAY_PARAMS = ("run_uuid", "key", "value", "is_nan", "timestamp", "step", "count", "points")

# (run_uuid, key, value, is_nan, timestamp, step, points, count) -> RETURNING tail_n; no row
# when the run is missing or not active.
APPEND_POINT_GUARDED = Compiled(_append_guarded)
# The same without the run check, inside a transaction that has checked the run.
_APPEND_POINTS = Compiled(_append)
_INSERT_CHUNK = stmt(
    lambda: metric_chunks.insert().values(
        run_uuid=bp("run_uuid"), key=bp("key"), n=bp("n"), data=bp("data")
    )
)
_TAIL_TO_CHUNK = stmt(
    lambda: metric_chunks.insert().from_select(
        ["run_uuid", "key", "n", "data"],
        sa.select(lm.run_uuid, lm.key, lm.tail_n, lm.tail).where(
            lm.run_uuid == bp("run_uuid"), lm.key == bp("key"), lm.tail_n > _ZERO
        ),
    )
)
_TAILS_TO_CHUNKS = stmt(
    lambda: metric_chunks.insert().from_select(
        ["run_uuid", "key", "n", "data"],
        sa.select(lm.run_uuid, lm.key, lm.tail_n, lm.tail).where(
            lm.run_uuid == bp("run_uuid"), lm.key.in_(expanding("keys")), lm.tail_n > _ZERO
        ),
    )
)
_CLEAR_TAILS = stmt(
    lambda: (
        latest_metrics.update()
        .where(lm.run_uuid == bp("run_uuid"), lm.key.in_(expanding("keys")))
        .values(tail=bp("empty", sa.LargeBinary), tail_n=_ZERO)
    )
)
_CLEAR_TAIL = stmt(
    lambda: (
        latest_metrics.update()
        .where(lm.run_uuid == bp("run_uuid"), lm.key == bp("key"))
        .values(tail=bp("empty", sa.LargeBinary), tail_n=_ZERO)
    )
)


# The tail's place after every chunk (chunk ids are positive and never reach it).
_TAIL_ORD = literal(str(2**63 - 1))


def _read_points() -> Any:
    # Chunks in order, then the tail, in one statement and so one snapshot: a tail that moves
    # into a chunk meanwhile is seen exactly once. One sort key, which the chunk index already
    # delivers in order: ordered by (part, ord) instead, SQLite copied every blob into a
    # temporary b-tree to sort it (a million points: 65 ms against 25 ms).
    chunk_part = sa.select(
        metric_chunks.c.chunk_id.label("ord"), metric_chunks.c.data.label("data")
    ).where(metric_chunks.c.run_uuid == bp("run_uuid"), metric_chunks.c.key == bp("key"))
    tail_part = sa.select(_TAIL_ORD.label("ord"), lm.tail.label("data")).where(
        lm.run_uuid == bp("run_uuid"), lm.key == bp("key")
    )
    return sa.union_all(chunk_part, tail_part).order_by(sa.literal_column("ord"))


_READ_POINTS = stmt(_read_points)


def point_params(run_id: str, metric: Metric) -> dict[str, Any]:
    """Parameters of ``APPEND_POINT_GUARDED`` for a single point."""
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


def move_tail(db: Db, run_id: str, key: str) -> None:
    """Move a full tail into a chunk (inside the caller's transaction)."""
    if db.dialect_name == "postgresql":
        move_tails(db, run_id, [key])  # one statement, the row locked (see pg_points)
        return
    keys = {"run_uuid": run_id, "key": key}
    db.execute(_TAIL_TO_CHUNK, keys)
    db.execute(_CLEAR_TAIL, {**keys, "empty": b""})


def move_tails(db: Db, run_id: str, keys: Sequence[str]) -> None:
    """Move several keys' full tails into chunks: two statements, whatever their number (one
    on PostgreSQL, whose concurrent writers could append between two)."""
    if db.dialect_name == "postgresql":
        from tracklet.store.sql import pg_points

        pg_points.move_tails(db, run_id, list(keys))
        return
    for start in range(0, len(keys), 500):  # well inside SQLite's bound-parameter limit
        some = keys[start : start + 500]
        db.execute_in(_TAILS_TO_CHUNKS, "keys", some, {"run_uuid": run_id}).close()
        db.execute_in(_CLEAR_TAILS, "keys", some, {"run_uuid": run_id, "empty": b""}).close()


# A batch's points as parallel columns: each point's key, step, timestamp and value.
def flatten(metrics: Sequence[Metric], check: Callable[[Metric, int], Metric]) -> FlatPoints:
    """Points as parallel columns, checked as in ``group_by_key``. The common case (known keys,
    float values, int steps and timestamps in range) is recognised by C-level passes over the
    columns; otherwise each point is checked (and normalised, or refused naming it)."""
    keys = list(map(_KEY, metrics))
    values = list(map(_VALUE, metrics))
    timestamps = list(map(_TIMESTAMP, metrics))
    steps = list(map(_STEP, metrics))
    if (
        validation.known_valid_keys.issuperset(keys)
        and set(map(type, values)) <= _FLOAT
        and set(map(type, timestamps)) <= _INT
        and set(map(type, steps)) <= _INT
        and (not timestamps or min(timestamps) >= 0)
        and (not steps or validation.INT64_MIN <= min(steps) <= max(steps) <= validation.INT64_MAX)
    ):
        return keys, steps, timestamps, values
    checked = [check(metric, index) for index, metric in enumerate(metrics)]
    return (
        list(map(_KEY, checked)),
        list(map(_STEP, checked)),
        list(map(_TIMESTAMP, checked)),
        list(map(_VALUE, checked)),
    )


_KEY = attrgetter("key")
_ROW_KEY = itemgetter("key")
_VALUE = attrgetter("value")
_TIMESTAMP = attrgetter("timestamp")
_STEP = attrgetter("step")
_FLOAT = {float}
_INT = {int}


def flatten_series(series: Mapping[str, MetricColumns], points: int) -> FlatPoints:
    """Columns grouped by key (already checked), ``points`` in all, as parallel columns."""
    columns = series.values()
    if points == len(series):  # a point a key: C-level passes
        keys = list(series)
    else:
        keys = []
        for key, key_columns in series.items():
            keys += [key] * len(key_columns[0])
    return (
        keys,
        list(chain.from_iterable(map(itemgetter(0), columns))),
        list(chain.from_iterable(map(itemgetter(1), columns))),
        list(chain.from_iterable(map(itemgetter(2), columns))),
    )


def group_by_key(
    metrics: Sequence[Metric], check: Callable[[Metric, int], Metric]
) -> dict[str, MetricColumns]:
    """Points grouped by key as columns, each key's in the batch's order. The points are
    checked as in ``flatten``; grouped by a stable sort of their indices by key and slices of
    the sorted columns: C-level passes, no Python code per point."""
    keys, steps, timestamps, values = flatten(metrics, check)
    counts = Counter(keys)
    if len(counts) == 1:
        return {keys[0]: (steps, timestamps, values)} if keys else {}
    order = sorted(range(len(keys)), key=keys.__getitem__)
    steps = list(map(steps.__getitem__, order))
    timestamps = list(map(timestamps.__getitem__, order))
    values = list(map(values.__getitem__, order))
    series: dict[str, MetricColumns] = {}
    start = 0
    for key in sorted(counts):
        end = start + counts[key]
        series[key] = (steps[start:end], timestamps[start:end], values[start:end])
        start = end
    return series


def write_series(
    db: Db,
    run_id: str,
    series: Mapping[str, MetricColumns],
    tail_sizes: dict[tuple[str, str], int],
) -> None:
    """Write points grouped by key, inside the caller's transaction (run already checked).

    ``tail_sizes`` is this process's count of points it appended to each tail; when one
    passes the threshold the tail moves into a chunk. (Other processes appending to the same
    tail only make it somewhat longer before it moves; nothing depends on its exact length.)
    """
    if db.dialect_name == "postgresql":
        from tracklet.store.sql import pg_points

        full = pg_points.write_series(db, run_id, series, tail_sizes, guarded=False)
        if full:
            pg_points.move_tails(db, run_id, full)
        return
    appends: list[dict[str, Any]] = []
    chunks: list[dict[str, Any]] = []
    full_tails: list[str] = []
    memo: dict[bytes, tuple[int, int]] = {}
    for key, (steps, timestamps, values) in series.items():
        n = len(steps)
        if n == 0:
            continue
        if n == 1:
            step, timestamp, value = steps[0], timestamps[0], values[0]
        else:
            step, timestamp, value = metric_codec.latest_of(steps, timestamps, values, memo)
        is_nan = value != value
        row = {
            "run_uuid": run_id,
            "key": key,
            "value": None if is_nan else value,
            "is_nan": is_nan,
            "timestamp": timestamp,
            "step": step,
            "points": b"",
            "count": 0,
        }
        if n < SMALL_GROUP:
            row["points"] = metric_codec.pack_points(steps, timestamps, values)
            row["count"] = n
            size = tail_sizes.get((run_id, key), 0) + n
            if size >= TAIL_FLUSH_POINTS:
                full_tails.append(key)
                size = 0
            tail_sizes[(run_id, key)] = size
        else:
            for start in range(0, n, MAX_CHUNK_POINTS):
                end = min(start + MAX_CHUNK_POINTS, n)
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
    db.executemany(_INSERT_CHUNK, chunks)
    if db.dialect_name == "postgresql" and len(appends) > 1:
        appends.sort(key=_ROW_KEY)  # rows locked in key order: concurrent writers never deadlock
        db.execute(
            _APPEND_ARRAYS, {name: [row[name] for row in appends] for name in _ARRAY_PARAMS}
        ).close()
    else:
        db.executemany(_APPEND_POINTS, appends)
    if full_tails:
        move_tails(db, run_id, full_tails)
    if len(tail_sizes) > MAX_TRACKED_TAILS:
        tail_sizes.clear()


def read_blobs(db: Db, run_id: str, key: str) -> list[bytes]:
    """The (run, key) history's packed records (``metric_codec``) in storage order: the
    chunks, then the tail; empty if nothing is stored for it."""
    params = {"run_uuid": run_id, "key": key}
    if db.dialect_name == "postgresql":
        # Rows in binary: a bytea arrives as its bytes, not as hex text to decode (a million
        # points: 113 -> 41 ms of CPU, 380 -> 160 ms of wall time).
        cursor = db.dbapi.cursor()
        cursor.execute(_READ_POINTS.text(db.dialect_name), params, binary=True)
    else:
        cursor = db.execute(_READ_POINTS, params)
    return [row[1] for row in cursor]


def read_history(db: Db, run_id: str, key: str) -> MetricHistory | None:
    """The metric's points in MLflow's order; None if nothing at all is stored for it."""
    blobs = read_blobs(db, run_id, key)
    if not blobs:
        return None
    steps, timestamps, values = metric_codec.unpack_points(blobs)
    steps_o, timestamps_o, values_o = metric_codec.in_history_order(steps, timestamps, values)
    return MetricHistory(key, steps_o, timestamps_o, values_o)
