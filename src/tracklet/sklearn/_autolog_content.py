"""What sklearn autologging computes from a fitted estimator: MLflow's training metrics and
plots, the estimator's HTML, and the parameter-search results (child runs, cv_results.csv).

Metric and artifact names are MLflow 3.17.2's (``training_accuracy_score``,
``training_confusion_matrix.png``, ...). Everything here runs after the user's fit returned.
"""

from __future__ import annotations

import inspect
import logging
import os
import tempfile
from collections.abc import Callable
from numbers import Number
from typing import Any

_logger = logging.getLogger("tracklet.autolog")

TRAINING_PREFIX = "training_"
_SAMPLE_WEIGHT = "sample_weight"


def arg_names(fn: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(fn).parameters)


def estimator_tags(estimator: Any) -> dict[str, str]:
    """``estimator_name`` and ``estimator_class`` (module-qualified)."""
    cls = type(estimator)
    return {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__name__}"}


def is_parameter_search(estimator: Any) -> bool:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV  # type: ignore[import-untyped]

    return isinstance(estimator, (GridSearchCV, RandomizedSearchCV))


def get_x_y_and_sample_weight(
    fit: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, Any, Any]:
    """(X, y, sample_weight) of a ``fit`` call; X and y are copies (training may mutate them)."""
    from copy import deepcopy

    names = arg_names(fit)
    x_name, y_name = names[:2]
    if len(args) >= 2:
        x, y = args[:2]
    elif len(args) == 1:
        x, y = args[0], kwargs.get(y_name)
    else:
        x, y = kwargs[x_name], kwargs.get(y_name)
    sample_weight = None
    if _SAMPLE_WEIGHT in names:
        index = names.index(_SAMPLE_WEIGHT)
        sample_weight = args[index] if len(args) > index else kwargs.get(_SAMPLE_WEIGHT)
    return (
        deepcopy(x) if x is not None else None,
        deepcopy(y) if y is not None else None,
        sample_weight,
    )


def _compute(metrics: list[tuple[str, Callable[..., Any], dict[str, Any]]]) -> dict[str, Any]:
    values = {}
    for name, fn, arguments in metrics:
        try:
            values[name] = fn(**arguments)
        except Exception as error:
            _logger.warning(
                "%s failed. The metric %s will not be recorded. Metric error: %s",
                fn.__qualname__,
                name,
                error,
            )
    return values


def classifier_metrics(
    estimator: Any, prefix: str, x: Any, y_true: Any, sample_weight: Any, pos_label: Any
) -> dict[str, Any]:
    """precision, recall, f1 (weighted, or binary with ``pos_label``), accuracy, and with
    ``predict_proba`` log loss and ROC AUC (weighted, one-vs-one)."""
    import sklearn.metrics as m  # type: ignore[import-untyped]

    average = "weighted" if pos_label is None else "binary"
    y_pred = estimator.predict(x)
    common = {"y_true": y_true, "y_pred": y_pred, "sample_weight": sample_weight}
    scored = {**common, "pos_label": pos_label, "average": average}
    # precision_score, recall_score and f1_score each compute all three: compute them once.
    values = _compute(
        [(prefix + "precision_recall_fscore", m.precision_recall_fscore_support, scored)]
    ).pop(prefix + "precision_recall_fscore", None)
    metrics: list[tuple[str, Callable[..., Any], dict[str, Any]]] = []
    if values is None:  # its warning is logged; MLflow would log one for each of the three
        metrics += [
            (prefix + "precision_score", m.precision_score, scored),
            (prefix + "recall_score", m.recall_score, scored),
            (prefix + "f1_score", m.f1_score, scored),
        ]
    metrics.append((prefix + "accuracy_score", m.accuracy_score, {**common, "normalize": True}))
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(x)
        metrics.append(
            (
                prefix + "log_loss",
                m.log_loss,
                {"y_true": y_true, "y_pred": proba, "sample_weight": sample_weight},
            )
        )
        if len(proba[0]) == 2:
            proba = proba[:, 1]
        metrics.append(
            (
                prefix + "roc_auc",
                m.roc_auc_score,
                {
                    "y_true": y_true,
                    "y_score": proba,
                    "average": "weighted",
                    "sample_weight": sample_weight,
                    "multi_class": "ovo",
                },
            )
        )
    computed = _compute(metrics)
    if values is not None:
        precision, recall, f1, _ = values
        computed = {
            prefix + "precision_score": precision,
            prefix + "recall_score": recall,
            prefix + "f1_score": f1,
            **computed,
        }
    return computed


