"""``tracklet.models.evaluate``: MLflow 3.17.2's default evaluator for classifiers and regressors.

What it does, as MLflow does: predict with the model (a ``models:/``/``runs:/`` URI, a loaded
pyfunc model, a function) or take a predictions column; compute MLflow's metrics under MLflow's
names (``accuracy_score``, ``roc_auc``, ``root_mean_squared_error``, ``score`` for scikit-learn
models, ...; ``metric_prefix`` prepended); log them at step 0 to the active run (or a new one,
ended afterwards), linked to the dataset and to the logged model (``model_id``); log the
evaluation dataset as a run input; log MLflow's plots and tables (confusion matrix, ROC and
precision-recall curves, lift and calibration curves, per-class metrics) under MLflow's file
names. What it does not do is refused with an error naming it (other model types, custom
evaluators, ``extra_metrics``, ``custom_artifacts``, other environment managers, Spark
outputs) or, for SHAP explanations (MLflow's ``shap`` evaluator), announced by a warning.
MLflow's legacy ``mlflow.datasets`` run tag is not written (the run's dataset input replaces it).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from typing import Any

from tracklet.entities import DatasetInput, InputTag, LoggedModelInput, Metric
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.models.evaluation import classifier, regressor
from tracklet.models.evaluation.artifacts import EvaluationArtifact, EvaluationResult
from tracklet.tracking import _state, fluent
from tracklet.tracking.context import current_client

_logger = logging.getLogger(__name__)

MODEL_TYPES = ("classifier", "regressor")
_REFUSED_CONFIG = ("eval_results_path", "eval_results_mode")


def _refuse(message: str) -> MlflowException:
    return MlflowException(message, INVALID_PARAMETER_VALUE)


def _check_supported(
    model_type: Any,
    evaluators: Any,
    extra_metrics: Any,
    custom_artifacts: Any,
    env_manager: str,
    model_config: Any,
    inference_params: Any,
    config: dict[str, Any],
) -> None:
    if model_type not in MODEL_TYPES:
        raise _refuse(
            f"tracklet evaluates model_type 'classifier' or 'regressor' (MLflow's default "
            f"evaluator); model_type={model_type!r} is not supported (MLflow's question-answering, "
            "text and retriever evaluators, and evaluation with no model type, are not)."
        )
    names = [evaluators] if isinstance(evaluators, str) else list(evaluators or ["default"])
    if any(name != "default" for name in names):
        raise _refuse(f"tracklet has only the 'default' evaluator, not {names!r}.")
    for name, value in (("extra_metrics", extra_metrics), ("custom_artifacts", custom_artifacts)):
        if value:
            raise _refuse(
                f"tracklet.models.evaluate does not support {name}; compute and log them "
                "yourself after evaluate() (log_metric / log_artifact)."
            )
    if env_manager != "local":
        raise _refuse(
            f"tracklet.models.evaluate loads models locally only (env_manager='local'), "
            f"not with env_manager={env_manager!r}."
        )
    if inference_params is not None:
        raise _refuse(
            "The inference_params argument can only be specified when the model is an "
            "MLflow Deployments endpoint URI, which tracklet does not evaluate."
        )
    if model_config is not None:
        raise _refuse(
            "tracklet.models.evaluate does not take model_config: load the model with "
            "tracklet.pyfunc.load_model(uri, model_config=...) and pass it instead."
        )
    for key in _REFUSED_CONFIG:
        if config.get(key):
            raise _refuse(f"evaluator_config[{key!r}] (a Spark Delta table) is not supported.")


def _load_model(model: Any) -> tuple[Any, str | None]:
    """(the model to predict with, its logged model id)."""
    from tracklet.pyfunc import PyFuncModel, load_model

    if isinstance(model, str):
        loaded = load_model(model)
        return loaded, loaded.model_id
    if isinstance(model, PyFuncModel):
        return model, model.model_id
    if model is None or callable(model):
        return model, None
    raise _refuse(
        "The model argument must be a string URI referring to an MLflow model, an instance of "
        "`mlflow.pyfunc.PyFuncModel`, a function, or None."
    )


class EvaluationData:
    """The features, labels and (model-less) predictions of the evaluation data, and the
    tracked dataset logged as the run's input."""

    def __init__(
        self, data: Any, targets: Any, predictions: str | None, feature_names: Any
    ) -> None:
        import numpy as np
        import pandas as pd

        from tracklet.data.pandas_dataset import PandasDataset, from_pandas

        dataset: Any
        if isinstance(data, PandasDataset):
            if targets is not None:
                raise _refuse(
                    "The top-level targets parameter should not be specified since a Dataset is "
                    "used. Please only specify the targets column name in the Dataset."
                )
            targets, predictions = data.targets, predictions or data.predictions
            dataset, data = data, data.df
        elif isinstance(data, pd.DataFrame):
            dataset = from_pandas(data, targets=targets, predictions=predictions)
        elif isinstance(data, np.ndarray | list):
            from tracklet.data.numpy_dataset import from_numpy

            if isinstance(data, list):  # a flat list is one feature per sample (as MLflow)
                flat = bool(data) and np.ndim(data[0]) == 0
                data = np.array([[v] for v in data] if flat else data)
            array = data
            labels = np.array(targets) if targets is not None else None
            dataset = from_numpy(array, targets=labels)
            data = pd.DataFrame(array)
            data.columns = list(feature_names or _feature_names(array.shape[1]))
            data, targets = data.assign(**{"__target__": labels}), "__target__"
        else:
            raise _refuse("The data argument must be a numpy array, a list or a Pandas DataFrame.")
        if targets is None:
            raise _refuse("The targets column name must be specified.")
        self.dataset = dataset
        self.labels = data[targets].to_numpy()
        self.predictions = data[predictions].to_numpy() if predictions is not None else None
        drop = [c for c in (targets, predictions) if c is not None]
        features = data.drop(columns=drop)
        if feature_names is not None and isinstance(dataset, PandasDataset):
            features = data[list(feature_names)]
        self.features = features

    def copy(self) -> Any:
        return self.features.copy(deep=True)


