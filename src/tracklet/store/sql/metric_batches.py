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

A row is compact (migration 0011): a key list a writer writes again is stored once, in
``metric_key_sets`` under a 64-bit digest of it, and the row names it; points sharing one step
and timestamp (a step of ``log_metrics``, the usual batch) are stored as their values alone.
A 100-key step was a 4.2 kB row, past a 4 kB page: each commit wrote its leaf page and an
overflow page to SQLite's WAL, the checkpointer copied both, and the fold read them back; it is
now 0.9 kB, four to a page. A writer registers a key list once it has written it twice (a list
logged once, keys named after the step say, stays inline and adds no row), in a transaction of
its own after the batch's (a refused batch writes nothing), and remembers it only once
committed: a row never names a key set the database lacks. Rows of either form, and rows from
before 0011, fold alike.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from tracklet.store.base import MetricColumns
from tracklet.store.sql import metric_codec, metric_layout
from tracklet.store.sql import metrics as metric_queries
from tracklet.store.sql.compiled import Compiled, Db, bp, expanding, insert_for, stmt
from tracklet.store.sql.schema import metric_batches, metric_key_sets

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
# How many key lists a store remembers as registered, and as written once, and how many of
# their characters (a 1,000-key list of long names is a few hundred kB); past either, forgotten.
MAX_KEY_SETS = 1024
MAX_KEY_SET_CHARS = 4_000_000

_SMALL = metric_layout.SMALL_GROUP
mb = metric_batches.c
_INSERT = stmt(
    lambda: metric_batches.insert().values(
        run_uuid=bp("run_uuid"),
        metric_keys=bp("metric_keys"),
        key_set_id=bp("key_set_id"),
        step=bp("step"),
        timestamp=bp("timestamp"),
        data=bp("data"),
    )
)
_ROW = (mb.batch_id, mb.run_uuid, mb.metric_keys, mb.key_set_id, mb.step, mb.timestamp, mb.data)
# Claims the rows it returns: two concurrent folds (PostgreSQL) never fold a row twice.
_TAKE_ALL = stmt(lambda: metric_batches.delete().returning(*_ROW))
# SQLite: the fold runs in the writer's transaction, where nothing else writes: the rows are
# read, then deleted up to the last one read; a third cheaper than DELETE ... RETURNING, which
# buffers every returned row before handing back the first.
_READ_ALL = stmt(lambda: sa.select(*_ROW).order_by(mb.batch_id))
_DELETE_TO = stmt(lambda: metric_batches.delete().where(mb.batch_id <= bp("last")))
ks = metric_key_sets.c
_INSERT_KEY_SET = Compiled(
    lambda name: (
        insert_for(name)(metric_key_sets)
        .values(key_set_id=bp("key_set_id"), metric_keys=bp("metric_keys"))
        .on_conflict_do_nothing(index_elements=[ks.key_set_id])
    )
)
_KEY_SETS = stmt(
    lambda: sa.select(ks.key_set_id, ks.metric_keys).where(ks.key_set_id.in_(expanding("ids")))
)
_ANY = stmt(lambda: sa.select(sa.exists(sa.select(mb.batch_id))))
_RUNS_PENDING = stmt(
    lambda: sa.select(mb.run_uuid).distinct().where(mb.run_uuid.in_(expanding("ids")))
)


def is_wide(key_count: int, point_count: int) -> bool:
    """Whether a batch of this many points over this many keys is written as one row."""
    return key_count >= WIDE_KEYS and point_count < key_count * _SMALL


# The first byte of ``metric_keys`` in a row of the compact form (naming a key set, or holding
# values alone): a byte UTF-8 never holds. A process of a release before 0011 still running
# beside an upgraded one (a rolling restart) reads a row's keys as UTF-8 first: its fold fails
# and rolls back, where it would have read values as records and deleted the row.
COMPACT_MARK = b"\xff"
_UNKNOWN = object()


