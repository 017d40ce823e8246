"""End to end: a dataset from tracklet.data logged on a run and read back (SQLite, PostgreSQL)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

import tracklet as mlflow


def test_log_input_records_dataset_and_context(tracking_uri: str) -> None:
    mlflow.set_tracking_uri(tracking_uri)
    df = pd.DataFrame({"x": [0.5, 1.5], "label": ["a", "b"]})
    dataset = mlflow.data.from_pandas(df, source="s3://bucket/train.csv", name="ds1")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training", tags={"split": "train"})

    inputs = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    logged = inputs[0].dataset
    assert (logged.name, logged.digest) == ("ds1", dataset.digest)
    assert (logged.source_type, logged.source) == ("s3", '{"uri": "s3://bucket/train.csv"}')
    assert json.loads(logged.schema or "") == {
        "mlflow_colspec": [
            {"type": "double", "name": "x", "required": True},
            {"type": "string", "name": "label", "required": True},
        ]
    }
    assert json.loads(logged.profile or "") == {"num_rows": 2, "num_elements": 4}
    tags = {tag.key: tag.value for tag in inputs[0].tags}
    assert tags == {"mlflow.data.context": "training", "split": "train"}
    assert mlflow.data.get_source(inputs[0]).to_dict() == {"uri": "s3://bucket/train.csv"}


def test_log_input_numpy_with_default_code_source(tracking_uri: str) -> None:
    mlflow.set_tracking_uri(tracking_uri)
    dataset = mlflow.data.from_numpy(np.arange(6).reshape(3, 2), targets=np.array([0, 1, 0]))
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="eval")

    (dataset_input,) = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    logged = dataset_input.dataset
    assert (logged.name, logged.digest, logged.source_type) == ("dataset", dataset.digest, "code")
    assert json.loads(logged.source)["tags"]["mlflow.source.type"] == "LOCAL"
    assert [(t.key, t.value) for t in dataset_input.tags] == [("mlflow.data.context", "eval")]
