"""MLflow's own client (3.17.2, test-only) against ``tracklet server``: every MlflowClient method
and fluent call of the tracking core, page tokens, log_batch limits, NaN/Infinity."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import httpx
import pytest


@pytest.fixture
def client(mlflow: Any, tracklet_server: Any) -> Any:
    return mlflow.MlflowClient(tracklet_server.url)


def _exception(mlflow: Any) -> Any:
    from mlflow.exceptions import MlflowException

    return MlflowException


def test_experiments(client: Any, mlflow: Any, unique: str) -> None:
    error = _exception(mlflow)
    experiment_id = client.create_experiment(unique, tags={"team": "a"})
    experiment = client.get_experiment(experiment_id)
    assert experiment.name == unique
    assert experiment.tags == {"team": "a"}
    assert experiment.artifact_location == f"mlflow-artifacts:/{experiment_id}"
    assert experiment.lifecycle_stage == "active"
    assert client.get_experiment_by_name(unique).experiment_id == experiment_id
    assert client.get_experiment_by_name(f"{unique}-missing") is None
    client.set_experiment_tag(experiment_id, "k", "v")
    client.delete_experiment_tag(experiment_id, "team")
    assert client.get_experiment(experiment_id).tags == {"k": "v"}
    client.rename_experiment(experiment_id, f"{unique}-renamed")
    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    with pytest.raises(error) as info:
        client.create_experiment(f"{unique}-renamed")
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"
    client.restore_experiment(experiment_id)
    with pytest.raises(error) as info:
        client.get_experiment("999999")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_search_experiments_pages(client: Any, unique: str) -> None:
    for i in range(7):
        client.create_experiment(f"{unique}-{i}")
    names, token = [], None
    while True:
        page = client.search_experiments(max_results=3, page_token=token)
        names += [e.name for e in page]
        token = page.token
        if not token:
            break
    assert {f"{unique}-{i}" for i in range(7)} <= set(names)
    assert len(names) == len(set(names))


def test_runs_lifecycle(client: Any, mlflow: Any, unique: str) -> None:
    experiment_id = client.create_experiment(unique)
    run = client.create_run(experiment_id, tags={"a": "b"}, run_name="first")
    run_id = run.info.run_id
    assert run.info.status == "RUNNING"
    assert run.info.run_name == "first"
    assert run.info.artifact_uri == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"
    client.log_param(run_id, "lr", 0.1)
    client.log_metric(run_id, "loss", 0.5, step=1)
    client.log_metric(run_id, "loss", 0.25, step=2)
    client.log_metric(run_id, "nan", float("nan"))
    client.log_metric(run_id, "inf", float("inf"))
    client.set_tag(run_id, "k", "v")
    client.delete_tag(run_id, "a")
    client.update_run(run_id, name="second")
    got = client.get_run(run_id)
    assert got.data.params == {"lr": "0.1"}
    assert got.data.metrics["loss"] == 0.25
    assert math.isnan(got.data.metrics["nan"])
    assert got.data.metrics["inf"] >= 1.797e308
    assert got.data.tags["k"] == "v"
    assert "a" not in got.data.tags
    assert got.info.run_name == "second"
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(1, 0.5), (2, 0.25)]
    with pytest.raises(_exception(mlflow)) as info:
        client.log_param(run_id, "lr", 0.2)
    assert "Changing param values is not allowed" in info.value.message
    client.set_terminated(run_id, "KILLED")
    assert client.get_run(run_id).info.status == "KILLED"
    assert client.get_run(run_id).info.end_time is not None
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"
    assert client.get_parent_run(run_id) is None


def test_search_runs_page_tokens_over_260_runs(client: Any, unique: str) -> None:
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


def test_log_batch_at_and_past_mlflows_limits(
    client: Any, mlflow: Any, tracklet_server: Any, unique: str
) -> None:
    from mlflow.entities import Metric, Param, RunTag

    experiment_id = client.create_experiment(unique)
    run_id = client.create_run(experiment_id).info.run_id
    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric("m", float(i), now, i) for i in range(1000)])
    client.log_batch(run_id, params=[Param(f"p{i}", str(i)) for i in range(100)])
    client.log_batch(run_id, tags=[RunTag(f"t{i}", "v") for i in range(100)])
    assert len(client.get_metric_history(run_id, "m")) == 1000
    # The client splits oversize batches itself, so one past the limit is sent raw.
    url = f"{tracklet_server.url}/api/2.0/mlflow/runs/log-batch"
    too_many = [{"key": "x", "value": 1.0, "timestamp": now, "step": i} for i in range(1001)]
    for body in (
        {"run_id": run_id, "metrics": too_many},
        {"run_id": run_id, "params": [{"key": f"q{i}", "value": "1"} for i in range(101)]},
        {"run_id": run_id, "tags": [{"key": f"u{i}", "value": "1"} for i in range(101)]},
        {
            "run_id": run_id,
            "metrics": too_many[:901],
            "params": [{"key": f"q{i}", "value": "1"} for i in range(100)],
        },
    ):
        response = httpx.post(url, json=body)
        assert response.status_code == 400
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert "A batch logging request can contain at most" in response.json()["message"]
    assert len(client.get_metric_history(run_id, "x")) == 0
    # And the mlflow client's own splitting of a big batch works end to end.
    client.log_batch(run_id, metrics=[Metric("big", 1.0, now, i) for i in range(2500)])
    assert len(client.get_metric_history(run_id, "big")) == 2500


def test_long_metric_history_pages(client: Any, unique: str) -> None:
    from mlflow.entities import Metric

    experiment_id = client.create_experiment(unique)
    run_id = client.create_run(experiment_id).info.run_id
    for start in range(0, 26000, 1000):
        client.log_batch(
            run_id, metrics=[Metric("h", float(i), 1, i) for i in range(start, start + 1000)]
        )
    history = client.get_metric_history(run_id, "h")
    assert len(history) == 26000
    assert history[-1].value == 25999.0


def test_fluent_api(mlflow: Any, unique: str) -> None:
    import pandas as pd
    from mlflow.data.pandas_dataset import from_pandas

    experiment = mlflow.set_experiment(unique)
    with mlflow.start_run(run_name="outer") as outer:
        mlflow.log_param("a", 1)
        mlflow.log_params({"b": 2, "c": "x"})
        mlflow.log_metric("m", 1.5, step=3)
        mlflow.log_metrics({"n": 2.0, "o": 3.0}, step=1)
        mlflow.set_tag("t", "1")
        mlflow.set_tags({"u": "2"})
        mlflow.log_input(from_pandas(pd.DataFrame({"x": [1, 2]}), name="ds"), context="training")
        with mlflow.start_run(nested=True) as inner:
            mlflow.log_metric("inner", 1.0)
    run = mlflow.get_run(outer.info.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"a": "1", "b": "2", "c": "x"}
    assert run.data.metrics == {"m": 1.5, "n": 2.0, "o": 3.0}
    assert run.data.tags["mlflow.runName"] == "outer"
    assert run.inputs.dataset_inputs[0].dataset.name == "ds"
    assert mlflow.get_run(inner.info.run_id).data.tags["mlflow.parentRunId"] == outer.info.run_id
    assert mlflow.last_active_run().info.run_id == outer.info.run_id
    frame = mlflow.search_runs([experiment.experiment_id])
    assert len(frame) == 2
    runs = mlflow.search_runs([experiment.experiment_id], output_format="list")
    assert {r.info.run_id for r in runs} == {outer.info.run_id, inner.info.run_id}
    assert [e.name for e in mlflow.search_experiments(filter_string=None) if e.name == unique] == [
        unique
    ]


def test_async_logging_goes_through_log_batch(mlflow: Any, unique: str) -> None:
    mlflow.set_experiment(unique)
    with mlflow.start_run() as run:
        for step in range(300):
            mlflow.log_metric("async", float(step), step=step, synchronous=False)
    history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "async")
    assert [m.step for m in history] == list(range(300))


def test_artifacts_through_the_proxy(
    mlflow: Any, tracklet_server: Any, tmp_path: Any, unique: str
) -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB
    (tmp_path / "src" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "model.bin").write_bytes(payload)
    (tmp_path / "src" / "sub" / "notes.txt").write_text("hello")
    single = tmp_path / "single.json"
    single.write_text('{"a": 1}')
    mlflow.set_experiment(unique)
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(tmp_path / "src"), artifact_path="bundle")
        mlflow.log_artifact(str(single))
        mlflow.log_text("text body", "texts/t.txt")
    client = mlflow.MlflowClient()
    run_id = run.info.run_id
    root = run.info.artifact_uri
    assert [f.path for f in client.list_artifacts(run_id)] == ["bundle", "single.json", "texts"]
    # Through the proxy repository itself (runs:/ paths below also consult logged models).
    down = mlflow.artifacts.download_artifacts(artifact_uri=root, dst_path=str(tmp_path / "down"))
    assert (Path(down) / "bundle" / "model.bin").read_bytes() == payload
    assert (Path(down) / "bundle" / "sub" / "notes.txt").read_text() == "hello"
    one = mlflow.artifacts.download_artifacts(
        artifact_uri=f"{root}/single.json", dst_path=str(tmp_path / "one")
    )
    assert Path(one).read_text() == '{"a": 1}'
    repo_listing = mlflow.artifacts.list_artifacts(artifact_uri=f"{root}/bundle")
    assert [(f.path, f.is_dir) for f in repo_listing] == [
        ("bundle/model.bin", False),
        ("bundle/sub", True),
    ]
    on_disk = tracklet_server.artifacts / root.removeprefix("mlflow-artifacts:/")
    assert (on_disk / "bundle" / "model.bin").read_bytes() == payload


def test_artifacts_by_run_id(mlflow: Any, tmp_path: Any, unique: str) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f.txt").write_text("f")
    mlflow.set_experiment(unique)
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(tmp_path / "d"), artifact_path="dir")
    client = mlflow.MlflowClient()
    assert [f.path for f in client.list_artifacts(run.info.run_id, "dir")] == ["dir/f.txt"]
    out = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="dir/f.txt", dst_path=str(tmp_path / "o")
    )
    assert Path(out).read_text() == "f"


def test_error_bodies_are_exact(tracklet_server: Any) -> None:
    url = tracklet_server.url
    missing_run = httpx.get(f"{url}/api/2.0/mlflow/runs/get", params={"run_id": "0" * 32})
    assert missing_run.status_code == 404
    assert missing_run.json() == {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": f"Run with id={'0' * 32} not found",
        "sqlstate": "KAM00",
        "error_class": "RESOURCE_NOT_FOUND",
    }
    missing_name = httpx.get(
        f"{url}/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": "nope-nope"}
    )
    assert missing_name.status_code == 404
    assert missing_name.json()["message"] == "Could not find experiment with name 'nope-nope'"
    no_type = httpx.post(f"{url}/api/2.0/mlflow/experiments/create", content=b'{"name": "x"}')
    assert no_type.status_code == 400
    assert no_type.json()["message"] == "Bad Request. Content-Type header is missing."


def test_logged_models_and_outputs(client: Any, mlflow: Any, unique: str) -> None:
    from mlflow.entities import LoggedModelOutput

    experiment_id = client.create_experiment(unique)
    run_id = client.create_run(experiment_id).info.run_id
    model = client.create_logged_model(
        experiment_id, name="m", source_run_id=run_id, params={"p": "1"}, tags={"t": "v"}
    )
    assert str(model.status).endswith("PENDING")
    client.log_outputs(run_id, [LoggedModelOutput(model.model_id, 3)])
    assert client.get_run(run_id).outputs.model_outputs[0].model_id == model.model_id
    client.finalize_logged_model(model.model_id, "READY")
    client.set_logged_model_tags(model.model_id, {"k": "v"})
    client.delete_logged_model_tag(model.model_id, "t")
    got = client.get_logged_model(model.model_id)
    assert got.tags == {"k": "v"}
    assert got.params == {"p": "1"}
    assert got.artifact_location.startswith("mlflow-artifacts:/")
    found = client.search_logged_models(experiment_ids=[experiment_id])
    assert [m.model_id for m in found] == [model.model_id]
    client.delete_logged_model(model.model_id)
