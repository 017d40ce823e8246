"""log_model(..., registered_model_name=...) registers the logged model, in every flavor (they
share flavor_log), whether the name is a named argument or arrives in **kwargs (pyfunc)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import tracklet


class _Echo(tracklet.pyfunc.PythonModel):  # type: ignore[name-defined,misc]
    def predict(self, context: object, model_input: object, params: object = None) -> object:
        return model_input


def test_log_model_registers_versions(tracking_uri: str) -> None:
    from sklearn.linear_model import LinearRegression

    with tracklet.start_run() as run:
        first = tracklet.pyfunc.log_model(
            name="m", python_model=_Echo(), registered_model_name="reg"
        )
        fitted = LinearRegression().fit(pd.DataFrame({"x": [0.0, 1.0]}), np.array([0.0, 2.0]))
        second = tracklet.sklearn.log_model(fitted, name="lin", registered_model_name="reg")
    assert (first.registered_model_version, second.registered_model_version) == (1, 2)
    client = tracklet.MlflowClient()
    version = client.get_model_version("reg", "2")
    assert (version.run_id, version.model_id) == (run.info.run_id, second.model_id)
    assert version.source == f"models:/{second.model_id}"
    assert client.get_logged_model(second.model_id).tags["mlflow.modelVersions"] == (
        '[{"name": "reg", "version": "2"}]'
    )
    loaded = tracklet.pyfunc.load_model("models:/reg/2")
    assert loaded.predict(pd.DataFrame({"x": [3.0]})).tolist() == pytest.approx([6.0])
    echo = tracklet.pyfunc.load_model("models:/reg/1")
    assert echo.predict(pd.DataFrame({"x": [3.0]}))["x"].tolist() == [3.0]


def test_every_models_uri_form_loads(tracking_uri: str, tmp_path: object) -> None:
    from sklearn.linear_model import LinearRegression

    frame = pd.DataFrame({"x": [0.0, 1.0]})
    with tracklet.start_run():
        for slope in (1.0, 3.0):
            fitted = LinearRegression().fit(frame, frame["x"] * slope)
            tracklet.sklearn.log_model(fitted, name="lin", registered_model_name="lin")
    client = tracklet.MlflowClient()
    client.set_registered_model_alias("lin", "champion", "1")
    with pytest.warns(FutureWarning):
        client.transition_model_version_stage("lin", "1", "Production")
    expected = {
        "models:/lin/1": 1.0,
        "models:/lin@champion": 1.0,
        "models:/lin/Production": 1.0,
        "models:/lin/latest": 3.0,
        "models:/lin/2": 3.0,
    }
    for uri, slope in expected.items():
        model = tracklet.sklearn.load_model(uri)
        assert model.predict(pd.DataFrame({"x": [2.0]})).tolist() == pytest.approx([2 * slope])
    local = tracklet.artifacts.download_artifacts("models:/lin@champion", dst_path=str(tmp_path))
    assert sorted(os.listdir(local))[:2] == ["MLmodel", "conda.yaml"]
