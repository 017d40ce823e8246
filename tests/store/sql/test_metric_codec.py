"""Metric blobs: records packed and read back exactly, whether a column repeats one number."""

from __future__ import annotations

import struct
from array import array

import pytest

from tracklet.store.sql.metric_codec import (
    latest_of,
    pack_points,
    pack_values,
    unpack_points,
    unpack_values,
)

INT64_MAX = 2**63 - 1


@pytest.mark.parametrize(
    ("steps", "timestamps"),
    [
        ([5, 5, 5], [9, 9, 9]),  # a step of many keys: both columns repeat
        ([1, 2, 3], [9, 9, 9]),
        ((-(2**63), 0, INT64_MAX), (0, INT64_MAX, 7)),
        (array("q", [4, 4, 4]), array("q", [1, 2, 3])),
    ],
)
def test_points_round_trip(steps: list[int], timestamps: list[int]) -> None:
    values = [0.5, -1e300, float("inf")]
    blob = pack_points(steps, timestamps, values)
    points = zip(steps, timestamps, values, strict=True)
    assert blob == b"".join(struct.pack("<qqd", *point) for point in points)
    read_steps, read_timestamps, read_values = unpack_points([blob])
    assert (list(read_steps), list(read_timestamps)) == (list(steps), list(timestamps))
    assert list(read_values) == values


def test_a_column_of_values_packs_as_its_doubles() -> None:
    # An array("d") (a fold's column) goes in by its bytes: the same records as a list.
    values = [0.5, float("nan"), -0.0, float("-inf")]
    blob = pack_points([1, 2, 3, 4], [5, 6, 7, 8], array("d", values))
    assert blob == pack_points([1, 2, 3, 4], [5, 6, 7, 8], values)
    assert blob[16:24] == struct.pack("<d", 0.5)


def test_values_round_trip() -> None:
    # A wide batch's step of shared step and timestamp: the values alone, float64 LE.
    values = [0.5, -1e300, float("inf"), 3]
    blobs = [pack_values(values), pack_values([2.0, float("nan")])]
    assert blobs[0] == struct.pack("<4d", *values)
    read = unpack_values(blobs)
    assert list(read[:5]) == [0.5, -1e300, float("inf"), 3.0, 2.0]
    assert read[5] != read[5]
    with pytest.raises(TypeError):
        pack_values([1.0, "x"])  # type: ignore[list-item]


def test_a_repeated_number_out_of_range_is_refused() -> None:
    with pytest.raises(OverflowError):
        pack_points([2**63, 2**63], [1, 1], [0.5, 0.5])


def test_values_that_are_no_floats_pack_as_floats_or_fail_as_before() -> None:
    # ints and float subclasses go in as the floats they equal; a string is array's TypeError
    assert pack_points([1, 2], [3, 4], [1, True]) == pack_points([1, 2], [3, 4], [1.0, 1.0])
    with pytest.raises(TypeError):
        pack_points([1, 2], [3, 4], [1.0, "x"])


@pytest.mark.parametrize(
    ("steps", "timestamps", "values", "expected"),
    [
        ([1, 3, 2], [10, 30, 20], [0.1, 0.3, 0.2], (3, 30, 0.3)),
        ([3, 3, 2], [10, 30, 20], [0.1, 0.3, 0.2], (3, 30, 0.3)),  # a tie on step: timestamp
        ([3, 3, 2], [30, 30, 20], [0.5, 0.3, 0.2], (3, 30, 0.5)),  # then value
        ([3, 3], [30, 30], [float("nan"), 0.3], (3, 30, 0.3)),  # a NaN never wins a tie
    ],
)
def test_latest_with_a_memo_of_shared_steps(
    steps: list[int], timestamps: list[int], values: list[float], expected: tuple[int, int, float]
) -> None:
    memo: dict[bytes, tuple[int, int]] = {}
    columns = (array("q", steps), array("q", timestamps), array("d", values))
    assert latest_of(*columns, memo) == expected
    assert latest_of(*columns, memo) == expected  # from the memo
    # another key with the same steps and other values: its own latest point, same position
    other = array("d", [v + 1 for v in values])
    assert latest_of(columns[0], columns[1], other, memo)[:2] == expected[:2]
    plain = latest_of(columns[0], columns[1], other)
    assert plain == latest_of(columns[0], columns[1], other, memo)
