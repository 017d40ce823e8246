"""Decoding repeated request fields: kept as sent when they are objects, and an error that names
the offending item otherwise."""

from __future__ import annotations

import math

import pytest

from tracklet.exceptions import MlflowException
from tracklet.wire import endpoints as ep
from tracklet.wire.codec import metric_columns_from_json, plain_metric_points
from tracklet.wire.decode import decode


def test_log_batch_metrics_are_passed_through_when_all_are_objects() -> None:
    metrics = [{"key": "a", "value": 1.0, "timestamp": 5, "step": i} for i in range(3)]
    fields = decode(ep.LOG_BATCH, {"run_id": "r1", "metrics": metrics})
    assert fields == {"run_id": "r1", "metrics": metrics}


def test_a_non_object_metric_is_named_by_its_index() -> None:
    metrics = [{"key": "a", "value": 1.0, "timestamp": 5}, {"key": "b"}, 7]
    with pytest.raises(MlflowException, match=r"metrics\[2\]") as info:
        decode(ep.LOG_BATCH, {"run_id": "r1", "metrics": metrics})
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_a_bad_param_is_named_by_its_index_and_good_ones_decode() -> None:
    fields = decode(ep.LOG_BATCH, {"run_id": "r1", "params": [{"key": "p", "value": "1"}]})
    assert [(p.key, p.value) for p in fields["params"]] == [("p", "1")]
    with pytest.raises(MlflowException, match=r"params\[1\]"):
        decode(
            ep.LOG_BATCH,
            {"run_id": "r1", "params": [{"key": "p", "value": "1"}, {"key": ["x"]}]},
        )


def test_metric_columns_group_interleaved_keys_in_order() -> None:
    points = [
        {"key": k, "value": float(i), "timestamp": 10 + i, "step": i}
        for i, k in enumerate(["a", "b", "a", "c", "b", "a"])
    ]
    assert metric_columns_from_json(points) == {
        "a": ([0, 2, 5], [10, 12, 15], [0.0, 2.0, 5.0]),
        "b": ([1, 4], [11, 14], [1.0, 4.0]),
        "c": ([3], [13], [3.0]),
    }


def test_metric_columns_take_the_careful_path_for_anything_unusual() -> None:
    # No step (0), an int value, a string NaN, an unknown extra field: all still columns.
    points: list[dict[str, object]] = [
        {"key": "a", "value": 1.0, "timestamp": 1},
        {"key": "a", "value": 2, "timestamp": 2, "step": 1},
        {"key": "a", "value": "NaN", "timestamp": 3, "step": 2},
        {"key": "a", "value": 4.0, "timestamp": 4, "step": 3, "run_id": "ignored"},
    ]
    steps, timestamps, values = metric_columns_from_json(points)["a"]  # type: ignore[index]
    assert (steps, timestamps) == ([0, 1, 2, 3], [1, 2, 3, 4])
    assert values[:2] == [1.0, 2.0]
    assert math.isnan(values[2])
    assert values[3] == 4.0
    # A linked point needs the entity path; a bad one is named.
    linked = [*points, {"key": "a", "value": 1.0, "timestamp": 5, "step": 4, "model_id": "m"}]
    assert metric_columns_from_json(linked) is None
    for bad in (
        {"key": "", "value": 1.0, "timestamp": 1, "step": 0},
        {"key": None, "value": 1.0, "timestamp": 1, "step": 0},
        {"key": "a", "value": True, "timestamp": 1, "step": 0},
    ):
        with pytest.raises(MlflowException, match=r"metrics\[1\]"):
            metric_columns_from_json([points[0], bad])