class _Remembered:
    """Key lists and what is known of them, bounded in count and characters."""

    __slots__ = ("chars", "items")

    def __init__(self) -> None:
        self.items: dict[str, int | None] = {}
        self.chars = 0

    def add(self, joined: str, value: int | None) -> None:
        if len(self.items) >= MAX_KEY_SETS or self.chars + len(joined) > MAX_KEY_SET_CHARS:
            self.items.clear()
            self.chars = 0
        self.items[joined] = value
        self.chars += len(joined)


class KeySets:
    """The key lists one store has registered in its database (``metric_key_sets``), by their
    NUL-joined keys, and those it has written once. Safe to share between threads: two that
    register one list at once both insert it, and the database keeps one."""

    __slots__ = ("_ids", "_once")

    def __init__(self) -> None:
        self._ids = _Remembered()  # the id, or None: kept inline (a digest collision)
        self._once = _Remembered()

    def id_for(self, joined: str) -> tuple[int | None, bool]:
        """The key set naming ``joined`` (None while its keys stay inline in the row), and
        whether to register it once this row is written: the second time it is written."""
        found = self._ids.items.get(joined, _UNKNOWN)
        if found is not _UNKNOWN:
            return found, False  # type: ignore[return-value]
        if joined in self._once.items:
            return None, True
        self._once.add(joined, None)
        return None, False

    def registered(self, joined: str, key_set_id: int | None) -> None:
        """Remember a key list :func:`register_key_set` committed (None: it stays inline)."""
        self._ids.add(joined, key_set_id)
        self._once.items.pop(joined, None)


def key_set_digest(metric_keys: bytes) -> int:
    """The id of a key list: the first 8 bytes of its BLAKE2b digest, a signed 64-bit int."""
    return int.from_bytes(
        hashlib.blake2b(metric_keys, digest_size=8).digest(), "little", signed=True
    )


def register_key_set(db: Db, joined: str) -> int | None:
    """Store this key list (if no writer has) and return its id; None in the freak case that
    another list holds its digest (this one then stays inline). Commits with ``db``'s
    transaction, or at once on an autocommit connection."""
    blob = joined.encode()
    key_set_id = key_set_digest(blob)
    db.execute(_INSERT_KEY_SET, {"key_set_id": key_set_id, "metric_keys": blob}).close()
    found = _key_lists(db, {key_set_id})
    return key_set_id if found.get(key_set_id) == joined.split("\0") else None


def row(
    run_id: str, points: metric_layout.FlatPoints, key_sets: KeySets
) -> tuple[dict[str, Any], str | None]:
    """The ``metric_batches`` row of these points (see the module's docstring), for
    :func:`write` or ``pg_points.write_wide``, and their key list when it is to be registered
    (:func:`register_key_set`) once the row is written, else None."""
    keys, steps, timestamps, values = points
    joined = "\0".join(keys)
    key_set_id, due = key_sets.id_for(joined)
    n = len(steps)
    step: int | None = steps[0]
    timestamp: int | None = timestamps[0]
    if steps.count(steps[0]) == n and timestamps.count(timestamps[0]) == n:
        data = metric_codec.pack_values(values)
    else:
        step = timestamp = None
        data = metric_codec.pack_points(steps, timestamps, values)
    if key_set_id is not None:
        metric_keys = COMPACT_MARK
    elif step is not None:
        metric_keys = COMPACT_MARK + joined.encode()
    else:  # keys inline, records: the form of every release
        metric_keys = joined.encode()
    wide_row = {
        "run_uuid": run_id,
        "metric_keys": metric_keys,
        "key_set_id": key_set_id,
        "step": step,
        "timestamp": timestamp,
        "data": data,
    }
    return wide_row, joined if due else None


