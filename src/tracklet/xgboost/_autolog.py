"""``tracklet.xgboost.autolog``: ``xgboost.train`` and the sklearn-API estimators log what
MLflow's xgboost autologging logs: the booster params and ``train`` arguments, per-iteration
eval metrics (``validation_0-logloss``, ``train-rmse``...), ``stopped_iteration`` /
``best_iteration`` and the best iteration's metrics with early stopping,
``feature_importance_<type>.json|png``, the model and the data sets."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

from tracklet.autolog import (
    autologging_integration,
    exception_safe,
    get_config,
    logging_section,
    model_logger,
)
from tracklet.autolog._patch import safe_patch
from tracklet.autolog._training import wait_in_background
from tracklet.sklearn import _boosting as boosting

_logger = logging.getLogger("tracklet.autolog")
FLAVOR_NAME = "xgboost"
_UNLOGGED = [
    "params",
    "dtrain",
    "evals",
    "obj",
    "feval",
    "evals_result",
    "xgb_model",
    "callbacks",
    "learning_rates",
]


@autologging_integration(FLAVOR_NAME)
def autolog(
    importance_types: list[str] | None = None,
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    model_format: str = "ubj",
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Enable (or disable) autologging of XGBoost training (MLflow's arguments).

    Args:
        importance_types: Feature importance types to log (default ``["weight"]``).
        log_input_examples: Log the first training rows with the model.
        log_model_signatures: Infer the model signature.
        log_models: Log the trained booster (or estimator) as the ``model``.
        log_datasets: Record the training and evaluation data as run inputs.
        disable: Remove the patches.
        exclusive: Do not log into runs the user started.
        disable_for_unsupported_versions: Do nothing for untested XGBoost versions.
        silent: No warnings from autologging.
        registered_model_name: Register each logged model under this name.
        model_format: The booster file format ("ubj", "json", "xgb"...).
        extra_tags: Tags for each run autologging creates.
    """
    import xgboost

    from tracklet.sklearn._autolog import install_patches

    log_model = model_logger(FLAVOR_NAME)

    safe_patch(
        FLAVOR_NAME,
        xgboost,
        "train",
        functools.partial(_train, True),
        manage_run=True,
        extra_tags=extra_tags,
    )
    safe_patch(
        FLAVOR_NAME,
        xgboost.sklearn,
        "train",
        functools.partial(_train, False),
        manage_run=True,
        extra_tags=extra_tags,
    )
    safe_patch(FLAVOR_NAME, xgboost.DMatrix, "__init__", boosting.patched_dataset_init)
    base = xgboost.sklearn.XGBModel
    estimators = [
        cls
        for cls in vars(xgboost.sklearn).values()
        if isinstance(cls, type) and issubclass(cls, base) and cls is not base
    ]
    install_patches(
        FLAVOR_NAME,
        extra_tags,
        True,
        estimators=estimators,
        fit_impl=boosting.fit_then_log_model(
            log_model, lambda flavor: {"model_format": get_config(flavor, "model_format", "ubj")}
        ),
        allow_children=True,
    )


