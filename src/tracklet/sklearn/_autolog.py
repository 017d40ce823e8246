"""``tracklet.sklearn.autolog``: every estimator's ``fit`` logs what MLflow's sklearn
autologging logs, under the same names.

A ``fit`` (also ``fit_transform``/``fit_predict``) records the estimator's params
(``get_params(deep=True)``), the tags ``estimator_name``/``estimator_class``, the training data
as a run input, the model (a logged model named ``model``, with signature), MLflow's training
metrics and plots, and ``estimator.html``; a parameter search adds ``best_*`` params,
``best_cv_score``, the ``best_estimator`` model, ``cv_results.csv`` and one child run per
best candidate. Params, tags and metrics go through the asynchronous path and are waited for
before ``fit`` returns. Nothing imports scikit-learn until autologging is enabled.
"""

from __future__ import annotations

import functools
import logging
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

from tracklet.autolog import (
    autologging_integration,
    get_config,
    logging_section,
    model_logger,
    safe_patch,
)
from tracklet.autolog._training import (
    INPUT_EXAMPLE_SAMPLE_ROWS,
    RunLogger,
    deferred_model_files,
    resolve_input_example_and_signature,
)
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.sklearn import _autolog_background as background_work
from tracklet.sklearn import _autolog_content as content
from tracklet.sklearn import _autolog_post as post
from tracklet.sklearn._autolog_session import SklearnTrainingSession

_logger = logging.getLogger("tracklet.autolog")

