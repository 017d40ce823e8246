"""scikit-learn models in MLflow's ``sklearn`` flavor (plus ``python_function``).

The estimator is serialized with skops (MLflow 3.17's default, safe to load), pickle or
cloudpickle; the files and MLmodel entries are MLflow's, so either library loads the other's
models. Requirements are the installed scikit-learn and serializer versions.
"""

from __future__ import annotations

import logging
import os
import pickle
from typing import Any

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.models.environment import pinned_requirement
from tracklet.models.flavor import (
    ModelDir,
    PyfuncWrapper,
    check_deserialization_allowed,
    copy_into,
    flavor_configuration,
    local_model,
    model_dir_of,
)
from tracklet.models.flavor_log import log_flavor_model
from tracklet.models.model import Model, ModelInfo

_logger = logging.getLogger(__name__)

FLAVOR_NAME = "sklearn"
SERIALIZATION_FORMAT_SKOPS = "skops"
SERIALIZATION_FORMAT_PICKLE = "pickle"
SERIALIZATION_FORMAT_CLOUDPICKLE = "cloudpickle"
SUPPORTED_SERIALIZATION_FORMATS = [
    SERIALIZATION_FORMAT_SKOPS,
    SERIALIZATION_FORMAT_PICKLE,
    SERIALIZATION_FORMAT_CLOUDPICKLE,
]
_PICKLE_MODEL_FILE = "model.pkl"
_SKOPS_MODEL_FILE = "model.skops"
_PYFUNC_PREDICT_FNS = ("predict_proba", "predict_log_proba", "predict_joint_log_proba", "score")

__all__ = [
    "FLAVOR_NAME",
    "SERIALIZATION_FORMAT_CLOUDPICKLE",
    "SERIALIZATION_FORMAT_PICKLE",
    "SERIALIZATION_FORMAT_SKOPS",
    "autolog",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]


def get_default_pip_requirements(
    include_cloudpickle: bool = False, include_skops: bool = False
) -> list[str]:
    """The pip requirements of a scikit-learn model: scikit-learn (and the serializer) pinned
    to the installed versions.

    Args:
        include_cloudpickle: Add cloudpickle (for the "cloudpickle" format).
        include_skops: Add skops (for the "skops" format).

    Returns:
        Requirement strings such as ``"scikit-learn==1.5.2"``.
    """
    requirements = [pinned_requirement("scikit-learn")]
    if include_cloudpickle:
        requirements.append(pinned_requirement("cloudpickle"))
    if include_skops:
        requirements.append(pinned_requirement("skops"))
    return requirements


def _check_format(serialization_format: str) -> None:
    if serialization_format not in SUPPORTED_SERIALIZATION_FORMATS:
        raise MlflowException(
            f"Unrecognized serialization format: {serialization_format}. Please specify one "
            f"of the following supported formats: {SUPPORTED_SERIALIZATION_FORMATS}.",
            INVALID_PARAMETER_VALUE,
        )


def dump_model(
    model: Any, path: str, serialization_format: str, skops_trusted_types: list[str] | None
) -> None:
    """Serialize ``model`` to ``path``; a skops file is loaded back once, as MLflow does, so
    that types the loader would refuse are reported now rather than at load time."""
    if serialization_format == SERIALIZATION_FORMAT_SKOPS:
        skops_io = _import_serializer("skops.io", "skops")
        from skops.io.exceptions import UntrustedTypesFoundException  # type: ignore[import-untyped]

        try:
            skops_io.dump(model, path)
            skops_io.load(path, trusted=skops_trusted_types)
        except UntrustedTypesFoundException as e:
            os.remove(path)
            raise MlflowException(
                "The saved sklearn model references untrusted types. If you are sure loading "
                "these types is safe, set the 'skops_trusted_types' parameter when calling "
                "'log_model' or 'save_model' to the list of trusted types. "
                f"Root error: {e!s}"
            ) from e
        return
    if serialization_format == SERIALIZATION_FORMAT_CLOUDPICKLE:
        dump: Any = _import_serializer("cloudpickle", "cloudpickle").dump
    else:
        dump = pickle.dump
    with open(path, "wb") as f:
        # The default protocol, for compatibility with older Pythons (as MLflow).
        dump(model, f, protocol=pickle.DEFAULT_PROTOCOL)