def _train(log_models: bool, original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    from tracklet.sklearn._autolog_session import SklearnTrainingSession

    session = SklearnTrainingSession._sessions()
    if session and not session[-1].should_log():
        return original(*args, **kwargs)
    return _train_and_log(log_models, original, *args, **kwargs)


def _sanitized(by_metric: dict[str, Any]) -> dict[str, Any]:
    return {k.replace("@", "_at_"): v for k, v in by_metric.items()}


def _callback(logger: Any, model_id: str | None, eval_results: list[dict[str, float]]) -> Any:
    import xgboost

    class _AutologCallback(xgboost.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            self._record(epoch, evals_log)
            return False

        @functools.partial(exception_safe, FLAVOR_NAME)
        def _record(self, epoch: int, evals_log: Any) -> None:
            metrics = {
                f"{data}-{name}": values[-1]
                for data, by_metric in evals_log.items()
                for name, values in _sanitized(by_metric).items()
            }
            logger.log_metrics(metrics, model_id=model_id, step=epoch)
            eval_results.append(metrics)

    return _AutologCallback()


def _train_and_log(
    log_models: bool, original: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    import xgboost

    start = boosting.start_train(
        FLAVOR_NAME,
        log_models,
        original,
        args,
        kwargs,
        _UNLOGGED,
        "dtrain",
        lambda logger, dtrain: _log_datasets(logger, dtrain, kwargs.get("evals")),
    )
    logger, fn_params, dtrain = start.logger, start.fn_params, start.train_set
    dataset, model_id, log_models = start.dataset, start.model_id, start.log_models
    eval_results: list[dict[str, float]] = []
    callback = _callback(logger, model_id, eval_results)
    args, kwargs = boosting.with_callback(original, args, kwargs, callback)
    model = original(*args, **kwargs)
    with logging_section(FLAVOR_NAME):
        if log_models:
            example, signature = boosting.example_and_signature(
                FLAVOR_NAME, dtrain, lambda e: model.predict(xgboost.DMatrix(e))
            )
            boosting.log_model_deferred(
                model_logger(FLAVOR_NAME),
                FLAVOR_NAME,
                model,
                example,
                signature,
                model_format=get_config(FLAVOR_NAME, "model_format", "ubj"),
                params=fn_params,
                model_id=model_id,
            )
        index = list(inspect.signature(original).parameters).index("early_stopping_rounds")
        if len(args) > index or kwargs.get("early_stopping_rounds"):
            stopped = len(eval_results) - 1
            logger.log_metrics(
                {"stopped_iteration": stopped, "best_iteration": model.best_iteration},
                dataset,
                model_id,
            )
            best = eval_results[model.best_iteration]
            logger.log_metrics(best, dataset, model_id, step=len(eval_results))
        _log_importance(logger, model)
        wait_in_background(FLAVOR_NAME, logger)
    return model


def _log_importance(logger: Any, model: Any) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tracklet-autolog-") as directory:
        for importance_type in get_config(FLAVOR_NAME, "importance_types") or ["weight"]:
            try:
                scores = model.get_score(importance_type=importance_type)
                features, values = zip(*scores.items(), strict=False)
            except Exception as error:
                _logger.warning("Failed to log feature importance: %s", error)
                continue
            boosting.write_feature_importance(directory, importance_type, features, values, None)
        logger.client.log_artifacts(logger.run_id, directory)


def _log_datasets(logger: Any, dtrain: Any, evals: Any) -> Any:
    """The training DMatrix (and each eval one) as run inputs; the training dataset."""
    try:
        seen: set[Any] = set()
        dataset = _input(logger, dtrain, "train", None, seen)
        for data, name in evals or []:
            _input(logger, data, "eval", name, seen)
        return dataset
    except Exception as error:
        _logger.warning("Failed to log dataset information to MLflow Tracking. Reason: %s", error)
        return None


def _input(logger: Any, dmatrix: Any, context: str, name: str | None, seen: set[Any]) -> Any:
    import numpy as np

    from tracklet.data import from_numpy
    from tracklet.data.code_dataset_source import code_source_for_caller
    from tracklet.entities import DatasetInput, InputTag
    from tracklet.tracking.context import dataset_entity

    data = dmatrix.get_data()
    if hasattr(data, "toarray"):
        data = data.toarray()
    if not isinstance(data, np.ndarray):
        _logger.warning("Unrecognized dataset type %s. Dataset logging skipped.", type(data))
        return None
    dataset = from_numpy(data, source=code_source_for_caller(), name=name)
    entity = dataset_entity(dataset)
    # MLflow keeps the first input of a (name, digest) and its context: an eval set that is
    # the training data stays "train" (tracklet's store would re-tag it).
    if (entity.name, entity.digest) not in seen:
        seen.add((entity.name, entity.digest))
        tags = [InputTag("mlflow.data.context", context)]
        logger.client.log_inputs(logger.run_id, [DatasetInput(entity, tags)])
    return dataset