def write(db: Db, wide_row: dict[str, Any]) -> None:
    """Insert a row of :func:`row`, in the caller's transaction."""
    db.execute(_INSERT, wide_row).close()


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
    key_lists = _key_lists(db, {row[3] for row in rows if row[3] is not None})
    # Batches of one run with the same keys in the same order (a step of log_metrics, or a few
    # steps of the same keys) fold together: with K keys, key i's points are every K-th value
    # (or record) from the i-th, strided slices taken at C speed; a row of values shares its
    # step and timestamp columns among its keys. Others fold point by point. A key's points
    # from several groups (its rows before and after its key set was registered, say) are
    # joined into one series.
    groups: dict[tuple[str, int | bytes, bool], list[Any]] = {}
    for batch in rows:
        _batch_id, run_id, keys_blob, key_set_id, step = batch[:5]
        names = bytes(keys_blob) if key_set_id is None else key_set_id
        groups.setdefault((run_id, names, step is not None), []).append(batch)
    by_run: dict[str, dict[str, list[MetricColumns]]] = {}
    folded = 0
    for (run_id, names, shared), group in groups.items():
        if isinstance(names, int):
            keys = key_lists[names]
        else:
            keys = names.removeprefix(COMPACT_MARK).decode().split("\0")
        parts = by_run.setdefault(run_id, {})
        width = len(keys)
        steps: Sequence[int]
        timestamps: Sequence[int]
        if shared:  # one step and timestamp a row
            values = metric_codec.unpack_values(r[6] for r in group)
            row_steps = array("q", [r[4] for r in group])
            row_timestamps = array("q", [r[5] for r in group])
            folded += len(values)
            if len(set(keys)) == width:
                for i, key in enumerate(keys):
                    parts.setdefault(key, []).append((row_steps, row_timestamps, values[i::width]))
                continue
            steps, timestamps = _repeat(row_steps, width), _repeat(row_timestamps, width)
        else:
            steps, timestamps, values = metric_codec.unpack_points(r[6] for r in group)
            folded += len(steps)
            distinct = len(set(keys))
            if width % distinct == 0 and keys == keys[:distinct] * (width // distinct):
                for i, key in enumerate(keys[:distinct]):
                    parts.setdefault(key, []).append(
                        (steps[i::distinct], timestamps[i::distinct], values[i::distinct])
                    )
                continue
        for key, columns in _by_key(keys * len(group), steps, timestamps, values).items():
            parts.setdefault(key, []).append(columns)
    for run_id, parts in by_run.items():
        series = {key: _joined(columns) for key, columns in parts.items()}
        metric_queries.write_series(db, run_id, series, tail_sizes)
    return folded


def _key_lists(db: Db, ids: set[int]) -> dict[int, list[str]]:
    if not ids:
        return {}
    cursor = db.execute_in(_KEY_SETS, "ids", sorted(ids))
    try:
        return {key_set_id: bytes(blob).decode().split("\0") for key_set_id, blob in cursor}
    finally:
        cursor.close()


def _repeat(column: Iterable[int], times: int) -> list[int]:
    return [item for item in column for _ in range(times)]


def _by_key(
    keys: list[str], steps: Sequence[int], timestamps: Sequence[int], values: Sequence[float]
) -> dict[str, MetricColumns]:
    series: dict[str, tuple[list[int], list[int], list[float]]] = {}
    for key, step, timestamp, value in zip(keys, steps, timestamps, values, strict=True):
        columns = series.get(key)
        if columns is None:
            series[key] = columns = ([], [], [])
        columns[0].append(step)
        columns[1].append(timestamp)
        columns[2].append(value)
    return series  # type: ignore[return-value]


def _joined(parts: list[MetricColumns]) -> MetricColumns:
    """One key's points from several groups as one series (arrays joined at C speed)."""
    if len(parts) == 1:
        return parts[0]
    steps, timestamps, values = array("q"), array("q"), array("d")
    for part_steps, part_timestamps, part_values in parts:
        steps.extend(part_steps)
        timestamps.extend(part_timestamps)
        values.extend(part_values)
    return steps, timestamps, values
