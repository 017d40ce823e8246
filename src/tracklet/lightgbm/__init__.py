"""LightGBM models in MLflow's ``lightgbm`` flavor: a Booster saved as ``model.lgb`` with
LightGBM's own format; scikit-learn-API models (LGBMClassifier, ...) serialized as in the
sklearn flavor (skops by default); plus ``python_function``."""

from __future__ import annotations

import os
from typing import Any

from tracklet.models.environment import pinned_requirement
from tracklet.models.flavor import (
    ModelDir,
    PyfuncWrapper,
    flavor_configuration,
    fully_qualified_class_name,
    local_model,
    model_dir_of,
)
from tracklet.models.flavor_log import log_flavor_model
from tracklet.models.model import Model, ModelInfo

FLAVOR_NAME = "lightgbm"
_BOOSTER_CLASS = "lightgbm.basic.Booster"
# Types MLflow trusts for LightGBM's scikit-learn models saved with skops.
_SKOPS_TRUSTED_TYPES = {
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
}

__all__ = [
    "FLAVOR_NAME",
    "autolog",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]


def get_default_pip_requirements(
    include_cloudpickle: bool = False, include_skops: bool = False
) -> list[str]:
    """The pip requirements of a LightGBM model: lightgbm (and the serializer of
    scikit-learn-API models) pinned to the installed versions.

    Args:
        include_cloudpickle: Add cloudpickle (for the "cloudpickle" format).
        include_skops: Add skops (for the "skops" format).

    Returns:
        Requirement strings such as ``"lightgbm==4.5.0"``.
    """
    requirements = [pinned_requirement("lightgbm")]
    if include_cloudpickle:
        requirements.append(pinned_requirement("cloudpickle"))
    if include_skops:
        requirements.append(pinned_requirement("skops"))
    return requirements


def save_model(
    lgb_model: Any,
    path: str,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    mlflow_model: Model | None = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
    serialization_format: str | None = None,
    skops_trusted_types: list[str] | None = None,
) -> None:
    """Save a LightGBM Booster or scikit-learn-API model to ``path`` in MLflow's format.

    Args:
        lgb_model: ``lightgbm.Booster`` or an LGBMModel.
        path: The directory to create (it must not exist or be empty).
        serialization_format: For scikit-learn-API models: "skops" (default), "cloudpickle"
            or "pickle". Boosters always use LightGBM's text format.
        skops_trusted_types: Extra types skops may load.
        conda_env, code_paths, mlflow_model, signature, input_example, pip_requirements,
            extra_pip_requirements, metadata: As for ``tracklet.sklearn.save_model``.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a non-empty ``path`` or an unknown
            serialization format.
    """
    import lightgbm as lgb

    from tracklet.sklearn import dump_model

    serialization_format = serialization_format or "skops"
    target = ModelDir(
        path, mlflow_model, code_paths, input_example, signature, PyfuncWrapper(lgb_model).predict
    )
    is_booster = isinstance(lgb_model, lgb.Booster)
    if is_booster:
        data_file = "model.lgb"
    else:
        data_file = "model.skops" if serialization_format == "skops" else "model.pkl"
    if serialization_format == "skops":
        skops_trusted_types = sorted(_SKOPS_TRUSTED_TYPES.union(skops_trusted_types or ()))
    if is_booster:
        lgb_model.save_model(target.join(data_file))
    else:
        dump_model(lgb_model, target.join(data_file), serialization_format, skops_trusted_types)
    target.add_pyfunc_flavor("mlflow.lightgbm", data=data_file)
    target.add_flavor(
        FLAVOR_NAME,
        lgb_version=lgb.__version__,
        data=data_file,
        model_class=fully_qualified_class_name(lgb_model),
        serialization_format=serialization_format,
        skops_trusted_types=skops_trusted_types,
    )
    target.finish(
        get_default_pip_requirements(
            include_cloudpickle=not is_booster and serialization_format == "cloudpickle",
            include_skops=not is_booster and serialization_format == "skops",
        ),
        conda_env,
        pip_requirements,
        extra_pip_requirements,
        metadata,
    )


def log_model(
    lgb_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
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
    skops_trusted_types: list[str] | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a LightGBM model as a logged model of the active run (see ``save_model``).

    Args:
        lgb_model: ``lightgbm.Booster`` or an LGBMModel.
        artifact_path: Deprecated alias of ``name``.
        name: The logged model's name.
        model_id: Store the artifacts of this initialized logged model instead of creating
            one.
        params, tags, model_type, step: As for ``tracklet.sklearn.log_model``.
        registered_model_name: Register the logged model as a new version of this
            registered model (created if needed).
        await_registration_for: Seconds to wait for that version to become READY.
        conda_env, code_paths, signature, input_example, pip_requirements,
            extra_pip_requirements, metadata, serialization_format, skops_trusted_types: As
            for ``save_model``.
        kwargs: Ignored (``save_model`` takes no more arguments).

    Returns:
        The ModelInfo; ``model_info.model_uri`` is ``models:/<model_id>``.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for both ``name`` and ``artifact_path``.
    """
    return log_flavor_model(save_model, FLAVOR_NAME, locals())


def _load(model_dir: str, conf: dict[str, Any]) -> Any:
    data_path = os.path.join(model_dir, conf["data"])
    if conf.get("model_class", _BOOSTER_CLASS) == _BOOSTER_CLASS:
        import lightgbm as lgb

        return lgb.Booster(model_file=data_path)
    from tracklet.sklearn import load_model_file

    return load_model_file(
        data_path,
        conf.get("serialization_format", "cloudpickle"),
        conf.get("skops_trusted_types"),
    )


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """Load a LightGBM model (a Booster, or the scikit-learn-API model it was saved as).

    Args:
        model_uri: Where the model is, e.g. ``models:/<model_id>``.
        dst_path: A local directory to download the model into; a temporary one if None.

    Returns:
        The ``lightgbm.Booster`` or LGBMModel.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST for a missing model or one without the
            lightgbm flavor.
    """
    model = local_model(model_uri, dst_path, FLAVOR_NAME)
    return _load(model.path, model.conf)


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> PyfuncWrapper:
    """pyfunc loader (``loader_module: mlflow.lightgbm``); ``path`` is the model file."""
    model_dir = model_dir_of(path)
    return PyfuncWrapper(_load(model_dir, flavor_configuration(model_dir, FLAVOR_NAME)))


from tracklet.autolog import register_model_logger  # noqa: E402
from tracklet.lightgbm._autolog import autolog  # noqa: E402

# The autolog module logs models with this module's log_model (it does not import it back).
register_model_logger(FLAVOR_NAME, log_model)
