"""How the default evaluator gets predictions from a model: the flavor's own model's
``predict``/``predict_proba`` for scikit-learn, XGBoost and CatBoost models (as MLflow calls
them), else the pyfunc model's or the function's; and the prediction column of a model's
output."""

from __future__ import annotations

from typing import Any

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException

_RAW_MODEL_LOADERS = ("mlflow.sklearn", "mlflow.xgboost", "mlflow.catboost")


def raw_model(model: Any) -> tuple[str | None, Any]:
    """(the pyfunc loader module, the flavor's own model) for scikit-learn, XGBoost and
    CatBoost models, whose own ``predict``/``predict_proba`` MLflow calls; else (loader, None)."""
    metadata = getattr(model, "metadata", None)
    if metadata is None:
        return None, None
    loader = metadata.flavors.get("python_function", {}).get("loader_module")
    if loader in _RAW_MODEL_LOADERS:
        return loader, model.get_raw_model()
    return loader, None


def predict_functions(model: Any) -> tuple[Any, Any]:
    """(predict, predict_proba or None) as MLflow's evaluator calls them."""
    _, raw = raw_model(model)
    if raw is None:
        return (model.predict if hasattr(model, "predict") else model), None
    predict, predict_proba = raw.predict, getattr(raw, "predict_proba", None)
    if type(raw).__module__.startswith("xgboost"):
        import functools

        import xgboost as xgb

        # Evaluation data may lack feature names: XGBoost must not insist on them.
        if isinstance(raw, xgb.XGBModel):
            predict = functools.partial(raw.predict, validate_features=False)
            if predict_proba is not None:
                predict_proba = functools.partial(predict_proba, validate_features=False)
        elif isinstance(raw, xgb.Booster):
            predict = lambda data: raw.predict(xgb.DMatrix(data), validate_features=False)  # noqa: E731
    return predict, predict_proba


def extract_output(predictions: Any, column: str | None) -> Any:
    """The prediction column of a model's output (a DataFrame, dict or list of dicts may carry
    several; ``column`` names it, as MLflow's ``predictions`` argument does)."""
    import pandas as pd

    if (
        isinstance(predictions, list)
        and predictions
        and all(isinstance(p, dict) for p in predictions)
    ):
        predictions = pd.DataFrame(predictions)
    if isinstance(predictions, dict):
        predictions = pd.DataFrame(predictions)
    if isinstance(predictions, pd.DataFrame):
        if column in predictions.columns:
            return predictions[column]
        if len(predictions.columns) == 1:
            return predictions[predictions.columns[0]]
        raise MlflowException(
            "Output column name is not specified for the multi-output model. Please set the "
            "correct output column name using the `predictions` parameter."
            if column is None
            else f"Output column name '{column}' is not found in the model predictions "
            f"{list(predictions.columns)}. Please set the correct output column name using the "
            "`predictions` parameter.",
            INVALID_PARAMETER_VALUE,
        )
    return predictions
