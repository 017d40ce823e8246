"""XGBoost models in MLflow's ``xgboost`` flavor: the booster or scikit-learn estimator saved
with XGBoost's own ``save_model`` (``model.ubj`` by default), plus ``python_function``."""

from __future__ import annotations

import os
from functools import partial
from typing import Any

from tracklet.models.environment import pinned_requirement
from tracklet.models.flavor import (
    ModelDir,
    PyfuncWrapper,
    class_from_string,
    flavor_configuration,
    fully_qualified_class_name,
    local_model,
    model_dir_of,
)
from tracklet.models.flavor_log import log_flavor_model
from tracklet.models.model import Model, ModelInfo

FLAVOR_NAME = "xgboost"

__all__ = [
    "FLAVOR_NAME",
    "autolog",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]


def get_default_pip_requirements() -> list[str]:
    """The pip requirements of an XGBoost model: xgboost, pinned to the installed version.

    Returns:
        Requirement strings such as ``"xgboost==2.1.1"``.
    """
    return [pinned_requirement("xgboost")]


class _XGBModelWrapper(PyfuncWrapper):
    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import xgboost as xgb

        if isinstance(self.model, xgb.Booster):
            return self.model.predict(xgb.DMatrix(data), validate_features=True)
        if isinstance(self.model, xgb.XGBModel):
            return partial(self.model.predict, validate_features=True)(data)
        return self.model.predict(data)


def save_model(
    xgb_model: Any,
    path: str,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    mlflow_model: Model | None = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    model_format: str = "ubj",
    metadata: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """Save an XGBoost Booster or scikit-learn-API model to ``path`` in MLflow's format.

    Args:
        xgb_model: ``xgboost.Booster`` or an ``xgboost.XGBModel`` (XGBClassifier, ...).
        path: The directory to create (it must not exist or be empty).
        model_format: XGBoost's file format: "ubj" (default), "json" or "deprecated".
        conda_env, code_paths, mlflow_model, signature, input_example, pip_requirements,
            extra_pip_requirements, metadata: As for ``tracklet.sklearn.save_model``.
        kwargs: Passed to ``xgb_model.save_model``.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a non-empty ``path``.
    """
    import xgboost as xgb

    target = ModelDir(
        path,
        mlflow_model,
        code_paths,
        input_example,
        signature,
        _XGBModelWrapper(xgb_model).predict,
    )
    data_file = f"model.{model_format}"
    xgb_model.save_model(target.join(data_file), **kwargs)
    target.add_pyfunc_flavor("mlflow.xgboost", data=data_file)
    target.add_flavor(
        FLAVOR_NAME,
        xgb_version=xgb.__version__,
        data=data_file,
        model_class=fully_qualified_class_name(xgb_model),
        model_format=model_format,
    )
    target.finish(
        get_default_pip_requirements(),
        conda_env,
        pip_requirements,
        extra_pip_requirements,
        metadata,
    )


def log_model(
    xgb_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    model_format: str = "ubj",
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log an XGBoost model as a logged model of the active run (see ``save_model``).

    Args:
        xgb_model: ``xgboost.Booster`` or an ``xgboost.XGBModel``.
        artifact_path: Deprecated alias of ``name``.
        name: The logged model's name.
        model_id: Store the artifacts of this initialized logged model instead of creating
            one.
        params, tags, model_type, step: As for ``tracklet.sklearn.log_model``.
        registered_model_name: Register the logged model as a new version of this
            registered model (created if needed).
        await_registration_for: Seconds to wait for that version to become READY.
        conda_env, code_paths, signature, input_example, pip_requirements,
            extra_pip_requirements, model_format, metadata: As for ``save_model``.
        kwargs: Passed to ``xgb_model.save_model``.

    Returns:
        The ModelInfo; ``model_info.model_uri`` is ``models:/<model_id>``.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for both ``name`` and ``artifact_path``.
    """
    return log_flavor_model(save_model, FLAVOR_NAME, locals())


def _load(model_dir: str, conf: dict[str, Any]) -> Any:
    model = class_from_string(conf.get("model_class", "xgboost.core.Booster"))()
    model.load_model(os.path.join(model_dir, conf["data"]))
    return model


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """Load an XGBoost model (a Booster, or the scikit-learn-API class it was saved as).

    Args:
        model_uri: Where the model is, e.g. ``models:/<model_id>``.
        dst_path: A local directory to download the model into; a temporary one if None.

    Returns:
        The ``xgboost.Booster`` or ``xgboost.XGBModel``.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST for a missing model or one without the
            xgboost flavor.
    """
    model = local_model(model_uri, dst_path, FLAVOR_NAME)
    return _load(model.path, model.conf)


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> _XGBModelWrapper:
    """pyfunc loader (``loader_module: mlflow.xgboost``); ``path`` is the model file."""
    model_dir = model_dir_of(path)
    return _XGBModelWrapper(_load(model_dir, flavor_configuration(model_dir, FLAVOR_NAME)))


from tracklet.autolog import register_model_logger  # noqa: E402
from tracklet.xgboost._autolog import autolog  # noqa: E402

# The autolog module logs models with this module's log_model (it does not import it back).
register_model_logger(FLAVOR_NAME, log_model)
