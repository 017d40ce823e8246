"""Metric blobs: records packed and read back exactly, whether a column repeats one number."""

from __future__ import annotations

import struct
from array import array

import pytest

from tracklet.store.sql.metric_codec import pack_points, unpack_points

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


def test_a_repeated_number_out_of_range_is_refused() -> None:
    with pytest.raises(OverflowError):
        pack_points([2**63, 2**63], [1, 1], [0.5, 0.5])