def test_a_step_beyond_int64_in_a_batch_is_a_400_naming_it() -> None:
    points = [{"key": "a", "value": 1.0, "timestamp": 1, "step": 2**63}]
    with pytest.raises(MlflowException, match=r"metrics\[0\]\.step") as info:
        metric_columns_from_json(points)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_plain_metric_points_are_parallel_columns_in_order() -> None:
    points = [
        {"key": "b", "value": 1.5, "timestamp": 11, "step": -1},
        {"key": "a", "value": 0.0, "timestamp": 0, "step": 2**63 - 1},
        {"key": "b", "value": -2.0, "timestamp": 2**63 - 1, "step": 3},
    ]
    assert plain_metric_points(points) == (
        ["b", "a", "b"],
        [-1, 2**63 - 1, 3],
        [11, 0, 2**63 - 1],
        [1.5, 0.0, -2.0],
    )


@pytest.mark.parametrize(
    "odd",
    [
        {"key": "a", "value": 1.0, "timestamp": 1},  # no step
        {"key": "a", "value": 1, "timestamp": 1, "step": 0},  # an int value
        {"key": "a", "value": "NaN", "timestamp": 1, "step": 0},
        {"key": "a", "value": True, "timestamp": 1, "step": 0},
        {"key": "a", "value": 1.0, "timestamp": True, "step": 0},
        {"key": "a", "value": 1.0, "timestamp": -1, "step": 0},
        {"key": "a", "value": 1.0, "timestamp": 2**63, "step": 0},
        {"key": "a", "value": 1.0, "timestamp": 1, "step": -(2**63) - 1},
        {"key": "a", "value": 1.0, "timestamp": 1, "step": 2**63},
        {"key": "a", "value": 1.0, "timestamp": -(2**63) - 1, "step": 0},
        {"key": "a", "value": 1.0, "timestamp": 2**64, "step": 0},
        {"key": "a", "value": 1.0, "timestamp": 1, "step": False},
        {"key": "a", "value": 1.0, "timestamp": 1, "step": 1.0},
        {"key": "", "value": 1.0, "timestamp": 1, "step": 0},
        {"key": 7, "value": 1.0, "timestamp": 1, "step": 0},
        {"key": "a", "value": 1.0, "timestamp": 1, "step": 0, "model_id": "m-1"},
        ["a", 1.0, 1, 0],
    ],
)
def test_anything_unusual_leaves_plain_metric_points_to_the_careful_path(odd: object) -> None:
    plain = {"key": "a", "value": 1.0, "timestamp": 1, "step": 0}
    assert plain_metric_points([plain, plain]) is not None
    assert plain_metric_points([plain, odd]) is None
    assert plain_metric_points([]) is None


@pytest.mark.parametrize(
    "odd",
    [
        {"key": "a", "value": 1.0, "timestamp": 7, "step": 5.0},  # equal to the others' step
        {"key": "a", "value": 1.0, "timestamp": 7.0, "step": 5},
        {"key": "a", "value": 1.0, "timestamp": 7, "step": 5, "extra": 1},
        {"key": ["a"], "value": 1.0, "timestamp": 7, "step": 5},
        {"key": "a", "value": 5, "timestamp": 7, "step": 5},
    ],
)
@pytest.mark.parametrize("where", [0, 1, 2])
def test_a_step_of_many_keys_is_checked_item_by_item_all_the_same(odd: object, where: int) -> None:
    # Columns that repeat one number (a step of log_metrics) are checked by equality and a sum,
    # not a type per item: an item equal to it but of another type still leaves the fast path.
    plain = {"key": "a", "value": 1.0, "timestamp": 7, "step": 5}
    assert plain_metric_points([plain, plain, plain]) == (
        ["a"] * 3,
        [5] * 3,
        [7] * 3,
        [1.0] * 3,
    )
    items: list[object] = [plain, plain, plain]
    items[where] = odd
    assert plain_metric_points(items) is None


@pytest.mark.parametrize("flag", [True, False])
def test_a_bool_step_or_timestamp_among_ones_and_zeros_leaves_the_fast_path(flag: bool) -> None:
    number = int(flag)  # True == 1, False == 0
    plain = {"key": "a", "value": 1.0, "timestamp": number, "step": number}
    assert plain_metric_points([plain, plain]) is not None
    assert plain_metric_points([plain, {**plain, "step": flag}]) is None
    assert plain_metric_points([{**plain, "timestamp": flag}, plain]) is None