def _feature_names(count: int) -> list[str]:
    import math

    width = math.ceil(math.log10(count + 1))
    return [f"feature_{str(i + 1).zfill(width)}" for i in range(count)]


class Logger:
    """Logs the evaluation's files to the run and records them as EvaluationArtifacts."""

    def __init__(self, run_id: str, directory: str) -> None:
        self.client = current_client()
        self.run_id = run_id
        self.root = (self.client.get_run(run_id).info.artifact_uri or "").rstrip("/")
        self.directory = directory
        self.artifacts: dict[str, EvaluationArtifact] = {}

    def path(self, file_name: str) -> str:
        return os.path.join(self.directory, file_name)

    def log(self, name: str, file_name: str, kind: type[EvaluationArtifact]) -> None:
        local = self.path(file_name)
        self.client.log_artifact(self.run_id, local)
        self.artifacts[name] = kind(uri=f"{self.root}/{file_name}", local_path=local)


def evaluate(
    model: Any = None,
    data: Any = None,
    *,
    model_type: str | None = None,
    targets: Any = None,
    predictions: str | None = None,
    dataset_path: str | None = None,
    feature_names: list[str] | None = None,
    evaluators: str | list[str] | None = None,
    evaluator_config: dict[str, Any] | None = None,
    extra_metrics: list[Any] | None = None,
    custom_artifacts: list[Any] | None = None,
    env_manager: str = "local",
    model_config: dict[str, Any] | None = None,
    inference_params: dict[str, Any] | None = None,
    model_id: str | None = None,
) -> EvaluationResult:
    """Evaluate a classifier or regressor on labelled data with MLflow's default evaluator, and
    log the metrics and plots to the active run (or a new run) and the logged model.

    Args:
        model: A model URI (``models:/<model_id>``, ``runs:/<run_id>/model``), a loaded
            ``tracklet.pyfunc`` model, a function from features to predictions, or None when
            ``predictions`` names a column of ``data`` holding them.
        data: A pandas DataFrame (features and the ``targets`` column), a numpy array or list
            of feature rows (with ``targets`` the labels), or a ``tracklet.data`` pandas dataset.
        model_type: ``"classifier"`` or ``"regressor"``.
        targets: The label column's name (DataFrame), or the labels (array data).
        predictions: The predictions column of ``data`` (no model), or the output column of a
            model that returns several.
        dataset_path: Accepted as MLflow's; it only names the data in MLflow's legacy tag,
            which tracklet does not write.
        feature_names: The feature columns to use (DataFrame), or their names (array data).
        evaluators: None or ``"default"`` (the only evaluator).
        evaluator_config: MLflow's default evaluator settings: ``label_list``, ``pos_label``,
            ``average``, ``sample_weights``, ``metric_prefix``, ``col_mapping``,
            ``max_classes_for_multiclass_roc_pr``, ``log_model_explainability``.
        extra_metrics: Not supported (refused).
        custom_artifacts: Not supported (refused).
        env_manager: Only ``"local"``.
        model_config: Not supported here (load the model with it instead).
        inference_params: Not supported (deployment endpoints only, in MLflow).
        model_id: The logged model the results belong to (by default the model's own).

    Returns:
        An EvaluationResult with ``metrics``, ``artifacts`` and ``run_id``.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a missing ``data``/``targets``, a model
            type other than classifier or regressor, or an unsupported option (named).

    Example::

        result = tracklet.models.evaluate(
            model_info.model_uri, eval_df, targets="label", model_type="classifier"
        )
        result.metrics["accuracy_score"], result.artifacts["confusion_matrix"].uri
    """
    config = dict(evaluator_config or {})
    col_mapping = config.get("col_mapping", {})
    if isinstance(targets, str):
        targets = col_mapping.get(targets, targets)
    if isinstance(predictions, str):
        predictions = col_mapping.get(predictions, predictions)
    if data is None:
        raise _refuse("The data argument cannot be None.")
    _check_supported(
        model_type,
        evaluators,
        extra_metrics,
        custom_artifacts,
        env_manager,
        model_config,
        inference_params,
        config,
    )
    from tracklet.data.pandas_dataset import PandasDataset

    if targets is None and not isinstance(data, PandasDataset):
        raise _refuse(f"The targets argument must be specified for {model_type} models.")
    model, own_model_id = _load_model(model)
    if model_id is not None and own_model_id is not None and model_id != own_model_id:
        raise _refuse(
            f"The specified value of the 'model_id' parameter '{model_id}' contradicts the "
            f"model_id '{own_model_id}' associated with the model. Please ensure they match or "
            "omit the 'model_id' parameter."
        )
    model_id = model_id or own_model_id or _state.active_model_id()
    evaluation = EvaluationData(
        data, targets, predictions if model is None else None, feature_names
    )
    if model is None and evaluation.predictions is None:
        raise _refuse(
            "Either a model or set of predictions must be specified in order to use the default "
            "evaluator. Either specify the `model` parameter, the `predictions` parameter, or "
            "an MLflow dataset containing the `predictions` column name."
        )
    if config.get("log_model_explainability", True):
        _logger.warning(
            "tracklet does not compute SHAP explanations: MLflow's shap evaluator would also log "
            "shap_beeswarm_plot, shap_summary_plot and shap_feature_importance_plot when shap "
            "is installed. Pass evaluator_config={'log_model_explainability': False} to silence "
            "this warning."
        )
    active = fluent.active_run()
    run = active if active is not None else fluent.start_run()
    try:
        result = _evaluate_in_run(
            run.info.run_id, model, model_type, model_id, evaluation, predictions, config
        )
    except BaseException:
        if active is None:
            fluent.end_run("FAILED")
        raise
    if active is None:
        fluent.end_run()
    return result


