"""tracklet.models.evaluate against mlflow.models.evaluate 3.17.2 on the same sklearn models and
data: metric names and values, artifacts, run files; and what tracklet refuses."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import tracklet
from tracklet.exceptions import MlflowException

QUIET = {"log_model_explainability": False}
# MLflow's evaluator imports xgboost through MLflow's import hooks, which warn (theirs, not ours).
pytestmark = [
    pytest.mark.filterwarnings("ignore:_ImportHookChainedLoader:ImportWarning"),
    pytest.mark.filterwarnings("ignore:the load_module:DeprecationWarning"),
    # scikit-learn's, for log_loss with the positive label last (MLflow passes them so too).
    pytest.mark.filterwarnings("ignore:Labels passed were:UserWarning"),
]


def _iris(kind: str) -> tuple[Any, pd.DataFrame, str]:
    """(a fitted sklearn model, evaluation data with a "label" column, model type)."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LinearRegression, LogisticRegression

    x, y = load_iris(return_X_y=True, as_frame=True)
    x = x.iloc[::2].reset_index(drop=True)  # 75 rows: small and quick
    y = y.iloc[::2].reset_index(drop=True)
    if kind == "regressor":
        target = x.pop("petal width (cm)")
        return LinearRegression().fit(x, target), x.assign(label=target), "regressor"
    if kind == "binary":
        y = (y == 2).astype("int64")
    return LogisticRegression(max_iter=300).fit(x, y), x.assign(label=y), "classifier"


def _run_both(
    tmp_path: Path, kind: str, config: dict[str, Any]
) -> tuple[Any, Any, list[str], list[str]]:
    """Evaluate the same model (saved by each tool, loaded with its pyfunc) on the same data
    with both tools; returns (mlflow's result, ours, mlflow's run files, ours)."""
    import mlflow

    model, data, model_type = _iris(kind)
    mlflow.sklearn.save_model(model, tmp_path / "m", serialization_format="cloudpickle")
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    with mlflow.start_run() as run:
        theirs = mlflow.models.evaluate(
            mlflow.pyfunc.load_model(str(tmp_path / "m")), data, targets="label",
            model_type=model_type, evaluator_config=config,
        )  # fmt: skip
    their_files = sorted(f.path for f in mlflow.MlflowClient().list_artifacts(run.info.run_id))
    their_run_metrics = mlflow.get_run(run.info.run_id).data.metrics
    mlflow.set_tracking_uri(None)

    tracklet.sklearn.save_model(model, tmp_path / "t", serialization_format="cloudpickle")
    tracklet.set_tracking_uri(f"sqlite:///{tmp_path / 'tracklet.db'}")
    with tracklet.start_run() as ours_run:
        ours = tracklet.models.evaluate(
            tracklet.pyfunc.load_model(str(tmp_path / "t")), data, targets="label",
            model_type=model_type, evaluator_config=config,
        )  # fmt: skip
    our_files = sorted(f.path for f in tracklet.MlflowClient().list_artifacts(ours_run.info.run_id))
    our_run_metrics = tracklet.get_run(ours_run.info.run_id).data.metrics
    assert set(our_run_metrics) == set(their_run_metrics) == set(ours.metrics)
    assert ours.run_id == ours_run.info.run_id
    return theirs, ours, their_files, our_files


def _assert_same_metrics(theirs: Any, ours: Any) -> None:
    assert list(ours.metrics) == list(theirs.metrics)  # same names, same order
    for key, value in theirs.metrics.items():
        assert math.isclose(float(ours.metrics[key]), float(value), rel_tol=1e-12), key


@pytest.mark.usefixtures("allow_pickle")
def test_binary_classifier_matches_mlflow(tmp_path: Path) -> None:
    config = {**QUIET, "pos_label": 0, "metric_prefix": "val_"}
    theirs, ours, their_files, our_files = _run_both(tmp_path, "binary", config)
    _assert_same_metrics(theirs, ours)
    assert "val_roc_auc" in ours.metrics
    assert "val_score" in ours.metrics
    assert ours.metrics["val_true_positives"] + ours.metrics["val_false_negatives"] > 0
    assert sorted(ours.artifacts) == sorted(theirs.artifacts) == [
        "calibration_curve_plot", "confusion_matrix", "lift_curve_plot",
        "precision_recall_curve_plot", "roc_curve_plot",
    ]  # fmt: skip
    assert our_files == their_files
    assert "val_confusion_matrix.png" in our_files
    matrix = ours.artifacts["confusion_matrix"]
    assert matrix.uri.endswith("/val_confusion_matrix.png")
    assert matrix.content.size == theirs.artifacts["confusion_matrix"].content.size


@pytest.mark.usefixtures("allow_pickle")
def test_multiclass_classifier_matches_mlflow(tmp_path: Path) -> None:
    theirs, ours, their_files, our_files = _run_both(tmp_path, "multiclass", QUIET)
    _assert_same_metrics(theirs, ours)
    assert sorted(ours.artifacts) == sorted(theirs.artifacts)
    assert "per_class_metrics" in ours.artifacts
    assert our_files == their_files
    pd.testing.assert_frame_equal(
        ours.artifacts["per_class_metrics"].content,
        theirs.artifacts["per_class_metrics"].content,
    )