def regressor_metrics(
    estimator: Any, prefix: str, x: Any, y_true: Any, sample_weight: Any
) -> dict[str, Any]:
    """mean squared error, its root, mean absolute error and r2 (uniform average)."""
    import numpy as np
    import sklearn.metrics as m

    arguments = {
        "y_true": y_true,
        "y_pred": estimator.predict(x),
        "sample_weight": sample_weight,
        "multioutput": "uniform_average",
    }
    values = _compute(
        [
            (prefix + "mean_squared_error", m.mean_squared_error, arguments),
            (prefix + "mean_absolute_error", m.mean_absolute_error, arguments),
            (prefix + "r2_score", m.r2_score, arguments),
        ]
    )
    values[prefix + "root_mean_squared_error"] = np.sqrt(values[prefix + "mean_squared_error"])
    return values


def classifier_plot_data(estimator: Any, x: Any, y_true: Any, sample_weight: Any) -> dict[str, Any]:
    """What the training plots need, computed from the estimator now (on the training thread:
    the estimator may be refitted by the time the plots are drawn): the predictions, and for
    binary labels the positive-class scores, as sklearn's ``*Display.from_estimator`` get them.
    """
    import numpy as np
    from sklearn.metrics import RocCurveDisplay

    labels = getattr(estimator, "classes_", None)
    data: dict[str, Any] = {
        "y_true": np.asarray(y_true).copy(),
        "y_pred": estimator.predict(x),
        "sample_weight": None if sample_weight is None else np.asarray(sample_weight).copy(),
        "labels": len(labels if labels is not None else set(y_true)),
    }
    if len(set(y_true)) == 2:
        try:
            # response_method="auto": predict_proba, else decision_function (sklearn's rule).
            score, pos_label, name = RocCurveDisplay._validate_and_get_response_values(
                estimator, x, y_true, response_method="auto", pos_label=None, name=None
            )
            data["binary"] = (score, pos_label, name)
        except Exception as error:
            data["binary_error"] = error
    return data


def render_classifier_plots(data: dict[str, Any], prefix: str, directory: str) -> None:
    """The normalized confusion matrix, and for binary labels the ROC and precision-recall
    curves, as PNG files named as MLflow names them, drawn as MLflow draws them (through
    ``*Display.from_predictions``, which ``from_estimator`` calls)."""
    from matplotlib.figure import Figure
    from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay

    y_true, weight = data["y_true"], data["sample_weight"]
    # (name, title, draw, arguments, font size, figure size): MLflow's styles, given to each
    # figure rather than through rcParams (global state: the user's thread may be plotting).
    plots: list[tuple[str, str, Callable[..., Any], dict[str, Any], float, Any]] = [
        (
            "confusion_matrix",
            "Normalized confusion matrix",
            ConfusionMatrixDisplay.from_predictions,
            {"y_pred": data["y_pred"], "normalize": "true", "cmap": "Blues"},
            min(8.0, 50.0 / max(data["labels"], 1)),
            (6.0, 4.0),
        )
    ]
    binary = data.get("binary")
    if binary is not None or "binary_error" in data:
        score, pos_label, name = binary or (None, None, None)
        curve = {"y_score": score, "pos_label": pos_label, "name": name}
        plots.append(("roc_curve", "ROC curve", RocCurveDisplay.from_predictions, curve, 8.0, None))
        plots.append(
            (
                "precision_recall_curve",
                "Precision recall curve",
                PrecisionRecallDisplay.from_predictions,
                curve,
                8.0,
                None,
            )
        )
    for name, title, draw, extra, font_size, size in plots:
        try:
            if name != "confusion_matrix" and "binary_error" in data:
                raise data["binary_error"]
            # A pyplot-free Figure: no global figure registry, no GUI backend.
            figure = Figure(figsize=size, layout="tight")
            ax = figure.subplots()
            display = draw(y_true=y_true, sample_weight=weight, ax=ax, **extra)
            display.ax_.set_title(title)
            _set_font_sizes(figure, display, font_size)
            figure.savefig(os.path.join(directory, f"{prefix}{name}.png"), format="png", dpi=175)
        except Exception as error:
            _logger.warning(
                "%s failed. The artifact %s will not be recorded. Artifact error: %s",
                str(getattr(draw, "__qualname__", draw)).replace(
                    "from_predictions", "from_estimator"
                ),
                prefix + name,
                error,
            )


