"""Packing metric points into blobs and reading them back.

A blob is a run of 24-byte little-endian records ``(step: int64, timestamp: int64, value:
float64)``. Records, not columns, so that appending points is plain concatenation (``tail ||
point`` in SQL, or joining blobs) and any slice of records is itself a valid blob. Decoding uses
``array`` strided slices, which run at C speed: no per-point Python work until a caller asks
for Metric objects.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import islice
from operator import le, lt, ne, or_

RECORD_SIZE = 24
_record = struct.Struct("<qqd")
pack_point = _record.pack
_LITTLE = sys.byteorder == "little"


def pack_points(steps: Sequence[int], timestamps: Sequence[int], values: Sequence[float]) -> bytes:
    """Columns -> one blob of records."""
    n = len(steps)
    if n == 1:
        return pack_point(steps[0], timestamps[0], values[0])
    records = array("q", bytes(RECORD_SIZE * n))
    records[0::3] = _int64s(steps, n)
    records[1::3] = _int64s(timestamps, n)
    if type(values) is array and values.typecode == "d":  # a fold's column: its bytes as is
        doubles = array("q", values.tobytes())
    else:
        doubles = array("q")
        try:
            doubles.frombytes(_doubles(n).pack(*values))
        except struct.error:  # a value that is no number: array's TypeError, as before
            doubles = array("q", array("d", values).tobytes())
    records[2::3] = doubles
    if not _LITTLE:
        records.byteswap()
    return records.tobytes()


@lru_cache(maxsize=64)
def _doubles(n: int) -> struct.Struct:
    """n native doubles: ``pack`` converts a column of floats at C speed, where ``array("d",
    values)`` parses each item through the argument parser (half the cost of packing a step)."""
    return struct.Struct(f"={n}d")


def _int64s(numbers: Sequence[int], n: int) -> array[int]:
    """``array("q", numbers)``; a column of one repeated number (a step of many keys, or its
    timestamp) by repetition, which skips the per-item conversion (half of packing a step)."""
    first = numbers[0]
    if type(numbers) in (list, tuple) and numbers.count(first) == n:
        return array("q", (first,)) * n
    return array("q", numbers)


def pack_values(values: Sequence[float]) -> bytes:
    """Values alone, float64 little-endian (a wide batch's points that share a step and a
    timestamp: ``metric_batches``)."""
    try:
        data = _doubles(len(values)).pack(*values)
    except struct.error:  # a value that is no number: array's TypeError, as pack_points
        data = array("d", values).tobytes()
    if _LITTLE:
        return data
    doubles = array("d")
    doubles.frombytes(data)
    doubles.byteswap()
    return doubles.tobytes()


def unpack_values(blobs: Iterable[bytes]) -> array[float]:
    """Blobs of :func:`pack_values` -> one column of values, in storage order."""
    floats = array("d")
    floats.frombytes(b"".join(blobs))
    if not _LITTLE:
        floats.byteswap()
    return floats


def unpack_points(blobs: Iterable[bytes]) -> tuple[array[int], array[int], array[float]]:
    """Blobs -> (steps, timestamps, values) columns, in storage order."""
    data = b"".join(blobs)
    ints = array("q")
    ints.frombytes(data)
    floats = array("d")
    floats.frombytes(data)
    if not _LITTLE:
        ints.byteswap()
        floats.byteswap()
    return ints[0::3], ints[1::3], floats[2::3]


def latest_of(
    steps: Sequence[int],
    timestamps: Sequence[int],
    values: Sequence[float],
    memo: dict[bytes, tuple[int, int]] | None = None,
) -> tuple[int, int, float]:
    """The latest point as MLflow defines it: max step, then max timestamp, then max value.

    ``memo`` (one dict per batch of keys) remembers, per column of steps (an ``array``, by its
    bytes), its largest step and where it alone stands: the keys of a folded ``log_metrics``
    share one column of steps, and the passes over it (each boxing every step) were a third of
    a fold."""
    if memo is not None and type(steps) is array:
        signature = steps.tobytes()
        found = memo.get(signature)
        if found is None:
            best = max(steps)
            found = memo[signature] = (best, steps.index(best) if steps.count(best) == 1 else -1)
        best_step, i = found
        if i >= 0:
            return best_step, timestamps[i], values[i]
    else:
        best_step = max(steps)
        if steps.count(best_step) == 1:  # the usual case, found by C-level passes
            i = steps.index(best_step)
            return best_step, timestamps[i], values[i]
    best = -1
    for i, step in enumerate(steps):
        if step != best_step:
            continue
        if (
            best < 0
            or timestamps[i] > timestamps[best]
            or (timestamps[i] == timestamps[best] and _value_gt(values[i], values[best]))
        ):
            best = i
    return best_step, timestamps[best], values[best]


def _value_gt(a: float, b: float) -> bool:
    # NaN never wins a tie; a real value beats a NaN.
    return a > b or (b != b and a == a)


def in_history_order(
    steps: array[int], timestamps: array[int], values: array[float]
) -> tuple[Sequence[int], Sequence[int], Sequence[float]]:
    """Points ordered by (timestamp, step, value) with exact duplicates dropped, as MLflow returns
    them. Points are normally logged in time order, and when several share a millisecond their
    steps rise; both cases are recognised in C (map over operator functions) and returned as is."""
    n = len(timestamps)
    if n < 2 or all(map(lt, timestamps, islice(timestamps, 1, None))):
        return steps, timestamps, values
    if all(map(le, timestamps, islice(timestamps, 1, None))) and all(
        map(
            or_,
            map(ne, timestamps, islice(timestamps, 1, None)),
            map(lt, steps, islice(steps, 1, None)),
        )
    ):
        return steps, timestamps, values
    order = sorted(range(n), key=lambda i: (timestamps[i], steps[i], _value_key(values[i])))
    out_steps, out_ts, out_values = array("q"), array("q"), array("d")
    previous: tuple[int, int, bytes] | None = None
    for i in order:
        identity = (timestamps[i], steps[i], _record.pack(0, 0, values[i]))
        if identity == previous:
            continue
        previous = identity
        out_steps.append(steps[i])
        out_ts.append(timestamps[i])
        out_values.append(values[i])
    return out_steps, out_ts, out_values


def _value_key(value: float) -> tuple[int, float]:
    # NaN sorts after every number and equals itself, so duplicates of NaN points collapse too.
    return (1, 0.0) if value != value else (0, value)