FLAVOR_NAME = "sklearn"
# tracklet.sklearn's SUPPORTED_SERIALIZATION_FORMATS (that package imports this module).
_SERIALIZATION_FORMATS = ("skops", "pickle", "cloudpickle")
_MLFLOW_PARENT_RUN_ID = "mlflow.parentRunId"
_MLFLOW_AUTOLOGGING = "mlflow.autologging"
# Modules of data-manipulation estimators that are not patched (MLflow's list): they log only
# as part of a Pipeline.
_EXCLUDED_MODULES = (
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.feature_extraction",
    "sklearn.feature_selection",
)
_EXCLUDED_CLASSES = ("sklearn.compose._column_transformer.ColumnTransformer",)
# model_selection helpers whose inner fits must not log.
_AUTOLOG_DISABLED_APIS = (
    "cross_validate",
    "cross_val_predict",
    "cross_val_score",
    "learning_curve",
    "permutation_test_score",
    "validation_curve",
)


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
    max_tuning_runs: int | None = 5,
    log_post_training_metrics: bool = True,
    serialization_format: str = "cloudpickle",
    registered_model_name: str | None = None,
    pos_label: Any = None,
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Enable (or disable) autologging of scikit-learn estimators (MLflow's arguments).

    Args:
        log_input_examples: Log the first rows of the training data with the model.
        log_model_signatures: Infer the model signature from the training data.
        log_models: Log the fitted model (and a parameter search's best estimator).
        log_datasets: Record training (and prediction) data as run inputs.
        disable: Remove the patches.
        exclusive: Do not log into runs the user started.
        disable_for_unsupported_versions: Do nothing for untested scikit-learn versions.
        silent: No warnings from autologging.
        max_tuning_runs: Child runs for the best N candidates of a search (None: all).
        log_post_training_metrics: Log ``sklearn.metrics`` calls on a fitted model's
            predictions (``accuracy_score_X_test``...) and ``model.score`` calls.
        serialization_format: "cloudpickle" (default), "pickle" or "skops".
        registered_model_name: Register each logged model under this name.
        pos_label: The positive class for binary precision/recall/f1 (weighted if None).
        extra_tags: Tags for each run autologging creates.
    """
    if max_tuning_runs is not None and max_tuning_runs < 0:
        raise MlflowException(
            f"`max_tuning_runs` must be non-negative, instead got {max_tuning_runs}.",
            INVALID_PARAMETER_VALUE,
        )
    if serialization_format not in _SERIALIZATION_FORMATS:
        raise MlflowException(
            f"Unrecognized serialization format: {serialization_format}. Please specify one "
            f"of the following supported formats: {list(_SERIALIZATION_FORMATS)}.",
            INVALID_PARAMETER_VALUE,
        )
    install_patches(FLAVOR_NAME, extra_tags, log_post_training_metrics)


FitImpl = Callable[..., Any]


def install_patches(
    flavor: str,
    extra_tags: dict[str, str] | None,
    log_post_training_metrics: bool,
    estimators: list[type] | None = None,
    fit_impl: FitImpl | None = None,
    allow_children: bool = False,
) -> None:
    """Patch the fit, predict and score methods of ``estimators`` (default: every sklearn
    estimator) for ``flavor``. xgboost and lightgbm pass their sklearn-API estimators, a
    ``fit_impl`` that logs the model after their own ``train`` patch logged the rest, and
    ``allow_children`` (that inner ``train`` must log)."""
    import sklearn.model_selection  # type: ignore[import-untyped]

    from tracklet.autolog import disable_autologging

    fit = functools.partial(_patched_fit, flavor, fit_impl or _fit_and_log, allow_children)
    predict = functools.partial(post.patched_predict, flavor)
    for cls in _estimators_to_patch() if estimators is None else estimators:
        for name in ("fit", "fit_transform", "fit_predict"):
            patch_method(flavor, cls, name, fit, manage_run=True, extra_tags=extra_tags)
        for name in ("predict", "predict_proba", "transform", "predict_log_proba"):
            patch_method(flavor, cls, name, predict)
        patch_method(flavor, cls, "score", post.patched_model_score)
    if log_post_training_metrics:
        post.patch_metric_apis(flavor)

    def without_autologging(original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with disable_autologging():
            return original(*args, **kwargs)

    for name in _AUTOLOG_DISABLED_APIS:
        safe_patch(flavor, sklearn.model_selection, name, without_autologging)


def _estimators_to_patch() -> list[type]:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
    from sklearn.utils import all_estimators  # type: ignore[import-untyped]

    classes = {cls for _, cls in all_estimators()} | {GridSearchCV, RandomizedSearchCV, Pipeline}
    return sorted(
        (
            cls
            for cls in classes
            if not cls.__module__.startswith(_EXCLUDED_MODULES)
            and f"{cls.__module__}.{cls.__name__}" not in _EXCLUDED_CLASSES
        ),
        key=lambda c: f"{c.__module__}.{c.__name__}",
    )


def patch_method(
    flavor: str,
    cls: type,
    name: str,
    patch_fn: Callable[..., Any],
    manage_run: bool = False,
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Patch ``cls.name`` if it is a plain method, or the function inside one of sklearn's
    ``available_if`` descriptors (e.g. ``Pipeline.predict_proba``); skip anything else."""
    raw = None
    for owner in cls.__mro__:
        if name in vars(owner):
            raw = vars(owner)[name]
            break
    if raw is None or isinstance(raw, (staticmethod, classmethod, property)):
        return
    if callable(raw) and not isinstance(raw, type):
        safe_patch(flavor, cls, name, patch_fn, manage_run=manage_run, extra_tags=extra_tags)
    elif hasattr(raw, "check") and callable(getattr(raw, "fn", None)):
        safe_patch(flavor, raw, "fn", patch_fn, manage_run=manage_run, extra_tags=extra_tags)


def _patched_fit(
    flavor: str,
    fit_impl: FitImpl,
    allow_children: bool,
    original: Callable[..., Any],
    self: Any,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """Log the fit of ``self`` unless an enclosing fit of the same session logs it."""
    from tracklet.tracking.fluent import active_run

    log_post = get_config(flavor, "log_post_training_metrics", True) and (
        post.MANAGER.should_log_post_training_metrics()
    )
    with SklearnTrainingSession(self, allow_children=allow_children) as session:
        if not session.should_log():
            return original(self, *args, **kwargs)
        with post.MANAGER.disable_log_post_training_metrics():
            result = fit_impl(flavor, original, self, *args, **kwargs)
        run = active_run()
        if log_post and run is not None:
            post.MANAGER.register_model(self, run.info.run_id)
        return result


def _fit_and_log(
    flavor: str, original: Callable[..., Any], estimator: Any, *args: Any, **kwargs: Any
) -> Any:
    from tracklet.tracking.context import current_client
    from tracklet.tracking.fluent import active_run

    x, y, sample_weight = content.get_x_y_and_sample_weight(estimator.fit, args, kwargs)
    run = active_run()
    assert run is not None  # the managed-run wrapper started one
    logger = RunLogger(
        current_client(), run.info.run_id, run.info.experiment_id, run.info.start_time or 0
    )
    with logging_section(flavor):
        _log_pretraining(flavor, logger, estimator, x, y)
    result = original(estimator, *args, **kwargs)
    with logging_section(flavor):
        # The params and metrics queued are waited for on the artifact worker, whose jobs the
        # run's end and its readers wait for.
        _log_posttraining(flavor, logger, estimator, x, y, sample_weight)
    return result


def _train_dataset_input(dataset: Any) -> Any:
    from tracklet.entities import DatasetInput, InputTag
    from tracklet.tracking.context import dataset_entity

    return DatasetInput(dataset_entity(dataset), [InputTag("mlflow.data.context", "train")])


def _log_pretraining(flavor: str, logger: RunLogger, estimator: Any, x: Any, y: Any) -> None:
    deep = not content.is_parameter_search(estimator)
    logger.log_params(estimator.get_params(deep=deep))
    logger.set_tags(content.estimator_tags(estimator))
    if get_config(flavor, "log_datasets", True):
        try:
            dataset = post.create_dataset(x, y)
            if dataset is not None:
                logger.client.log_inputs(logger.run_id, [_train_dataset_input(dataset)])
        except Exception as error:
            _logger.warning(
                "Failed to log training dataset information to MLflow Tracking. Reason: %s",
                error,
            )


def _log_model(flavor: str, estimator: Any, name: str, **kwargs: Any) -> Any:
    """Log the model; its files are written on the artifact worker (the run ends after)."""
    with deferred_model_files(flavor, name):
        return model_logger(FLAVOR_NAME)(estimator, name=name, **kwargs)


def _log_posttraining(
    flavor: str, logger: RunLogger, estimator: Any, x: Any, y: Any, sample_weight: Any
) -> None:
    import sklearn.base  # type: ignore[import-untyped]

    log_models = get_config(flavor, "log_models", True)
    serialization_format = get_config(flavor, "serialization_format", "cloudpickle")
    model_id = None
    example = signature = None
    search = content.is_parameter_search(estimator)
    if log_models:
        example, signature = _example_and_signature(flavor, estimator, x)
        params = estimator.get_params(deep=not search)
        params |= {f"best_{k}": v for k, v in getattr(estimator, "best_params_", {}).items()}
        info = _log_model(
            flavor,
            estimator,
            "model",
            signature=signature,
            input_example=example,
            serialization_format=serialization_format,
            registered_model_name=get_config(flavor, "registered_model_name"),
            params=params,
        )
        model_id = info.model_id
        post.MANAGER.record_model_id(estimator, model_id)
    try:
        dataset = post.create_dataset(x, y)
    except Exception:
        dataset = None
    prefix = content.TRAINING_PREFIX
    metrics: dict[str, Any] = {}
    if y is not None:
        try:
            if sklearn.base.is_classifier(estimator):
                pos_label = get_config(flavor, "pos_label")
                metrics = content.classifier_metrics(
                    estimator, prefix, x, y, sample_weight, pos_label
                )
            elif sklearn.base.is_regressor(estimator):
                metrics = content.regressor_metrics(estimator, prefix, x, y, sample_weight)
        except Exception as error:
            _logger.warning(
                "Failed to autolog metrics for %s. Logging error: %s",
                type(estimator).__name__,
                error,
            )
            metrics = {}
    if sklearn.base.is_classifier(estimator) and y is not None:
        background_work.plot(flavor, logger, estimator, x, y, sample_weight)
    # Only a search writes files here (cv_results.csv); the worker makes its own otherwise.
    directory = tempfile.mkdtemp(prefix="tracklet-autolog-") if search else None
    try:
        if hasattr(estimator, "score") and y is not None:
            try:
                metrics[prefix + "score"] = content.score(estimator, x, y, sample_weight)
            except Exception as error:
                _logger.warning(
                    "%s failed. The 'training_score' metric will not be recorded. "
                    "Scoring error: %s",
                    estimator.score.__qualname__,
                    error,
                )
        if metrics:
            logger.log_metrics(metrics, dataset=dataset, model_id=model_id)
        if y is None and not metrics:
            _logger.warning(
                "Training metrics will not be recorded because training labels were not "
                "specified. To automatically record training metrics, provide training labels "
                "as inputs to the model training function."
            )
        if search:
            assert directory is not None
            _log_parameter_search(
                flavor, logger, estimator, dataset, model_id, signature, example, directory
            )
    except BaseException:
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    background_work.upload(flavor, logger, estimator, directory)


def _example_and_signature(flavor: str, estimator: Any, x: Any) -> tuple[Any, Any]:
    from copy import deepcopy

    from tracklet.models import infer_signature

    def get_example() -> Any:
        return deepcopy(x[:INPUT_EXAMPLE_SAMPLE_ROWS])

    def infer(example: Any) -> Any:
        if hasattr(estimator, "predict"):
            output = estimator.predict(deepcopy(example))
        elif hasattr(estimator, "transform"):
            output = estimator.transform(deepcopy(example))
        else:
            raise ValueError(
                "the trained model does not have a `predict` or `transform` function, which "
                "is required in order to infer the signature"
            )
        return infer_signature(example, output)

    return resolve_input_example_and_signature(
        get_example,
        infer,
        get_config(flavor, "log_input_examples", False),
        get_config(flavor, "log_model_signatures", True),
        _logger,
    )


def _log_parameter_search(
    flavor: str,
    logger: RunLogger,
    estimator: Any,
    dataset: Any,
    model_id: str | None,
    signature: Any,
    example: Any,
    directory: str,
) -> None:
    best_model_id = None
    best_params = None
    if hasattr(estimator, "best_estimator_") and get_config(flavor, "log_models", True):
        best_params = estimator.best_estimator_.get_params(deep=True)
        info = _log_model(
            flavor,
            estimator.best_estimator_,
            "best_estimator",
            signature=signature,
            input_example=example,
            serialization_format=get_config(flavor, "serialization_format", "cloudpickle"),
            params=best_params,
        )
        best_model_id = info.model_id
    if hasattr(estimator, "best_score_"):
        logger.log_metrics({"best_cv_score": estimator.best_score_}, dataset, model_id)
    if hasattr(estimator, "best_params_"):
        logger.log_params({f"best_{k}": v for k, v in estimator.best_params_.items()})
    if hasattr(estimator, "cv_results_"):
        try:
            _create_child_runs(flavor, logger, estimator, dataset, best_params, best_model_id)
        except Exception as error:
            _logger.warning(
                "Encountered exception during creation of child runs for parameter search. "
                "Child runs may be missing. Exception: %s",
                error,
            )
        try:
            content.write_cv_results(estimator, directory)
        except Exception as error:
            _logger.warning(
                "Failed to log parameter search results as an artifact. Exception: %s", error
            )


def _create_child_runs(
    flavor: str,
    logger: RunLogger,
    search: Any,
    dataset: Any,
    best_params: dict[str, Any] | None,
    best_model_id: str | None,
) -> None:
    """One finished child run per best candidate, its params the seed estimator's overlaid
    with the candidate's, its metrics the candidate's aggregate cv scores."""
    import time

    from tracklet.tracking import system_tags

    seed = search.estimator
    base_params = seed.get_params(deep=not content.is_parameter_search(seed))
    tags = system_tags.context_tags()
    tags[_MLFLOW_AUTOLOGGING] = flavor
    tags[_MLFLOW_PARENT_RUN_ID] = logger.run_id
    tags.update(content.estimator_tags(seed))
    end_time = int(time.time() * 1000)
    inputs = [_train_dataset_input(dataset)] if dataset is not None else []
    client = logger.client
    children = []
    for row in content.child_run_rows(search, get_config(flavor, "max_tuning_runs", 5)):
        child = client.create_run(logger.experiment_id, start_time=logger.start_time, tags=tags)
        child_id = child.info.run_id
        children.append(child_id)
        candidate = row.get("params", {})
        logger.log_params({**base_params, **candidate}, run_id=child_id)
        linked = best_model_id if best_params and candidate.items() <= best_params.items() else None
        logger.log_metrics(content.child_metrics(row), dataset, linked, run_id=child_id)
        if inputs:
            client.log_inputs(child_id, inputs)
    logger.wait()  # one wait for every child's data, then each child ends
    for child_id in children:
        client.set_terminated(child_id, "FINISHED", end_time=end_time)
