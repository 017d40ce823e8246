"""Keras 3 models in MLflow's ``keras`` flavor (``data/model.keras`` plus ``python_function``),
and Keras autologging. Any Keras backend; keras is imported when a model is saved or loaded.

Only the ``.keras`` format is written (``save_exported_model=True``, a TensorFlow SavedModel,
is refused: it needs TensorFlow)."""

from __future__ import annotations

import os
from typing import Any

from tracklet.exceptions import INVALID_PARAMETER_VALUE, NOT_IMPLEMENTED, MlflowException
from tracklet.models.environment import pinned_requirement
from tracklet.models.flavor import ModelDir, flavor_configuration, local_model, model_dir_of
from tracklet.models.flavor_log import log_flavor_model
from tracklet.models.model import Model, ModelInfo

FLAVOR_NAME = "keras"
_DATA = "data"
_MODEL_FILE = "model.keras"
_MODULE_SPEC = "keras_module.txt"

__all__ = [
    "FLAVOR_NAME",
    "autolog",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]


def get_default_pip_requirements() -> list[str]:
    return [pinned_requirement("keras")]


class _KerasModelWrapper:
    """pyfunc: ``predict`` on a DataFrame's values (a DataFrame back), or on arrays."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def get_raw_model(self) -> Any:
        return self.model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import keras  # type: ignore[import-untyped]
        import numpy as np

        if type(data).__name__ == "DataFrame":
            import pandas as pd

            return pd.DataFrame(self.model.predict(data.values), index=data.index)
        if not isinstance(data, (np.ndarray, list, tuple, dict)):
            raise MlflowException(
                "`data` must be one of: ['ndarray', 'list', 'tuple', 'dict'], but received "
                f"type: {type(data)}.",
                INVALID_PARAMETER_VALUE,
            )
        return keras.ops.convert_to_numpy(self.model.predict(data))


def save_model(
    model: Any,
    path: str,
    save_exported_model: bool = False,
    conda_env: Any = None,
    mlflow_model: Model | None = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    save_model_kwargs: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Save a Keras 3 model to ``path`` in MLflow's ``keras`` layout.

    Args:
        model: The ``keras.Model``.
        path: The directory to create.
        save_exported_model: Must be False (the exported format needs TensorFlow).
        save_model_kwargs: Passed to ``model.save``.
    """
    import keras

    if save_exported_model:
        raise MlflowException(
            "save_exported_model=True is not supported: tracklet writes the .keras format.",
            NOT_IMPLEMENTED,
        )
    target = ModelDir(path, mlflow_model, None, input_example, signature, None)
    os.makedirs(target.join(_DATA))
    with open(target.join(_DATA, _MODULE_SPEC), "w") as f:
        f.write(keras.__name__)
    model.save(target.join(_DATA, _MODEL_FILE), **(save_model_kwargs or {}))
    target.model.add_flavor(
        FLAVOR_NAME,
        data=_DATA,
        keras_version=keras.__version__,
        keras_backend=keras.backend.backend(),
        save_exported_model=False,
    )
    target.add_pyfunc_flavor("mlflow.keras")
    target.finish(
        get_default_pip_requirements(),
        conda_env,
        pip_requirements,
        extra_pip_requirements,
        metadata,
    )


def log_model(
    model: Any,
    artifact_path: str | None = None,
    save_exported_model: bool = False,
    conda_env: Any = None,
    signature: Any = None,
    input_example: Any = None,
    registered_model_name: str | None = None,
    await_registration_for: int = 300,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    save_model_kwargs: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
) -> ModelInfo:
    """Log a Keras model as a logged model of the active run (see ``save_model``)."""
    return log_flavor_model(save_model, FLAVOR_NAME, locals())


def _load(model_dir: str, conf: dict[str, Any], **load_kwargs: Any) -> Any:
    import keras

    if conf.get("save_exported_model"):
        raise MlflowException(
            "This Keras model was saved in the exported (TensorFlow) format, which tracklet "
            "does not load.",
            NOT_IMPLEMENTED,
        )
    data = os.path.join(model_dir, conf.get("data", "model"))
    if os.path.isdir(data):
        data = os.path.join(data, "model")
    return keras.saving.load_model(data + ".keras", **load_kwargs)


def load_model(
    model_uri: str,
    dst_path: str | None = None,
    custom_objects: dict[str, Any] | None = None,
    load_model_kwargs: dict[str, Any] | None = None,
) -> Any:
    """Load a Keras model logged in the ``keras`` flavor."""
    model = local_model(model_uri, dst_path, FLAVOR_NAME)
    return _load(model.path, model.conf, custom_objects=custom_objects, **(load_model_kwargs or {}))


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> _KerasModelWrapper:
    model_dir = model_dir_of(path)
    return _KerasModelWrapper(_load(model_dir, flavor_configuration(model_dir, FLAVOR_NAME)))


from tracklet.autolog import register_model_logger  # noqa: E402
from tracklet.keras._autolog import autolog  # noqa: E402

# The autolog module logs models with this module's log_model (it does not import it back).
register_model_logger(FLAVOR_NAME, log_model)
