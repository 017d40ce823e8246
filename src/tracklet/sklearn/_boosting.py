"""What xgboost and lightgbm autologging share (here, beside the sklearn autologging their
sklearn-API estimators reuse): ``train`` arguments as params, a callback
added to the user's, input examples captured when the data set is built, feature-importance
files, and the model logged after an sklearn-API ``fit``."""

from __future__ import annotations

import inspect
import json
import logging
import os
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from tracklet.autolog._training import (
    INPUT_EXAMPLE_SAMPLE_ROWS,
    deferred_model_files,
    resolve_input_example_and_signature,
)

_logger = logging.getLogger("tracklet.autolog")
_NO_EXAMPLE = "please ensure that autologging is enabled before constructing the dataset."


def fn_args_as_params(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], unlogged: list[str]
) -> dict[str, Any]:
    """Every argument of the call ``fn(*args, **kwargs)`` (defaults included) but ``unlogged``."""
    params = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
    values = {p.name: v for p, v in zip(params[: len(args)], args, strict=False)}
    values.update(kwargs)
    values.update({p.name: p.default for p in params[len(args) :] if p.name not in kwargs})
    return {k: v for k, v in values.items() if k not in unlogged}


@dataclass(frozen=True)
class TrainStart:
    """What a ``train`` patch has once params, datasets and the pending model are logged."""

    logger: Any  # tracklet.autolog._training.RunLogger
    fn_params: dict[str, Any]
    train_set: Any
    dataset: Any  # what ``log_datasets`` returned (None when datasets were not logged)
    model_id: str | None  # the logged model initialized for this fit, if models are logged
    log_models: bool


def start_train(
    flavor: str,
    log_models: bool,
    original: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    unlogged: list[str],
    train_arg: str,
    log_datasets: Callable[[Any, Any], Any],
) -> TrainStart:
    """Before ``train(params, <train_arg>, ...)`` runs: log the booster and call params and
    the datasets, and initialize the logged model the callback links metrics to."""
    from tracklet.autolog import get_config, logging_section
    from tracklet.autolog._training import RunLogger
    from tracklet.tracking import fluent, fluent_models
    from tracklet.tracking.context import current_client

    log_models = log_models and get_config(flavor, "log_models", True)
    run = fluent.active_run()
    assert run is not None
    logger = RunLogger(current_client(), run.info.run_id)
    booster_params = args[0] if args else kwargs["params"]
    fn_params = fn_args_as_params(original, args, kwargs, unlogged)
    train_set = args[1] if len(args) > 1 else kwargs.get(train_arg)
    dataset = None
    model_id = None
    with logging_section(flavor):
        logger.log_params({**booster_params, **fn_params})
        if get_config(flavor, "log_datasets", True) and train_set is not None:
            dataset = log_datasets(logger, train_set)
        if log_models:
            model_id = fluent_models.initialize_logged_model(
                name="model", source_run_id=logger.run_id
            ).model_id
    return TrainStart(logger, fn_params, train_set, dataset, model_id, log_models)


def with_callback(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], callback: Any
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The call's arguments with ``callback`` appended to its ``callbacks`` (a new list: the
    user's stays as it was)."""
    index = list(inspect.signature(fn).parameters).index("callbacks")
    if len(args) > index:
        args = (*args[:index], [*(args[index] or []), callback], *args[index + 1 :])
    else:
        kwargs = {**kwargs, "callbacks": [*(kwargs.get("callbacks") or []), callback]}
    return args, kwargs


def patched_dataset_init(
    original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any
) -> None:
    """``DMatrix``/``Dataset.__init__``: keep a copy of the first rows as the input example
    (the data set object may not give them back later)."""
    data = args[0] if args else kwargs.get("data")
    if data is not None:
        try:
            if isinstance(data, str):
                raise ValueError("cannot gather example input when dataset is loaded from a file.")
            self._tracklet_input_example = (deepcopy(data[:INPUT_EXAMPLE_SAMPLE_ROWS]), None)
        except Exception as error:
            self._tracklet_input_example = (None, str(error))
    original(self, *args, **kwargs)


def example_and_signature(
    flavor: str, train_data: Any, predict: Callable[[Any], Any]
) -> tuple[Any, Any]:
    """The input example captured from ``train_data`` and the signature inferred with it."""
    from tracklet.autolog import get_config
    from tracklet.models import infer_signature

    def get_example() -> Any:
        captured = getattr(train_data, "_tracklet_input_example", None)
        if captured is None:
            raise ValueError(_NO_EXAMPLE)
        if captured[1] is not None:
            raise ValueError(captured[1])
        return captured[0]

    return resolve_input_example_and_signature(
        get_example,
        lambda example: infer_signature(example, predict(example)),
        get_config(flavor, "log_input_examples", False),
        get_config(flavor, "log_model_signatures", True),
        _logger,
    )


