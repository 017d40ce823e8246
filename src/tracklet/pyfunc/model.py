"""Custom Python models: a :class:`PythonModel` subclass saved with cloudpickle as
``python_model.pkl``, with its artifacts, under MLflow's ``mlflow.pyfunc.model`` loader."""

from __future__ import annotations

import os
from typing import Any

from tracklet.exceptions import MlflowException
from tracklet.models.environment import pinned_requirement
from tracklet.models.flavor import (
    ModelDir,
    PyfuncWrapper,
    check_deserialization_allowed,
    copy_into,
    flavor_configuration,
)
from tracklet.models.flavor_log import log_flavor_model
from tracklet.models.model import Model, ModelInfo

PYTHON_MODEL_FILE = "python_model.pkl"
ARTIFACTS_DIR = "artifacts"


class PythonModelContext:
    """What ``load_context`` and ``predict`` receive: the model's artifacts (name -> local
    path) and its model config.

    Args:
        artifacts: Each artifact's name and its local path in the loaded model.
        model_config: The model's configuration (saved, then overridden at load time).
    """

    def __init__(self, artifacts: dict[str, str], model_config: dict[str, Any]) -> None:
        self.artifacts = artifacts
        self.model_config = model_config


class PythonModel:
    """Base class of custom models: override ``predict(context, model_input, params=None)``
    and, to read artifacts once, ``load_context(context)``."""

    def load_context(self, context: PythonModelContext) -> None:
        """Called once when the model is loaded: read artifacts here (e.g. open a file), not
        in ``predict``.

        Args:
            context: The loaded model's artifacts and config.
        """

    def predict(
        self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Any:
        """Predict on ``model_input``; subclasses override it.

        Args:
            context: The loaded model's artifacts and config.
            model_input: The input, already checked against the model's input schema (a
                DataFrame, ndarray, dict or list).
            params: Inference parameters, with the defaults of the model's params schema.

        Returns:
            The predictions (a DataFrame, Series, ndarray, list, ...).

        Raises:
            NotImplementedError: If the subclass does not override it.
        """
        raise NotImplementedError


class _PythonModelWrapper(PyfuncWrapper):
    def __init__(self, python_model: Any, context: PythonModelContext) -> None:
        super().__init__(python_model)
        self.python_model = python_model  # what PyFuncModel.unwrap_python_model returns
        self.context = context

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.python_model.predict(self.context, data, params=params)


def save_model(
    path: str,
    python_model: Any = None,
    artifacts: dict[str, str] | None = None,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    mlflow_model: Model | None = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """Save a custom :class:`PythonModel` (with local ``artifacts``) to ``path``.

    Args:
        path: The directory to create (it must not exist or be empty).
        python_model: An instance of a PythonModel subclass (pickled with cloudpickle).
        artifacts: Files or directories the model needs, ``{name: local path}``; copied into
            the model and handed to ``load_context`` as local paths.
        model_config: Configuration the model reads from ``context.model_config``.
        conda_env, code_paths, mlflow_model, signature, input_example, pip_requirements,
            extra_pip_requirements, metadata: As for ``tracklet.sklearn.save_model``.
        kwargs: Not used (``log_model`` hands every argument it gets to ``save_model``).

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE without ``python_model`` or for a non-empty
            ``path``.

    Example::

        class AddN(tracklet.pyfunc.PythonModel):
            def predict(self, context, model_input, params=None):
                return model_input + 1

        tracklet.pyfunc.save_model("add_n_model", python_model=AddN())
    """
    import cloudpickle  # type: ignore[import-untyped]

    if python_model is None:
        raise MlflowException.invalid_parameter_value("`python_model` must be given")
    context = PythonModelContext(dict(artifacts or {}), dict(model_config or {}))

    def predict(data: Any) -> Any:
        return python_model.predict(context, data)

    target = ModelDir(path, mlflow_model, code_paths, input_example, signature, predict)
    saved_artifacts = {
        name: {"path": f"{ARTIFACTS_DIR}/{copy_into(uri, target.join(ARTIFACTS_DIR))}", "uri": uri}
        for name, uri in (artifacts or {}).items()
    }
    with open(target.join(PYTHON_MODEL_FILE), "wb") as f:
        cloudpickle.dump(python_model, f)
    config: dict[str, Any] = {
        "cloudpickle_version": cloudpickle.__version__,
        "python_model": PYTHON_MODEL_FILE,
    }
    if saved_artifacts:
        config["artifacts"] = saved_artifacts
    target.add_pyfunc_flavor("mlflow.pyfunc.model", model_config=model_config, **config)
    target.finish(
        [pinned_requirement("cloudpickle")],
        conda_env,
        pip_requirements,
        extra_pip_requirements,
        metadata,
    )


def log_model(
    name: str | None = None,
    python_model: Any = None,
    artifacts: dict[str, str] | None = None,
    *,
    artifact_path: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a custom :class:`PythonModel` as a logged model of the active run (see
    ``save_model``).

    Args:
        name: The logged model's name.
        python_model: An instance of a PythonModel subclass.
        artifacts: Files or directories the model needs, ``{name: local path}``.
        artifact_path: Deprecated alias of ``name``.
        params, tags, model_type, step, model_id: As for ``tracklet.sklearn.log_model``.
        metadata: Free-form metadata stored in MLmodel.
        kwargs: More ``save_model`` arguments (``signature``, ``input_example``,
            ``pip_requirements``, ``model_config``, ...).

    Returns:
        The ModelInfo; ``model_info.model_uri`` is ``models:/<model_id>``.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for both ``name`` and ``artifact_path`` or
            without ``python_model``.
    """
    return log_flavor_model(save_model, "python_function", locals())


def _load_pyfunc(model_path: str, model_config: dict[str, Any] | None = None) -> Any:
    """Load ``python_model.pkl`` and call its ``load_context`` (MLflow's loader contract)."""
    import cloudpickle

    conf = flavor_configuration(model_path, "python_function")
    check_deserialization_allowed()
    with open(os.path.join(model_path, conf["python_model"]), "rb") as f:
        python_model = cloudpickle.load(f)
    artifacts = {
        name: os.path.join(model_path, entry["path"])
        for name, entry in (conf.get("artifacts") or {}).items()
    }
    context = PythonModelContext(artifacts, dict(model_config or {}))
    python_model.load_context(context)
    return _PythonModelWrapper(python_model, context)
