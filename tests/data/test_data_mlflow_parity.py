"""tracklet.data against mlflow.data on the same data: every field of the logged entity agrees.

mlflow is a test-only dependency; it is imported here and never by ``src/``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import mlflow.data
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracklet.data
from tracklet.exceptions import MlflowException

FIELDS = ("name", "digest", "source_type", "source", "schema", "profile")
SOURCE = "s3://bucket/data/train.csv"


def _entity_fields(dataset: Any) -> dict[str, Any]:
    entity = dataset._to_mlflow_entity()
    return {field: getattr(entity, field) for field in FIELDS}


def _assert_same_pandas(df: pd.DataFrame, **kwargs: Any) -> dict[str, Any]:
    ours = _entity_fields(tracklet.data.from_pandas(df, source=SOURCE, **kwargs))
    theirs = _entity_fields(mlflow.data.from_pandas(df, source=SOURCE, **kwargs))
    assert ours == theirs
    return ours


def _assert_same_numpy(features: Any, targets: Any = None) -> dict[str, Any]:
    ours = _entity_fields(tracklet.data.from_numpy(features, source=SOURCE, targets=targets))
    theirs = _entity_fields(mlflow.data.from_numpy(features, source=SOURCE, targets=targets))
    assert ours == theirs
    return ours


_RNG = np.random.default_rng(7)
_BIG = 12_345  # more rows than the 10,000 the digest hashes

FRAMES: dict[str, pd.DataFrame] = {
    "int": pd.DataFrame({"a": [1, 2, 3], "b": np.array([4, 5, 6], dtype="int32")}),
    "small_ints": pd.DataFrame({"i8": np.array([1], dtype="int8"), "u32": np.array([1], "uint32")}),
    "float": pd.DataFrame({"x": [1.5, np.nan, 3.0], "y": np.array([1, 2, 3], dtype="float32")}),
    "float32_nan": pd.DataFrame({"y": np.array([1.0, np.nan], dtype="float32")}),
    "string": pd.DataFrame({"s": ["a", "b", "c"]}),
    "string_missing": pd.DataFrame({"s": ["a", None, "c"]}),
    "object_strings": pd.DataFrame({"s": pd.Series(["a", None], dtype=object)}),
    "string_dtype": pd.DataFrame({"s": pd.Series(["a", None], dtype="string")}),
    "numpy_str_scalars": pd.DataFrame({"s": pd.Series([np.str_("a"), np.str_("b")], dtype=object)}),
    "bool": pd.DataFrame({"b": [True, False]}),
    "bool_missing": pd.DataFrame({"b": [True, None]}),
    "nullable_boolean": pd.DataFrame({"b": pd.array([True, None], dtype="boolean")}),
    "nullable_int": pd.DataFrame({"i": pd.array([1, None, 3], dtype="Int64")}),
    "datetime": pd.DataFrame({"t": pd.to_datetime(["2024-01-01", None])}),
    "datetime_tz": pd.DataFrame({"t": pd.to_datetime(["2024-01-01"]).tz_localize("UTC")}),
    "dates": pd.DataFrame({"d": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)]}),
    "timedelta": pd.DataFrame({"t": pd.to_timedelta([1, 2], unit="s")}),
    "bytes": pd.DataFrame({"b": [b"a", b"b"]}),
    "categorical": pd.DataFrame({"c": pd.Categorical(["a", None, "a"])}),
    "mixed": pd.DataFrame({"a": [1, 2], "s": ["x", "y"], "f": [0.1, 0.2], "b": [True, False]}),
    "mixed_object": pd.DataFrame({"m": [1, "a"]}),
    "lists_and_dicts": pd.DataFrame({"l": [[1, 2], None], "d": [{"k": "v"}, {"k": "w", "z": 1.0}]}),
    "nested": pd.DataFrame({"n": [[{"a": 1}], [{"b": "x"}, {}]], "e": [[], ["a"]]}),
    "all_none": pd.DataFrame({"n": [None, None]}),
    "uint64": pd.DataFrame({"u": np.array([1, 2], dtype="uint64")}),
    "int_column_names": pd.DataFrame({0: [1, 2], 1: ["a", "b"]}),
    "duplicate_columns": pd.DataFrame([[1, 2]], columns=["a", "a"]),
    "string_index": pd.DataFrame({"a": [1, 2]}, index=["x", "y"]),
    "empty": pd.DataFrame(),
    "empty_with_columns": pd.DataFrame(columns=["a", "b"]),
    "empty_typed": pd.DataFrame(
        {"a": pd.Series([], dtype="int64"), "s": pd.Series([], dtype=object)}
    ),
    "large": pd.DataFrame(
        {
            "a": _RNG.integers(0, 100, _BIG),
            "s": [f"s{i}" for i in range(_BIG)],
            "f": _RNG.random(_BIG),
        }
    ),
    # A non-str value after row 10,000 still drops the column from the digest, as in MLflow.
    "large_late_non_string": pd.DataFrame({"s": [f"s{i}" for i in range(_BIG - 1)] + [5]}),
}


@pytest.mark.parametrize("key", FRAMES)
def test_pandas_entity_matches_mlflow(key: str) -> None:
    _assert_same_pandas(FRAMES[key])


def test_pandas_parity_covers_real_schemas() -> None:
    # Guard against a vacuous pass: the parity cases include concrete, null-able and absent schemas.
    schemas = {
        key: _entity_fields(tracklet.data.from_pandas(df))["schema"] for key, df in FRAMES.items()
    }
    assert schemas["int"] == (
        '{"mlflow_colspec": [{"type": "long", "name": "a", "required": true},'
        ' {"type": "integer", "name": "b", "required": true}]}'
    )
    assert schemas["nullable_int"] == (
        '{"mlflow_colspec": [{"type": "long", "name": "i", "required": false}]}'
    )
    assert schemas["empty"] is None
    assert schemas["mixed_object"] is None


def test_pandas_parity_with_name_targets_predictions_and_digest() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1], "p": [0, 0]})
    got = _assert_same_pandas(df, name="train", targets="y", predictions="p")
    assert got["name"] == "train"
    got = _assert_same_pandas(df, digest="cafebabe")
    assert got["digest"] == "cafebabe"


_cell = st.one_of(
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=False, width=64),
    st.text(max_size=5),
    st.none(),
    st.booleans(),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    columns=st.lists(
        st.tuples(st.sampled_from(["int", "float", "str", "any"]), st.integers(0, 2**31)),
        min_size=1,
        max_size=4,
    ),
    rows=st.integers(0, 6),
    data=st.data(),
)
def test_random_frames_match_mlflow(
    columns: list[tuple[str, int]], rows: int, data: st.DataObject
) -> None:
    strategies = {
        "int": st.integers(-(2**40), 2**40),
        "float": st.floats(allow_nan=True, allow_infinity=False),
        "str": st.one_of(st.text(max_size=5), st.none()),
        "any": _cell,
    }
    frame = {
        f"c{i}_{kind}": data.draw(st.lists(strategies[kind], min_size=rows, max_size=rows))
        for i, (kind, _) in enumerate(columns)
    }
    _assert_same_pandas(pd.DataFrame(frame))


ARRAYS: dict[str, tuple[Any, Any]] = {
    "1d": (np.arange(10), None),
    "2d_with_targets": (_RNG.random((5, 3)), np.array([0, 1, 0, 1, 1])),
    "3d": (_RNG.random((2, 5, 4)), None),
    "large": (_RNG.random((_BIG, 2)), _RNG.integers(0, 2, _BIG)),
    "str": (np.array(["a", "bc"]), None),
    "bytes": (np.array([b"a", b"bc"]), None),
    "object": (np.array([1, "a", None], dtype=object), None),
    "unhashable_object": (np.array([[1], "a"], dtype=object), None),
    "dict": ({"f2": _RNG.random((3, 2)), "f1": np.arange(3)}, {"y": np.arange(3)}),
    "dict_targets": (_RNG.random((3, 2)), {"y": np.arange(3), "z": np.ones(3)}),
    "float32_int8": (np.ones((2, 2), dtype="float32"), np.ones(2, dtype="int8")),
    "bool": (np.array([True, False]), None),
    "datetime": (np.array(["2024-01-01"], dtype="datetime64[D]"), None),
    "empty": (np.array([]), None),
    "scalar_0d": (np.array(5), None),  # no schema (no first axis), as in MLflow
}


@pytest.mark.parametrize("key", ARRAYS)
def test_numpy_entity_matches_mlflow(key: str) -> None:
    features, targets = ARRAYS[key]
    _assert_same_numpy(features, targets)


def test_numpy_parity_covers_real_schemas() -> None:
    features, targets = ARRAYS["2d_with_targets"]
    got = _entity_fields(tracklet.data.from_numpy(features, targets=targets))
    assert got["schema"] == (
        '{"mlflow_tensorspec": {"features": "[{\\"type\\": \\"tensor\\", \\"tensor-spec\\":'
        ' {\\"dtype\\": \\"float64\\", \\"shape\\": [-1, 3]}}]", "targets": "[{\\"type\\":'
        ' \\"tensor\\", \\"tensor-spec\\": {\\"dtype\\": \\"int64\\", \\"shape\\": [-1]}}]"}}'
    )
    assert got["profile"] == (
        '{"features_shape": [5, 3], "features_size": 15, "features_nbytes": 120,'
        ' "targets_shape": [5], "targets_size": 5, "targets_nbytes": 40}'
    )


def test_empty_dict_of_arrays_is_rejected_like_mlflow() -> None:
    with pytest.raises(Exception, match="No hashable elements"):
        mlflow.data.from_numpy({})
    with pytest.raises(MlflowException, match="No hashable elements") as ours:
        tracklet.data.from_numpy({})
    assert ours.value.error_code == "INVALID_PARAMETER_VALUE"
