"""Spark MLlib models in MLflow's ``spark`` flavor (``sparkml/``, a ``PipelineModel`` written by
Spark's own persistence, plus ``python_function``), and Spark datasource autologging.

The model is written straight to the local model directory, which is what Spark does in local
mode (a cluster's executors would need a shared filesystem: ``dfs_tmpdir`` is refused).
pyspark is imported only when a model is saved or loaded.
"""

from __future__ import annotations

import os
from typing import Any

from tracklet.exceptions import INVALID_PARAMETER_VALUE, NOT_IMPLEMENTED, MlflowException
from tracklet.models.environment import pinned_requirement
from tracklet.models.flavor import ModelDir, flavor_configuration, local_model, model_dir_of
from tracklet.models.model import Model, ModelInfo

FLAVOR_NAME = "spark"
_SPARK_MODEL_PATH_SUB = "sparkml"

__all__ = [
    "FLAVOR_NAME",
    "autolog",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]


def get_default_pip_requirements() -> list[str]:
    return [pinned_requirement("pyspark")]


def _qualified_name(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__name__}"


def _active_session() -> Any:
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()


def predict_frame(model: Any, data: Any) -> Any:
    """The ``prediction`` column of ``model.transform`` on a pandas DataFrame, as a Series."""
    frame = model.transform(_active_session().createDataFrame(data))
    return frame.select("prediction").toPandas()["prediction"].rename(None)


class _PyFuncModel:
    """pyfunc: a pandas DataFrame in, the model's ``prediction`` column out."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def get_raw_model(self) -> Any:
        return self.model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return predict_frame(self.model, data)


def save_model(
    spark_model: Any,
    path: str,
    mlflow_model: Model | None = None,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    dfs_tmpdir: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Save a Spark MLlib model (a ``Transformer``; wrapped in a ``PipelineModel``) to ``path``.

    Args:
        spark_model: A ``pyspark.ml.Model`` or ``Transformer`` that Spark can persist.
        path: The directory to create.
        dfs_tmpdir: Must be None (tracklet writes in Spark's local mode only).
        signature: The model signature; inferred from ``input_example`` (through the active
            SparkSession) when None and an example is given.
    """
    from pyspark.ml import PipelineModel, Transformer
    from pyspark.ml.util import MLWritable

    if dfs_tmpdir is not None:
        raise MlflowException(
            "dfs_tmpdir is not supported: tracklet saves Spark models in local mode.",
            NOT_IMPLEMENTED,
        )
    if not isinstance(spark_model, Transformer) or not isinstance(spark_model, MLWritable):
        raise MlflowException(
            "Cannot serialize this model. MLflow can only save descendants of "
            "pyspark.ml.Model or pyspark.ml.Transformer that implement MLWritable and "
            "MLReadable.",
            INVALID_PARAMETER_VALUE,
        )
    if not isinstance(spark_model, PipelineModel):
        spark_model = PipelineModel([spark_model])
    target = ModelDir(
        path,
        mlflow_model,
        code_paths,
        input_example,
        signature,
        lambda example: predict_frame(spark_model.copy(), example),
    )
    spark_model.write().overwrite().save(os.path.abspath(target.join(_SPARK_MODEL_PATH_SUB)))
    import pyspark

    target.model.add_flavor(  # MLflow's key order (it shows in the model history tag)
        FLAVOR_NAME,
        pyspark_version=pyspark.__version__,
        model_data=_SPARK_MODEL_PATH_SUB,
        code=target.code,
        model_class=_qualified_name(spark_model),
    )
    target.add_pyfunc_flavor("mlflow.spark", data=_SPARK_MODEL_PATH_SUB)
    target.finish(
        get_default_pip_requirements(),
        conda_env,
        pip_requirements,
        extra_pip_requirements,
        metadata,
    )


