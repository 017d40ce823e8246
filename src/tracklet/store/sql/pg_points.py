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

from collections.abc import Mapping
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


_RECORD = metric_codec.RECORD_SIZE


def _series(run_check: str) -> Any:
    """The points as one blob of records (``:points``) and, per chunk and per key, where its
    records are in it; the other columns as array literals in text (see ``write_series``)."""
    return sa.text(
        f"WITH run AS ({run_check}),"
        " chunks AS (INSERT INTO metric_chunks (run_uuid, key, n, data)"
        f" SELECT run.run_uuid, c.key, c.n, substring(:points FROM c.at * {_RECORD} + 1"
        f" FOR c.n * {_RECORD}) FROM run, unnest(CAST(:chunk_keys AS VARCHAR[]),"
        " CAST(:chunk_at AS INTEGER[]), CAST(:chunk_n AS INTEGER[])) AS c(key, at, n)),"
        " latest AS (INSERT INTO latest_metrics AS lm"
        " (run_uuid, key, value, is_nan, timestamp, step, tail_n, tail)"
        " SELECT run.run_uuid, a.key, a.value, a.value IS NULL, a.timestamp, a.step, a.tail_n,"
        f" substring(:points FROM a.at * {_RECORD} + 1 FOR a.tail_n * {_RECORD})"
        " FROM run, unnest(CAST(:key AS VARCHAR[]), CAST(:value AS FLOAT[]),"
        " CAST(:timestamp AS BIGINT[]), CAST(:step AS BIGINT[]), CAST(:tail_at AS INTEGER[]),"
        " CAST(:tail_n AS INTEGER[])) AS a(key, value, timestamp, step, at, tail_n)"
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
    call (a call per key cost a third more), the blob sent as is.

    Parameters: the records in one blob, each chunk and tail named by its place in it, and the
    per-key columns as array literals in text (a NaN latest value as NULL), a few C-level joins.
    Ten lists adapted by psycopg cost ~200 us of Python a batch (a Python call per item and
    list); PostgreSQL parses the literals and slices the blob for a few microseconds."""
    pieces: list[bytes] = []
    if spans is not None:
        (_keys, all_steps, all_timestamps, all_values), key_spans = spans
        pieces.append(metric_codec.pack_points(all_steps, all_timestamps, all_values))
    size = 0  # records in pieces (when packed per key)
    chunk_keys: list[str] = []
    chunk_at: list[int] = []
    chunk_n: list[int] = []
    # Per key: its latest point, for latest_metrics.
    keys: list[str] = []
    latest_values: list[str] = []
    latest_timestamps: list[int] = []
    latest_steps: list[int] = []
    tail_at: list[int] = []
    tail_n: list[int] = []
    full_tails: list[str] = []
    for key in sorted(series):
        steps, key_timestamps, key_values = series[key]
        n = len(steps)
        if n == 0:
            continue
        if n == 1:
            step, timestamp, value = steps[0], key_timestamps[0], key_values[0]
        else:
            step, timestamp, value = metric_codec.latest_of(steps, key_timestamps, key_values)
        if spans is not None:
            at = key_spans[key][0]
        else:
            pieces.append(metric_codec.pack_points(steps, key_timestamps, key_values))
            at, size = size, size + n
        if n < metric_layout.SMALL_GROUP:
            tail_at.append(at)
            tail_n.append(n)
            tail = tail_sizes.get((run_id, key), 0) + n
            if tail >= metric_layout.TAIL_FLUSH_POINTS:
                full_tails.append(key)
                tail = 0
            tail_sizes[(run_id, key)] = tail
        else:
            tail_at.append(0)
            tail_n.append(0)
            for start in range(0, n, metric_layout.MAX_CHUNK_POINTS):
                chunk_keys.append(key)
                chunk_at.append(at + start)
                chunk_n.append(min(metric_layout.MAX_CHUNK_POINTS, n - start))
        keys.append(key)
        # float first: repr of a numpy float is not a number; NaN -> NULL (is_nan, in SQL).
        latest_values.append("NULL" if value != value else repr(float(value)))
        latest_timestamps.append(timestamp)
        latest_steps.append(step)
    cursor = db.execute_kept(
        _SERIES_STATEMENT if guarded else _SERIES_UNGUARDED,
        {
            "run_uuid": run_id,
            "points": pieces[0] if len(pieces) == 1 else b"".join(pieces),
            "chunk_keys": _text_array(chunk_keys),
            "chunk_at": _int_array(chunk_at),
            "chunk_n": _int_array(chunk_n),
            "key": _text_array(keys),
            "value": "{" + ",".join(latest_values) + "}",
            "timestamp": _int_array(latest_timestamps),
            "step": _int_array(latest_steps),
            "tail_at": _int_array(tail_at),
            "tail_n": _int_array(tail_n),
        },
    )
    if cursor.fetchone() is None:
        return None
    if len(tail_sizes) > metric_layout.MAX_TRACKED_TAILS:
        tail_sizes.clear()
    return full_tails


def _int_array(numbers: list[int]) -> str:
    """An array literal of integers (``int`` first: a bool or a numpy integer prints no
    number, or another one)."""
    return "{" + ",".join(map(str, map(int, numbers))) + "}"


def _text_array(texts: list[str]) -> str:
    """An array literal of strings, each quoted: a key may hold spaces, commas or braces."""
    return (
        "{"
        + ",".join(['"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"' for t in texts])
        + "}"
    )


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