def _set_font_sizes(figure: Any, display: Any, font_size: float) -> None:
    """MLflow's rc styles (``font.size``, ``axes.labelsize: 8``) applied to one figure."""
    for ax in figure.axes:
        ax.tick_params(labelsize=font_size)
        ax.xaxis.label.set_fontsize(8.0)
        ax.yaxis.label.set_fontsize(8.0)
        ax.title.set_fontsize(font_size * 1.2)  # axes.titlesize "large"
        legend = ax.get_legend()
        if legend is not None:
            for text in legend.get_texts():
                text.set_fontsize(font_size)
    values = getattr(display, "text_", None)  # the confusion matrix's cell texts
    if values is not None:
        for item in values.flat:
            if item is not None:
                item.set_fontsize(font_size)


def estimator_html(estimator: Any) -> str:
    """The page MLflow logs as ``estimator.html``."""
    from sklearn.utils import estimator_html_repr  # type: ignore[import-untyped]

    return f"""
<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8"/>
  </head>
  <body>
    {estimator_html_repr(estimator)}
  </body>
</html>
    """


def score(estimator: Any, x: Any, y_true: Any, sample_weight: Any) -> Any:
    """``estimator.score`` on the training data (with the weights if it takes them)."""
    if _SAMPLE_WEIGHT in arg_names(estimator.score):
        return estimator.score(x, y_true, sample_weight)
    return estimator.score(x, y_true)


def write_cv_results(estimator: Any, directory: str) -> str:
    import pandas as pd

    path = os.path.join(directory, "cv_results.csv")
    pd.DataFrame.from_dict(estimator.cv_results_).to_csv(path, index=False)
    return path


def child_run_rows(estimator: Any, max_tuning_runs: int | None) -> list[Any]:
    """The rows of ``cv_results_`` that get a child run: the best ``max_tuning_runs`` by rank."""
    import pandas as pd

    frame = pd.DataFrame.from_dict(estimator.cv_results_)
    if max_tuning_runs is not None:
        rank = "rank_test_score"
        if rank not in frame.columns:
            rank = next(c for c in frame.columns if "rank_test_" in c)
        frame = frame.nsmallest(max_tuning_runs, rank)
        _log_child_runs_info(max_tuning_runs, len(estimator.cv_results_["params"]))
    return [row for _, row in frame.iterrows()]


def _log_child_runs_info(max_tuning_runs: int, total: int) -> None:
    logged = min(max_tuning_runs, total)
    rest = total - logged
    phrase = {0: "no runs", 1: "the best run"}.get(logged, f"the {logged} best runs")
    omitted = "no runs" if rest <= 0 else ("one run" if rest == 1 else f"{rest} runs")
    _logger.info("Logging %s, %s will be omitted.", phrase, omitted)


def child_metrics(row: Any) -> dict[str, Any]:
    """A cv_results_ row's aggregate numbers (per-split and param columns left out)."""
    return {
        key: value
        for key, value in row.items()
        if not (key.startswith("param") or key.startswith("split")) and isinstance(value, Number)
    }


def make_tmpdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="tracklet-autolog-")
