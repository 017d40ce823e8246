"""Autologged models are written on the artifact worker: training returns first, the run it
started ends (FINISHED) once the model is READY, readers wait for it, a failure there is a
warning, and the files are those of the model as the fit left it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tracklet
import tracklet.sklearn
from tracklet.entities import LoggedModelStatus
from tracklet.tracking import _state, background

pytestmark = pytest.mark.filterwarnings(
    "ignore::FutureWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[threading.Event]:
    """sklearn autologging into a fresh store, its model writes held until the event is set."""
    tracklet.set_tracking_uri(f"sqlite:///{tmp_path / 'deferred.db'}")
    release = threading.Event()
    save = tracklet.sklearn.save_model

    def held_save(*args: Any, **kwargs: Any) -> None:
        assert release.wait(30)
        save(*args, **kwargs)

    monkeypatch.setattr(tracklet.sklearn, "save_model", held_save)
    tracklet.sklearn.autolog(log_input_examples=True)
    yield release
    release.set()
    tracklet.flush_async_logging()
    tracklet.sklearn.autolog(disable=True)


def _data(seed: int) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(60, 3))
    return x, (x[:, 0] > 0).astype(int)


def _model_id(run_id: str) -> str:
    run = tracklet.MlflowClient().get_run(run_id)
    (output,) = run.outputs.model_outputs
    return str(output.model_id)


def test_fit_returns_before_the_model_is_written_and_the_run_ends_after(
    gate: threading.Event,
) -> None:
    from sklearn.linear_model import LogisticRegression

    client = tracklet.MlflowClient()
    x, y = _data(0)
    model = LogisticRegression().fit(x, y)
    returned = int(time.time() * 1000)
    run_id = _state.last_active_run_id()  # without reading the run (that would wait)
    assert run_id is not None
    # The model is still being written: the run, as stored, has not ended.
    assert background.pending(run_id) >= 1
    assert client._run_now(run_id).info.status == "RUNNING"
    # The same estimator refitted on other data meanwhile: the model logged is the first fit.
    first = model.predict_proba(x)
    x2, y2 = _data(1)
    model.fit(x2, 1 - y2)
    gate.set()
    run = client.get_run(run_id)  # waits for the model, then the run's end
    assert run.info.status == "FINISHED"
    assert run.info.end_time is not None
    assert run.info.end_time <= returned
    model_id = _model_id(run_id)
    logged = client.get_logged_model(model_id)
    assert logged.status == LoggedModelStatus.READY
    loaded = tracklet.sklearn.load_model(f"models:/{model_id}")
    np.testing.assert_allclose(loaded.predict_proba(x), first)
    files = {f.path for f in client.list_artifacts(run_id)}
    assert "estimator.html" in files
    assert "training_confusion_matrix.png" in files


def test_a_user_run_ends_only_once_its_model_is_written(gate: threading.Event) -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = _data(2)
    with tracklet.start_run() as run:
        LogisticRegression().fit(x, y)
        run_id = run.info.run_id
        assert background.pending(run_id) >= 1
        threading.Timer(0.3, gate.set).start()
    # end_run waited: the stored run is ended and nothing is left queued for it.
    assert background.pending(run_id) == 0
    assert tracklet.MlflowClient()._run_now(run_id).info.status == "FINISHED"
    model = tracklet.MlflowClient().get_logged_model(_model_id(run_id))
    assert model.status == LoggedModelStatus.READY


def test_a_failing_model_write_is_a_warning_and_training_goes_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from sklearn.linear_model import LogisticRegression

    tracklet.set_tracking_uri(f"sqlite:///{tmp_path / 'failing.db'}")

    def broken_save(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(tracklet.sklearn, "save_model", broken_save)
    x, y = _data(3)
    try:
        for silent in (False, True):
            tracklet.sklearn.autolog(silent=silent)
            caplog.clear()
            with caplog.at_level(logging.WARNING):
                fitted = LogisticRegression().fit(x, y)
                tracklet.flush_async_logging()
            assert fitted.predict(x).shape == (60,)
            warned = "Failed to log the model 'model': disk full" in caplog.text
            assert warned is (not silent)
            run = tracklet.last_active_run()
            assert run is not None
            run_id = run.info.run_id
            assert tracklet.MlflowClient().get_run(run_id).info.status == "FINISHED"
            model = tracklet.MlflowClient().get_logged_model(_model_id(run_id))
            assert model.status == LoggedModelStatus.FAILED
    finally:
        tracklet.sklearn.autolog(disable=True)


def _train_xgboost(x: Any, y: Any) -> Any:
    import xgboost

    return xgboost.train({"objective": "binary:logistic"}, xgboost.DMatrix(x, label=y), 4)


def _train_lightgbm(x: Any, y: Any) -> Any:
    import lightgbm

    params = {"objective": "binary", "verbose": -1, "min_data_in_leaf": 5}
    return lightgbm.train(params, lightgbm.Dataset(x, label=y), 4)


def _train_keras(x: Any, y: Any) -> Any:
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy")
    model.fit(x.astype("float32"), y.astype("float32"), epochs=2, verbose=0)
    return model


def _predict(flavor: str, model: Any, x: Any) -> Any:
    if flavor == "xgboost":
        import xgboost

        return model.predict(xgboost.DMatrix(x))
    if flavor == "keras":
        return model.predict(x.astype("float32"), verbose=0)
    return model.predict(x)


_TRAIN = {"xgboost": _train_xgboost, "lightgbm": _train_lightgbm, "keras": _train_keras}


@pytest.mark.parametrize("flavor", sorted(_TRAIN))
def test_boosters_and_keras_models_are_written_on_the_worker(
    flavor: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib

    monkeypatch.setenv("KERAS_BACKEND", "torch")
    module = importlib.import_module(f"tracklet.{flavor}")
    tracklet.set_tracking_uri(f"sqlite:///{tmp_path / 'deferred.db'}")
    client = tracklet.MlflowClient()
    release = threading.Event()
    save = module.save_model
    writers: list[str] = []

    def held_save(*args: Any, **kwargs: Any) -> None:
        writers.append(threading.current_thread().name)
        assert release.wait(30)
        save(*args, **kwargs)

    monkeypatch.setattr(module, "save_model", held_save)
    module.autolog()
    try:
        x, y = _data(4)
        model = _TRAIN[flavor](x, y)
        run_id = _state.last_active_run_id()
        assert run_id is not None
        # Training returned; the model is still being written, the run not yet ended.
        assert background.pending(run_id) >= 1
        assert client._run_now(run_id).info.status == "RUNNING"
        expected = _predict(flavor, model, x)
        release.set()
        run = client.get_run(run_id)  # waits for the model, then the run's end
        assert run.info.status == "FINISHED"
        assert writers == ["tracklet-artifacts"]
        model_id = _model_id(run_id)
        assert client.get_logged_model(model_id).status == LoggedModelStatus.READY
        loaded = module.load_model(f"models:/{model_id}")
        np.testing.assert_allclose(_predict(flavor, loaded, x), expected, rtol=1e-5)
    finally:
        release.set()
        tracklet.flush_async_logging()
        module.autolog(disable=True)


@pytest.mark.parametrize("flavor", sorted(_TRAIN))
def test_a_failing_booster_or_keras_model_write_is_a_warning(
    flavor: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import importlib

    monkeypatch.setenv("KERAS_BACKEND", "torch")
    module = importlib.import_module(f"tracklet.{flavor}")
    tracklet.set_tracking_uri(f"sqlite:///{tmp_path / 'failing.db'}")

    def broken_save(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(module, "save_model", broken_save)
    module.autolog()
    try:
        x, y = _data(5)
        with caplog.at_level(logging.WARNING):
            _TRAIN[flavor](x, y)
            tracklet.flush_async_logging()
        assert "Failed to log the model 'model': disk full" in caplog.text
        run_id = _state.last_active_run_id()
        assert run_id is not None
        assert tracklet.MlflowClient().get_run(run_id).info.status == "FINISHED"
        model = tracklet.MlflowClient().get_logged_model(_model_id(run_id))
        assert model.status == LoggedModelStatus.FAILED
    finally:
        module.autolog(disable=True)
