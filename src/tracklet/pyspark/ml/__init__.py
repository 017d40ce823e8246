"""``tracklet.pyspark.ml.autolog``: ``Estimator.fit`` of Spark MLlib logs what MLflow's pyspark.ml
autologging logs, under the same names.

A fit records the estimator's params (nested stages' params under their indexed names,
``LogisticRegression.maxIter``), the tags ``estimator_name``/``estimator_class``,
``estimator_info.json`` (the hierarchy of a pipeline or meta-estimator), the training data as a
run input, and the fitted model in the ``spark`` flavor when it is on MLflow's allowlist. A
``CrossValidator``/``TrainValidationSplit`` adds one child run per candidate,
``search_results.csv``, ``best_parameters.json`` and ``best_*`` params. After the fit,
``evaluator.evaluate(model.transform(test_df))`` logs ``<metricName>_test_df`` (with
``metric_info.json``) to the model's run.
"""

from __future__ import annotations

import logging
import weakref
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from tracklet.autolog import autologging_integration, get_config, logging_section, safe_patch
from tracklet.autolog._training import TrainingSession
from tracklet.pyspark.ml import _logging as logs
from tracklet.pyspark.ml import _params as p

_logger = logging.getLogger("tracklet.autolog")

FLAVOR_NAME = "pyspark.ml"
_ALLOWLIST_CONF = "spark.mlflow.pysparkml.autolog.logModelAllowlistFile"

__all__ = ["autolog"]


class SparkTrainingSession(TrainingSession):
    """A pyspark.ml fit in progress (a meta-estimator's inner fits do not log)."""


