"""The dataset objects themselves: accessors, digests' stability, validation, light import."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import tracklet.data
from tracklet.data import Dataset, DatasetSource
from tracklet.data.numpy_dataset import NumpyDataset
from tracklet.data.pandas_dataset import PandasDataset
from tracklet.data.schema import Schema, TensorDatasetSchema
from tracklet.entities import Dataset as DatasetEntity
from tracklet.exceptions import MlflowException

DF = pd.DataFrame({"x": [1.0, 2.0, 3.0], "s": ["a", "b", "c"], "y": [0, 1, 0]})


def test_known_digests() -> None:
    # Values computed by mlflow 3.17.2 for the same data: they pin the algorithm without mlflow.
    assert tracklet.data.from_pandas(pd.DataFrame({"a": [1, 2]})).digest == "2981c147"
    assert tracklet.data.from_numpy(np.arange(10)).digest == "5edc214a"


def test_pandas_dataset_attributes() -> None:
    ds = tracklet.data.from_pandas(DF, source="s3://b/train.csv", targets="y")
    assert isinstance(ds, PandasDataset)
    assert isinstance(ds, Dataset)
    assert isinstance(ds.source, DatasetSource)
    assert ds.name == "dataset"
    assert ds.df is DF
    assert ds.targets == "y"
    assert ds.predictions is None
    assert ds.profile == {"num_rows": 3, "num_elements": 9}
    assert isinstance(ds.schema, Schema)
    assert ds.schema.input_names() == ["x", "s", "y"]
    assert ds.to_dict() == {
        "name": "dataset",
        "digest": ds.digest,
        "source": '{"uri": "s3://b/train.csv"}',
        "source_type": "s3",
        "schema": json.dumps(
            {
                "mlflow_colspec": [
                    {"type": "double", "name": "x", "required": True},
                    {"type": "string", "name": "s", "required": True},
                    {"type": "long", "name": "y", "required": True},
                ]
            }
        ),
        "profile": '{"num_rows": 3, "num_elements": 9}',
    }
    assert json.loads(ds.to_json()) == ds.to_dict()


def test_entity_carries_every_field() -> None:
    ds = tracklet.data.from_pandas(DF, source="data/train.csv", name="train")
    entity = ds._to_mlflow_entity()
    assert isinstance(entity, DatasetEntity)
    assert entity == DatasetEntity(
        name="train",
        digest=ds.digest,
        source_type="local",
        source='{"uri": "data/train.csv"}',
        schema=ds.to_dict()["schema"],
        profile='{"num_rows": 3, "num_elements": 9}',
    )


def test_numpy_dataset_attributes() -> None:
    features, targets = np.ones((4, 2), dtype="float32"), np.array([0, 1, 1, 0])
    ds = tracklet.data.from_numpy(features, targets=targets, name="arrays")
    assert isinstance(ds, NumpyDataset)
    assert ds.name == "arrays"
    assert ds.features is features
    assert ds.targets is targets
    assert ds.profile == {
        "features_shape": (4, 2),
        "features_size": 8,
        "features_nbytes": 32,
        "targets_shape": (4,),
        "targets_size": 4,
        "targets_nbytes": 32,
    }
    assert isinstance(ds.schema, TensorDatasetSchema)
    assert json.loads(ds.schema.to_dict()["mlflow_tensorspec"]["features"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}
    ]


def test_equal_data_has_equal_digest() -> None:
    assert tracklet.data.from_pandas(DF).digest == tracklet.data.from_pandas(DF.copy()).digest
    rebuilt = pd.DataFrame({"x": [1.0, 2.0, 3.0], "s": ["a", "b", "c"], "y": [0, 1, 0]})
    assert tracklet.data.from_pandas(rebuilt).digest == tracklet.data.from_pandas(DF).digest
    arr = np.arange(12).reshape(3, 4)
    assert tracklet.data.from_numpy(arr).digest == tracklet.data.from_numpy(arr.copy()).digest


@pytest.mark.parametrize(
    "changed",
    [
        DF.assign(x=[1.0, 2.0, 3.5]),  # a float value
        DF.assign(s=["a", "b", "z"]),  # a string value
        DF.rename(columns={"y": "label"}),  # a column name
        DF.iloc[::-1],  # row order (the index is hashed too)
        DF.iloc[:2],  # row count
        DF.assign(extra=1),  # an added column
    ],
    ids=["float", "string", "column_name", "row_order", "row_count", "added_column"],
)
def test_different_data_has_different_digest(changed: pd.DataFrame) -> None:
    assert tracklet.data.from_pandas(changed).digest != tracklet.data.from_pandas(DF).digest


def test_different_arrays_have_different_digests() -> None:
    arr = np.arange(12).reshape(3, 4)
    digests = {
        tracklet.data.from_numpy(a).digest
        for a in (arr, arr + 1, arr.reshape(4, 3), arr.astype("float64"))
    }
    assert len(digests) == 4
    with_targets = tracklet.data.from_numpy(arr, targets=np.arange(3)).digest
    assert with_targets not in digests


def test_large_frame_digest_sees_row_count_past_the_hashed_rows() -> None:
    big = pd.DataFrame({"a": np.arange(20_000)})
    assert (
        tracklet.data.from_pandas(big).digest != tracklet.data.from_pandas(big.head(19_999)).digest
    )


def test_explicit_digest_and_name_win() -> None:
    ds = tracklet.data.from_pandas(DF, name="n", digest="0123abcd")
    assert (ds.name, ds.digest) == ("n", "0123abcd")


@pytest.mark.parametrize("argument", ["targets", "predictions"])
def test_missing_target_or_prediction_column_is_rejected(argument: str) -> None:
    with pytest.raises(MlflowException, match=f"specified {argument} column 'nope'") as e:
        tracklet.data.from_pandas(DF, **{argument: "nope"})
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_importing_tracklet_data_does_not_import_pandas_or_numpy() -> None:
    code = (
        "import sys, tracklet; tracklet.data.from_pandas; "
        "print('pandas' in sys.modules, 'numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
