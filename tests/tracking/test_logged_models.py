"""Logged models through the fluent API and the client (search filters: see the search tests)."""

from __future__ import annotations

import re

import pytest

import tracklet as mlflow
from tracklet import MlflowClient
from tracklet.entities import LoggedModelStatus
from tracklet.exceptions import MlflowException


def test_lifecycle_pending_to_ready(tracking_uri: str) -> None:
    with mlflow.start_run() as run:
        model = mlflow.initialize_logged_model(
            name="mymodel", model_type="agent", tags={"k": "v"}, params={"p": 1}
        )
    assert re.fullmatch(r"m-[0-9a-f]{32}", model.model_id)
    assert model.status == LoggedModelStatus.PENDING
    assert model.source_run_id == run.info.run_id
    assert model.experiment_id == run.info.experiment_id
    assert model.artifact_location.endswith(f"/models/{model.model_id}/artifacts")
    assert model.model_uri == f"models:/{model.model_id}"
    assert model.tags["k"] == "v"
    assert model.tags["mlflow.user"]
    assert model.params == {"p": "1"}
    ready = mlflow.finalize_logged_model(model.model_id, "READY")
    assert ready.status == LoggedModelStatus.READY
    assert ready.last_updated_timestamp >= model.last_updated_timestamp
    assert mlflow.last_logged_model().model_id == model.model_id  # type: ignore[union-attr]
    failed = mlflow.finalize_logged_model(model.model_id, LoggedModelStatus.FAILED)
    assert failed.status == LoggedModelStatus.FAILED


def test_params_tags_and_metrics(tracking_uri: str) -> None:
    model = mlflow.initialize_logged_model(name="m1")
    mlflow.log_model_params({"alpha": 0.5}, model_id=model.model_id)
    mlflow.set_logged_model_tags(model.model_id, {"stage": "dev"})
    mlflow.delete_logged_model_tag(model.model_id, "stage")
    with mlflow.start_run():
        mlflow.log_metric("acc", 0.9, step=1, model_id=model.model_id)
        mlflow.log_metrics({"f1": 0.8}, model_id=model.model_id)
        run = mlflow.active_run()
    fetched = mlflow.get_logged_model(model.model_id)
    assert fetched.params == {"alpha": "0.5"}
    assert "stage" not in fetched.tags
    assert sorted((m.key, m.value, m.run_id) for m in fetched.metrics or []) == [
        ("acc", 0.9, run.info.run_id),  # type: ignore[union-attr]
        ("f1", 0.8, run.info.run_id),  # type: ignore[union-attr]
    ]
    assert mlflow.get_run(run.info.run_id).inputs.model_inputs[0].model_id == model.model_id  # type: ignore[union-attr]
    with pytest.raises(MlflowException) as error:
        mlflow.delete_logged_model_tag(model.model_id, "stage")
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_active_model(tracking_uri: str) -> None:
    assert mlflow.get_active_model_id() is None
    model = mlflow.initialize_logged_model(name="active")
    with mlflow.set_active_model(model_id=model.model_id) as active:
        assert active.model_id == model.model_id
        assert mlflow.get_active_model_id() == model.model_id
        with mlflow.start_run():
            mlflow.log_metric("linked", 1.0)
    assert mlflow.get_active_model_id() is None
    assert [m.key for m in mlflow.get_logged_model(model.model_id).metrics or []] == ["linked"]
    mlflow.set_active_model(model_id=model.model_id)
    mlflow.clear_active_model()
    assert mlflow.get_active_model_id() is None


def test_errors(tracking_uri: str) -> None:
    client = MlflowClient()
    with pytest.raises(MlflowException) as error:
        client.get_logged_model("m-" + "0" * 32)
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException, match="must not contain"):
        client.create_logged_model("0", name="a/b")
    with pytest.raises(MlflowException, match="Invalid logged model status"):
        client.finalize_logged_model(client.create_logged_model("0").model_id, "DONE")
    model = client.create_logged_model("0", name="gone")
    client.delete_logged_model(model.model_id)
    with pytest.raises(MlflowException):
        client.get_logged_model(model.model_id)


def test_search_lists_models_newest_first(tracking_uri: str) -> None:
    ids = [mlflow.initialize_logged_model(name=f"m{i}").model_id for i in range(3)]
    listed = mlflow.search_logged_models(output_format="list")
    assert {m.model_id for m in listed} == set(ids)
    frame = mlflow.search_logged_models()
    assert list(frame.columns)[:3] == ["model_id", "experiment_id", "name"]
    assert len(frame) == 3


def test_external_model_matches_mlflows_spec(tracking_uri: str) -> None:
    import yaml

    with mlflow.start_run() as run:
        model = mlflow.create_external_model(name="ext", model_type="agent", tags={"k": "v"})
    assert model.status == LoggedModelStatus.READY
    assert model.tags["mlflow.model.isExternal"] == "true"
    assert model.source_run_id == run.info.run_id
    assert mlflow.last_logged_model().model_id == model.model_id  # type: ignore[union-attr]
    files = MlflowClient().list_logged_model_artifacts(model.model_id)
    assert [f.path for f in files] == ["MLmodel"]
    local = mlflow.artifacts.download_artifacts(f"{model.artifact_location}/MLmodel")
    with open(local) as f:
        spec = yaml.safe_load(f)
    assert spec["model_id"] == model.model_id
    assert spec["run_id"] == run.info.run_id
    assert spec["metadata"] == {"mlflow.model.isExternal": True}
    assert spec["signature"]["inputs"] == '[{"type": "boolean", "required": true}]'
