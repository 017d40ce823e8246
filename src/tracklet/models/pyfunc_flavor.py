"""The ``python_function`` flavor's entry in MLmodel: its keys and ``add_to_model``.

It sits with the model format (not in :mod:`tracklet.pyfunc`, which loads models) so that
writing a model directory (:mod:`tracklet.models.flavor`) needs nothing from the loader;
``tracklet.pyfunc`` re-exports these names under MLflow's spelling (``mlflow.pyfunc.*``).
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from tracklet.models.environment import PYTHON_VERSION
from tracklet.models.model import Model

FLAVOR_NAME = "python_function"
MAIN = "loader_module"
CODE = "code"
DATA = "data"
ENV = "env"
PY_VERSION = "python_version"
MODEL_CONFIG = "config"


def add_to_model(
    model: Model,
    loader_module: str,
    data: str | None = None,
    code: str | None = None,
    conda_env: str | None = None,
    python_env: str | None = None,
    model_config: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Model:
    """Add the ``python_function`` flavor to ``model``, as MLflow's ``add_to_model`` does.

    Args:
        model: The Model to add the flavor to.
        loader_module: The module whose ``_load_pyfunc(path)`` loads the model (an MLflow
            module name such as ``mlflow.sklearn``, so that MLflow can load it too).
        data: Model-relative path handed to ``_load_pyfunc``; the model directory if None.
        code: Model-relative directory of code to put on ``sys.path``.
        conda_env: Model-relative path of conda.yaml.
        python_env: Model-relative path of python_env.yaml.
        model_config: Configuration handed to ``_load_pyfunc``.
        kwargs: More flavor configuration (e.g. ``predict_fn``).

    Returns:
        ``model``, with the flavor added.
    """
    params = deepcopy(kwargs)
    params[MAIN] = loader_module
    params[PY_VERSION] = PYTHON_VERSION
    if code:
        params[CODE] = code
    if data:
        params[DATA] = data
    if conda_env or python_env:
        env: dict[str, str] = {}
        if conda_env:
            env["conda"] = conda_env
        if python_env:
            env["virtualenv"] = python_env
        params[ENV] = env
    if model_config:
        params[MODEL_CONFIG] = model_config
    return model.add_flavor(FLAVOR_NAME, **params)
