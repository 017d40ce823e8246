"""tracklet: a fast experiment tracker with MLflow's Tracking API.

Code written for ``mlflow`` runs after ``import tracklet as mlflow``::

    import tracklet as mlflow

    with mlflow.start_run(run_name="baseline"):
        mlflow.log_param("lr", 0.01)
        for epoch in range(10):
            mlflow.log_metric("loss", 1.0 / (epoch + 1), step=epoch)

Heavy dependencies (SQLAlchemy, httpx, pandas) are imported on first use, not here.
"""

from typing import TYPE_CHECKING

from tracklet import entities
from tracklet.autolog import autolog
from tracklet.entities import RunStatus, ViewType
from tracklet.exceptions import MlflowException, TrackletException
from tracklet.system_metrics import (
    disable_system_metrics_logging,
    enable_system_metrics_logging,
    set_system_metrics_node_id,
    set_system_metrics_samples_before_logging,
    set_system_metrics_sampling_interval,
)
from tracklet.tracking.async_logging import RunOperations
from tracklet.tracking.client import MlflowClient
from tracklet.tracking.fluent import (
    ActiveRun,
    active_run,
    create_experiment,
    delete_experiment,
    delete_experiment_tag,
    delete_run,
    delete_tag,
    end_run,
    flush_async_logging,
    get_experiment,
    get_experiment_by_name,
    get_parent_run,
    get_run,
    get_tracking_uri,
    last_active_run,
    log_input,
    log_inputs,
    log_metric,
    log_metrics,
    log_outputs,
    log_param,
    log_params,
    rename_experiment,
    restore_experiment,
    restore_run,
    search_experiments,
    search_runs,
    set_experiment,
    set_experiment_tag,
    set_experiment_tags,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)
from tracklet.tracking.fluent_artifacts import (
    get_artifact_uri,
    load_table,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_table,
    log_text,
)
from tracklet.version import TRACKLET_VERSION as TRACKLET_VERSION
from tracklet.version import VERSION

# MLflow-checking code reads __version__ to pick code paths: it is the MLflow API version
# tracklet implements; tracklet's own release is TRACKLET_VERSION (README, "Versions").
__version__ = VERSION

# Submodules MLflow users reach as attributes (``mlflow.sklearn.log_model``); imported on first
# access so that ``import tracklet`` stays light.
_LAZY_SUBMODULES = frozenset(
    {
        "artifacts",
        "data",
        "keras",
        "lightgbm",
        "models",
        "pyfunc",
        "pyspark",
        "pytorch",
        "sklearn",
        "spark",
        "tracing",
        "tracking",
        "types",
        "xgboost",
    }
)


# Functions (and ActiveModel) whose module is imported on first use, not here: tracing
# (``mlflow.trace``...), logged models and the model registry.
_LAZY_FUNCTIONS = {
    **dict.fromkeys(
        (
            "delete_trace_tag",
            "flush_trace_async_logging",
            "get_active_trace_id",
            "get_current_active_span",
            "get_last_active_trace_id",
            "get_trace",
            "search_traces",
            "set_trace_tag",
            "start_span",
            "start_span_no_context",
            "trace",
            "update_current_trace",
        ),
        "tracklet.tracing",
    ),
    **dict.fromkeys(
        (
            "ActiveModel",
            "clear_active_model",
            "create_external_model",
            "delete_logged_model_tag",
            "finalize_logged_model",
            "get_active_model_id",
            "get_logged_model",
            "initialize_logged_model",
            "last_logged_model",
            "log_model_params",
            "search_logged_models",
            "set_active_model",
            "set_logged_model_tags",
        ),
        "tracklet.tracking.fluent_models",
    ),
    **dict.fromkeys(
        ("register_model", "search_model_versions", "search_registered_models"),
        "tracklet.tracking.fluent_registry",
    ),
}


if TYPE_CHECKING:  # what the lazy attributes are, for type checkers and editors
    from tracklet import artifacts as artifacts
    from tracklet import data as data
    from tracklet import keras as keras
    from tracklet import lightgbm as lightgbm
    from tracklet import models as models
    from tracklet import pyfunc as pyfunc
    from tracklet import pyspark as pyspark
    from tracklet import pytorch as pytorch
    from tracklet import sklearn as sklearn
    from tracklet import spark as spark
    from tracklet import tracing as tracing
    from tracklet import tracking as tracking
    from tracklet import types as types
    from tracklet import xgboost as xgboost
    from tracklet.models.evaluation import evaluate as evaluate
    from tracklet.tracing import (
        delete_trace_tag,
        flush_trace_async_logging,
        get_active_trace_id,
        get_current_active_span,
        get_last_active_trace_id,
        get_trace,
        search_traces,
        set_trace_tag,
        start_span,
        start_span_no_context,
        trace,
        update_current_trace,
    )
    from tracklet.tracking.fluent_models import (
        ActiveModel,
        clear_active_model,
        create_external_model,
        delete_logged_model_tag,
        finalize_logged_model,
        get_active_model_id,
        get_logged_model,
        initialize_logged_model,
        last_logged_model,
        log_model_params,
        search_logged_models,
        set_active_model,
        set_logged_model_tags,
    )
    from tracklet.tracking.fluent_registry import (
        register_model,
        search_model_versions,
        search_registered_models,
    )


def __getattr__(name: str) -> object:
    if name == "evaluate":  # mlflow.evaluate: the models' evaluation API, loaded on first use
        from tracklet.models.evaluation import evaluate

        return evaluate
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"tracklet.{name}")
    module = _LAZY_FUNCTIONS.get(name)
    if module is not None:
        from tracklet._lazy import load_export

        return load_export(globals(), module, name)
    raise AttributeError(f"module 'tracklet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "ActiveModel",
    "ActiveRun",
    "MlflowClient",
    "MlflowException",
    "RunOperations",
    "RunStatus",
    "TrackletException",
    "ViewType",
    "__version__",
    "active_run",
    "autolog",
    "clear_active_model",
    "create_experiment",
    "create_external_model",
    "delete_experiment",
    "delete_experiment_tag",
    "delete_logged_model_tag",
    "delete_run",
    "delete_tag",
    "delete_trace_tag",
    "disable_system_metrics_logging",
    "enable_system_metrics_logging",
    "end_run",
    "entities",
    "evaluate",
    "finalize_logged_model",
    "flush_async_logging",
    "flush_trace_async_logging",
    "get_active_model_id",
    "get_active_trace_id",
    "get_artifact_uri",
    "get_current_active_span",
    "get_experiment",
    "get_experiment_by_name",
    "get_last_active_trace_id",
    "get_logged_model",
    "get_parent_run",
    "get_run",
    "get_trace",
    "get_tracking_uri",
    "initialize_logged_model",
    "last_active_run",
    "last_logged_model",
    "load_table",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_inputs",
    "log_metric",
    "log_metrics",
    "log_model_params",
    "log_outputs",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "register_model",
    "rename_experiment",
    "restore_experiment",
    "restore_run",
    "search_experiments",
    "search_logged_models",
    "search_model_versions",
    "search_registered_models",
    "search_runs",
    "search_traces",
    "set_active_model",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_logged_model_tags",
    "set_system_metrics_node_id",
    "set_system_metrics_samples_before_logging",
    "set_system_metrics_sampling_interval",
    "set_tag",
    "set_tags",
    "set_trace_tag",
    "set_tracking_uri",
    "start_run",
    "start_span",
    "start_span_no_context",
    "trace",
    "tracing",
    "update_current_trace",
]
