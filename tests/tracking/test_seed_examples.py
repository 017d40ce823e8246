"""The seed's examples (TRACKING-API.md), run unchanged after ``import tracklet as mlflow``."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

import tracklet as mlflow
from tracklet import MlflowClient


def test_manual_logging(tracking_uri: str) -> None:
    with mlflow.start_run() as run:
        mlflow.log_param("learning_rate", 0.01)
        mlflow.log_params({"batch_size": 32, "epochs": 10})
        for epoch in range(10):
            mlflow.log_metrics(
                {"train_loss": 1.0 / (epoch + 1), "val_loss": 1.5 / (epoch + 1)}, step=epoch
            )
        mlflow.set_tag("model_type", "baseline")
        run_id = mlflow.active_run().info.run_id  # type: ignore[union-attr]
    assert run_id == run.info.run_id
    assert mlflow.last_active_run().info.status == "FINISHED"  # type: ignore[union-attr]
    stored = mlflow.get_run(run_id)
    assert stored.data.params == {"learning_rate": "0.01", "batch_size": "32", "epochs": "10"}
    assert stored.data.metrics == {"train_loss": 0.1, "val_loss": 0.15}
    assert stored.data.tags["model_type"] == "baseline"
    history = MlflowClient().get_metric_history(run_id, "val_loss")
    assert [m.step for m in history] == list(range(10))
    assert [m.value for m in history] == [1.5 / (e + 1) for e in range(10)]


def test_nested_hyperparameter_sweep(tracking_uri: str) -> None:
    mlflow.set_experiment("sweeps")
    with mlflow.start_run(run_name="hyperparameter_sweep") as parent:
        for lr in (0.001, 0.01, 0.1):
            with mlflow.start_run(nested=True) as child:
                mlflow.log_param("learning_rate", lr)
                mlflow.log_metric("accuracy", 0.9 - lr)
                assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    children = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert sorted(children["params.learning_rate"]) == ["0.001", "0.01", "0.1"]
    assert sorted(children["metrics.accuracy"]) == pytest.approx([0.8, 0.89, 0.899])
    assert {"run_id", "params.learning_rate", "metrics.accuracy"} <= set(children.columns)
    assert parent.info.run_id not in set(children["run_id"])
    client = MlflowClient()
    assert client.get_run(parent.info.run_id).info.run_name == "hyperparameter_sweep"
    parent_of_child = client.get_parent_run(children["run_id"][0])
    assert parent_of_child is not None
    assert parent_of_child.info.run_id == parent.info.run_id


def test_sequential_configs(tracking_uri: str) -> None:
    configs = [{"lr": 0.01, "layers": 2}, {"lr": 0.1, "layers": 3}, {"lr": 0.5, "layers": 4}]
    run_ids = []
    for i, config in enumerate(configs):
        with mlflow.start_run(run_name=f"config_{i}") as run:
            mlflow.log_params(config)
            mlflow.log_metric("score", config["lr"] * config["layers"])
            run_ids.append(run.info.run_id)
    assert mlflow.active_run() is None
    for run_id, config in zip(run_ids, configs, strict=True):
        data = mlflow.get_run(run_id).data
        assert data.params == {k: str(v) for k, v in config.items()}
        assert data.metrics == {"score": config["lr"] * config["layers"]}


def test_tagging(tracking_uri: str) -> None:
    with mlflow.start_run(tags={"team": "vision"}, description="a tagged run") as run:
        mlflow.set_tags({"environment": "production", "model_family": "transformer"})
        mlflow.set_tag("priority", 1)
        mlflow.delete_tag("team")
    tags = mlflow.get_run(run.info.run_id).data.tags
    assert tags["environment"] == "production"
    assert tags["model_family"] == "transformer"
    assert tags["priority"] == "1"
    assert tags["mlflow.note.content"] == "a tagged run"
    assert "team" not in tags


def _train_in_process(args: tuple[str, float]) -> str:
    uri, lr = args
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("parallel")
    with mlflow.start_run() as run:
        mlflow.log_param("lr", lr)
        for step in range(20):
            mlflow.log_metric("loss", lr / (step + 1), step=step)
    return run.info.run_id


def test_multiprocessing(tracking_uri: str) -> None:
    mlflow.set_experiment("parallel")
    # A run active in the parent must not leak into forked workers.
    with mlflow.start_run(), multiprocessing.get_context("fork").Pool(4) as pool:
        run_ids = pool.map(_train_in_process, [(tracking_uri, lr / 10) for lr in range(1, 9)])
    assert len(set(run_ids)) == 8
    client = MlflowClient()
    for run_id in run_ids:
        run = client.get_run(run_id)
        assert run.info.status == "FINISHED"
        assert "mlflow.parentRunId" not in run.data.tags
        assert len(client.get_metric_history(run_id, "loss")) == 20


def test_multithreading(tracking_uri: str) -> None:
    mlflow.set_experiment("threads")
    results: dict[int, str] = {}

    def train(worker: int) -> None:
        with mlflow.start_run(run_name=f"thread-{worker}") as run:
            assert mlflow.active_run().info.run_id == run.info.run_id  # type: ignore[union-attr]
            for step in range(25):
                mlflow.log_metric("loss", worker + step * 0.01, step=step)
            mlflow.log_param("worker", worker)
        results[worker] = run.info.run_id

    threads = [threading.Thread(target=train, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mlflow.active_run() is None  # each thread had its own stack
    client = MlflowClient()
    for worker, run_id in results.items():
        run = client.get_run(run_id)
        assert run.info.run_name == f"thread-{worker}"
        assert run.data.params == {"worker": str(worker)}
        assert [m.step for m in client.get_metric_history(run_id, "loss")] == list(range(25))
