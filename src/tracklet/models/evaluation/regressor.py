"""The default evaluator for regressors: MLflow's metrics, plus ``score`` for scikit-learn
models. MLflow logs no regressor artifacts besides SHAP's (not computed here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tracklet.models.evaluation import metrics as m

if TYPE_CHECKING:
    from tracklet.models.evaluation.base import EvaluationData, Logger


def evaluate(
    model: Any,
    data: EvaluationData,
    output_column: str | None,
    config: dict[str, Any],
    logger: Logger,
) -> tuple[dict[str, Any], Callable[[], None]]:
    """(the metrics, a function logging the artifacts)."""
    from tracklet.models.evaluation.predict import extract_output, predict_functions

    weights = config.get("sample_weights")
    if model is None:
        y_pred = data.predictions
    else:
        predict, _ = predict_functions(model)
        y_pred = extract_output(predict(data.copy()), output_column)
    values = sklearn_score(model, data, weights)
    values.update(m.regressor_metrics(data.labels, y_pred, weights))
    return values, lambda: None


def sklearn_score(model: Any, data: EvaluationData, weights: Any) -> dict[str, Any]:
    """``{"score": model.score(X, y)}`` for a scikit-learn model (as MLflow), else ``{}``."""
    import logging

    from tracklet.models.evaluation.predict import raw_model

    loader, raw = raw_model(model)
    if loader != "mlflow.sklearn" or raw is None:
        return {}
    try:
        return {"score": m._scalar(raw.score(data.copy(), data.labels, sample_weight=weights))}
    except Exception as exc:
        logging.getLogger(__name__).warning("Computing sklearn model score failed: %r.", exc)
        return {}
