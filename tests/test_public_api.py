"""tracklet's public surface: MLflow's names, a pinned sorted __all__, and a light import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import tracklet

# Names of MLflow's top-level tracking API (TRACKING-API.md) that tracklet provides.
MLFLOW_NAMES = [
    "ActiveRun",
    "MlflowClient",
    "MlflowException",
    "active_run",
    "clear_active_model",
    "create_experiment",
    "delete_experiment",
    "delete_logged_model_tag",
    "delete_run",
    "delete_tag",
    "end_run",
    "finalize_logged_model",
    "flush_async_logging",
    "get_active_model_id",
    "get_experiment",
    "get_experiment_by_name",
    "get_logged_model",
    "get_parent_run",
    "get_run",
    "get_tracking_uri",
    "initialize_logged_model",
    "last_active_run",
    "last_logged_model",
    "log_input",
    "log_inputs",
    "log_metric",
    "log_metrics",
    "log_model_params",
    "log_outputs",
    "log_param",
    "log_params",
    "search_experiments",
    "search_logged_models",
    "set_active_model",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_logged_model_tags",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]


def test_mlflow_names_exist() -> None:
    missing = [name for name in MLFLOW_NAMES if not hasattr(tracklet, name)]
    assert missing == []


def test_all_is_sorted_and_complete() -> None:
    exported = list(tracklet.__all__)
    assert exported == sorted(exported)
    assert set(MLFLOW_NAMES) <= set(exported)
    assert all(hasattr(tracklet, name) for name in exported)


def test_entities_module_names() -> None:
    from tracklet import entities

    for name in [
        "Experiment", "ExperimentTag", "Run", "RunInfo", "RunData", "RunInputs", "RunStatus",
        "Metric", "Param", "RunTag", "Dataset", "DatasetInput", "InputTag", "LifecycleStage",
        "ViewType", "SourceType", "LoggedModel", "LoggedModelStatus", "LoggedModelInput",
        "LoggedModelOutput",
    ]:  # fmt: skip
        assert hasattr(entities, name), name
    assert entities.__all__ == sorted(entities.__all__)


def test_import_is_light() -> None:
    # Heavy dependencies load on first use, not at ``import tracklet`` (issue 2 target).
    code = "import sys, tracklet; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    heavy = {"sqlalchemy", "alembic", "pandas", "numpy", "httpx", "starlette", "uvicorn", "mlflow"}
    assert loaded & heavy == set()


def test_import_leaves_tracing_registry_logged_models_and_monitor_unloaded() -> None:
    # Their entities, fluent modules and the monitor load on first use (issue 11 target): names
    # stay reachable, each loading its module when first read.
    code = (
        "import sys, tracklet; tracklet.autolog();"
        " before = sorted(m for m in sys.modules if m in sys.argv[1:]);"
        " from tracklet.entities import SpanType;"
        " print(before, SpanType.LLM, tracklet.entities.Trace.__module__,"
        " tracklet.register_model.__module__, tracklet.ActiveModel.__module__)"
    )
    lazy = [
        "tracklet.entities.model_registry",
        "tracklet.entities.span",
        "tracklet.entities.trace",
        "tracklet.store.models_uri",
        "tracklet.system_metrics.monitor",
        "tracklet.tracing",
        "tracklet.tracking.fluent_models",
        "tracklet.tracking.fluent_registry",
    ]
    done = subprocess.run(
        [sys.executable, "-c", code, *lazy], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == [
        "[]",
        "LLM",
        "tracklet.entities.trace",
        "tracklet.tracking.fluent_registry",
        "tracklet.tracking.fluent_models",
    ]


def test_lazy_names_are_listed_and_unknown_names_raise() -> None:
    from tracklet import entities

    assert {"Span", "Trace", "TraceInfo"} <= set(dir(entities))
    assert {"register_model", "ActiveModel", "trace"} <= set(dir(tracklet))
    for module in (tracklet, entities):
        with pytest.raises(AttributeError, match="no_such_name"):
            getattr(module, "no_such_name")  # noqa: B009


def test_a_sqlite_store_does_not_load_the_postgresql_dialect(tmp_path: Path) -> None:
    # ~50 ms of each process's start-up; eight processes starting on one file pay it eight
    # times (issue 16). Only PostgreSQL stores import it, when they first build a statement.
    code = (
        "import sys, tracklet; client = tracklet.MlflowClient(sys.argv[1]);"
        " run = client.create_run('0'); client.log_param(run.info.run_id, 'a', '1');"
        " client.search_runs(['0']);"
        " print(sorted(m for m in sys.modules if m.startswith('sqlalchemy.dialects.postgresql')))"
    )
    uri = f"sqlite:///{tmp_path / 'start.db'}"
    done = subprocess.run(
        [sys.executable, "-c", code, uri], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["[]"]


def test_mlflow_client_aliases() -> None:
    from tracklet.tracking import MlflowClient

    assert MlflowClient is tracklet.MlflowClient
    assert tracklet.exceptions.TrackletException is tracklet.MlflowException
