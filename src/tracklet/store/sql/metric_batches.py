"""Wide metric batches: many keys with a point or a few each, written as one row and folded into
``latest_metrics`` and ``metric_chunks`` before anything reads them.

A batch of 1,000 keys x 1 step written a row per key costs four index updates a point (the
row, its primary key, the search index on the latest value, the pack trigger's run lookup):
about 10 µs a point, where a batch of 10 keys x 100 steps costs under 1 µs. So a wide batch is
one ``metric_batches`` row (its insert trigger clears the run's pack), committed like any write:
durable and, through the fold, visible on return. Folding turns every pending row into the
usual layout, one upsert of the latest value and one chunk per key for all the rows folded
together, so the per-key cost is paid once per fold, not once per step. A fold runs

- before any read of the store (``SqlStoreBase._reader`` looks for pending rows first, in one
  indexed probe), in this process or another one sharing the database;
- before a run is packed (``run_packs.pack_runs``), in the packer's transaction (on SQLite; on
  PostgreSQL a run with pending rows is left unpacked until a read has folded them);
- when a writer has deferred ``FOLD_POINTS`` points since its last fold, so pending rows stay
  few even if nothing reads.

Points keep every guarantee of the direct path: the latest value is chosen by MLflow's order
whatever order batches fold in, and histories are ordered when read (``metric_codec``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from tracklet.store.base import MetricColumns
from tracklet.store.sql import metric_codec, metric_layout
from tracklet.store.sql import metrics as metric_queries
from tracklet.store.sql.compiled import Db, bp, expanding, stmt
from tracklet.store.sql.schema import metric_batches

# Where wide batches are deferred: both. On PostgreSQL a 1,000-key batch written directly is a
# 1,000-row upsert of latest_metrics (30-100 ms, more as dead row versions pile up between
# vacuums) where its one row costs about a millisecond; the probe before a read is one round
# trip of an index-only query.
DEFERRING_DIALECTS = ("sqlite", "postgresql")
# A batch with at least this many keys of few points (each would be a row of its own) is
# written as one row; narrower batches take the direct path, which costs them little.
WIDE_KEYS = 16
# A writer folds after deferring this many points (about 20 ms of folding on SQLite).
FOLD_POINTS = 100_000

_SMALL = metric_layout.SMALL_GROUP
mb = metric_batches.c
_INSERT = stmt(
    lambda: metric_batches.insert().values(
        run_uuid=bp("run_uuid"), metric_keys=bp("metric_keys"), data=bp("data")
    )
)
# Claims the rows it returns: two concurrent folds (PostgreSQL) never fold a row twice.
_TAKE_ALL = stmt(
    lambda: metric_batches.delete().returning(mb.batch_id, mb.run_uuid, mb.metric_keys, mb.data)
)
# SQLite: the fold runs in the writer's transaction, where nothing else writes: the rows are
# read, then deleted up to the last one read; a third cheaper than DELETE ... RETURNING, which
# buffers every returned row (each a few kilobytes) before handing back the first.
_READ_ALL = stmt(
    lambda: sa.select(mb.batch_id, mb.run_uuid, mb.metric_keys, mb.data).order_by(mb.batch_id)
)
_DELETE_TO = stmt(lambda: metric_batches.delete().where(mb.batch_id <= bp("last")))
_ANY = stmt(lambda: sa.select(sa.exists(sa.select(mb.batch_id))))
_RUNS_PENDING = stmt(
    lambda: sa.select(mb.run_uuid).distinct().where(mb.run_uuid.in_(expanding("ids")))
)


def is_wide(key_count: int, point_count: int) -> bool:
    """Whether a batch of this many points over this many keys is written as one row."""
    return key_count >= WIDE_KEYS and point_count < key_count * _SMALL


def write(db: Db, run_id: str, points: metric_layout.FlatPoints) -> None:
    """One row for these points, in the caller's transaction."""
    keys, steps, timestamps, values = points
    db.execute(
        _INSERT,
        {
            "run_uuid": run_id,
            "metric_keys": "\0".join(keys).encode(),
            "data": metric_codec.pack_points(steps, timestamps, values),
        },
    ).close()


def runs_pending(db: Db, run_ids: Sequence[str]) -> set[str]:
    """Which of these runs have batches waiting to be folded."""
    return {row[0] for row in db.execute_in(_RUNS_PENDING, "ids", run_ids).fetchall()}


def any_pending(db: Db) -> bool:
    """Whether any batch waits to be folded (one probe of the primary key)."""
    cursor = db.execute(_ANY)
    try:
        return bool(cursor.fetchone()[0])
    finally:
        cursor.close()  # ends the statement: the read that follows takes a fresh snapshot


def fold(db: Db, tail_sizes: dict[tuple[str, str], int]) -> int:
    """Fold every pending batch into the usual layout, in the caller's write transaction; the
    number of points folded."""
    if db.dialect_name == "sqlite":
        rows = db.execute(_READ_ALL).fetchall()
        if not rows:
            return 0
        db.execute(_DELETE_TO, {"last": rows[-1][0]}).close()
    else:
        rows = db.execute(_TAKE_ALL).fetchall()
        if not rows:
            return 0
        rows.sort(key=lambda row: row[0])  # RETURNING promises no order; keep the logged one
    # Batches of one run with the same keys in the same order (a step of log_metrics, or a few
    # steps of the same keys) fold together: with K keys, key i's points are every K-th record
    # from the i-th, strided slices taken at C speed. Others fold point by point.
    same_keys: dict[tuple[str, bytes], list[bytes]] = {}
    by_run: dict[str, dict[str, MetricColumns]] = {}
    folded = 0
    for _batch_id, run_id, keys_blob, data in rows:
        same_keys.setdefault((run_id, bytes(keys_blob)), []).append(data)
    for (run_id, keys_blob), blobs in same_keys.items():
        keys = keys_blob.decode().split("\0")
        steps, timestamps, values = metric_codec.unpack_points(blobs)
        folded += len(steps)
        series = by_run.setdefault(run_id, {})
        width = len(set(keys))
        if (
            len(keys) % width == 0
            and keys == keys[:width] * (len(keys) // width)
            and not any(key in series for key in keys[:width])
        ):
            for i, key in enumerate(keys[:width]):
                series[key] = (steps[i::width], timestamps[i::width], values[i::width])
            continue
        _add_points(series, keys * len(blobs), steps, timestamps, values)
    for run_id, series in by_run.items():
        metric_queries.write_series(db, run_id, series, tail_sizes)
    return folded


def _add_points(
    series: dict[str, MetricColumns],
    keys: list[str],
    steps: Sequence[int],
    timestamps: Sequence[int],
    values: Sequence[float],
) -> None:
    for key, step, timestamp, value in zip(keys, steps, timestamps, values, strict=True):
        columns = series.get(key)
        if columns is None:
            series[key] = columns = ([], [], [])
        elif not isinstance(columns[0], list):
            series[key] = columns = (list(columns[0]), list(columns[1]), list(columns[2]))
        columns[0].append(step)  # type: ignore[attr-defined]
        columns[1].append(timestamp)  # type: ignore[attr-defined]
        columns[2].append(value)  # type: ignore[attr-defined]
