"""``tracklet import`` of an MLflow 3.17.2 database made here by MLflow, and ``tracklet export``
back into a new MLflow database opened by MLflow: every entity and every history point compared,
idempotence (twice -> no duplicates) and resumption after an interruption."""

from __future__ import annotations

import math
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tests.cli.mlflow_scenario import make_mlflow_store

from tracklet.cli import main
from tracklet.tracking.client import MlflowClient


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return make_mlflow_store(tmp_path_factory.mktemp("mlflow"))


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


def test_import_keeps_every_entity_and_point(source: dict[str, Any], store_uri: str) -> None:
    out = run("import", source["uri"], "--to", store_uri).output
    assert "runs" in out
    assert "metric points" in out
    ours = MlflowClient(store_uri)
    assert snapshot(ours, source) == _mlflow_snapshot(source["uri"], source)
    import mlflow

    theirs = mlflow.MlflowClient(source["uri"])
    for run_id in source["runs"][:4]:  # copied artifacts, same files and contents
        assert _artifacts(ours, run_id) == _artifacts(theirs, run_id)
        assert _artifacts(ours, run_id) != {}
    model = ours.get_logged_model(source["model_id"])
    assert Path(model.artifact_location, "MLmodel").read_text() == "flavors: {}\n"


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


def test_import_twice_adds_nothing(source: dict[str, Any], tmp_path: Path) -> None:
    dest = tmp_path / "twice.db"
    run("import", source["uri"], "--to", f"sqlite:///{dest}", "--keep-artifact-locations")
    first = _row_counts(str(dest))
    again = run("import", source["uri"], "--to", f"sqlite:///{dest}").output
    assert _count(again, "runs already present") == len(source["runs"])
    assert _row_counts(str(dest)) == first
    # Re-referenced artifacts: the runs point at the source's files.
    ours = MlflowClient(f"sqlite:///{dest}")
    assert ours.get_run(source["runs"][0]).info.artifact_uri.startswith(
        str(Path(source["uri"][10:]).parent)
    )


def test_interrupted_import_resumes(
    source: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracklet.transfer import db_import

    clean = tmp_path / "clean.db"
    run("import", source["uri"], "--to", f"sqlite:///{clean}")
    dest = tmp_path / "resumed.db"
    real = db_import._import_run_batch
    calls = []

    def failing(*args: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as if ^C in the middle of the import
        real(*args)

    monkeypatch.setattr(db_import, "_import_run_batch", failing)
    interrupted = CliRunner().invoke(
        main, ["import", source["uri"], "--to", f"sqlite:///{dest}", "--batch-size", "2"]
    )
    assert interrupted.exit_code == 1
    assert "Aborted" in interrupted.output
    partial = _row_counts(str(dest))
    assert 0 < partial["runs"] < len(source["runs"])
    monkeypatch.setattr(db_import, "_import_run_batch", real)
    resumed = run("import", source["uri"], "--to", f"sqlite:///{dest}", "--batch-size", "2").output
    assert _count(resumed, "runs already present") == partial["runs"]
    counts = _row_counts(str(dest))
    assert counts == _row_counts(str(clean))
    assert snapshot(MlflowClient(f"sqlite:///{dest}"), source) == snapshot(
        MlflowClient(f"sqlite:///{clean}"), source
    )


def test_import_with_reader_processes(source: dict[str, Any], tmp_path: Path) -> None:
    """Metric points read by worker processes (big imports) land as when read inline."""
    inline, parallel = tmp_path / "inline.db", tmp_path / "parallel.db"
    run("import", source["uri"], "--to", f"sqlite:///{inline}", "--workers", "0")
    run(
        "import",
        source["uri"],
        "--to",
        f"sqlite:///{parallel}",
        "--batch-size",
        "1",
        "--workers",
        "2",
    )
    assert snapshot(MlflowClient(f"sqlite:///{parallel}"), source) == snapshot(
        MlflowClient(f"sqlite:///{inline}"), source
    )


def test_export_is_opened_by_mlflow(source: dict[str, Any], tmp_path: Path) -> None:
    middle = f"sqlite:///{tmp_path / 'tracklet.db'}"
    run("import", source["uri"], "--to", middle)
    back = tmp_path / "back.db"
    out = run("export", f"sqlite:///{back}", "--from", middle).output
    assert "metric points" in out
    # MLflow opens the file as it is (no migration) and reads back what it wrote at first.
    assert _mlflow_snapshot(f"sqlite:///{back}", source) == _mlflow_snapshot(source["uri"], source)
    first = _row_counts(str(back))
    again = run("export", f"sqlite:///{back}", "--from", middle).output
    assert "runs already present" in again
    assert _row_counts(str(back)) == first


def test_refusals(source: dict[str, Any], tmp_path: Path) -> None:
    ours = f"sqlite:///{tmp_path / 'ours.db'}"
    MlflowClient(ours).create_experiment("other")  # id 1, which the source names exp-0
    clash = run("import", source["uri"], "--to", ours, ok=False).output
    assert "ids are kept" in clash
    assert "Traceback" not in clash
    not_db = run("import", source["uri"], "--to", "http://127.0.0.1:1", ok=False).output
    assert "not a database URI" in not_db
    tracklet_db = run("import", ours, "--to", f"sqlite:///{tmp_path / 'x.db'}", ok=False).output
    assert "is a tracklet database" in tracklet_db
    old = tmp_path / "old-mlflow.db"
    shutil.copy(source["uri"][len("sqlite:///") :], old)
    with sqlite3.connect(old) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '1b5f0d9ad7c1'")
    stale = run("import", f"sqlite:///{old}", "--to", ours, ok=False).output
    assert "mlflow db upgrade" in stale
    assert "1b5f0d9ad7c1" in stale
    missing = run("export", f"sqlite:///{tmp_path / 'nodir' / 'x.db'}", "--from", ours, ok=False)
    assert "directory does not exist" in missing.output
    assert not os.path.exists(tmp_path / "nodir")


def test_import_from_a_running_server(source: dict[str, Any], tmp_path: Path) -> None:
    """The MLflow store served over MLflow's REST protocol (by tracklet's server, which the
    compat suite holds to MLflow's answers; ``mlflow server`` takes too long to start for a
    unit test) and imported from its URL: what MLflow's client reads from the original
    database, tracklet reads from the import (traces need the database)."""
    import socket
    import threading
    import time

    import uvicorn

    from tracklet.server.app import create_app
    from tracklet.server.settings import ServerSettings

    served = f"sqlite:///{tmp_path / 'served.db'}"
    run("import", source["uri"], "--to", served, "--keep-artifact-locations")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = ServerSettings(backend_store_uri=served, artifacts_destination=str(tmp_path / "a"))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        url = f"http://127.0.0.1:{port}"
        dest = f"sqlite:///{tmp_path / 'from-server.db'}"
        out = run("import", url, "--to", dest).output
        assert _count(out, "runs") == len(source["runs"])
        assert snapshot(MlflowClient(dest), source, traces=False) == _mlflow_snapshot(
            source["uri"], source, traces=False
        )
        assert _artifacts(MlflowClient(dest), source["runs"][0]) == {
            "notes/readme.txt": "notes 0 0"
        }
        again = run("import", url, "--to", dest).output
        assert _count(again, "runs already present") == len(source["runs"])
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
