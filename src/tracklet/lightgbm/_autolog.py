"""``tracklet.lightgbm.autolog``: ``lightgbm.train`` and the sklearn-API estimators log what
MLflow's lightgbm autologging logs: params and ``train`` arguments, per-iteration metrics
(``valid_0-multi_logloss``...), ``stopped_iteration``/``best_iteration`` with early stopping,
``feature_importance_split|gain.json|png``, the model and the data sets."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from tracklet.autolog import (
    autologging_integration,
    exception_safe,
    logging_section,
    model_logger,
)
from tracklet.autolog._patch import safe_patch
from tracklet.autolog._training import wait_in_background
from tracklet.sklearn import _boosting as boosting

_logger = logging.getLogger("tracklet.autolog")
FLAVOR_NAME = "lightgbm"
_UNLOGGED = [
    "params",
    "train_set",
    "valid_sets",
    "valid_names",
    "fobj",
    "feval",
    "init_model",
    "learning_rates",
    "callbacks",
]


@autologging_integration(FLAVOR_NAME)
def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Enable (or disable) autologging of LightGBM training (MLflow 3.17.2's arguments; its
    feature importances are always "split" and "gain").

    Args:
        log_input_examples: Log the first training rows with the model.
        log_model_signatures: Infer the model signature.
        log_models: Log the trained booster (or estimator) as the ``model``.
        log_datasets: Record the training and validation data as run inputs.
        disable: Remove the patches.
        exclusive: Do not log into runs the user started.
        disable_for_unsupported_versions: Do nothing for untested LightGBM versions.
        silent: No warnings from autologging.
        registered_model_name: Register each logged model under this name.
        extra_tags: Tags for each run autologging creates.
    """
    import lightgbm

    log_model = model_logger(FLAVOR_NAME)
    from tracklet.sklearn._autolog import install_patches

    safe_patch(FLAVOR_NAME, lightgbm.Dataset, "__init__", boosting.patched_dataset_init)
    for module, models in ((lightgbm, True), (lightgbm.sklearn, False)):
        safe_patch(
            FLAVOR_NAME,
            module,
            "train",
            functools.partial(_train, models),
            manage_run=True,
            extra_tags=extra_tags,
        )
    base = lightgbm.sklearn._LGBMModelBase  # type: ignore[attr-defined]
    estimators = [
        cls
        for cls in vars(lightgbm.sklearn).values()
        if isinstance(cls, type)
        and cls.__module__.split(".")[0] == "lightgbm"
        and issubclass(cls, base)
        and cls is not base
    ]
    install_patches(
        FLAVOR_NAME,
        extra_tags,
        True,
        estimators=estimators,
        fit_impl=boosting.fit_then_log_model(log_model, lambda flavor: {}),
        allow_children=True,
    )


def _train(log_models: bool, original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    import lightgbm

    from tracklet.sklearn._autolog_session import SklearnTrainingSession

    with SklearnTrainingSession(lightgbm.train, allow_children=False) as session:
        if not session.should_log():
            return original(*args, **kwargs)
        return _train_and_log(log_models, original, *args, **kwargs)


def _callback(logger: Any, model_id: str | None, eval_results: list[dict[str, float]]) -> Any:
    @functools.partial(exception_safe, FLAVOR_NAME)
    def record(env: Any) -> None:
        metrics = {f"{data}-{name}": value for data, name, value, _ in env.evaluation_result_list}
        metrics = boosting.sanitize_metric_names(metrics)
        logger.log_metrics(metrics, model_id=model_id, step=env.iteration)
        eval_results.append(metrics)

    return record


def _train_and_log(
    log_models: bool, original: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    import tempfile

    start = boosting.start_train(
        FLAVOR_NAME,
        log_models,
        original,
        args,
        kwargs,
        _UNLOGGED,
        "train_set",
        lambda logger, train_set: _log_datasets(
            logger, train_set, kwargs.get("valid_sets"), kwargs.get("valid_names")
        ),
    )
    logger, train_set = start.logger, start.train_set
    model_id, log_models = start.model_id, start.log_models
    eval_results: list[dict[str, float]] = []
    callback = _callback(logger, model_id, eval_results)
    args, kwargs = boosting.with_callback(original, args, kwargs, callback)
    model = original(*args, **kwargs)
    with logging_section(FLAVOR_NAME):
        if model.best_iteration > 0:
            stopped = {
                "stopped_iteration": len(eval_results),
                "best_iteration": model.best_iteration,
            }
            logger.log_metrics(stopped, model_id=model_id)
            best = eval_results[model.best_iteration - 1]
            logger.log_metrics(best, model_id=model_id, step=len(eval_results))
        with tempfile.TemporaryDirectory(prefix="tracklet-autolog-") as directory:
            for importance_type in ("split", "gain"):
                values = model.feature_importance(importance_type=importance_type)
                boosting.write_feature_importance(
                    directory, importance_type, model.feature_name(), values, 2
                )
            logger.client.log_artifacts(logger.run_id, directory)
        if log_models:
            example, signature = boosting.example_and_signature(
                FLAVOR_NAME, train_set, model.predict
            )
            boosting.log_model_deferred(
                model_logger(FLAVOR_NAME), FLAVOR_NAME, model, example, signature, model_id=model_id
            )
        wait_in_background(FLAVOR_NAME, logger)
    return model


def _log_datasets(logger: Any, train_set: Any, valid_sets: Any, valid_names: Any) -> None:
    try:
        seen: set[Any] = set()
        _input(logger, train_set, "train", None, seen)
        for i, valid_set in enumerate(valid_sets or []):
            name = valid_names[i] if valid_names is not None else None
            _input(logger, valid_set, "eval", name, seen)
    except Exception as error:
        _logger.warning("Failed to log dataset information to MLflow Tracking. Reason: %s", error)


def _input(logger: Any, lgb_dataset: Any, context: str, name: str | None, seen: set[Any]) -> None:
    import numpy as np

    from tracklet.data import from_numpy, from_pandas
    from tracklet.data.code_dataset_source import code_source_for_caller
    from tracklet.entities import DatasetInput, InputTag
    from tracklet.tracking.context import dataset_entity

    data, label = lgb_dataset.data, lgb_dataset.label
    source = code_source_for_caller()
    if type(data).__name__ == "DataFrame" and type(data).__module__.startswith("pandas"):
        dataset: Any = from_pandas(data, source=source, name=name)
    else:
        if hasattr(data, "toarray"):
            data = data.toarray()
        if not isinstance(data, np.ndarray):
            _logger.warning("Unrecognized dataset type %s. Dataset logging skipped.", type(data))
            return
        dataset = from_numpy(data, source=source, targets=label, name=name)
    entity = dataset_entity(dataset)
    # MLflow keeps the first input of a (name, digest) and its context: an eval set that is
    # the training data stays "train" (tracklet's store would re-tag it).
    if (entity.name, entity.digest) not in seen:
        seen.add((entity.name, entity.digest))
        tags = [InputTag("mlflow.data.context", context)]
        logger.client.log_inputs(logger.run_id, [DatasetInput(entity, tags)])