def load_model_file(
    path: str, serialization_format: str, skops_trusted_types: list[str] | None = None
) -> Any:
    """Deserialize a model file written by :func:`dump_model` (or by MLflow)."""
    _check_format(serialization_format)
    check_deserialization_allowed()
    if serialization_format == SERIALIZATION_FORMAT_SKOPS:
        return _import_serializer("skops.io", "skops").load(path, trusted=skops_trusted_types)
    with open(path, "rb") as f:
        if serialization_format == SERIALIZATION_FORMAT_CLOUDPICKLE:
            return _import_serializer("cloudpickle", "cloudpickle").load(f)
        return pickle.load(f)


def _import_serializer(module: str, package: str) -> Any:
    """The serializer module, or a clear error saying how to get it (or avoid needing it)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MlflowException(
            f"The sklearn serialization format needs the '{package}' package: install it with "
            f"pip install '{package}' (or pip install 'tracklet[sklearn]'), or pass "
            "serialization_format='pickle'.",
            INVALID_PARAMETER_VALUE,
        ) from None


class _SklearnModelWrapper(PyfuncWrapper):
    """The pyfunc implementation: ``predict`` plus the estimator's other predict functions,
    so that an MLmodel ``predict_fn: predict_proba`` works."""

    def __init__(self, sklearn_model: Any) -> None:
        super().__init__(sklearn_model)
        for name in _PYFUNC_PREDICT_FNS:
            if fn := getattr(sklearn_model, name, None):
                setattr(self, name, fn)


def save_model(
    sk_model: Any,
    path: str,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    mlflow_model: Model | None = None,
    serialization_format: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
    skops_trusted_types: list[str] | None = None,
    extra_files: list[str] | None = None,
) -> None:
    """Save a scikit-learn model to a local directory in MLflow's format.

    Args:
        sk_model: The fitted estimator.
        path: The directory to create (it must not exist or be empty).
        conda_env: A conda environment (dict or YAML path) to write instead of the default.
        code_paths: Local code files or directories to ship with the model.
        mlflow_model: The Model (MLmodel) to add the flavors to.
        serialization_format: "skops" (default, as MLflow 3.17), "cloudpickle" or "pickle".
        signature: The model signature; inferred from ``input_example`` if None; False for
            none.
        input_example: An example input (DataFrame, ndarray, dict, list), saved with the model.
        pip_requirements: Requirements replacing the defaults.
        extra_pip_requirements: Requirements added to the defaults.
        pyfunc_predict_fn: The estimator method pyfunc ``predict`` calls.
        metadata: Free-form metadata stored in MLmodel.
        skops_trusted_types: Types skops may load (e.g. ``sklearn.tree._tree.Tree``).
        extra_files: Files copied into the model directory.
    """
    import sklearn  # type: ignore[import-untyped]

    serialization_format = serialization_format or SERIALIZATION_FORMAT_SKOPS
    _check_format(serialization_format)
    predict = _SklearnModelWrapper(sk_model).predict
    target = ModelDir(path, mlflow_model, code_paths, input_example, signature, predict)
    data_file = (
        _SKOPS_MODEL_FILE
        if serialization_format == SERIALIZATION_FORMAT_SKOPS
        else _PICKLE_MODEL_FILE
    )
    dump_model(sk_model, target.join(data_file), serialization_format, skops_trusted_types)
    extra = _copy_extra_files(extra_files, target)
    if hasattr(sk_model, pyfunc_predict_fn):
        target.add_pyfunc_flavor(
            "mlflow.sklearn", model_path=data_file, predict_fn=pyfunc_predict_fn
        )
    else:
        _logger.warning(
            "Model was missing function: %s. Not logging python_function flavor!",
            pyfunc_predict_fn,
        )
    target.add_flavor(
        FLAVOR_NAME,
        pickled_model=data_file,
        sklearn_version=sklearn.__version__,
        serialization_format=serialization_format,
        skops_trusted_types=skops_trusted_types,
        **extra,
    )
    target.finish(
        get_default_pip_requirements(
            include_cloudpickle=serialization_format == SERIALIZATION_FORMAT_CLOUDPICKLE,
            include_skops=serialization_format == SERIALIZATION_FORMAT_SKOPS,
        ),
        conda_env,
        pip_requirements,
        extra_pip_requirements,
        metadata,
    )


def _copy_extra_files(extra_files: list[str] | None, target: ModelDir) -> dict[str, Any]:
    if not extra_files:
        return {}
    names = [copy_into(extra, target.join("extra_files")) for extra in extra_files]
    return {"extra_files": [{"path": f"extra_files/{name}"} for name in names]}


def log_model(
    sk_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    serialization_format: str | None = None,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
    extra_files: list[str] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    name: str | None = None,
    skops_trusted_types: list[str] | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a scikit-learn model as a logged model of the active run (see ``save_model``).

    Args:
        sk_model: The fitted estimator.
        artifact_path: Deprecated alias of ``name``.
        name: The logged model's name.
        model_id: Store the artifacts of this initialized logged model instead of creating
            one.
        params: Params of the logged model (the active run's params are added).
        tags: Tags of the logged model.
        model_type: The logged model's type.
        step: The step the model is linked to the run at.
        registered_model_name: Register the logged model as a new version of this
            registered model (created if needed).
        await_registration_for: Seconds to wait for that version to become READY.
        conda_env, code_paths, serialization_format, signature, input_example,
            pip_requirements, extra_pip_requirements, pyfunc_predict_fn, metadata,
            extra_files, skops_trusted_types: As for ``save_model``.
        kwargs: Ignored (``save_model`` takes no more arguments).

    Returns:
        The ModelInfo; ``model_info.model_uri`` is ``models:/<model_id>``.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for both ``name`` and ``artifact_path``, or
            an unknown serialization format.

    Example::

        with tracklet.start_run():
            info = tracklet.sklearn.log_model(model, name="model", input_example=X[:5])
    """
    return log_flavor_model(save_model, FLAVOR_NAME, locals())


