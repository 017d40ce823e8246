"""What the import and export tests compare: everything an MLflow-compatible client reads back
from a store (``snapshot``), the artifacts of a run, the counts of an import's summary and of a
SQLite file's rows."""

from __future__ import annotations

import math
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tracklet.cli import main


def run(*args: str, ok: bool = True) -> Result:
    result = CliRunner().invoke(main, list(args), catch_exceptions=not ok)
    assert (result.exit_code == 0) is ok, result.output
    return result


def _value(v: float) -> Any:
    return "nan" if isinstance(v, float) and math.isnan(v) else v


def snapshot(client: Any, made: dict[str, Any], traces: bool = True) -> dict[str, Any]:
    """Everything an MLflow-compatible client reads back, normalised for comparison (artifact
    locations aside: they move when artifacts are copied)."""
    experiments = {
        e.experiment_id: (
            e.name,
            e.lifecycle_stage,
            dict(e.tags),
            e.creation_time,
            e.last_update_time,
        )
        for e in client.search_experiments(view_type=3)
        if e.experiment_id != "0"
    }
    runs = {}
    for run in client.search_runs(made["experiments"], run_view_type=3, max_results=1000):
        info = run.info
        histories = {
            key: sorted(
                (m.step, m.timestamp, _value(m.value))
                for m in client.get_metric_history(info.run_id, key)
            )
            for key in run.data.metrics
        }
        runs[info.run_id] = {
            "info": (
                info.experiment_id,
                info.run_name,
                info.user_id,
                info.status,
                info.start_time,
                info.end_time,
                info.lifecycle_stage,
            ),
            "metrics": {k: _value(v) for k, v in run.data.metrics.items()},
            "params": dict(run.data.params),
            "tags": dict(run.data.tags),
            "histories": histories,
            "datasets": sorted(
                (
                    d.dataset.name,
                    d.dataset.digest,
                    d.dataset.source_type,
                    d.dataset.source,
                    d.dataset.schema,
                    d.dataset.profile,
                    sorted((t.key, t.value) for t in d.tags),
                )
                for d in run.inputs.dataset_inputs
            ),
            "outputs": sorted((o.model_id, o.step) for o in run.outputs.model_outputs),
        }
    models = {
        m.model_id: (
            m.name,
            str(m.status).split(".")[-1].upper(),
            m.source_run_id,
            m.experiment_id,
            dict(m.params),
            dict(m.tags),
            sorted((x.key, x.value, x.step, x.run_id) for x in m.metrics or []),
            m.creation_timestamp,
        )
        for m in client.search_logged_models(made["experiments"])
    }
    registered = client.get_registered_model("reg")
    version = client.get_model_version("reg", "1")
    registry = (
        registered.name,
        registered.description,
        dict(registered.tags),
        {k: str(v) for k, v in registered.aliases.items()},  # tracklet says "1" where MLflow says 1
        version.source,
        version.run_id,
        dict(version.tags),
        version.status,
        version.current_stage,
        version.creation_timestamp,
    )
    if not traces:
        return {"experiments": experiments, "runs": runs, "models": models, "registry": registry}
    trace = client.get_trace(made["trace_id"])
    trace_view = (
        trace.info.trace_id,
        str(trace.info.state),
        trace.info.request_time,
        trace.info.execution_duration,
        [s.name for s in trace.data.spans],
        [s.inputs for s in trace.data.spans],
        [s.outputs for s in trace.data.spans],
    )
    return {
        "experiments": experiments,
        "runs": runs,
        "models": models,
        "registry": registry,
        "traces": trace_view,
    }


def _artifacts(client: Any, run_id: str) -> dict[str, str]:
    files = {}
    pending = [None]
    while pending:
        for info in client.list_artifacts(run_id, pending.pop()):
            if info.is_dir:
                pending.append(info.path)
            else:
                files[info.path] = Path(client.download_artifacts(run_id, info.path)).read_text()
    return files


def _mlflow_snapshot(uri: str, made: dict[str, Any], traces: bool = True) -> dict[str, Any]:
    import mlflow

    mlflow.set_tracking_uri(uri)
    try:
        return snapshot(mlflow.MlflowClient(uri), made, traces)
    finally:
        mlflow.set_tracking_uri(None)


def _count(summary: str, what: str) -> int:
    """A count from the import's summary table."""
    line = next(line for line in summary.splitlines() if line.startswith(what + " "))
    return int(line.split()[-1])


def _row_counts(db_path: str) -> dict[str, int]:
    connection = sqlite3.connect(db_path)
    try:
        names = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {n: connection.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        connection.close()


def interrupt_at(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, call: int = 2) -> Any:
    """Make ``module.name`` (a batch writer) raise KeyboardInterrupt at its ``call``-th call,
    as ^C in the middle of an import would; returns the real function, to put back."""
    real = getattr(module, name)
    calls = []

    def failing(*args: Any) -> None:
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt
        real(*args)

    monkeypatch.setattr(module, name, failing)
    return real


@contextmanager
def mlflow_server_app(store_uri: str, artifact_root: str) -> Iterator[str]:
    """MLflow 3.17.2's own tracking server app (what ``mlflow server`` serves: its Flask
    handlers) on ``store_uri``, in a thread; yields its URL. ``mlflow server`` as a process
    takes 15 s to start on an idle machine and a minute on a busy one."""
    import threading

    import mlflow
    from mlflow.server import app, handlers
    from werkzeug.serving import make_server

    saved = dict(os.environ)
    os.environ["_MLFLOW_SERVER_FILE_STORE"] = store_uri
    os.environ["_MLFLOW_SERVER_ARTIFACT_ROOT"] = artifact_root
    handlers._tracking_store = handlers._model_registry_store = None
    # Opened now, not at the first request: opening sets MLflow's tracking and registry URIs
    # (globals and environment), taken back here before the test reads its own stores.
    handlers._get_tracking_store()
    handlers._get_model_registry_store()
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)
    os.environ.clear()
    os.environ.update(saved)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        handlers._tracking_store = handlers._model_registry_store = None