def _evaluate_in_run(
    run_id: str,
    model: Any,
    model_type: str | None,
    model_id: str | None,
    evaluation: EvaluationData,
    output_column: str | None,
    config: dict[str, Any],
) -> EvaluationResult:
    client = current_client()
    dataset = evaluation.dataset
    prefix = config.get("metric_prefix") or ""
    input_tags = [InputTag("mlflow.data.context", prefix)] if prefix else []
    client.log_inputs(
        run_id,
        [DatasetInput(dataset._to_mlflow_entity(), input_tags)],
        models=[LoggedModelInput(model_id)] if model_id else None,
    )
    with tempfile.TemporaryDirectory(prefix="tracklet-eval-") as tmp:
        logger = Logger(run_id, tmp)
        module = classifier if model_type == "classifier" else regressor
        metrics, log_artifacts = module.evaluate(model, evaluation, output_column, config, logger)
        metrics = {f"{prefix}{k}": v for k, v in metrics.items()}
        timestamp = int(time.time() * 1000)
        points = [
            Metric(key, float(value), timestamp, 0, dataset.name, dataset.digest, model_id)
            for key, value in metrics.items()
        ]
        client.log_batch(run_id, metrics=points)
        if model_id is not None:  # MLflow logs them once more for the model (same points)
            client.log_batch(run_id, metrics=points)
        log_artifacts()  # after the metrics, as MLflow
    return EvaluationResult(metrics, logger.artifacts, run_id)