def log_model(
    spark_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    dfs_tmpdir: str | None = None,
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
) -> ModelInfo:
    """Log a Spark MLlib model into the active run's artifacts at ``artifact_path`` (or
    ``name``), as MLflow's ``spark.log_model`` does: the run's own artifacts (no logged-model
    entity) and an entry in the run's ``mlflow.log-model.history`` tag; ``runs:/<id>/<path>``
    loads it. A run is started if none is active.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE without a path; NOT_IMPLEMENTED for the
            logged-model arguments (``params``, ``tags``, ``model_type``, ``model_id``,
            ``step``), which a run-artifact model cannot carry.
    """
    import tempfile

    from tracklet.tracking import fluent
    from tracklet.tracking.context import current_client

    path = artifact_path or name
    if not path:
        raise MlflowException.invalid_parameter_value("Specify `name` (or `artifact_path`).")
    unsupported = {"params": params, "tags": tags, "model_type": model_type, "model_id": model_id}
    if given := sorted(k for k, v in unsupported.items() if v) + (["step"] if step else []):
        raise MlflowException(
            f"{given} cannot be set on a Spark model: it is logged as run artifacts, as MLflow "
            "logs it, not as a logged model.",
            NOT_IMPLEMENTED,
        )
    run = fluent.active_run() or fluent.start_run()
    run_id = run.info.run_id
    model = Model(artifact_path=path, run_id=run_id, metadata=metadata)
    client = current_client()
    with tempfile.TemporaryDirectory(prefix="tracklet-spark-") as tmp:
        local = os.path.join(tmp, "model")
        save_model(
            spark_model,
            local,
            mlflow_model=model,
            conda_env=conda_env,
            code_paths=code_paths,
            dfs_tmpdir=dfs_tmpdir,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
        )
        client.log_artifacts(run_id, local, path)
    _record_logged_model(client, run_id, model)
    info = ModelInfo(model)
    if registered_model_name is not None:
        from tracklet.tracking.fluent_registry import register_model

        version = register_model(
            f"runs:/{run_id}/{path}", registered_model_name, await_registration_for
        )
        info.registered_model_version = int(version.version)
    return info


def _record_logged_model(client: Any, run_id: str, model: Model) -> None:
    """Append the model to the run's ``mlflow.log-model.history`` tag (MLflow's entry)."""
    import json

    from tracklet.tracking.system_tags import MLFLOW_LOGGED_MODELS

    conf = model.to_dict()
    keys = ("run_id", "artifact_path", "utc_time_created", "model_uuid")  # MLflow's order
    entry: dict[str, Any] = {k: conf[k] for k in keys if k in conf}
    entry["flavors"] = {
        flavor: {k: v for k, v in c.items() if k != "config"} if isinstance(c, dict) else c
        for flavor, c in conf.get("flavors", {}).items()
    }
    previous = client.get_run(run_id).data.tags.get(MLFLOW_LOGGED_MODELS)
    history = [*json.loads(previous), entry] if previous else [entry]
    client.set_tag(run_id, MLFLOW_LOGGED_MODELS, json.dumps(history))


def _load(model_dir: str, conf: dict[str, Any]) -> Any:
    from pyspark.ml import PipelineModel

    _active_session()
    data = os.path.join(model_dir, conf.get("model_data", _SPARK_MODEL_PATH_SUB))
    return PipelineModel.load(os.path.abspath(data))


def load_model(model_uri: str, dfs_tmpdir: str | None = None, dst_path: str | None = None) -> Any:
    """Load a model logged in the ``spark`` flavor, as a ``PipelineModel``.

    Raises:
        MlflowException: NOT_IMPLEMENTED for ``dfs_tmpdir`` (local mode only).
    """
    if dfs_tmpdir is not None:
        raise MlflowException(
            "dfs_tmpdir is not supported: tracklet loads Spark models in local mode.",
            NOT_IMPLEMENTED,
        )
    model = local_model(model_uri, dst_path, FLAVOR_NAME)
    return _load(model.path, model.conf)


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> _PyFuncModel:
    model_dir = model_dir_of(path)
    if os.path.basename(os.path.normpath(path)) == _SPARK_MODEL_PATH_SUB:
        model_dir = os.path.dirname(os.path.normpath(path))
    return _PyFuncModel(_load(model_dir, flavor_configuration(model_dir, FLAVOR_NAME)))


from tracklet.autolog import register_model_logger  # noqa: E402
from tracklet.spark._autolog import autolog  # noqa: E402

register_model_logger(FLAVOR_NAME, log_model)
