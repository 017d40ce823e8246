"""What every flavor shares: writing a model directory (:class:`ModelDir`: the directory, the
user's code, the input example and the signature inferred from it, the flavors, MLmodel and
the environment files) and reading one back (its local directory, flavor configuration and
code; the pyfunc wrapper). ``log_model`` is in :mod:`tracklet.models.flavor_log`."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from typing import Any, NamedTuple

from tracklet.env import BoolVar
from tracklet.exceptions import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)
from tracklet.models.environment import (
    CONDA_ENV_FILE_NAME,
    PYTHON_ENV_FILE_NAME,
    write_environment,
)
from tracklet.models.input_example import Example
from tracklet.models.model import MLMODEL_FILE_NAME, Model
from tracklet.models.pyfunc_flavor import add_to_model
from tracklet.models.signature import ModelSignature

_logger = logging.getLogger(__name__)

# MLflow's switch for loading pickled models (on by default); loading any pickle can run code.
MLFLOW_ALLOW_PICKLE_DESERIALIZATION = BoolVar("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", True)


def check_deserialization_allowed() -> None:
    if not MLFLOW_ALLOW_PICKLE_DESERIALIZATION.get():
        raise MlflowException(
            "Deserializing this model is disallowed because 'MLFLOW_ALLOW_PICKLE_DESERIALIZATION' "
            "is not set to 'true'. Loading a model can execute arbitrary code from the model "
            "artifact: only load models from trusted sources."
        )


# ---------------------------------------------------------------------- saving


class ModelDir:
    """A model directory being written by a flavor's ``save_model``, in MLflow's layout.

    It is created (empty) with the user's code under ``code/`` and the input example saved,
    with the signature inferred from it (and from ``predict`` on it) unless one is given
    (``signature=False``: none). The flavor then writes its files under ``path``, adds its
    flavors, and :meth:`finish` writes MLmodel and the environment files.
    """

    def __init__(
        self,
        path: str,
        mlflow_model: Model | None,
        code_paths: list[str] | None,
        input_example: Any,
        signature: ModelSignature | bool | None,
        predict: Callable[[Any], Any] | None,
    ) -> None:
        self.path = _prepare_model_dir(path)
        self.model = mlflow_model or Model()
        self.code = _copy_code_paths(code_paths, self.path)
        self.example = _save_example_and_signature(
            self.path, self.model, input_example, signature, predict
        )

    def join(self, *parts: str) -> str:
        """A path inside the model directory."""
        return os.path.join(self.path, *parts)

    def add_flavor(self, name: str, **conf: Any) -> None:
        """Add the flavor's own configuration (with the model's code directory)."""
        self.model.add_flavor(name, code=self.code, **conf)

    def add_pyfunc_flavor(self, loader_module: str, **conf: Any) -> None:
        """Add the ``python_function`` flavor, loaded by ``loader_module`` (MLflow's module
        name, ``mlflow.<flavor>``), with the code and environment files."""
        add_to_model(
            self.model,
            loader_module=loader_module,
            code=self.code,
            conda_env=CONDA_ENV_FILE_NAME,
            python_env=PYTHON_ENV_FILE_NAME,
            **conf,
        )

    def finish(
        self,
        default_requirements: list[str],
        conda_env: Any = None,
        pip_requirements: Any = None,
        extra_pip_requirements: Any = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Write MLmodel (with the size of what is there so far) and the environment files."""
        if metadata is not None:
            self.model.metadata = metadata
        if size := _total_size(self.path):
            self.model.model_size_bytes = size
        self.model.save(self.join(MLMODEL_FILE_NAME))
        write_environment(
            self.path, default_requirements, conda_env, pip_requirements, extra_pip_requirements
        )


def copy_into(source: str, directory: str) -> str:
    """Copy a file or a directory into ``directory`` (created if needed) under its own name,
    and return that name."""
    name = os.path.basename(os.path.normpath(source))
    os.makedirs(directory, exist_ok=True)
    target = os.path.join(directory, name)
    if os.path.isdir(source):
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)
    return name


def _prepare_model_dir(path: str) -> str:
    """Create the model directory; it must not exist already with content, as in MLflow."""
    path = os.path.abspath(os.fspath(path))
    if os.path.isdir(path) and os.listdir(path):
        raise MlflowException(
            f"Path '{path}' already exists and is not empty", INVALID_PARAMETER_VALUE
        )
    os.makedirs(path, exist_ok=True)
    return path


def _copy_code_paths(code_paths: list[str] | None, path: str) -> str | None:
    """Copy user code into ``<model>/code`` (added to sys.path when loading)."""
    if not code_paths:
        return None
    for code_path in code_paths:
        copy_into(code_path, os.path.join(path, "code"))
    return "code"


