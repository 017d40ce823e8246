"""``downsample.in_range`` and ``downsample.m4`` over numpy columns, vectorised: the same column
edges (found by one ``searchsorted``), and per column the same first, last, minimum and maximum
points (``fmin``/``fmax.reduceat`` per column, then the first point equal to each), so the same
indices and bands, without a Python step per column or per point. x values are integers (steps
or milliseconds) within ``series_arrays.SAFE_X``."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from tracklet.server.ui.downsample import Reduced

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
_INT64 = (-(2**63), 2**63 - 1)


def in_range(xs: Ints, x_min: float | None, x_max: float | None) -> tuple[int, int]:
    """``downsample.in_range``: an integer is >= x_min when it is >= ceil(x_min), and <= x_max
    when <= floor(x_max), which keeps the search in int64 (exact) rather than float64."""
    n = len(xs)
    start, stop = 0, n
    if x_min is not None and not math.isnan(x_min):  # bisect_left puts NaN first
        if x_min == math.inf:
            start = n
        elif x_min != -math.inf:
            start = _search(xs, math.ceil(x_min), "left")
    if x_max is not None and not math.isnan(x_max):  # bisect_right puts NaN last
        if x_max == -math.inf:
            stop = 0
        elif x_max != math.inf:
            stop = _search(xs, math.floor(x_max), "right")
    return start, max(start, stop)


def _search(xs: Ints, bound: int, side: str) -> int:
    if bound < _INT64[0]:
        return 0
    if bound > _INT64[1]:
        return len(xs)
    return int(np.searchsorted(xs, np.int64(bound), side="left" if side == "left" else "right"))


def m4(xs: Ints, ys: Floats, start: int, stop: int, width: int) -> tuple[Reduced, Ints]:
    """``downsample.m4`` (and its ``indices`` as an array too). The Python version's column
    ``c`` ends at ``bisect_left(xs, lo + span * c / width)``; the same float, rounded up, is an
    int64 edge for ``searchsorted``. Empty columns are skipped, so the kept ones tile the
    range."""
    n = stop - start
    if n <= 4 * width:
        indices = np.arange(start, stop, dtype=np.int64)
        return Reduced(indices.tolist(), False), indices
    lo, hi = int(xs[start]), int(xs[stop - 1])
    span = (hi - lo) or 1
    cuts = np.array([math.ceil(lo + span * c / width) for c in range(1, width)], dtype=np.int64)
    edges = np.empty(width + 1, dtype=np.int64)
    edges[0], edges[width] = start, stop
    edges[1:width] = np.searchsorted(xs[start:stop], cuts, side="left") + start
    kept = edges[1:] > edges[:-1]
    firsts, ends = edges[:-1][kept], edges[1:][kept]
    head = ys[:stop]  # reduceat's last column runs to the end of its input
    lows = np.fmin.reduceat(head, firsts)  # NaN only when a whole column is NaN
    highs = np.fmax.reduceat(head, firsts)
    at_low = _first_equal(ys, lows, firsts, ends, start, stop)
    at_high = _first_equal(ys, highs, firsts, ends, start, stop)
    # Per column the sorted distinct indices of {first, last, min, max}.
    picked = np.sort(np.stack([firsts, ends - 1, at_low, at_high], axis=1), axis=1)
    distinct = np.ones(picked.shape, dtype=bool)
    distinct[:, 1:] = picked[:, 1:] != picked[:, :-1]
    indices = picked[distinct]
    counts = distinct.sum(axis=1)
    band_min = np.repeat(ys[at_low], counts)
    band_max = np.repeat(ys[at_high], counts)
    return Reduced(indices.tolist(), True, band_min.tolist(), band_max.tolist()), indices


def _first_equal(
    ys: Floats, targets: Floats, firsts: Ints, ends: Ints, start: int, stop: int
) -> Ints:
    """Per column, the index of its first value equal to the column's target (as ``==``:
    ``-0.0 == 0.0``), or its first index when the target is NaN (an all-NaN column)."""
    equal = ys[start:stop] == np.repeat(targets, ends - firsts)
    where = np.flatnonzero(equal) + start
    if not len(where):
        return firsts.copy()
    found = where[np.minimum(np.searchsorted(where, firsts), len(where) - 1)]
    return np.where(np.isnan(targets), firsts, found)