@pytest.mark.usefixtures("allow_pickle")
def test_regressor_matches_mlflow(tmp_path: Path) -> None:
    theirs, ours, their_files, our_files = _run_both(tmp_path, "regressor", QUIET)
    _assert_same_metrics(theirs, ours)
    assert set(ours.metrics) == {
        "example_count", "mean_absolute_error", "mean_squared_error", "root_mean_squared_error",
        "sum_on_target", "mean_on_target", "r2_score", "max_error",
        "mean_absolute_percentage_error", "score",
    }  # fmt: skip
    assert ours.artifacts == theirs.artifacts == {}
    assert our_files == their_files == []


@pytest.mark.usefixtures("allow_pickle")
def test_logged_model_gets_the_metrics_and_the_run_the_dataset(store: str) -> None:
    model, data, _ = _iris("binary")
    with tracklet.start_run():
        info = tracklet.sklearn.log_model(model, name="model", serialization_format="cloudpickle")
    # No active run: evaluate starts one and ends it.
    result = tracklet.models.evaluate(
        info.model_uri, data, targets="label", model_type="classifier", evaluator_config=QUIET
    )
    assert tracklet.active_run() is None
    run = tracklet.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    logged = tracklet.get_logged_model(info.model_id)
    assert {m.key for m in logged.metrics or []} == set(result.metrics)
    dataset = tracklet.data.from_pandas(data, targets="label")
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.digest == dataset.digest
    accuracy = next(m for m in logged.metrics or [] if m.key == "accuracy_score")
    assert (accuracy.step, accuracy.dataset_digest, accuracy.run_id) == (
        0, dataset.digest, result.run_id
    )  # fmt: skip
    assert tracklet.evaluate is tracklet.models.evaluate


def test_saved_results_load_in_tracklet_and_mlflow(store: str, tmp_path: Path) -> None:
    import mlflow

    data = pd.DataFrame({"x": [0.1, 0.4, 0.6, 0.9], "label": [0, 0, 1, 1], "pred": [0, 1, 1, 1]})
    result = tracklet.models.evaluate(
        data=data, predictions="pred", targets="label", model_type="classifier",
        evaluator_config=QUIET,
    )  # fmt: skip
    result.save(str(tmp_path / "saved"))
    for loaded in (
        tracklet.models.EvaluationResult.load(str(tmp_path / "saved")),
        mlflow.models.EvaluationResult.load(str(tmp_path / "saved")),
    ):
        assert loaded.metrics == result.metrics
        matrix = loaded.artifacts["confusion_matrix"]
        assert matrix.uri == result.artifacts["confusion_matrix"].uri
        assert matrix.content.size == result.artifacts["confusion_matrix"].content.size


def test_predictions_column_and_a_function_model(store: str) -> None:
    data = pd.DataFrame({"x": [0.1, 0.4, 0.6, 0.9], "label": [0, 0, 1, 1], "pred": [0, 1, 1, 1]})
    result = tracklet.models.evaluate(
        data=data, predictions="pred", targets="label", model_type="classifier",
        evaluator_config=QUIET,
    )  # fmt: skip
    assert result.metrics["accuracy_score"] == 0.75
    assert result.metrics["false_positives"] == 1
    assert sorted(result.artifacts) == ["confusion_matrix"]  # no probabilities: no curves

    def doubled(frame: pd.DataFrame) -> np.ndarray:
        return frame["x"].to_numpy() * 2

    result = tracklet.models.evaluate(
        doubled, data[["x", "label"]], targets="label", model_type="regressor",
        evaluator_config=QUIET,
    )  # fmt: skip
    assert result.metrics["max_error"] == pytest.approx(0.8)
    assert "score" not in result.metrics  # only scikit-learn models have a score


def test_unsupported_options_are_refused(store: str) -> None:
    data = pd.DataFrame({"x": [1.0, 2.0], "label": [0, 1]})
    cases = [
        ({"model_type": "question-answering"}, "not supported"),
        ({"model_type": "classifier", "extra_metrics": [object()]}, "extra_metrics"),
        ({"model_type": "classifier", "custom_artifacts": [print]}, "custom_artifacts"),
        ({"model_type": "classifier", "env_manager": "conda"}, "env_manager"),
        ({"model_type": "classifier", "evaluators": "shap"}, "only the 'default' evaluator"),
        ({"model_type": "classifier", "targets": None}, "targets argument must be specified"),
        ({"model_type": "classifier", "evaluator_config": {"eval_results_path": "t"}}, "Delta"),
    ]
    for kwargs, message in cases:
        arguments = {"targets": "label", "predictions": "x", **kwargs}
        with pytest.raises(MlflowException, match=message) as info:
            tracklet.models.evaluate(data=data, **arguments)
        assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException, match="data argument cannot be None"):
        tracklet.models.evaluate(lambda d: d, None, model_type="regressor", targets="y")
    assert tracklet.search_runs(search_all_experiments=True, output_format="list") == []


def test_shap_is_announced_not_silently_skipped(
    store: str, caplog: pytest.LogCaptureFixture
) -> None:
    data = pd.DataFrame({"label": [0.0, 1.0, 2.0], "pred": [0.0, 1.0, 2.5]})
    caplog.set_level(logging.WARNING)
    tracklet.models.evaluate(data=data, targets="label", predictions="pred", model_type="regressor")
    assert "does not compute SHAP explanations" in caplog.text
    assert "log_model_explainability" in caplog.text
