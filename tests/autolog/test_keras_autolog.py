"""Keras 3 autologging (torch backend) against MLflow 3.17.2's: a tiny model, two epochs."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported: no TensorFlow

from typing import Any

import numpy as np
import pytest
from tests.autolog.conftest import Oracle, assert_same_run

pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::DeprecationWarning", "ignore::FutureWarning"
)


def _train(**fit_kwargs: Any) -> Any:
    import keras

    def train() -> None:
        keras.utils.set_random_seed(0)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(32, 4)).astype("float32")
        y = (x.sum(axis=1) > 0).astype("int64")
        model = keras.Sequential(
            [keras.Input([4]), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)]
        )
        model.compile(
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            optimizer=keras.optimizers.Adam(0.01, name="adam"),  # not adam_1, adam_2...
            metrics=[keras.metrics.SparseCategoricalAccuracy()],
        )
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_data=(x, y), **fit_kwargs)

    return train


def test_keras_fit_matches_mlflow(oracle: Oracle) -> None:
    import keras

    assert keras.backend.backend() == "torch"
    train = _train()
    theirs = oracle.mlflow("keras", train)
    ours = oracle.tracklet("keras", train)
    assert_same_run(ours, theirs, rel=1e-4)
    assert {"loss", "sparse_categorical_accuracy", "val_loss"} <= set(ours.metrics)
    assert {"batch_size", "epochs", "optimizer_learning_rate"} <= set(ours.params)
    assert "model_summary.txt" in ours.artifacts
    import mlflow

    x = np.random.default_rng(1).normal(size=(5, 4)).astype("float32")
    mine = mlflow.pyfunc.load_model(ours.model_dirs["model"]).predict(x)
    reference = mlflow.pyfunc.load_model(theirs.model_dirs["model"]).predict(x)
    assert np.allclose(mine, reference, atol=1e-5)


def test_keras_step_metrics_match_mlflow(oracle: Oracle) -> None:
    import tracklet

    train = _train()
    options = {"log_every_epoch": False, "log_every_n_steps": 2, "log_models": False}
    theirs = oracle.mlflow("keras", train, **options)
    ours = oracle.tracklet("keras", train, **options)
    assert_same_run(ours, theirs, rel=1e-4)
    import mlflow

    steps = [
        m.step for m in tracklet.MlflowClient().get_metric_history(ours.run.info.run_id, "loss")
    ]
    reference = mlflow.MlflowClient().get_metric_history(theirs.run.info.run_id, "loss")
    assert steps == [m.step for m in reference]
