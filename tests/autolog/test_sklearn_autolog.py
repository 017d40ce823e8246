"""sklearn autologging against MLflow 3.17.2's: the same fits, the same run contents."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.autolog.conftest import Oracle, assert_same_run

# sklearn 1.9 warns (FutureWarning) inside the metric calls both libraries make; under the
# suite's warnings-as-errors MLflow would drop those metrics, so let the warnings be warnings.
pytestmark = pytest.mark.filterwarnings("default::FutureWarning")


def _classification() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    y = (x["a"] + 0.5 * x["b"] > 0).astype("int64").to_numpy()
    return x, y


def _regression() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3))
    return x, x @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=50)


def test_classifier_run_matches_mlflow(oracle: Oracle) -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = _classification()

    def train() -> None:
        LogisticRegression(max_iter=200).fit(x, y)

    theirs = oracle.mlflow("sklearn", train, log_input_examples=True)
    ours = oracle.tracklet("sklearn", train, log_input_examples=True)
    assert_same_run(ours, theirs)
    assert "training_accuracy_score" in ours.metrics
    assert ours.tags["estimator_name"] == "LogisticRegression"
    assert ours.tags["mlflow.autologging"] == "sklearn"
    assert ours.inputs[0][2] == "train"
    assert "training_confusion_matrix.png" in ours.artifacts
    assert "input_example.json" in ours.models["model"]
    # MLflow loads tracklet's model and predicts what the fitted estimator predicts.
    import mlflow

    loaded = mlflow.pyfunc.load_model(ours.model_dirs["model"])
    expected = mlflow.pyfunc.load_model(theirs.model_dirs["model"]).predict(x)
    assert np.array_equal(loaded.predict(x), expected)
    assert loaded.metadata.signature is not None


def test_regressor_run_matches_mlflow(oracle: Oracle) -> None:
    from sklearn.linear_model import Ridge

    x, y = _regression()

    def train() -> None:
        Ridge(alpha=0.5).fit(x, y)

    theirs = oracle.mlflow("sklearn", train)
    ours = oracle.tracklet("sklearn", train)
    assert_same_run(ours, theirs)
    assert {"training_mean_squared_error", "training_root_mean_squared_error"} <= set(ours.metrics)


def test_pipeline_logs_once_with_deep_params(oracle: Oracle) -> None:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    x, y = _classification()

    def train() -> None:
        Pipeline(
            [("scale", StandardScaler()), ("tree", DecisionTreeClassifier(random_state=0))]
        ).fit(x.to_numpy(), y)

    theirs = oracle.mlflow("sklearn", train)
    ours = oracle.tracklet("sklearn", train)
    assert_same_run(ours, theirs)
    assert "tree__max_depth" in ours.params
    assert ours.children == []


def test_grid_search_child_runs_match_mlflow(oracle: Oracle) -> None:
    from sklearn.model_selection import GridSearchCV
    from sklearn.svm import SVC

    x, y = _classification()

    def train() -> None:
        GridSearchCV(SVC(), {"C": [0.5, 1.0, 2.0], "kernel": ["linear", "rbf"]}, cv=2).fit(x, y)

    theirs = oracle.mlflow("sklearn", train, max_tuning_runs=3)
    ours = oracle.tracklet("sklearn", train, max_tuning_runs=3)
    assert_same_run(ours, theirs)
    assert "cv_results.csv" in ours.artifacts
    assert set(ours.models) == {"model", "best_estimator"}
    assert len(ours.children) == len(theirs.children) == 3

    def children(runs: list[Any]) -> list[tuple[Any, ...]]:
        return sorted(
            (
                tuple(sorted(r.data.params.items())),
                tuple(sorted(r.data.metrics)),
                tuple(sorted(k for k in r.data.tags if k != "mlflow.parentRunId")),
                r.info.status,
            )
            for r in runs
        )

    assert children(ours.children) == children(theirs.children)


@pytest.mark.parametrize("pos_label", [None, 1])
def test_post_training_metrics_match_mlflow(oracle: Oracle, pos_label: Any) -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = _classification()
    X_test, y_test = x[:20], y[:20]  # MLflow names the metrics after the variable

    def train(lib: str) -> None:
        import importlib

        from sklearn import metrics  # the patched functions are the module's attributes

        module = importlib.import_module(lib)
        with module.start_run():
            model = LogisticRegression().fit(x, y)
            y_pred = model.predict(X_test)
            metrics.accuracy_score(y_test, y_pred)
            metrics.f1_score(y_test, y_pred)
            metrics.f1_score(y_test, y_pred, average="macro")
            model.score(X_test, y_test)

    theirs = oracle.mlflow("sklearn", lambda: train("mlflow"), pos_label=pos_label)
    ours = oracle.tracklet("sklearn", lambda: train("tracklet"), pos_label=pos_label)
    assert_same_run(ours, theirs)
    assert {"accuracy_score_X_test", "f1_score_X_test", "f1_score-2_X_test"} <= set(ours.metrics)
    assert "LogisticRegression_score_X_test" in ours.metrics
    assert "metric_info.json" in ours.artifacts


def test_switches_off_models_and_datasets(oracle: Oracle) -> None:
    from sklearn.neighbors import KNeighborsClassifier

    x, y = _classification()

    def train() -> None:
        KNeighborsClassifier(n_neighbors=3).fit(x, y)

    options = {"log_models": False, "log_datasets": False, "log_post_training_metrics": False}
    theirs = oracle.mlflow("sklearn", train, **options)
    ours = oracle.tracklet("sklearn", train, **options)
    assert_same_run(ours, theirs)
    assert ours.models == {}
    assert ours.inputs == []
