"""PyTorch models in MLflow's ``pytorch`` flavor (plus ``python_function``).

``serialization_format="pt2"`` (MLflow 3.17's default) stores a ``torch.export`` program
(``data/model.pt2``; it needs an input example and a tensor signature); ``"pickle"`` stores the
whole module with ``torch.save`` and cloudpickle (``data/model.pth`` and
``data/pickle_module_info.txt``).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from tracklet.exceptions import MlflowException
from tracklet.models.environment import pinned_requirement
from tracklet.models.flavor import (
    ModelDir,
    PyfuncWrapper,
    check_deserialization_allowed,
    local_model,
)
from tracklet.models.flavor_log import log_flavor_model
from tracklet.models.model import Model, ModelInfo

FLAVOR_NAME = "pytorch"
SERIALIZATION_FORMAT_PICKLE = "pickle"
SERIALIZATION_FORMAT_PT2 = "pt2"
_DATA_DIR = "data"
_PICKLED_FILE = "model.pth"
_EXPORTED_FILE = "model.pt2"
_PICKLE_MODULE_INFO_FILE = "pickle_module_info.txt"
# The name written for tracklet's pickle module: MLflow's module of the same contents, so that
# MLflow loads tracklet's models without tracklet installed.
_PICKLE_MODULE_NAME = "mlflow.pytorch.pickle_module"

__all__ = [
    "FLAVOR_NAME",
    "SERIALIZATION_FORMAT_PICKLE",
    "SERIALIZATION_FORMAT_PT2",
    "autolog",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]


def get_default_pip_requirements() -> list[str]:
    """The pip requirements of a PyTorch model: torch, pinned to the installed version.

    Returns:
        Requirement strings such as ``"torch==2.13.0"``.
    """
    return [pinned_requirement("torch"), pinned_requirement("cloudpickle")]


class _PyTorchWrapper(PyfuncWrapper):
    """pyfunc predict: DataFrame or ndarray in, the module's output tensor as numpy (a
    DataFrame for DataFrame input) out."""

    def __init__(self, pytorch_model: Any, device: str = "cpu") -> None:
        super().__init__(pytorch_model)
        self.device = device

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd
        import torch

        if isinstance(data, pd.DataFrame):
            array = data.to_numpy(dtype=np.float32)
        elif isinstance(data, np.ndarray):
            array = data
        else:
            raise TypeError("Input data should be pandas.DataFrame or numpy.ndarray")
        with torch.no_grad():
            preds = self.model(torch.from_numpy(array).to(self.device), **(params or {}))
        if not isinstance(preds, torch.Tensor):
            raise TypeError(
                "Expected PyTorch model to output a single output tensor, but got output of "
                f"type '{type(preds)}'"
            )
        result = preds.to("cpu").numpy()
        if isinstance(data, pd.DataFrame):
            return pd.DataFrame(result, index=data.index)
        return result


def _export(model: Any, path: str, input_example: Any, signature: Any) -> None:
    import numpy as np
    import torch
    from torch.export import Dim

    example = input_example
    if isinstance(example, np.ndarray | torch.Tensor):
        example = (example,)
    if example is None or not all(isinstance(v, np.ndarray | torch.Tensor) for v in example):
        raise MlflowException(
            "If `serialization_format` is set to 'pt2', then input_example is required. It "
            "must be a numpy array or torch tensor, or a tuple/list of them: 'pt2' traces the "
            "model graph by running model.forward on it. Set serialization_format='pickle' "
            "to save without one."
        )
    if signature is None or signature.inputs is None or not signature.inputs.is_tensor_spec():
        raise MlflowException(
            "If the `serialization_format` argument is set to 'pt2', the input signature must "
            "be specified using `TensorSpec`."
        )
    tensors = tuple(torch.from_numpy(v) if isinstance(v, np.ndarray) else v for v in example)
    dynamic: list[Any] = []
    for spec, _ in zip(signature.inputs.inputs, tensors, strict=True):
        dims = {i: Dim.AUTO for i, size in enumerate(spec.shape) if size == -1}
        dynamic.append(dims or None)
    program = torch.export.export(model, tensors, dynamic_shapes=dynamic)
    torch.export.save(program, path)


def save_model(
    pytorch_model: Any,
    path: str,
    conda_env: Any = None,
    mlflow_model: Model | None = None,
    code_paths: list[str] | None = None,
    pickle_module: Any = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    serialization_format: str | None = None,
    **kwargs: Any,
) -> None:
    """Save a ``torch.nn.Module`` to ``path`` in MLflow's format.

    Args:
        pytorch_model: The module.
        path: The directory to create (it must not exist or be empty).
        pickle_module: For "pickle": the module ``torch.save`` pickles with (cloudpickle).
        serialization_format: "pt2" (default, as MLflow 3.17) or "pickle".
        conda_env, code_paths, mlflow_model, signature, input_example, pip_requirements,
            extra_pip_requirements, metadata: As for ``tracklet.sklearn.save_model``.
        kwargs: Passed to ``torch.save``.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a non-empty ``path`` or an unknown
            serialization format.
    """
    import torch

    fmt = serialization_format or SERIALIZATION_FORMAT_PT2
    if fmt not in (SERIALIZATION_FORMAT_PICKLE, SERIALIZATION_FORMAT_PT2):
        raise MlflowException.invalid_parameter_value(
            "The `serialization_format` param value must be one of 'pickle' or 'pt2'."
        )
    if not isinstance(pytorch_model, torch.nn.Module):
        raise TypeError("Argument 'pytorch_model' should be a torch.nn.Module")
    # A tensor example traces the pt2 program but is not saved (no MLflow example format).
    example = input_example if not isinstance(input_example, torch.Tensor) else None
    target = ModelDir(
        path, mlflow_model, code_paths, example, signature, _PyTorchWrapper(pytorch_model).predict
    )
    data_dir = target.join(_DATA_DIR)
    os.makedirs(data_dir)
    if pickle_module is None:
        from tracklet.pytorch import pickle_module as default_pickle_module

        pickle_module = default_pickle_module
        module_name = _PICKLE_MODULE_NAME
    else:
        module_name = pickle_module.__name__
    if fmt == SERIALIZATION_FORMAT_PT2:
        _export(
            pytorch_model,
            os.path.join(data_dir, _EXPORTED_FILE),
            input_example,
            target.model.signature,
        )
    else:
        with open(os.path.join(data_dir, _PICKLE_MODULE_INFO_FILE), "w") as f:
            f.write(module_name)
        model_file = os.path.join(data_dir, _PICKLED_FILE)
        if isinstance(pytorch_model, torch.jit.ScriptModule):
            torch.jit.save(pytorch_model, model_file)
        else:
            torch.save(pytorch_model, model_file, pickle_module=pickle_module, **kwargs)
    target.add_flavor(FLAVOR_NAME, model_data=_DATA_DIR, pytorch_version=str(torch.__version__))
    target.add_pyfunc_flavor(
        "mlflow.pytorch",
        data=_DATA_DIR,
        pickle_module_name=module_name,
        model_config={"device": None},
    )
    target.finish(
        get_default_pip_requirements(),
        conda_env,
        pip_requirements,
        extra_pip_requirements,
        metadata,
    )


def log_model(
    pytorch_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    pickle_module: Any = None,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    serialization_format: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a PyTorch module as a logged model of the active run (see ``save_model``).

    Args:
        pytorch_model: The module.
        artifact_path: Deprecated alias of ``name``.
        name: The logged model's name.
        model_id: Store the artifacts of this initialized logged model instead of creating
            one.
        params, tags, model_type, step: As for ``tracklet.sklearn.log_model``.
        registered_model_name: Register the logged model as a new version of this
            registered model (created if needed).
        await_registration_for: Seconds to wait for that version to become READY.
        conda_env, code_paths, pickle_module, signature, input_example, pip_requirements,
            extra_pip_requirements, metadata, serialization_format: As for ``save_model``.
        kwargs: Passed to ``torch.save``.

    Returns:
        The ModelInfo; ``model_info.model_uri`` is ``models:/<model_id>``.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for both ``name`` and ``artifact_path``.
    """
    return log_flavor_model(save_model, FLAVOR_NAME, locals())


