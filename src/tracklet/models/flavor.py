"""What every flavor shares: the model directory, signature from the input example, the
MLmodel and environment files (``save_model``); logging into a logged model
(``log_model``); and finding a model's local directory and flavor configuration (loading)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

from tracklet.env import BoolVar
from tracklet.exceptions import (
    INVALID_PARAMETER_VALUE,
    NOT_IMPLEMENTED,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)
from tracklet.models.environment import write_environment
from tracklet.models.input_example import Example
from tracklet.models.model import MLMODEL_FILE_NAME, Model, ModelInfo
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


def prepare_model_dir(path: str) -> str:
    """Create the model directory; it must not exist already with content, as in MLflow."""
    path = os.path.abspath(os.fspath(path))
    if os.path.isdir(path) and os.listdir(path):
        raise MlflowException(
            f"Path '{path}' already exists and is not empty", INVALID_PARAMETER_VALUE
        )
    os.makedirs(path, exist_ok=True)
    return path


def save_example_and_signature(
    path: str,
    mlflow_model: Model,
    input_example: Any,
    signature: ModelSignature | bool | None,
    predict: Callable[[Any], Any] | None,
) -> Example | None:
    """Save the input example; without a signature, infer one from it (and from ``predict``
    on it, for the outputs, as MLflow does). ``signature=False`` means none."""
    from tracklet.types.utils import infer_param_schema, infer_schema

    example = Example(input_example) if input_example is not None else None
    if example is not None:
        example.save(path)
        mlflow_model.saved_input_example_info = example.info
    if signature is None and example is not None:
        signature = _signature_from_example(example, predict, infer_schema, infer_param_schema)
    if isinstance(signature, ModelSignature):
        mlflow_model.signature = signature
    return example


def _signature_from_example(
    example: Example, predict: Callable[[Any], Any] | None, infer_schema: Any, infer_params: Any
) -> ModelSignature | None:
    try:
        inputs = infer_schema(example.inference_data)
        params = infer_params(example.inference_params) if example.inference_params else None
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


def finish_model_dir(
    path: str,
    mlflow_model: Model,
    default_requirements: list[str],
    conda_env: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Write MLmodel (with the size of what is there so far) and the environment files."""
    if metadata is not None:
        mlflow_model.metadata = metadata
    if size := _total_size(path):
        mlflow_model.model_size_bytes = size
    mlflow_model.save(os.path.join(path, MLMODEL_FILE_NAME))
    write_environment(
        path, default_requirements, conda_env, pip_requirements, extra_pip_requirements
    )


def copy_code_paths(code_paths: list[str] | None, path: str) -> str | None:
    """Copy user code into ``<model>/code`` (added to sys.path when loading)."""
    if not code_paths:
        return None
    code_dir = os.path.join(path, "code")
    os.makedirs(code_dir, exist_ok=True)
    for code_path in code_paths:
        target = os.path.join(code_dir, os.path.basename(os.path.normpath(code_path)))
        if os.path.isdir(code_path):
            shutil.copytree(code_path, target, dirs_exist_ok=True)
        else:
            shutil.copy2(code_path, target)
    return "code"


# ---------------------------------------------------------------------- logging


def no_registry(registered_model_name: str | None) -> None:
    """Refuse ``registered_model_name``: tracklet has no model registry."""
    if registered_model_name is not None:
        raise MlflowException(
            "registered_model_name is not supported: tracklet has no model registry yet.",
            NOT_IMPLEMENTED,
        )


def log_model(
    save_model: Callable[..., None],
    flavor_name: str,
    name: str | None = None,
    artifact_path: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    **save_kwargs: Any,
) -> ModelInfo:
    """Save a model with ``save_model`` and store it as a logged model's artifacts.

    Without ``model_id``, a logged model is created in the active run's experiment (linked to
    the run as an output at ``step``, with the run's params); with one, the artifacts of that
    initialized model are stored. The model ends READY, or FAILED if saving or uploading fails.
    """
    from tracklet.entities import LoggedModelOutput, LoggedModelStatus
    from tracklet.tracking.fluent import _client, active_run
    from tracklet.tracking.fluent_models import create_logged_model_in_context

    if name is not None and artifact_path is not None:
        raise MlflowException.invalid_parameter_value(
            "Both `artifact_path` (deprecated) and `name` parameters were specified. "
            "Please only specify `name`."
        )
    name = name or artifact_path
    client = _client()
    active = active_run()
    run_id = active.info.run_id if active is not None else None
    # Fetched once: its params go to the model, its metrics at ``step`` are linked to it.
    run = client.get_run(run_id) if run_id is not None else None
    if model_id is not None:
        model = client.get_logged_model(model_id)
    else:
        run_params = run.data.params if run is not None else {}
        model = create_logged_model_in_context(
            name=name,
            source_run_id=run_id,
            params={k: str(v) for k, v in {**(params or {}), **run_params}.items()},
            tags={k: str(v) for k, v in (tags or {}).items()} if tags else None,
            model_type=model_type,
        )
    try:
        if run is not None:
            client.log_outputs(run.info.run_id, [LoggedModelOutput(model.model_id, step)])
            _link_step_metrics(client, model.model_id, run, step)
        mlflow_model = Model(
            artifact_path=model.artifact_location,
            run_id=run_id,
            model_uuid=model.model_id,
            model_id=model.model_id,
            metadata=metadata,
        )
        with tempfile.TemporaryDirectory(prefix="tracklet-model-") as tmp:
            local_path = os.path.join(tmp, "model")
            save_model(path=local_path, mlflow_model=mlflow_model, **save_kwargs)
            client.log_model_artifacts(model.model_id, local_path)
    except BaseException:
        client.finalize_logged_model(model.model_id, LoggedModelStatus.FAILED)
        raise
    logged = client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    return ModelInfo(mlflow_model, logged)


def _link_step_metrics(client: Any, model_id: str, run: Any, step: int) -> None:
    """Copy the run's metric points at ``step`` to the model (MLflow does this on log)."""
    from tracklet.entities import Metric

    run_id = run.info.run_id
    linked = []
    for key in run.data.metrics:
        for m in client.get_metric_history(run_id, key):
            if m.step == step and getattr(m, "model_id", None) is None:
                linked.append(
                    Metric(
                        m.key,
                        m.value,
                        m.timestamp,
                        m.step,
                        getattr(m, "dataset_name", None),
                        getattr(m, "dataset_digest", None),
                        model_id,
                        run_id,
                    )
                )
    if linked:
        client.log_batch(run_id, metrics=linked)


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


def flavor_configuration(model_path: str, flavor_name: str) -> dict[str, Any]:
    """The configuration of ``flavor_name`` in the model's MLmodel file."""
    model = Model.load(model_path)
    if flavor_name not in model.flavors:
        raise MlflowException(
            f'Model does not have the "{flavor_name}" flavor', RESOURCE_DOES_NOT_EXIST
        )
    conf: dict[str, Any] = model.flavors[flavor_name]
    return conf


def add_code_to_system_path(model_path: str, conf: dict[str, Any]) -> None:
    import sys

    code = conf.get("code")
    if code:
        code_dir = os.path.join(model_path, code)
        if code_dir not in sys.path:
            sys.path.insert(0, code_dir)


def fully_qualified_class_name(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__name__}"


def class_from_string(name: str) -> Any:
    import importlib

    module, _, cls = name.rpartition(".")
    return getattr(importlib.import_module(module), cls)
