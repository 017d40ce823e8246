"""MLflow 3.17.2's default-evaluator metrics for classifiers and regressors, from scikit-learn.

Each function computes exactly what MLflow's ``evaluators/classifier.py`` and
``evaluators/regressor.py`` compute (same scikit-learn calls and arguments), so the values are
equal, under the same names.
"""

from __future__ import annotations

from typing import Any


def _scalar(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def regressor_metrics(y: Any, y_pred: Any, sample_weights: Any = None) -> dict[str, Any]:
    """MLflow's regressor metrics (``example_count``, ``mean_absolute_error``, ...)."""
    import numpy as np
    from sklearn import metrics as sk  # type: ignore[import-untyped]

    if sample_weights is not None:
        sum_on_target = (np.array(y) * np.array(sample_weights)).sum()
    else:
        sum_on_target = sum(y)
    values = {
        "example_count": len(y),
        "mean_absolute_error": sk.mean_absolute_error(y, y_pred, sample_weight=sample_weights),
        "mean_squared_error": sk.mean_squared_error(y, y_pred, sample_weight=sample_weights),
        "root_mean_squared_error": sk.root_mean_squared_error(
            y_true=y, y_pred=y_pred, sample_weight=sample_weights
        ),
        "sum_on_target": sum_on_target,
        "mean_on_target": sum_on_target / len(y),
        "r2_score": sk.r2_score(y, y_pred, sample_weight=sample_weights),
        "max_error": sk.max_error(y, y_pred),
        "mean_absolute_percentage_error": sk.mean_absolute_percentage_error(
            y, y_pred, sample_weight=sample_weights
        ),
    }
    return {k: _scalar(v) for k, v in values.items()}


def _common_classifier_metrics(
    y_true: Any,
    y_pred: Any,
    y_proba: Any,
    labels: Any,
    average: str,
    pos_label: Any,
    sample_weights: Any,
) -> dict[str, Any]:
    from sklearn import metrics as sk

    values = {
        "example_count": len(y_true),
        "accuracy_score": sk.accuracy_score(y_true, y_pred, sample_weight=sample_weights),
        "recall_score": sk.recall_score(
            y_true, y_pred, average=average, pos_label=pos_label, sample_weight=sample_weights
        ),
        "precision_score": sk.precision_score(
            y_true, y_pred, average=average, pos_label=pos_label, sample_weight=sample_weights
        ),
        "f1_score": sk.f1_score(
            y_true, y_pred, average=average, pos_label=pos_label, sample_weight=sample_weights
        ),
    }
    if y_proba is not None:
        values["log_loss"] = sk.log_loss(
            y_true, y_proba, labels=labels, sample_weight=sample_weights
        )
    return values


def binary_classifier_metrics(
    y_true: Any,
    y_pred: Any,
    y_proba: Any = None,
    labels: Any = None,
    pos_label: Any = 1,
    sample_weights: Any = None,
) -> dict[str, Any]:
    """MLflow's binary metrics: the confusion counts, then the common ones."""
    from sklearn import metrics as sk

    tn, fp, fn, tp = sk.confusion_matrix(y_true, y_pred, labels=labels).ravel()
    values = {
        "true_negatives": tn,
        "false_positives": fp,
        "false_negatives": fn,
        "true_positives": tp,
        **_common_classifier_metrics(
            y_true, y_pred, y_proba, labels, "binary", pos_label, sample_weights
        ),
    }
    return {k: _scalar(v) for k, v in values.items()}


def multiclass_classifier_metrics(
    y_true: Any,
    y_pred: Any,
    y_proba: Any = None,
    labels: Any = None,
    average: str = "weighted",
    sample_weights: Any = None,
) -> dict[str, Any]:
    """MLflow's multiclass metrics (``average`` as ``evaluator_config["average"]``)."""
    from sklearn import metrics as sk

    values = _common_classifier_metrics(
        y_true, y_pred, y_proba, labels, average, None, sample_weights
    )
    if average in ("macro", "weighted") and y_proba is not None:
        values["roc_auc"] = sk.roc_auc_score(
            y_true=y_true,
            y_score=y_proba,
            sample_weight=sample_weights,
            average=average,
            multi_class="ovr",
        )
    return {k: _scalar(v) for k, v in values.items()}


def one_vs_rest(positive_index: int, positive: Any, y: Any, y_pred: Any, y_probs: Any) -> Any:
    """(y == positive, y_pred == positive, the positive column of y_probs), as 0/1 arrays."""
    import numpy as np

    y_bin = np.where(np.array(y) == positive, 1, 0)
    pred_bin = None if y_pred is None else np.where(np.array(y_pred) == positive, 1, 0)
    prob_bin = None if y_probs is None else np.array(y_probs)[:, positive_index]
    return y_bin, pred_bin, prob_bin


def per_class_metrics(y: Any, y_pred: Any, labels: Any, sample_weights: Any) -> Any:
    """One row per class: its one-vs-rest binary metrics (MLflow's ``per_class_metrics``)."""
    import pandas as pd

    rows = []
    for index, positive in enumerate(labels):
        y_bin, pred_bin, _ = one_vs_rest(index, positive, y, y_pred, None)
        rows.append(
            {
                "positive_class": positive,
                **binary_classifier_metrics(
                    y_bin, pred_bin, labels=[0, 1], pos_label=1, sample_weights=sample_weights
                ),
            }
        )
    return pd.DataFrame(rows)


def curve(
    kind: str, y: Any, y_prob: Any, positive: Any, pos_label: Any, sample_weights: Any
) -> tuple[Any, Any, str, float]:
    """(x, y, legend label, area) of a ROC (``kind="roc"``) or precision-recall curve."""
    import numpy as np
    from sklearn import metrics as sk

    curve_pos_label = positive if positive == pos_label else None
    if kind == "roc":
        fpr, tpr, _ = sk.roc_curve(
            y, y_prob, sample_weight=sample_weights, pos_label=curve_pos_label
        )
        auc = sk.roc_auc_score(
            y_true=np.asarray(y) == positive, y_score=y_prob, sample_weight=sample_weights
        )
        return fpr, tpr, f"AUC={auc:.3f}", float(auc)
    precision, recall, _ = sk.precision_recall_curve(
        y, y_prob, sample_weight=sample_weights, pos_label=curve_pos_label
    )
    # Average precision, not the area under the curve's points: MLflow's summary of PR curves.
    ap = sk.average_precision_score(
        y_true=y, y_score=y_prob, pos_label=positive, sample_weight=sample_weights
    )
    return recall, precision, f"AP={ap:.3f}", float(ap)