@autologging_integration(FLAVOR_NAME)
def autolog(
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    log_post_training_metrics: bool = True,
    registered_model_name: str | None = None,
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_model_allowlist: list[str] | None = None,
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Enable (or disable) autologging of Spark MLlib estimators (MLflow's arguments).

    Args:
        log_models: Log fitted models on the allowlist in the ``spark`` flavor.
        log_datasets: Record training and evaluation DataFrames as run inputs.
        disable: Remove the patches.
        exclusive: Do not log into runs the user started.
        disable_for_unsupported_versions: Do nothing for untested pyspark versions.
        silent: No warnings from autologging.
        log_post_training_metrics: Log ``Evaluator.evaluate`` results on a fitted model's
            ``transform`` output.
        registered_model_name: Register each logged model under this name.
        log_input_examples: Log a few training rows with the model.
        log_model_signatures: Infer the model signature (scalar and vector columns only).
        log_model_allowlist: Fully qualified model classes to log (``prefix.*`` allowed);
            default: the Spark conf's allowlist file, else MLflow's built-in list.
        extra_tags: Tags for each run autologging creates.
    """
    from pyspark.ml.base import Estimator, Model
    from pyspark.ml.evaluation import Evaluator

    import tracklet.spark  # noqa: F401  (registers the spark model logger)

    logs.ALLOWLIST[:] = [_allowlist(log_model_allowlist)]
    safe_patch(FLAVOR_NAME, Estimator, "fit", _patched_fit, manage_run=True, extra_tags=extra_tags)
    if log_post_training_metrics:
        safe_patch(FLAVOR_NAME, Model, "transform", _patched_transform)
        safe_patch(FLAVOR_NAME, Evaluator, "evaluate", _patched_evaluate)


def _allowlist(given: list[str] | None) -> frozenset[str]:
    if given:
        return frozenset(m.strip() for m in given)
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    path = session.sparkContext.getConf().get(_ALLOWLIST_CONF, None) if session else None
    if not path:
        return p.LOG_MODEL_ALLOWLIST
    try:
        local = path[len("file://") :] if path.startswith("file://") else path
        with open(local, encoding="utf-8") as f:
            lines = [line.strip() for line in f]
        return frozenset(x for x in lines if x and not x.startswith("#"))
    except Exception:
        _logger.exception(
            "Reading from custom log_models allowlist file %s failed, fallback to built-in "
            "allowlist file.",
            path,
        )
        return p.LOG_MODEL_ALLOWLIST


# ---------------------------------------------------------------------- fit


def _patched_fit(original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    from pyspark.ml.base import Model

    from tracklet.tracking.fluent import active_run

    log_post = get_config(FLAVOR_NAME, "log_post_training_metrics", True) and (MANAGER.should_log())
    with SparkTrainingSession(self, allow_children=False) as session:
        if not session.should_log():
            return original(self, *args, **kwargs)
        with MANAGER.disabled():
            result = _fit_and_log(original, self, *args, **kwargs)
        run = active_run()
        if log_post and isinstance(result, Model) and run is not None:
            result._mlflow_run_id = run.info.run_id  # type: ignore[attr-defined]  # MLflow's
        return result


def _fit_and_log(original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    params = args[1] if len(args) > 1 else kwargs.get("params")
    if p.qualified_name(self).startswith("pyspark.ml.feature."):
        return original(self, *args, **kwargs)  # featurizers log only inside a Pipeline
    if isinstance(params, (list, tuple)):
        _logger.warning(
            "Skip pyspark ML autologging when calling %s.fit with a list of params,if you want "
            "to autolog for this case, you convert code to call `fit` with each single param "
            "map.",
            p.qualified_name(self),
        )
        return original(self, *args, **kwargs)
    from pyspark.storagelevel import StorageLevel

    estimator = self.copy(params) if params is not None else self
    dataset = args[0] if args else kwargs["dataset"]
    training_df = dataset.persist(StorageLevel.MEMORY_AND_DISK)
    with logging_section(FLAVOR_NAME):
        metadata = logs.log_pretraining(FLAVOR_NAME, estimator, training_df)
    model = original(self, *args, **kwargs)
    with logging_section(FLAVOR_NAME):
        logs.log_posttraining(FLAVOR_NAME, estimator, metadata, model, training_df)
    training_df.unpersist()
    return model


# ---------------------------------------------------------------------- post-training metrics


class _MetricsManager:
    """Which DataFrames a fitted model's ``transform`` produced, and the evaluator calls made
    (ids only: no reference to the user's data is kept)."""

    def __init__(self) -> None:
        self.predictions: dict[int, tuple[str, str]] = {}
        self.datasets: defaultdict[str, defaultdict[str, list[int]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.calls: defaultdict[str, defaultdict[str, list[tuple[str, Any]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.enabled = True

    def should_log(self) -> bool:
        return self.enabled and not SparkTrainingSession.is_active()

    def disabled(self) -> Any:
        import contextlib

        @contextlib.contextmanager
        def scope() -> Any:
            previous, self.enabled = self.enabled, False
            try:
                yield
            finally:
                self.enabled = previous

        return scope()

    def dataset_name(self, run_id: str, dataset: Any, name: str) -> str:
        ids = self.datasets[run_id][name]
        if id(dataset) not in ids:
            ids.append(id(dataset))
        index = ids.index(id(dataset))
        return name if index == 0 else f"{name}-{index + 1}"

    def register_prediction(self, run_id: str, name: str, result: Any) -> None:
        key = id(result)
        self.predictions[key] = (name, run_id)
        weakref.finalize(result, self.predictions.pop, key, None)

    def metric_key(self, run_id: str, metric: str, dataset: str, info: Any) -> str:
        calls = self.calls[run_id][metric]
        indexed = metric if not calls else f"{metric}-{len(calls) + 1}"
        key = f"{indexed}_{dataset}"
        calls.append((key, info))
        return key

    def metric_info(self, run_id: str) -> dict[str, Any]:
        entries = sorted(
            (entry for calls in self.calls[run_id].values() for entry in calls),
            key=lambda e: e[0],
        )
        return dict(entries)


MANAGER = _MetricsManager()


def _patched_transform(original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    from tracklet.sklearn._autolog_post import original_var_name

    run_id = getattr(self, "_mlflow_run_id", None)
    if not (MANAGER.should_log() and run_id):
        return original(self, *args, **kwargs)
    result = original(self, *args, **kwargs)
    dataset = args[0] if args else kwargs.get("dataset")
    name = MANAGER.dataset_name(run_id, dataset, original_var_name(dataset, "unknown_dataset"))
    MANAGER.register_prediction(run_id, name, result)
    return result


def _patched_evaluate(original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    import numpy as np

    if not MANAGER.should_log():
        return original(self, *args, **kwargs)
    with MANAGER.disabled():
        metric = original(self, *args, **kwargs)
    if not isinstance(metric, (int, float, np.number)) or isinstance(metric, bool):
        return metric
    params = args[1] if len(args) > 1 else kwargs.get("params")
    evaluator = self.copy(params) if params is not None else self
    predictions = args[0] if args else kwargs.get("dataset")
    name, run_id = MANAGER.predictions.get(id(predictions), (None, None))
    if run_id and name:
        info = {
            "evaluator_class": p.qualified_name(evaluator),
            "params": logs.truncate_params(p.param_map(evaluator)),
        }
        key = MANAGER.metric_key(run_id, evaluator.getMetricName(), name, info)
        with logging_section(FLAVOR_NAME):
            logs.log_post_training_metric(
                FLAVOR_NAME, run_id, key, metric, MANAGER.metric_info(run_id), predictions
            )
    return metric
