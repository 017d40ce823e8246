"""Signatures and schemas: tracklet writes what MLflow writes, and reads what MLflow wrote."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tracklet.models import ModelSignature, infer_signature
from tracklet.models.environment import pinned_requirement, resolve_requirements

SAMPLES: dict[str, Any] = {
    "frame": pd.DataFrame(
        {
            "f64": [1.0, np.nan],
            "f32": np.array([1, 2], dtype=np.float32),
            "i64": [1, 2],
            "i32": np.array([1, 2], dtype=np.int32),
            "s": ["a", "b"],
            "b": [True, False],
            "t": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "bytes": [b"x", b"y"],
        }
    ),
    "series": pd.Series([1.5, 2.5], name="y"),
    "ndarray": np.zeros((4, 3, 2), dtype=np.float32),
    "dict_of_arrays": {"a": np.zeros((2, 3)), "b": np.ones(2, dtype=np.int64)},
    "records": [{"q": "hi", "n": 1}, {"q": "yo", "n": None}],
    "scalar_list": ["a", "b"],
    "string": "hello",
    "dict": {"k": "v", "n": 3.5},
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_inferred_schemas_match_mlflow(name: str) -> None:
    import warnings

    import mlflow.models

    data = SAMPLES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLflow's hint about integer columns
        theirs = mlflow.models.infer_signature(data, params={"temperature": 0.5, "k": [1, 2]})
    ours = infer_signature(data, params={"temperature": 0.5, "k": [1, 2]})
    assert ours.to_dict() == theirs.to_dict()


def test_mlflow_signatures_read_back_unchanged() -> None:
    import mlflow.models
    from mlflow.types.schema import Array, ColSpec, Map, Object, Property, Schema

    schema = Schema(
        [
            ColSpec(Array("string"), "tokens"),
            ColSpec(Object([Property("k", "long")]), "obj", required=False),
            ColSpec(Map("double"), "m"),
        ]
    )
    theirs = mlflow.models.ModelSignature(inputs=schema).to_dict()
    assert ModelSignature.from_dict(theirs).to_dict() == theirs


def test_requirements_pin_installed_versions_without_local_labels() -> None:
    import torch

    assert pinned_requirement("torch") == f"torch=={torch.__version__.split('+')[0]}"
    assert pinned_requirement("not-a-real-package-xyz") == "not-a-real-package-xyz"
    assert resolve_requirements(["a==1"], extra_pip_requirements=["b"]) == [
        "mlflow==3.17.2",
        "a==1",
        "b",
    ]
    assert resolve_requirements(["a==1"], pip_requirements=["mlflow", "c"]) == ["mlflow", "c"]


def test_datetime_example_is_stored_as_iso_text() -> None:
    from tracklet.models.input_example import Example

    example = Example({"when": dt.datetime(2024, 5, 1, 12, 0)})
    assert example.json == '{"when": "2024-05-01T12:00:00"}'
