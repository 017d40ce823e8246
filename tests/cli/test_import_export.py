"""``tracklet import`` of an MLflow 3.17.2 database made here by MLflow, and ``tracklet export``
back into a new MLflow database opened by MLflow: every entity and every history point compared,
idempotence (twice -> no duplicates) and resumption after an interruption."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.cli.mlflow_scenario import make_mlflow_store
from tests.cli.transfer_checks import (
    _artifacts,
    _count,
    _mlflow_snapshot,
    _row_counts,
    interrupt_at,
    mlflow_server_app,
    run,
    snapshot,
)
from tests.live_server import serving

from tracklet.cli import main
from tracklet.tracking.client import MlflowClient


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return make_mlflow_store(tmp_path_factory.mktemp("mlflow"))


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
    real = interrupt_at(monkeypatch, db_import, "_import_run_batch")
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
    database, tracklet reads from the import, traces with their spans included."""
    from tracklet.server.app import create_app
    from tracklet.server.settings import ServerSettings

    served = f"sqlite:///{tmp_path / 'served.db'}"
    run("import", source["uri"], "--to", served, "--keep-artifact-locations")
    settings = ServerSettings(backend_store_uri=served, artifacts_destination=str(tmp_path / "a"))
    with serving(create_app(settings)) as port:
        url = f"http://127.0.0.1:{port}"
        dest = f"sqlite:///{tmp_path / 'from-server.db'}"
        out = run("import", url, "--to", dest).output
        assert _count(out, "runs") == len(source["runs"])
        assert _count(out, "traces") == 1
        assert snapshot(MlflowClient(dest), source) == _mlflow_snapshot(source["uri"], source)
        assert _artifacts(MlflowClient(dest), source["runs"][0]) == {
            "notes/readme.txt": "notes 0 0"
        }
        again = run("import", url, "--to", dest).output
        assert _count(again, "runs already present") == len(source["runs"])


def _trace_detail(client: Any, trace_id: str) -> dict[str, Any]:
    """A trace's info, tags, metadata and every span field, as a client reads them (the tags
    naming where the spans and artifacts live aside: they differ between stores by design)."""
    trace = client.get_trace(trace_id)
    info = trace.info
    moved = {"mlflow.artifactLocation", "mlflow.trace.spansLocation"}
    return {
        "info": (
            info.trace_id,
            info.experiment_id,
            str(info.state).rpartition(".")[2],
            info.request_time,
            info.execution_duration,
            info.request_preview,
            info.response_preview,
            info.client_request_id,
        ),
        "tags": {k: v for k, v in info.tags.items() if k not in moved},
        "metadata": dict(info.trace_metadata),
        "spans": [
            (
                s.span_id,
                s.parent_id,
                s.name,
                s.start_time_ns,
                s.end_time_ns,
                str(s.status.status_code).rpartition(".")[2],
                s.span_type,
                s.inputs,
                s.outputs,
                dict(s.attributes),
            )
            for s in trace.data.spans
        ],
    }


@pytest.fixture
def mlflows_server(source: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    with mlflow_server_app(source["uri"], str(tmp_path / "mlartifacts")) as url:
        yield url


def test_import_traces_from_mlflows_server(
    source: dict[str, Any], mlflows_server: str, tmp_path: Path
) -> None:
    """Traces read over REST from MLflow's own server (info, tags, metadata, spans) are what
    MLflow's client reads from that server; the rest of the store comes along too."""
    import mlflow

    dest = f"sqlite:///{tmp_path / 'from-mlflow.db'}"
    out = run("import", mlflows_server, "--to", dest, "--keep-artifact-locations").output
    assert _count(out, "traces") == 1
    assert _count(out, "spans") == 1
    ours = MlflowClient(dest)
    theirs = mlflow.MlflowClient(mlflows_server)
    mine = _trace_detail(ours, source["trace_id"])
    assert mine == _trace_detail(theirs, source["trace_id"])
    assert mine["spans"][0][2] == "predict"
    assert mine["spans"][0][7] == {"x": 1}
    assert snapshot(ours, source) == _mlflow_snapshot(source["uri"], source)
    again = run("import", mlflows_server, "--to", dest).output
    assert "traces " not in again  # nothing new
