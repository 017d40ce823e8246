"""MlflowClient: MLflow's method names, arguments and conversions."""

from __future__ import annotations

import time

import pytest

from tracklet import MlflowClient
from tracklet.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag, ViewType
from tracklet.exceptions import MlflowException


def test_experiment_methods(tracking_uri: str) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment("exp", tags={"n": 1})
    assert client.get_experiment(experiment_id).tags == {"n": "1"}
    assert client.get_experiment_by_name("exp").experiment_id == experiment_id  # type: ignore[union-attr]
    assert client.get_experiment_by_name("missing") is None
    client.rename_experiment(experiment_id, "exp2")
    client.set_experiment_tag(experiment_id, "k", 3.5)
    client.delete_experiment_tag(experiment_id, "n")
    experiment = client.get_experiment(experiment_id)
    assert (experiment.name, experiment.tags) == ("exp2", {"k": "3.5"})
    client.delete_experiment(experiment_id)
    deleted = client.search_experiments(view_type=ViewType.DELETED_ONLY)
    assert [e.experiment_id for e in deleted] == [experiment_id]
    client.restore_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "active"


def test_run_methods(tracking_uri: str) -> None:
    client = MlflowClient()
    before = int(time.time() * 1000)
    run = client.create_run("0", tags={"mlflow.user": "bob", "x": 1}, run_name="r")
    assert run.info.user_id == "bob"
    assert run.data.tags["x"] == "1"
    assert run.info.start_time is not None
    assert run.info.start_time >= before
    run_id = run.info.run_id
    client.log_metric(run_id, "m", 3, step=-4)
    assert client.log_param(run_id, "p", 0.1) == 0.1
    client.set_tag(run_id, "t", True)
    client.log_batch(
        run_id,
        metrics=[Metric("b", 1.0, 5, 0)],
        params=[Param("q", 7)],  # type: ignore[arg-type]
        tags=[RunTag("u", "v")],
    )
    data = client.get_run(run_id).data
    assert data.metrics == {"m": 3.0, "b": 1.0}
    assert data.params == {"p": "0.1", "q": "7"}
    assert data.tags["t"] == "True"
    assert data.tags["u"] == "v"
    (point,) = client.get_metric_history(run_id, "m")
    assert point.step == -4
    assert point.timestamp >= before
    client.update_run(run_id, name="renamed")
    assert client.get_run(run_id).info.run_name == "renamed"
    client.update_run(run_id, status="FAILED")
    info = client.get_run(run_id).info
    assert info.status == "FAILED"
    assert info.end_time is not None
    client.set_terminated(run_id, end_time=123)
    info = client.get_run(run_id).info
    assert (info.status, info.end_time) == ("FINISHED", 123)
    client.delete_tag(run_id, "t")
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"


def test_large_batches_are_one_transaction(tracking_uri: str) -> None:
    client = MlflowClient()
    run_id = client.create_run("0").info.run_id
    metrics = [Metric(f"k{i % 50}", float(i), 1000 + i, i) for i in range(5000)]
    client.log_batch(run_id, metrics=metrics, params=[Param(f"p{i}", "v") for i in range(300)])
    run = client.get_run(run_id)
    assert len(run.data.metrics) == 50
    assert len(run.data.params) == 300
    bad = [*metrics, Metric("oops", "x", 1, 0)]  # type: ignore[arg-type]
    other = client.create_run("0").info.run_id
    with pytest.raises(MlflowException):
        client.log_batch(other, metrics=bad)
    assert client.get_run(other).data.metrics == {}


def test_log_inputs(tracking_uri: str) -> None:
    client = MlflowClient()
    run_id = client.create_run("0").info.run_id
    dataset = Dataset("ds", "abcd1234", "code", '{"x": 1}', '{"mlflow_colspec": []}', "{}")
    client.log_inputs(run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "train")])])
    client.log_inputs(run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "eval")])])
    (logged,) = client.get_run(run_id).inputs.dataset_inputs
    assert logged.dataset == dataset
    assert logged.tags == [InputTag("mlflow.data.context", "train")]  # MLflow keeps the first
    with pytest.raises(MlflowException, match=r"dataset\.digest"):
        client.log_inputs(run_id, [DatasetInput(Dataset("ds", "x" * 37, "code", "{}"))])