def _pickle_module(name: str) -> Any:
    if name == _PICKLE_MODULE_NAME:
        from tracklet.pytorch import pickle_module

        return pickle_module
    return importlib.import_module(name)


def _load_data_dir(data_dir: str, device: str | None = None, **load_kwargs: Any) -> Any:
    import torch

    exported = os.path.join(data_dir, _EXPORTED_FILE)
    if os.path.exists(exported):
        return torch.export.load(exported).module()
    check_deserialization_allowed()
    with open(os.path.join(data_dir, _PICKLE_MODULE_INFO_FILE)) as f:
        module = _pickle_module(f.read().strip())
    model_file = os.path.join(data_dir, _PICKLED_FILE)
    # Whole pickled modules need weights_only=False (torch >= 2.6 defaults to True).
    options: dict[str, Any] = {"weights_only": False, "map_location": device, **load_kwargs}
    model = torch.load(model_file, pickle_module=module, **options)
    model.eval()
    return model


def load_model(model_uri: str, dst_path: str | None = None, **kwargs: Any) -> Any:
    """Load a PyTorch module from ``runs:/``, ``models:/``, a local path or an artifact URI.

    Args:
        model_uri: Where the model is, e.g. ``models:/<model_id>``.
        dst_path: A local directory to download the model into; a temporary one if None.
        kwargs: Passed to ``torch.load`` (e.g. ``map_location="cpu"``), as MLflow does.

    Returns:
        The ``torch.nn.Module``.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST for a missing model or one without the
            pytorch flavor.
    """
    model = local_model(model_uri, dst_path, FLAVOR_NAME)
    data_dir = os.path.join(model.path, model.conf.get("model_data", _DATA_DIR))
    return _load_data_dir(data_dir, **kwargs)


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> _PyTorchWrapper:
    """pyfunc loader (``loader_module: mlflow.pytorch``); ``path`` is the ``data`` directory.
    Inference runs on ``model_config["device"]``, or the CPU."""
    device = (model_config or {}).get("device") or "cpu"
    return _PyTorchWrapper(_load_data_dir(path, device), device)


from tracklet.autolog import register_model_logger  # noqa: E402
from tracklet.pytorch._autolog import autolog  # noqa: E402

# The autolog module logs models with this module's log_model (it does not import it back).
register_model_logger(FLAVOR_NAME, log_model)
