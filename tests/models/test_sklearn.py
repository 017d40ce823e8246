"""tracklet.sklearn: files written, loading by every URI form, logged-model bookkeeping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tracklet as mlflow
from tracklet.entities import LoggedModelStatus
from tracklet.exceptions import MlflowException
from tracklet.models import Model

RF_TRUSTED = ["sklearn.tree._tree.Tree"]


def _forest(frame: tuple[Any, Any]) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    x, y = frame
    return RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y)


def test_save_model_writes_mlflow_layout(tmp_path: Path, frame: tuple[Any, Any]) -> None:
    x, _ = frame
    model = _forest(frame)
    path = tmp_path / "model"
    mlflow.sklearn.save_model(
        model, str(path), serialization_format="cloudpickle", input_example=x.head(3)
    )
    assert sorted(p.name for p in path.iterdir()) == [
        "MLmodel",
        "conda.yaml",
        "input_example.json",
        "model.pkl",
        "python_env.yaml",
        "requirements.txt",
        "serving_input_example.json",
    ]
    meta = Model.load(str(path))
    assert meta.flavors["python_function"]["loader_module"] == "mlflow.sklearn"
    assert meta.flavors["python_function"]["model_path"] == "model.pkl"
    assert meta.flavors["sklearn"]["serialization_format"] == "cloudpickle"
    assert meta.signature is not None
    assert meta.signature.to_dict() == {
        "inputs": '[{"type": "double", "name": "a", "required": true}, '
        '{"type": "double", "name": "b", "required": true}, '
        '{"type": "long", "name": "c", "required": true}]',
        "outputs": '[{"type": "long", "required": true}]',
        "params": None,
    }
    example = json.loads((path / "input_example.json").read_text())
    assert example["columns"] == ["a", "b", "c"]
    assert len(example["data"]) == 3
    serving = json.loads((path / "serving_input_example.json").read_text())
    assert serving == {"dataframe_split": example}
    requirements = (path / "requirements.txt").read_text().splitlines()
    import cloudpickle
    import sklearn

    assert requirements == [
        "mlflow==3.17.2",
        f"scikit-learn=={sklearn.__version__}",
        f"cloudpickle=={cloudpickle.__version__}",
    ]
    assert "-r requirements.txt" in (path / "python_env.yaml").read_text()
    assert "mlflow-env" in (path / "conda.yaml").read_text()
    assert meta.model_size_bytes == sum(
        p.stat().st_size
        for p in path.iterdir()
        if p.name in ("model.pkl", "input_example.json", "serving_input_example.json")
    )


def test_save_into_a_non_empty_directory_fails(tmp_path: Path, frame: tuple[Any, Any]) -> None:
    (tmp_path / "x").write_text("x")
    with pytest.raises(MlflowException, match="already exists"):
        mlflow.sklearn.save_model(_forest(frame), str(tmp_path), serialization_format="pickle")


@pytest.mark.parametrize("fmt", ["skops", "pickle", "cloudpickle"])
def test_round_trip_each_serialization_format(
    tmp_path: Path, frame: tuple[Any, Any], fmt: str
) -> None:
    x, _ = frame
    model = _forest(frame)
    path = str(tmp_path / fmt)
    mlflow.sklearn.save_model(model, path, serialization_format=fmt, skops_trusted_types=RF_TRUSTED)
    assert np.array_equal(mlflow.sklearn.load_model(path).predict(x), model.predict(x))
    assert np.array_equal(mlflow.pyfunc.load_model(path).predict(x), model.predict(x))


def test_skops_refuses_untrusted_types(tmp_path: Path, frame: tuple[Any, Any]) -> None:
    with pytest.raises(MlflowException, match="untrusted types"):
        mlflow.sklearn.save_model(_forest(frame), str(tmp_path / "m"))


def test_loading_pickles_can_be_disallowed(
    tmp_path: Path, frame: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "m")
    mlflow.sklearn.save_model(_forest(frame), path, serialization_format="pickle")
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    with pytest.raises(MlflowException, match="MLFLOW_ALLOW_PICKLE_DESERIALIZATION"):
        mlflow.sklearn.load_model(path)


def test_log_model_creates_a_ready_logged_model(store: str, frame: tuple[Any, Any]) -> None:
    x, _ = frame
    model = _forest(frame)
    with mlflow.start_run() as run:
        mlflow.log_params({"n_estimators": 5, "depth": "none"})
        mlflow.log_metric("acc", 0.75, step=2)
        info = mlflow.sklearn.log_model(
            model,
            name="forest",
            serialization_format="cloudpickle",
            params={"extra": 1},
            tags={"team": "a"},
            model_type="classifier",
            step=2,
        )
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.run_id == run.info.run_id
    logged = mlflow.get_logged_model(info.model_id)
    assert logged.status == LoggedModelStatus.READY
    assert logged.name == "forest"
    assert logged.source_run_id == run.info.run_id
    assert logged.model_type == "classifier"
    assert logged.params == {"n_estimators": "5", "depth": "none", "extra": "1"}
    assert logged.tags["team"] == "a"
    assert [(m.key, m.value, m.step) for m in logged.metrics or []] == [("acc", 0.75, 2)]
    assert mlflow.last_logged_model().model_id == info.model_id
    outputs = mlflow.get_run(run.info.run_id).outputs
    assert [(o.model_id, o.step) for o in outputs.model_outputs] == [(info.model_id, 2)]
    assert Path(logged.artifact_location, "MLmodel").exists()
    meta = Model.load(logged.artifact_location)
    assert meta.model_id == info.model_id
    assert meta.run_id == run.info.run_id
    assert meta.artifact_path == logged.artifact_location

    expected = model.predict(x)
    for uri in (info.model_uri, logged.artifact_location, Path(logged.artifact_location).as_uri()):
        assert np.array_equal(mlflow.sklearn.load_model(uri).predict(x), expected)
        assert np.array_equal(mlflow.pyfunc.load_model(uri).predict(x), expected)


def test_log_model_into_an_initialized_model(store: str, frame: tuple[Any, Any]) -> None:
    x, _ = frame
    model = _forest(frame)
    initialized = mlflow.initialize_logged_model(name="later", model_type="rf")
    assert initialized.status == LoggedModelStatus.PENDING
    info = mlflow.sklearn.log_model(
        model, model_id=initialized.model_id, serialization_format="pickle"
    )
    assert info.model_id == initialized.model_id
    assert mlflow.get_logged_model(initialized.model_id).status == LoggedModelStatus.READY
    loaded = mlflow.pyfunc.load_model(f"models:/{initialized.model_id}")
    assert np.array_equal(loaded.predict(x), model.predict(x))
    assert loaded.model_id == initialized.model_id


def test_log_model_without_active_run_links_no_run(store: str, frame: tuple[Any, Any]) -> None:
    info = mlflow.sklearn.log_model(_forest(frame), name="m", serialization_format="pickle")
    assert info.run_id is None
    assert mlflow.active_run() is None
    assert mlflow.get_logged_model(info.model_id).source_run_id is None


def test_failed_save_marks_the_model_failed(store: str, frame: tuple[Any, Any]) -> None:
    with mlflow.start_run(), pytest.raises(MlflowException, match="untrusted"):
        mlflow.sklearn.log_model(_forest(frame), name="bad")
    failed = mlflow.last_logged_model()
    assert failed is not None
    assert failed.status == LoggedModelStatus.FAILED


def test_runs_uri_of_a_run_relative_model(store: str, frame: tuple[Any, Any]) -> None:
    x, _ = frame
    model = _forest(frame)
    with mlflow.start_run() as run:
        mlflow.sklearn.save_model(model, "local-model", serialization_format="pickle")
        mlflow.log_artifacts("local-model", "model")
    uri = f"runs:/{run.info.run_id}/model"
    assert np.array_equal(mlflow.sklearn.load_model(uri).predict(x), model.predict(x))


def test_pyfunc_predict_fn_and_input_example(tmp_path: Path, frame: tuple[Any, Any]) -> None:
    x, _ = frame
    model = _forest(frame)
    path = str(tmp_path / "m")
    mlflow.sklearn.save_model(
        model,
        path,
        serialization_format="pickle",
        pyfunc_predict_fn="predict_proba",
        input_example=x.head(2),
    )
    loaded = mlflow.pyfunc.load_model(path)
    assert np.allclose(loaded.predict(x), model.predict_proba(x))
    assert loaded.input_example.equals(x.head(2))
    assert loaded.get_raw_model().n_estimators == 5