def _load(model_dir: str, conf: dict[str, Any]) -> Any:
    return load_model_file(
        os.path.join(model_dir, conf["pickled_model"]),
        conf.get("serialization_format", SERIALIZATION_FORMAT_PICKLE),
        conf.get("skops_trusted_types"),
    )


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """Load a scikit-learn model from ``runs:/``, ``models:/``, a local path or an artifact URI.

    Args:
        model_uri: Where the model is, e.g. ``models:/<model_id>`` or ``runs:/<run_id>/model``.
        dst_path: A local directory to download the model into; a temporary one if None.

    Returns:
        The estimator.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST for a missing model or one without the
            sklearn flavor; if pickle loading is disallowed
            (``MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false``).

    Example::

        model = tracklet.sklearn.load_model(model_info.model_uri)
        model.predict(X)
    """
    model = local_model(model_uri, dst_path, FLAVOR_NAME)
    return _load(model.path, model.conf)


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> _SklearnModelWrapper:
    """pyfunc loader (``loader_module: mlflow.sklearn``): ``path`` is the model directory, or
    the model file itself for old models."""
    model_dir = model_dir_of(path)
    return _SklearnModelWrapper(_load(model_dir, flavor_configuration(model_dir, FLAVOR_NAME)))


from tracklet.autolog import register_model_logger  # noqa: E402
from tracklet.sklearn._autolog import autolog  # noqa: E402

# The autolog module logs models with this module's log_model (it does not import it back).
register_model_logger(FLAVOR_NAME, log_model)
