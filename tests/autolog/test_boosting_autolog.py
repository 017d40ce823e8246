"""xgboost and lightgbm autologging against MLflow 3.17.2's: native ``train`` with eval sets
and early stopping, and the sklearn-API estimators."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tests.autolog.conftest import Oracle, Summary, assert_same_run

pytestmark = pytest.mark.filterwarnings("default::FutureWarning", "default::UserWarning")


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(120, 4))
    return x, (x[:, 0] - x[:, 2] > 0).astype(int)


def _assert_model_predicts_the_same(ours: Summary, theirs: Summary, x: Any) -> None:
    import mlflow

    mine = mlflow.pyfunc.load_model(ours.model_dirs["model"]).predict(x)
    reference = mlflow.pyfunc.load_model(theirs.model_dirs["model"]).predict(x)
    assert np.allclose(np.asarray(mine), np.asarray(reference))


def test_xgboost_train_matches_mlflow(oracle: Oracle) -> None:
    import xgboost as xgb

    x, y = _data()

    def train() -> None:
        dtrain = xgb.DMatrix(x[:90], label=y[:90])
        dvalid = xgb.DMatrix(x[90:], label=y[90:])
        xgb.train(
            {"objective": "binary:logistic", "max_depth": 2, "eval_metric": ["logloss", "auc"]},
            dtrain,
            num_boost_round=30,
            evals=[(dtrain, "train"), (dvalid, "valid")],
            early_stopping_rounds=3,
            verbose_eval=False,
        )

    options = {"importance_types": ["weight", "gain"], "log_input_examples": True}
    theirs = oracle.mlflow("xgboost", train, **options)
    ours = oracle.tracklet("xgboost", train, **options)
    assert_same_run(ours, theirs)
    assert {"valid-logloss", "train-auc", "stopped_iteration", "best_iteration"} <= set(
        ours.metrics
    )
    assert "feature_importance_gain.png" in ours.artifacts
    _assert_model_predicts_the_same(ours, theirs, x)


def test_xgboost_sklearn_estimator_matches_mlflow(oracle: Oracle) -> None:
    import xgboost as xgb

    x, y = _data()

    def train() -> None:
        xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(x, y, eval_set=[(x, y)], verbose=False)

    theirs = oracle.mlflow("xgboost", train)
    ours = oracle.tracklet("xgboost", train)
    assert_same_run(ours, theirs)
    assert "validation_0-logloss" in ours.metrics
    _assert_model_predicts_the_same(ours, theirs, x)


def test_lightgbm_train_matches_mlflow(oracle: Oracle) -> None:
    import lightgbm as lgb

    x, y = _data()

    def train() -> None:
        train_set = lgb.Dataset(x[:90], label=y[:90])
        valid = lgb.Dataset(x[90:], label=y[90:], reference=train_set)
        lgb.train(
            {"objective": "binary", "num_leaves": 4, "verbose": -1, "metric": ["binary_logloss"]},
            train_set,
            num_boost_round=20,
            valid_sets=[valid],
            valid_names=["valid"],
            callbacks=[lgb.early_stopping(3, verbose=False)],
        )

    theirs = oracle.mlflow("lightgbm", train, log_input_examples=True)
    ours = oracle.tracklet("lightgbm", train, log_input_examples=True)
    assert_same_run(ours, theirs)
    assert {"valid-binary_logloss", "stopped_iteration", "best_iteration"} <= set(ours.metrics)
    assert "feature_importance_split.json" in ours.artifacts
    _assert_model_predicts_the_same(ours, theirs, x)


def test_lightgbm_sklearn_estimator_matches_mlflow(oracle: Oracle) -> None:
    import lightgbm as lgb

    x, y = _data()

    def train() -> None:
        lgb.LGBMClassifier(n_estimators=5, num_leaves=4, verbose=-1).fit(x, y, eval_set=[(x, y)])

    theirs = oracle.mlflow("lightgbm", train)
    ours = oracle.tracklet("lightgbm", train)
    assert_same_run(ours, theirs)
    _assert_model_predicts_the_same(ours, theirs, x)
