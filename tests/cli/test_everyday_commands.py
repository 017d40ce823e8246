"""``tracklet runs|experiments|artifacts|gc`` against a SQLite file and against ``tracklet
server`` (one per module, uvicorn in a thread), through click's runner in this process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.live_server import serving

from tracklet.cli import main
from tracklet.tracking.client import MlflowClient


@pytest.fixture(scope="module")
def server_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tracklet.server.app import create_app
    from tracklet.server.settings import ServerSettings

    base = tmp_path_factory.mktemp("server")
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{base / 'server.db'}",
        artifacts_destination=str(base / "mlartifacts"),
    )
    with serving(create_app(settings), lifespan="on") as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "server"])
def uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cli.db'}"
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_uri"))
    return str(request.getfixturevalue("server_uri"))


def run(*args: str, ok: bool = True) -> Result:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code != 0, result.output
    return result


def _experiment_with_runs(uri: str, name: str, count: int) -> tuple[str, list[str]]:
    client = MlflowClient(uri)
    experiment_id = client.create_experiment(name)
    run_ids = []
    for i in range(count):
        created = client.create_run(
            experiment_id, start_time=1_700_000_000_000 + i, run_name=f"r{i}"
        )
        client.log_metric(created.info.run_id, "loss", 1.0 / (i + 1), step=i)
        client.log_param(created.info.run_id, "i", str(i))
        client.set_terminated(created.info.run_id)
        run_ids.append(created.info.run_id)
    return experiment_id, run_ids


def test_runs_list_describe_delete_restore(uri: str) -> None:
    experiment_id, run_ids = _experiment_with_runs(uri, "runs-cli", 3)
    listed = run("runs", "list", "--experiment-id", experiment_id, "--tracking-uri", uri).output
    lines = listed.splitlines()
    assert lines[0].split() == ["Date", "Name", "ID"]
    assert [line.split()[-1] for line in lines[2:]] == run_ids[::-1]  # newest first
    assert [line.split()[-2] for line in lines[2:]] == ["r2", "r1", "r0"]

    as_json = json.loads(
        run("runs", "list", "-x", experiment_id, "--output", "json", "--tracking-uri", uri).output
    )
    assert [r["run_id"] for r in as_json] == run_ids[::-1]
    assert as_json[0]["run_name"] == "r2"
    assert as_json[0]["status"] == "FINISHED"

    described = json.loads(
        run("runs", "describe", "--run-id", run_ids[1], "--tracking-uri", uri).output
    )
    assert described["info"]["run_id"] == run_ids[1]
    assert described["info"]["run_name"] == "r1"
    assert described["data"]["metrics"] == {"loss": 0.5}
    assert described["data"]["params"] == {"i": "1"}
    assert list(described) == ["info", "data", "inputs", "outputs"]

    out = run("runs", "delete", "--run-id", run_ids[0], "--tracking-uri", uri).output
    assert out.strip() == f"Run with ID {run_ids[0]} has been deleted."
    active = run("runs", "list", "-x", experiment_id, "--tracking-uri", uri).output
    assert run_ids[0] not in active
    deleted = run("runs", "list", "-x", experiment_id, "-v", "deleted_only", "--tracking-uri", uri)
    assert run_ids[0] in deleted.output
    assert run_ids[1] not in deleted.output
    run("runs", "restore", "--run-id", run_ids[0], "--tracking-uri", uri)
    assert MlflowClient(uri).get_run(run_ids[0]).info.lifecycle_stage == "active"

    missing = run("runs", "describe", "--run-id", "0" * 32, "--tracking-uri", uri, ok=False)
    assert "RESOURCE_DOES_NOT_EXIST" in missing.output
    assert "Traceback" not in missing.output


def test_runs_list_reads_the_environment(uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    experiment_id, run_ids = _experiment_with_runs(uri, "env-cli", 1)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", experiment_id)
    assert run_ids[0] in run("runs", "list").output


def test_experiments_commands(uri: str, tmp_path: Path) -> None:
    created = run("experiments", "create", "-n", "exp-a", "--tracking-uri", uri).output
    assert created.startswith("Created experiment 'exp-a' with id ")
    experiment_id = created.split()[-1]
    found = json.loads(
        run("experiments", "search", "--output", "json", "--tracking-uri", uri).output
    )
    assert {"exp-a", "Default"} <= {e["name"] for e in found}
    table = run("experiments", "search", "--tracking-uri", uri).output
    assert table.splitlines()[0].split()[:3] == ["Experiment", "Id", "Name"]
    assert "exp-a" in table
    limited = json.loads(
        run(
            "experiments", "search", "--max-results", "1", "--output", "json", "--tracking-uri", uri
        ).output
    )
    assert len(limited) == 1

    renamed = run(
        "experiments", "rename", "-x", experiment_id, "--new-name", "exp-b", "--tracking-uri", uri
    )
    assert (
        renamed.output.strip() == f"Experiment with id {experiment_id} has been renamed to 'exp-b'."
    )
    assert MlflowClient(uri).get_experiment(experiment_id).name == "exp-b"

    run("experiments", "delete", "-x", experiment_id, "--tracking-uri", uri)
    deleted = json.loads(
        run(
            "experiments", "search", "-v", "deleted_only", "--output", "json", "--tracking-uri", uri
        ).output
    )
    assert [e["experiment_id"] for e in deleted] == [experiment_id]
    run("experiments", "restore", "-x", experiment_id, "--tracking-uri", uri)
    assert MlflowClient(uri).get_experiment(experiment_id).lifecycle_stage == "active"

    duplicate = run("experiments", "create", "-n", "exp-b", "--tracking-uri", uri, ok=False)
    assert "RESOURCE_ALREADY_EXISTS" in duplicate.output


def test_experiments_csv(uri: str, tmp_path: Path) -> None:
    experiment_id, run_ids = _experiment_with_runs(uri, "csv-cli", 2)
    printed = run("experiments", "csv", "-x", experiment_id, "--tracking-uri", uri).output
    header, *rows = [line for line in printed.splitlines() if line]
    assert header.startswith("run_id,experiment_id,status,artifact_uri,start_time,end_time")
    assert "metrics.loss" in header
    assert "params.i" in header
    assert {row.split(",")[0] for row in rows} == set(run_ids)
    target = tmp_path / "runs.csv"
    out = run("experiments", "csv", "-x", experiment_id, "-o", str(target), "--tracking-uri", uri)
    assert str(target) in out.output
    assert target.read_text().splitlines()[0] == header


def test_artifacts_commands(uri: str, tmp_path: Path) -> None:
    _, run_ids = _experiment_with_runs(uri, "artifacts-cli", 1)
    run_id = run_ids[0]
    local = tmp_path / "notes.txt"
    local.write_text("hello")
    logged = run(
        "artifacts",
        "log-artifact",
        "-l",
        str(local),
        "-r",
        run_id,
        "-a",
        "docs",
        "--tracking-uri",
        uri,
    )
    assert "artifact_path=docs" in logged.output
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    (tree / "sub" / "b.txt").write_text("bb")
    run(
        "artifacts",
        "log-artifacts",
        "-l",
        str(tree),
        "-r",
        run_id,
        "-a",
        "t",
        "--tracking-uri",
        uri,
    )

    root = json.loads(run("artifacts", "list", "-r", run_id, "--tracking-uri", uri).output)
    assert root == [{"path": "docs", "is_dir": True}, {"path": "t", "is_dir": True}]
    docs = json.loads(
        run("artifacts", "list", "-r", run_id, "-a", "docs", "--tracking-uri", uri).output
    )
    assert docs == [{"path": "docs/notes.txt", "is_dir": False, "file_size": 5}]
    listed = run(
        "artifacts", "list", "-r", run_id, "-a", "t", "--output", "table", "--tracking-uri", uri
    )
    assert "t/a.txt" in listed.output
    assert "t/sub" in listed.output

    dst = tmp_path / "down"
    out = run("artifacts", "download", "-r", run_id, "-d", str(dst), "--tracking-uri", uri).output
    assert out.strip() == str(dst)
    assert (dst / "docs" / "notes.txt").read_text() == "hello"
    assert (dst / "t" / "sub" / "b.txt").read_text() == "bb"
    one = run(
        "artifacts",
        "download",
        "-u",
        f"runs:/{run_id}/t/a.txt",
        "-d",
        str(tmp_path / "one"),
        "--tracking-uri",
        uri,
    ).output
    assert Path(one.strip()).read_text() == "a"
    assert run("artifacts", "download", "--tracking-uri", uri, ok=False).exit_code == 2


def test_gc_removes_deleted_runs_and_experiments(store_uri: str) -> None:
    uri = store_uri  # SQLite and PostgreSQL
    client = MlflowClient(uri)
    experiment_id, run_ids = _experiment_with_runs(uri, "gc-cli", 3)
    local = Path("f.txt")
    local.write_text("x")
    client.log_artifact(run_ids[0], str(local))
    artifact_dir = Path(client.get_run(run_ids[0]).info.artifact_uri or "")
    assert (artifact_dir / "f.txt").exists()

    # Not deleted yet: refused with MLflow's message, nothing removed.
    refused = run("gc", "--run-ids", run_ids[0], "--tracking-uri", uri, ok=False)
    assert "is not in `deleted` lifecycle stage" in refused.output
    client.delete_run(run_ids[0])
    young = run(
        "gc", "--run-ids", run_ids[0], "--older-than", "1d", "--tracking-uri", uri, ok=False
    )
    assert "is not older than the required age" in young.output
    assert run("gc", "--older-than", "1d", "--tracking-uri", uri).output == ""
    bad_age = run("gc", "--older-than", "soon", "--tracking-uri", uri, ok=False)
    assert "Could not parse any time information from 'soon'" in bad_age.output

    out = run("gc", "--tracking-uri", uri).output
    assert out.strip() == f"Run with ID {run_ids[0]} has been permanently deleted."
    assert not (artifact_dir / "f.txt").exists()
    missing = run("runs", "describe", "--run-id", run_ids[0], "--tracking-uri", uri, ok=False)
    assert "RESOURCE_DOES_NOT_EXIST" in missing.output

    other_id, other_runs = _experiment_with_runs(uri, "gc-keep", 1)
    client.delete_experiment(experiment_id)
    active = run("gc", "--experiment-ids", other_id, "--tracking-uri", uri, ok=False)
    assert f"Experiments ['{other_id}'] are not in the deleted lifecycle stage" in active.output
    out = run("gc", "--experiment-ids", experiment_id, "--backend-store-uri", uri).output
    assert f"Experiment with ID {experiment_id} has been permanently deleted." in out
    for run_id in run_ids[1:]:
        assert f"Run with ID {run_id} has been permanently deleted." in out
    names = {e.name for e in client.search_experiments(view_type=3)}
    assert names == {"Default", "gc-keep"}
    assert client.get_run(other_runs[0]).info.lifecycle_stage == "active"


def test_gc_refuses_a_server_uri(server_uri: str) -> None:
    refused = run("gc", "--tracking-uri", server_uri, ok=False)
    assert "--backend-store-uri" in refused.output


def test_runs_list_reads_sqlite_directly_as_the_store_does(tmp_path: Path) -> None:
    """``runs list`` on a SQLite file skips SQLAlchemy (start-up time); its rows are the
    store's, in every view, after renames through the tag and through update_run."""
    from tracklet.cli.runs import _sqlite_rows, _store_rows

    uri = f"sqlite:///{tmp_path / 'fast.db'}"
    experiment_id, run_ids = _experiment_with_runs(uri, "fast", 4)
    client = MlflowClient(uri)
    client.set_tag(run_ids[0], "mlflow.runName", "renamed-by-tag")
    client.update_run(run_ids[1], name="renamed-by-update")
    client.delete_run(run_ids[2])
    for view in ("active_only", "deleted_only", "all"):
        fast = _sqlite_rows(uri, experiment_id, view)
        assert fast is not None
        assert sorted(fast) == sorted(_store_rows(uri, experiment_id, view))
    names = {r[2]: r[1] for r in _sqlite_rows(uri, experiment_id, "all") or []}
    assert names[run_ids[0]] == "renamed-by-tag"
    assert names[run_ids[1]] == "renamed-by-update"
    assert _sqlite_rows(f"sqlite:///{tmp_path / 'missing.db'}", experiment_id, "all") is None
    assert _sqlite_rows(uri, "abc", "all") is None