def _save_example_and_signature(
    path: str,
    mlflow_model: Model,
    input_example: Any,
    signature: ModelSignature | bool | None,
    predict: Callable[[Any], Any] | None,
) -> Example | None:
    example = Example(input_example) if input_example is not None else None
    if example is not None:
        example.save(path)
        mlflow_model.saved_input_example_info = example.info
    if signature is None and example is not None:
        signature = _signature_from_example(example, predict)
    if isinstance(signature, ModelSignature):
        mlflow_model.signature = signature
    return example


def _signature_from_example(
    example: Example, predict: Callable[[Any], Any] | None
) -> ModelSignature | None:
    from tracklet.types.utils import infer_param_schema, infer_schema

    try:
        inputs = infer_schema(example.inference_data)
        params = infer_param_schema(example.inference_params) if example.inference_params else None
    except Exception as e:  # an example MLflow cannot type is stored without a signature
        _logger.warning("Failed to infer a model signature from the input example: %s", e)
        return None
    outputs = None
    if predict is not None:
        try:
            prediction = predict(example.inference_data)
            import numpy as np
            import pandas as pd

            # Row-wise predictions of column inputs are a column (MLflow's rule).
            if (
                not inputs.is_tensor_spec()
                and isinstance(prediction, np.ndarray)
                and prediction.ndim == 1
            ):
                prediction = pd.Series(prediction)
            outputs = infer_schema(prediction)
        except Exception as e:
            _logger.warning("Failed to infer the model's output schema: %s", e)
    return ModelSignature(inputs, outputs, params)


def _total_size(path: str) -> int:
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(path)
        for name in names
    )


def fully_qualified_class_name(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__name__}"


# ---------------------------------------------------------------------- loading


def download_model(model_uri: str, dst_path: str | None = None) -> str:
    """The local directory of a model: local paths as they are, anything else
    (``runs:/``, ``models:/``, ``s3://``, ...) downloaded (or, if already local, resolved)."""
    model_uri = os.fspath(model_uri)
    from tracklet.artifacts.registry import scheme_of

    if scheme_of(model_uri) in ("", "file"):
        from tracklet.artifacts.local import local_path_of

        local = os.path.abspath(local_path_of(model_uri))
        if not os.path.exists(local):
            raise MlflowException(f"No model found at {model_uri!r}", RESOURCE_DOES_NOT_EXIST)
        return local
    from tracklet.artifacts import download_artifacts

    return download_artifacts(artifact_uri=model_uri, dst_path=dst_path)


def flavor_configuration(model: str | Model, flavor_name: str) -> dict[str, Any]:
    """The configuration of ``flavor_name`` in a model's MLmodel (or model directory)."""
    if not isinstance(model, Model):
        model = Model.load(model)
    if flavor_name not in model.flavors:
        raise MlflowException(
            f'Model does not have the "{flavor_name}" flavor', RESOURCE_DOES_NOT_EXIST
        )
    conf: dict[str, Any] = model.flavors[flavor_name]
    return conf


class LocalModel(NamedTuple):
    """A model ready to load: its local directory, its MLmodel and one flavor's configuration."""

    path: str
    meta: Model
    conf: dict[str, Any]


def local_model(model_uri: str, dst_path: str | None, flavor_name: str) -> LocalModel:
    """The model at ``model_uri`` (downloaded if remote), checked to have ``flavor_name``, with
    the code that flavor lists put on ``sys.path``."""
    path = download_model(model_uri, dst_path)
    meta = Model.load(path)
    conf = flavor_configuration(meta, flavor_name)
    add_code_to_system_path(path, conf)
    return LocalModel(path, meta, conf)


def model_dir_of(data_path: str) -> str:
    """The model directory of the path pyfunc hands a flavor's ``_load_pyfunc``: the directory
    itself, or a file in it (the ``data`` file of xgboost and lightgbm, old sklearn models)."""
    return os.path.dirname(data_path) if os.path.isfile(data_path) else data_path


def add_code_to_system_path(model_path: str, conf: dict[str, Any]) -> None:
    import sys

    code = conf.get("code")
    if code:
        code_dir = os.path.join(model_path, code)
        if code_dir not in sys.path:
            sys.path.insert(0, code_dir)


def class_from_string(name: str) -> Any:
    import importlib

    module, _, cls = name.rpartition(".")
    return getattr(importlib.import_module(module), cls)


class PyfuncWrapper:
    """A flavor's ``python_function`` implementation: ``predict`` on the flavor's own model."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def get_raw_model(self) -> Any:
        return self.model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.model.predict(data)
