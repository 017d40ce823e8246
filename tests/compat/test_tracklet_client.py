"""tracklet's own client over HTTP, against ``tracklet server`` and against a real
``mlflow server`` 3.17.2: the same scenarios must pass on both."""

from __future__ import annotations

import math
from typing import Any

import pytest

import tracklet
from tracklet import MlflowClient
from tracklet.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
from tracklet.exceptions import MlflowException

# One xdist worker runs these, so only one (slow to start) mlflow server is launched.
pytestmark = pytest.mark.xdist_group("mlflow_server")


@pytest.fixture
def client(any_server: Any) -> MlflowClient:
    return MlflowClient(any_server.url)


def test_experiments(client: MlflowClient, unique: str) -> None:
    experiment_id = client.create_experiment(unique, tags={"team": "a"})
    experiment = client.get_experiment(experiment_id)
    assert (experiment.name, experiment.tags) == (unique, {"team": "a"})
    assert experiment.artifact_location.startswith("mlflow-artifacts:/")
    assert client.get_experiment_by_name(f"{unique}-none") is None
    client.set_experiment_tag(experiment_id, "k", "v")
    client.delete_experiment_tag(experiment_id, "team")
    client.rename_experiment(experiment_id, f"{unique}-2")
    assert client.get_experiment_by_name(f"{unique}-2").tags == {"k": "v"}  # type: ignore[union-attr]
    client.delete_experiment(experiment_id)
    with pytest.raises(MlflowException) as info:
        client.create_experiment(f"{unique}-2")
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"
    client.restore_experiment(experiment_id)
    with pytest.raises(MlflowException) as info:
        client.get_experiment("987654")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_runs_and_data(client: MlflowClient, unique: str) -> None:
    experiment_id = client.create_experiment(unique)
    run = client.create_run(experiment_id, tags={"mlflow.user": "me"}, run_name="r")
    run_id = run.info.run_id
    assert run.info.run_name == "r"
    client.log_param(run_id, "lr", 0.1)
    client.log_metric(run_id, "loss", 0.5, step=1)
    client.log_metric(run_id, "nan", math.nan)
    client.log_metric(run_id, "inf", math.inf)
    client.set_tag(run_id, "k", "v")
    client.delete_tag(run_id, "k")
    client.log_batch(
        run_id,
        metrics=[Metric("b", float(i), 1000 + i, i) for i in range(2200)],
        params=[Param(f"p{i}", "x") for i in range(130)],
        tags=[RunTag(f"t{i}", "y") for i in range(110)],
    )
    client.log_inputs(
        run_id,
        [
            DatasetInput(
                Dataset("ds", "d1", "code", "{}"), [InputTag("mlflow.data.context", "train")]
            )
        ],
    )
    got = client.get_run(run_id)
    assert got.data.params["lr"] == "0.1"
    assert len(got.data.params) == 131
    assert math.isnan(got.data.metrics["nan"])
    assert got.data.metrics["inf"] >= 1.797e308
    assert got.data.metrics["b"] == 2199.0
    assert "k" not in got.data.tags
    assert got.inputs.dataset_inputs[0].dataset.name == "ds"
    history = client.get_metric_history(run_id, "b")
    assert list(history.steps) == list(range(2200))
    with pytest.raises(MlflowException) as info:
        client.log_param(run_id, "lr", 0.2)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    client.set_terminated(run_id, "FAILED")
    assert client.get_run(run_id).info.status == "FAILED"
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    client.restore_run(run_id)
    with pytest.raises(MlflowException) as info:
        client.get_run("f" * 32)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_search_runs_page_tokens(client: MlflowClient, unique: str) -> None:
    experiment_id = client.create_experiment(unique)
    created = {client.create_run(experiment_id, start_time=i).info.run_id for i in range(260)}
    seen: list[str] = []
    token = None
    while True:
        page = client.search_runs([experiment_id], max_results=100, page_token=token)
        seen += [r.info.run_id for r in page]
        token = page.token
        if not token:
            break
    assert len(seen) == 260
    assert set(seen) == created


def test_async_logging_over_http(client: MlflowClient, unique: str) -> None:
    experiment_id = client.create_experiment(unique)
    run_id = client.create_run(experiment_id).info.run_id
    for step in range(2500):
        client.log_metric(run_id, "a", float(step), step=step, synchronous=False)
    client.flush_async_logging()
    assert list(client.get_metric_history(run_id, "a").steps) == list(range(2500))


def test_fluent_api_over_http(any_server: Any, unique: str) -> None:
    tracklet.set_tracking_uri(any_server.url)
    tracklet.set_experiment(unique)
    with tracklet.start_run(run_name="fluent") as run:
        tracklet.log_params({"a": 1, "b": "x"})
        tracklet.log_metrics({"m": 1.0, "n": 2.0}, step=2)
        tracklet.set_tags({"t": "1"})
        with tracklet.start_run(nested=True) as child:
            tracklet.log_metric("c", 3.0)
    got = tracklet.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.data.params == {"a": "1", "b": "x"}
    assert got.data.metrics == {"m": 1.0, "n": 2.0}
    assert tracklet.get_parent_run(child.info.run_id).info.run_id == run.info.run_id  # type: ignore[union-attr]
