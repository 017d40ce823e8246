"""A chart series' columns as numpy arrays: the history's packed records viewed as int64 and
float64 columns (no Python object a point), put in MLflow's history order and then in x order
by vectorised checks that only sort when the points are not already in order.

The same answers as ``series.series_columns`` over ``get_metric_history`` (the pure-Python path,
used when numpy is not installed); tests/ui/test_series_arrays.py compares the two. Only imported
when numpy is (it is not one of tracklet's dependencies).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracklet.store.base import TrackingStore
from tracklet.store.sql import metric_codec
from tracklet.store.sql.metric_records import read_records
from tracklet.store.sql.store_base import SqlStoreBase

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# metric_codec's records: little-endian (step: int64, timestamp: int64, value: float64).
_RECORD = np.dtype([("step", "<i8"), ("timestamp", "<i8"), ("value", "<f8")])
# Beyond this magnitude an x value, or the distance between two, might not fit an int64 (or a
# bucket edge computed as a float might round past one): such series take the Python path.
SAFE_X = 2**62


@dataclass(frozen=True, slots=True)
class History:
    """A metric's points in MLflow's order: (timestamp, step, value), exact duplicates dropped."""

    steps: Ints
    timestamps: Ints
    values: Floats


def read_history(store: TrackingStore, run_id: str, key: str) -> History:
    """The (run, key) history; errors as ``get_metric_history``'s."""
    if isinstance(store, SqlStoreBase):
        # Strided views of the records, not copies (on a little-endian host): a third less CPU.
        records = np.frombuffer(read_records(store, run_id, key), dtype=_RECORD)
        steps = records["step"].astype(np.int64, copy=False)
        timestamps = records["timestamp"].astype(np.int64, copy=False)
        values = records["value"].astype(np.float64, copy=False)
    else:  # another store (REST): its columns, converted once
        history = store.get_metric_history(run_id, key)
        steps = np.asarray(history.steps, dtype=np.int64)
        timestamps = np.asarray(history.timestamps, dtype=np.int64)
        values = np.asarray(history.values, dtype=np.float64)
    return _in_history_order(steps, timestamps, values)


def _in_history_order(steps: Ints, timestamps: Ints, values: Floats) -> History:
    """``metric_codec.in_history_order`` with its fast cases checked in numpy: points logged in
    time order, or with steps rising where they share a millisecond, are in order already.
    Storage does not guarantee either (a client may log any timestamps), so other histories are
    ordered by that function itself."""
    if len(timestamps) < 2:
        return History(steps, timestamps, values)
    later, earlier = timestamps[1:], timestamps[:-1]
    if bool(np.all(later > earlier)) or (
        bool(np.all(later >= earlier))
        and bool(np.all((later != earlier) | (steps[1:] > steps[:-1])))
    ):
        return History(steps, timestamps, values)
    ordered = metric_codec.in_history_order(
        array("q", steps.tobytes()), array("q", timestamps.tobytes()), array("d", values.tobytes())
    )
    return History(
        np.asarray(ordered[0], dtype=np.int64),
        np.asarray(ordered[1], dtype=np.int64),
        np.asarray(ordered[2], dtype=np.float64),
    )


def x_columns(history: History, x: str) -> tuple[Ints, Floats] | None:
    """(x values ascending, y values) as ``series.series_columns``: x is the step (a stable sort
    by step when steps fall anywhere), the timestamp ("wall") or ms since the first point
    ("relative"), which MLflow's order already sorts. None when an x value is beyond SAFE_X."""
    if x == "step":
        xs, ys = history.steps, history.values
        if len(xs) > 1 and not bool(np.all(xs[1:] >= xs[:-1])):
            order = np.argsort(xs, kind="stable")
            xs, ys = xs[order], ys[order]
    else:
        xs, ys = history.timestamps, history.values
    if len(xs) and not (int(xs[0]) > -SAFE_X and int(xs[-1]) < SAFE_X):
        return None
    if x == "relative" and len(xs):
        xs = xs - xs[0]
    return xs, ys
