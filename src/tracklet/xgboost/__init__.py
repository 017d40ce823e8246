"""XGBoost models in MLflow's ``xgboost`` flavor: the booster or scikit-learn estimator saved
with XGBoost's own ``save_model`` (``model.ubj`` by default), plus ``python_function``."""

from __future__ import annotations

import os
from functools import partial
from typing import Any

from tracklet.models.environment import (
    CONDA_ENV_FILE_NAME,
    PYTHON_ENV_FILE_NAME,
    pinned_requirement,
)
from tracklet.models.flavor import (
    add_code_to_system_path,
    class_from_string,
    copy_code_paths,
    download_model,
    finish_model_dir,
    flavor_configuration,
    fully_qualified_class_name,
    no_registry,
    prepare_model_dir,
    save_example_and_signature,
)
from tracklet.models.flavor import log_model as _log_model
from tracklet.models.model import Model, ModelInfo

FLAVOR_NAME = "xgboost"

__all__ = ["FLAVOR_NAME", "get_default_pip_requirements", "load_model", "log_model", "save_model"]


def get_default_pip_requirements() -> list[str]:
    return [pinned_requirement("xgboost")]


class _XGBModelWrapper:
    def __init__(self, xgb_model: Any) -> None:
        self.xgb_model = xgb_model

    def get_raw_model(self) -> Any:
        return self.xgb_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import xgboost as xgb

        if isinstance(self.xgb_model, xgb.Booster):
            return self.xgb_model.predict(xgb.DMatrix(data), validate_features=True)
        if isinstance(self.xgb_model, xgb.XGBModel):
            return partial(self.xgb_model.predict, validate_features=True)(data)
        return self.xgb_model.predict(data)


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
        path: The directory to create.
        model_format: XGBoost's file format: "ubj" (default), "json" or "deprecated".
        kwargs: Passed to ``xgb_model.save_model``.
    """
    import xgboost as xgb

    from tracklet.pyfunc import add_to_model

    path = prepare_model_dir(path)
    mlflow_model = mlflow_model or Model()
    code = copy_code_paths(code_paths, path)
    save_example_and_signature(
        path, mlflow_model, input_example, signature, _XGBModelWrapper(xgb_model).predict
    )
    data_file = f"model.{model_format}"
    xgb_model.save_model(os.path.join(path, data_file), **kwargs)
    add_to_model(
        mlflow_model,
        loader_module="mlflow.xgboost",
        data=data_file,
        conda_env=CONDA_ENV_FILE_NAME,
        python_env=PYTHON_ENV_FILE_NAME,
        code=code,
    )
    mlflow_model.add_flavor(
        FLAVOR_NAME,
        xgb_version=xgb.__version__,
        data=data_file,
        model_class=fully_qualified_class_name(xgb_model),
        model_format=model_format,
        code=code,
    )
    finish_model_dir(
        path,
        mlflow_model,
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
    """Log an XGBoost model as a logged model of the active run (see ``save_model``)."""
    no_registry(registered_model_name)
    return _log_model(
        save_model,
        FLAVOR_NAME,
        name=name,
        artifact_path=artifact_path,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        model_id=model_id,
        metadata=metadata,
        xgb_model=xgb_model,
        conda_env=conda_env,
        code_paths=code_paths,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        model_format=model_format,
        **kwargs,
    )


def _load_from_dir(model_dir: str) -> Any:
    conf = flavor_configuration(model_dir, FLAVOR_NAME)
    model = class_from_string(conf.get("model_class", "xgboost.core.Booster"))()
    model.load_model(os.path.join(model_dir, conf["data"]))
    return model


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """Load an XGBoost model (Booster or the scikit-learn-API class it was saved as)."""
    local_path = download_model(model_uri, dst_path)
    add_code_to_system_path(local_path, flavor_configuration(local_path, FLAVOR_NAME))
    return _load_from_dir(local_path)


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> _XGBModelWrapper:
    """pyfunc loader (``loader_module: mlflow.xgboost``); ``path`` is the model file."""
    return _XGBModelWrapper(_load_from_dir(os.path.dirname(path) if os.path.isfile(path) else path))
