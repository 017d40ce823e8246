"""The default evaluator for classifiers (MLflow 3.17.2's ``ClassifierEvaluator``, step for step).

Labels: ``evaluator_config["label_list"]``, else every label seen in the targets and the
predictions, sorted; two labels make a binary classifier whose positive label is
``pos_label`` (the larger label by default). Artifacts: with class probabilities
(``predict_proba``), the ROC, precision-recall, lift and calibration curves (binary), or the
calibration curve and, up to ``max_classes_for_multiclass_roc_pr`` (10) classes, the one-vs-rest
ROC and precision-recall curves plus the ``per_class_metrics`` table (multiclass); always the
normalized confusion matrix.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.models.evaluation import metrics as m
from tracklet.models.evaluation import plots
from tracklet.models.evaluation.artifacts import CsvEvaluationArtifact, ImageEvaluationArtifact
from tracklet.models.evaluation.regressor import sklearn_score

if TYPE_CHECKING:
    from tracklet.models.evaluation.base import EvaluationData, Logger

_logger = logging.getLogger(__name__)


def _labels(config: dict[str, Any], y_true: Any, y_pred: Any) -> tuple[Any, Any, int]:
    """(label list, positive label, column of the positive class in the probabilities)."""
    import numpy as np

    label_list = config.get("label_list")
    pos_label = config.get("pos_label")
    if pos_label and label_list and pos_label not in label_list:
        raise MlflowException(
            f"'pos_label' {pos_label} must exist in 'label_list' {label_list}.",
            INVALID_PARAMETER_VALUE,
        )
    if label_list is None:
        labels = np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)]))
    else:
        labels = np.array(label_list)
    if len(labels) < 2:
        raise MlflowException(
            "Evaluation dataset for classification must contain at least two unique labels, "
            f"but only {len(labels)} unique labels were found. Please provide a 'label_list' "
            "parameter in 'evaluator_config' with all possible classes, e.g., "
            "evaluator_config={'label_list': [0, 1]}.",
            INVALID_PARAMETER_VALUE,
        )
    labels.sort()
    pos_index = 1
    if len(labels) == 2:
        if pos_label is not None and pos_label in labels:
            pos_index = int(np.where(labels == pos_label)[0][0])
        if pos_label is None:
            pos_label = labels[-1]
        else:  # the positive label goes last
            labels = np.append(np.delete(labels, np.where(labels == pos_label)), pos_label)
    return labels, pos_label, pos_index


def _warn_if_continuous(y_true: Any) -> None:
    import pandas as pd

    dtype = pd.Series(y_true).convert_dtypes().dtype.name.lower()
    if dtype.startswith("float"):
        _logger.warning(
            "According to the evaluation dataset label values, the model type looks like "
            "regressor, but you specified model type 'classifier'. Please verify that you set "
            "the `model_type` and `dataset` arguments correctly."
        )


def evaluate(
    model: Any,
    data: EvaluationData,
    output_column: str | None,
    config: dict[str, Any],
    logger: Logger,
) -> tuple[dict[str, Any], Callable[[], None]]:
    """(the metrics, a function logging the artifacts)."""
    from tracklet.models.evaluation.predict import extract_output, predict_functions

    y_true = data.labels
    weights = config.get("sample_weights")
    _warn_if_continuous(y_true)
    y_probs = None
    if model is None:
        y_pred = data.predictions
    else:
        predict, predict_proba = predict_functions(model)
        y_pred = extract_output(predict(data.copy()), output_column)
        if predict_proba is not None:
            y_probs = predict_proba(data.copy())
    labels, pos_label, pos_index = _labels(config, y_true, y_pred)
    values = sklearn_score(model, data, weights)
    binary = len(labels) == 2
    curves: dict[str, list[tuple[str, Any, Any]]] = {}
    if binary:
        values.update(
            m.binary_classifier_metrics(y_true, y_pred, y_probs, labels, pos_label, weights)
        )
        if y_probs is not None:
            for kind, name in (("roc", "roc_auc"), ("pr", "precision_recall_auc")):
                x, y, label, area = m.curve(
                    kind, y_true, y_probs[:, pos_index], pos_label, pos_label, weights
                )
                values[name] = area
                curves[kind] = [(label, x, y)]
    else:
        average = config.get("average", "weighted")
        values.update(
            m.multiclass_classifier_metrics(y_true, y_pred, y_probs, labels, average, weights)
        )

    def log_artifacts() -> None:
        prefix = config.get("metric_prefix") or ""
        image = _image_logger(logger, prefix)
        if binary and y_probs is not None:
            image(
                "roc_curve_plot",
                lambda p: plots.plot_curve(p, curves["roc"], "roc", pos_label, True),
            )
            image(
                "precision_recall_curve_plot",
                lambda p: plots.plot_curve(p, curves["pr"], "pr", pos_label, True),
            )
            image("lift_curve_plot", lambda p: plots.plot_lift_curve(p, y_true, y_probs, pos_label))
            image(
                "calibration_curve_plot",
                lambda p: plots.plot_calibration_curve(p, y_true, y_probs, labels, pos_label),
            )
        elif not binary:
            _multiclass_artifacts(
                logger, image, y_true, y_pred, y_probs, labels, pos_label, weights, config
            )
        _confusion_matrix(image, y_true, y_pred, labels, weights)

    return values, log_artifacts


def _image_logger(logger: Logger, prefix: str) -> Callable[[str, Callable[[str], None]], None]:
    def image(name: str, draw: Callable[[str], None]) -> None:
        file_name = f"{prefix}{name}.png"
        try:
            draw(logger.path(file_name))
        except Exception as exc:  # as MLflow: a plot that cannot be drawn is skipped, loudly
            _logger.warning("Failed to log image artifact %r: %r", name, exc)
            return
        logger.log(name, file_name, ImageEvaluationArtifact)

    return image


def _multiclass_artifacts(
    logger: Logger,
    image: Callable[[str, Callable[[str], None]], None],
    y_true: Any,
    y_pred: Any,
    y_probs: Any,
    labels: Any,
    pos_label: Any,
    weights: Any,
    config: dict[str, Any],
) -> None:
    table = m.per_class_metrics(y_true, y_pred, labels, weights)
    if y_probs is not None:
        image(
            "calibration_curve_plot",
            lambda p: plots.plot_calibration_curve(p, y_true, y_probs, labels, pos_label),
        )
        limit = config.get("max_classes_for_multiclass_roc_pr", 10)
        if len(labels) <= limit:
            for kind, name, column in (
                ("roc", "roc_curve_plot", "roc_auc"),
                ("pr", "precision_recall_curve_plot", "precision_recall_auc"),
            ):
                series: list[tuple[str, Any, Any]] = []
                areas: list[float] = []
                for index, positive in enumerate(labels):
                    y_bin, _, prob = m.one_vs_rest(index, positive, y_true, labels, y_probs)
                    x, y, label, area = m.curve(kind, y_bin, prob, 1, pos_label, weights)
                    series.append((f"label={positive},{label}", x, y))
                    areas.append(area)
                image(
                    name,
                    functools.partial(_draw_curve, series=series, kind=kind, pos_label=pos_label),
                )
                table[column] = areas
        else:
            _logger.warning(
                "The classifier num_classes > %s, skip logging ROC curve and Precision-Recall "
                "curve. You can add evaluator config 'max_classes_for_multiclass_roc_pr' to "
                "increase the threshold.",
                limit,
            )
    table.to_csv(logger.path("per_class_metrics.csv"), index=False)
    logger.log("per_class_metrics", "per_class_metrics.csv", CsvEvaluationArtifact)


def _draw_curve(path: str, series: list[tuple[str, Any, Any]], kind: str, pos_label: Any) -> None:
    plots.plot_curve(path, series, kind, pos_label, False)


def _confusion_matrix(
    image: Callable[[str, Callable[[str], None]], None],
    y_true: Any,
    y_pred: Any,
    labels: Any,
    weights: Any,
) -> None:
    from sklearn.metrics import confusion_matrix  # type: ignore[import-untyped]

    matrix = confusion_matrix(
        y_true, y_pred, labels=labels, normalize="true", sample_weight=weights
    )
    image("confusion_matrix", lambda p: plots.plot_confusion_matrix(p, matrix, labels))
