"""The default evaluator's plots (matplotlib, Agg), drawn as MLflow 3.17.2 draws them: ROC and
precision-recall curves, the lift and calibration curves, the normalized confusion matrix.

Each ``plot_*`` draws on a new figure and writes a PNG to ``path`` (MLflow's size: 6 x 4 inches
at 175 dpi).
"""

from __future__ import annotations

import math
from typing import Any

_RC: Any = {
    "figure.dpi": 175,
    "figure.figsize": [6.0, 4.0],
    "figure.autolayout": True,
    "font.size": 8,
}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)  # no display needed (a no-op if a backend is in use)
    from matplotlib import pyplot

    return pyplot


def _save(pyplot: Any, path: str) -> None:
    pyplot.savefig(path, bbox_inches="tight")
    pyplot.close(pyplot.gcf())


def plot_curve(
    path: str,
    series: list[tuple[str, Any, Any]],
    kind: str,
    pos_label: Any,
    binary: bool,
) -> None:
    """ROC (``kind="roc"``) or precision-recall curves, one line per ``(label, x, y)``."""
    import matplotlib

    pyplot = _pyplot()
    if kind == "roc":
        xlabel, ylabel, title = "False Positive Rate", "True Positive Rate", "ROC curve"
        diagonal = ([0, 1], [0, 1])
    else:
        xlabel, ylabel, title = "Recall", "Precision", "Precision recall curve"
        diagonal = ([0, 1], [1, 0])
    if pos_label:
        xlabel += f" (Positive label: {pos_label})"
        ylabel += f" (Positive label: {pos_label})"
    with matplotlib.rc_context(_RC):
        pyplot.clf()
        _, ax = pyplot.subplots(1, 1, figsize=(6.0, 4.0), dpi=175)
        for label, x, y in series:
            ax.plot(x, y, label=label, drawstyle="steps-post", linewidth=1)
        ax.plot(*diagonal, color="gray", alpha=0.3, linestyle="dashed")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        if binary:
            ax.legend(loc="best")
        else:
            ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
            pyplot.subplots_adjust(right=0.6, bottom=0.25)
        _save(pyplot, path)


def plot_confusion_matrix(path: str, matrix: Any, labels: Any) -> None:
    """The confusion matrix normalized over true labels (MLflow's, and sklearn autolog's)."""
    import matplotlib
    from sklearn.metrics import ConfusionMatrixDisplay  # type: ignore[import-untyped]

    pyplot = _pyplot()
    size: Any = {"font.size": min(8, math.ceil(50.0 / len(labels))), "axes.labelsize": 8}
    with matplotlib.rc_context({**_RC, **size}):
        pyplot.clf()
        _, ax = pyplot.subplots(1, 1, figsize=(6.0, 4.0), dpi=175)
        display = ConfusionMatrixDisplay(confusion_matrix=matrix, display_labels=labels)
        display.plot(cmap="Blues", ax=ax)
        display.ax_.set_title("Normalized confusion matrix")
        _save(pyplot, path)


def _cumulative_gains(y_true: Any, y_score: Any, positive: Any) -> tuple[Any, Any]:
    import numpy as np

    hits = (np.asarray(y_true) == positive)[np.argsort(np.asarray(y_score))[::-1]]
    gains = np.cumsum(hits) / float(np.sum(hits))
    percentages = np.arange(1, len(hits) + 1) / float(len(hits))
    return percentages, gains


def plot_lift_curve(path: str, y_true: Any, y_probas: Any, pos_label: Any) -> None:
    """The lift of each of the two classes over the share of samples taken, best first.

    Raises:
        ValueError: for labels of other than two classes (MLflow skips the plot then).
    """
    import matplotlib
    import numpy as np

    classes = np.unique(np.array(y_true))
    if len(classes) != 2:
        raise ValueError(f"Cannot calculate Lift Curve for data with {len(classes)} category/ies")
    probas = np.array(y_probas)
    pyplot = _pyplot()
    with matplotlib.rc_context(_RC):
        pyplot.clf()
        _, ax = pyplot.subplots(1, 1)
        ax.set_title("Lift Curve", fontsize="large")
        for index, cls in enumerate(classes):
            percentages, gains = _cumulative_gains(y_true, probas[:, index], cls)
            label = f"Class {cls}" + (
                " (positive)" if pos_label is not None and pos_label == cls else ""
            )
            ax.plot(percentages, gains / percentages, lw=3, label=label)
        ax.plot([0, 1], [1, 1], "k--", lw=2, label="Baseline")
        ax.set_xlabel("Percentage of sample", fontsize="medium")
        ax.set_ylabel("Lift", fontsize="medium")
        ax.tick_params(labelsize="medium")
        ax.grid(True)
        ax.legend(loc="lower right", fontsize="medium")
        _save(pyplot, path)


def plot_calibration_curve(
    path: str, y_true: Any, y_probs: Any, labels: Any, pos_label: Any, n_bins: int = 10
) -> None:
    """Observed frequency against predicted probability: the positive class of a binary
    classifier, each class one-vs-rest for a multiclass one."""
    import matplotlib
    import numpy as np
    from sklearn.calibration import calibration_curve  # type: ignore[import-untyped]

    probs = np.array(y_probs)
    truth = np.array(y_true)
    pyplot = _pyplot()
    with matplotlib.rc_context(_RC):
        pyplot.clf()
        _, ax = pyplot.subplots(1, 1)
        if len(labels) == 2:
            positive = pos_label if pos_label is not None else labels[-1]
            columns = [(positive, list(np.sort(labels)).index(positive))]
        else:
            columns = [(label, i) for i, label in enumerate(labels)]
        for label, index in columns:
            observed, predicted = calibration_curve(truth == label, probs[:, index], n_bins=n_bins)
            ax.plot(predicted, observed, marker="o", linewidth=1, label=f"Class {label}")
        ax.plot([0, 1], [0, 1], "k:", label="Perfectly calibrated")
        ax.set_xlabel("Mean predicted probability")
        ax.set_ylabel("Fraction of positives")
        ax.set_title("Calibration curve")
        ax.legend(loc="best")
        _save(pyplot, path)
