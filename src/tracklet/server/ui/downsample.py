"""M4 downsampling (Jugel et al., PVLDB 7(10), 2014): per pixel column keep the first, last,
minimum and maximum point, which draws the same line as every point while sending at most four
per column. Spikes survive, unlike evenly spaced samples. NaN points are drawn but never a
column's minimum or maximum unless the whole column is NaN. Pure Python (``downsample_arrays``
is the same over numpy columns), but the work per column is
C-level (``bisect`` for the column edges, ``min``/``max``/``index`` on array slices)."""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reduced:
    """The points to draw (indices into the input, ascending) and, when sampled, each point's
    column minimum and maximum (for a min/max band)."""

    indices: list[int]
    sampled: bool
    band_min: list[float] | None = None
    band_max: list[float] | None = None


def in_range(xs: Sequence[float], x_min: float | None, x_max: float | None) -> tuple[int, int]:
    """The slice ``[start, stop)`` of sorted ``xs`` inside ``[x_min, x_max]``."""
    start = 0 if x_min is None else bisect_left(xs, x_min)
    stop = len(xs) if x_max is None else bisect_right(xs, x_max)
    return start, max(start, stop)


def m4(xs: Sequence[float], ys: array[float], start: int, stop: int, width: int) -> Reduced:
    """M4 over ``xs[start:stop]`` (sorted) into ``width`` columns; raw when the range holds at
    most ``4 * width`` points."""
    n = stop - start
    if n <= 4 * width:
        return Reduced(list(range(start, stop)), False)
    lo, hi = xs[start], xs[stop - 1]
    span = (hi - lo) or 1
    indices: list[int] = []
    band_min: list[float] = []
    band_max: list[float] = []
    a = start
    for column in range(1, width + 1):
        b = stop if column == width else bisect_left(xs, lo + span * column / width, a, stop)
        if b <= a:
            continue
        chunk = ys[a:b]
        low, high = min(chunk), max(chunk)
        if low != low:  # a column starting with NaN: the minimum and maximum of its numbers
            numbers = [v for v in chunk if v == v]
            if numbers:
                low, high = min(numbers), max(numbers)
        # The first point equal to each (the column's first when all of it is NaN).
        at_low = a + chunk.index(low) if low == low else a
        at_high = a + chunk.index(high) if high == high else a
        picked = sorted({a, b - 1, at_low, at_high})
        indices += picked
        band_min += [low] * len(picked)
        band_max += [high] * len(picked)
        a = b
    return Reduced(indices, True, band_min, band_max)
