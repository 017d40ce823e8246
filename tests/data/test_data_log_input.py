"""End to end: a dataset from tracklet.data logged on a run and read back (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def _inputs_after_logging_twice(module: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """Log one dataset to a run twice with other tags, then a second dataset; read back."""
    df = pd.DataFrame({"x": [0.5, 1.5]})
    first = module.data.from_pandas(df, source="s3://bucket/a.csv", name="a")
    second = module.data.from_pandas(df.assign(y=1), source="s3://bucket/b.csv", name="b")
    with module.start_run() as run:
        module.log_input(first, context="training", tags={"split": "train"})
        module.log_input(first, context="eval", tags={"split": "test"})
        module.log_input(second, context="eval")
    inputs = module.get_run(run.info.run_id).inputs.dataset_inputs
    return sorted((i.dataset.name, sorted((t.key, t.value) for t in i.tags)) for i in inputs)


def test_logging_a_dataset_again_keeps_its_first_tags_as_mlflow_does(
    tracking_uri: str, tmp_path: Path
) -> None:
    import mlflow as oracle

    oracle.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        expected = _inputs_after_logging_twice(oracle)
    finally:
        oracle.set_tracking_uri("")
    mlflow.set_tracking_uri(tracking_uri)
    assert _inputs_after_logging_twice(mlflow) == expected
    assert expected[0] == ("a", [("mlflow.data.context", "training"), ("split", "train")])