def sanitize_metric_names(metrics: dict[str, float]) -> dict[str, float]:
    """MLflow's rule: ``@`` in a metric name (``map@3``) becomes ``_at_``."""
    return {k.replace("@", "_at_"): v for k, v in metrics.items()}


def write_feature_importance(
    directory: str, importance_type: str, features: Any, importance: Any, indent: int | None
) -> None:
    """``feature_importance_<type>.json`` and ``.png`` as MLflow draws them (one bar per
    feature, or per feature and class for multi-class importances)."""
    import numpy as np

    values = dict(zip(features, np.asarray(importance).tolist(), strict=False))
    path = os.path.join(directory, f"feature_importance_{importance_type}.json")
    try:
        _plot_importance(directory, importance_type, features, importance)
    except Exception as error:
        _logger.warning("Failed to log feature importance plot: %s", error)
    with open(path, "w") as f:
        json.dump(values, f, indent=indent)


def _plot_importance(directory: str, importance_type: str, features: Any, importance: Any) -> None:
    import matplotlib
    import numpy as np
    from matplotlib.figure import Figure

    names = np.array(features)
    values = np.array(importance)
    if values.ndim <= 1:
        order = np.argsort(values)
        names, values = names[order], values[order].reshape(-1, 1)
        label_classes = False
    else:
        order = np.argsort(np.abs(values).sum(axis=1))
        names, values = names[order], values[order]
        label_classes = True
    classes, count = values.shape[1], len(names)
    height = 4.8 + (0.1 * count if count > 10 else 0) + (0.1 * classes if classes > 1 else 0)
    figure = Figure(figsize=(6.4, height))
    ax = figure.subplots()
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][:classes]
    offsets = np.linspace(-0.5, 0.5, classes) / 2 if classes > 1 else [0]
    for row, (y, per_class) in enumerate(zip(np.arange(count), values, strict=False)):
        for c, (offset, value) in enumerate(zip(offsets, per_class, strict=False)):
            (bar,) = ax.barh(
                y + offset,
                value,
                align="center",
                height=0.5 / max(classes - 1, 1),
                color=colors[c % len(colors)],
            )
            if label_classes and row == 0:
                bar.set_label(f"Class {c}")
    ax.set_yticks(np.arange(count))
    ax.set_yticklabels(names)
    ax.set_xlabel("Importance")
    ax.set_title(f"Feature Importance ({importance_type})")
    if label_classes:
        ax.legend()
    figure.tight_layout()
    figure.savefig(os.path.join(directory, f"feature_importance_{importance_type}.png"))


def log_model_deferred(
    log_model: Callable[..., Any],
    flavor: str,
    model: Any,
    example: Any,
    signature: Any,
    **kwargs: Any,
) -> Any:
    """Log a booster or estimator as the ``model`` of the run: created and linked here, its
    files written on the artifact worker from a copy (a failure there is a warning)."""
    from tracklet.autolog import get_config

    with deferred_model_files(flavor, "model"):
        return log_model(
            model,
            name="model",
            signature=signature,
            input_example=example,
            registered_model_name=get_config(flavor, "registered_model_name"),
            **kwargs,
        )


def fit_then_log_model(
    log_model: Callable[..., Any], model_kwargs: Callable[[str], dict[str, Any]]
) -> Callable[..., Any]:
    """The sklearn-API ``fit`` of xgboost/lightgbm: the library's own ``train`` patch logs
    params and metrics; this logs the fitted estimator as the ``model`` afterwards."""

    def fit(
        flavor: str, original: Callable[..., Any], estimator: Any, *args: Any, **kw: Any
    ) -> Any:
        from tracklet.autolog import get_config, logging_section
        from tracklet.sklearn import _autolog_post as post
        from tracklet.sklearn._autolog_content import get_x_y_and_sample_weight

        try:
            x = get_x_y_and_sample_weight(estimator.fit, args, kw)[0]
            captured: tuple[Any, str | None] = (deepcopy(x[:INPUT_EXAMPLE_SAMPLE_ROWS]), None)
        except Exception as error:
            captured = (None, str(error))
        result = original(estimator, *args, **kw)
        if get_config(flavor, "log_models", True):
            with logging_section(flavor):
                holder = type("_Captured", (), {"_tracklet_input_example": captured})()
                example, signature = example_and_signature(
                    flavor, holder, lambda e: estimator.predict(deepcopy(e))
                )
                info = log_model_deferred(
                    log_model, flavor, estimator, example, signature, **model_kwargs(flavor)
                )
                post.MANAGER.record_model_id(estimator, info.model_id)
        return result

    return fit
