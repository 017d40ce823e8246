"""The fluent API's run semantics: active runs, nesting, resuming, environment, exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tracklet as mlflow
from tracklet.exceptions import MlflowException


def test_start_run_twice_without_nested_is_refused(tracking_uri: str) -> None:
    run = mlflow.start_run()
    with pytest.raises(MlflowException, match=f"Run with UUID {run.info.run_id} is already"):
        mlflow.start_run()
    mlflow.end_run()
    assert mlflow.active_run() is None


def test_exception_in_with_marks_run_failed(tracking_uri: str) -> None:
    with pytest.raises(ZeroDivisionError), mlflow.start_run() as run:
        1 / 0  # noqa: B018
    assert mlflow.get_run(run.info.run_id).info.status == "FAILED"
    assert mlflow.active_run() is None
    assert mlflow.last_active_run().info.run_id == run.info.run_id  # type: ignore[union-attr]


def test_end_run_status_and_times(tracking_uri: str) -> None:
    run = mlflow.start_run()
    assert mlflow.active_run() is run
    mlflow.end_run(status="KILLED")
    info = mlflow.get_run(run.info.run_id).info
    assert info.status == "KILLED"
    assert info.end_time is not None
    assert info.end_time >= info.start_time
    mlflow.end_run()  # no active run: a no-op


def test_logging_starts_a_run_when_none_is_active(tracking_uri: str) -> None:
    mlflow.log_metric("m", 1.0)
    run = mlflow.active_run()
    assert run is not None
    mlflow.end_run()
    assert mlflow.get_run(run.info.run_id).data.metrics == {"m": 1.0}


def test_nested_runs_and_explicit_parent(tracking_uri: str) -> None:
    with mlflow.start_run() as parent:
        with mlflow.start_run(nested=True) as child:
            with mlflow.start_run(nested=True) as grandchild:
                assert mlflow.active_run() is grandchild
            assert mlflow.active_run() is child
        with pytest.raises(MlflowException, match="does not match the specified parent_run_id"):
            mlflow.start_run(nested=True, parent_run_id=child.info.run_id)
    assert grandchild.data.tags["mlflow.parentRunId"] == child.info.run_id
    with mlflow.start_run(parent_run_id=parent.info.run_id) as adopted:
        pass
    assert adopted.data.tags["mlflow.parentRunId"] == parent.info.run_id


def test_resume_a_run(tracking_uri: str) -> None:
    with mlflow.start_run(run_name="first") as run:
        mlflow.log_param("a", 1)
    with mlflow.start_run(run_id=run.info.run_id, tags={"resumed": "yes"}) as again:
        assert again.info.status == "RUNNING"
        mlflow.log_param("b", 2)
    stored = mlflow.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.params == {"a": "1", "b": "2"}
    assert stored.data.tags["resumed"] == "yes"
    assert stored.info.run_name == "first"


def test_mlflow_run_id_environment_variable(tracking_uri: str) -> None:
    with mlflow.start_run() as run:
        pass
    os.environ["MLFLOW_RUN_ID"] = run.info.run_id
    with mlflow.start_run() as resumed:
        assert resumed.info.run_id == run.info.run_id
    assert "MLFLOW_RUN_ID" not in os.environ


def test_deleted_run_cannot_be_resumed(tracking_uri: str) -> None:
    with mlflow.start_run() as run:
        pass
    mlflow.delete_run(run.info.run_id)
    with pytest.raises(MlflowException, match="deleted state"):
        mlflow.start_run(run_id=run.info.run_id)


def test_experiment_from_environment(tracking_uri: str) -> None:
    os.environ["MLFLOW_EXPERIMENT_NAME"] = "from-env"
    with mlflow.start_run() as run:
        pass
    experiment = mlflow.get_experiment_by_name("from-env")
    assert experiment is not None
    assert run.info.experiment_id == experiment.experiment_id
    os.environ["MLFLOW_EXPERIMENT_ID"] = "999"
    with pytest.raises(MlflowException, match="does not match"):
        mlflow.start_run()
    del os.environ["MLFLOW_EXPERIMENT_NAME"]
    with pytest.raises(MlflowException, match="does not exist"):
        mlflow.start_run()
    os.environ["MLFLOW_EXPERIMENT_ID"] = experiment.experiment_id
    with mlflow.start_run() as run:
        assert run.info.experiment_id == experiment.experiment_id


def test_default_experiment_is_zero(tracking_uri: str) -> None:
    with mlflow.start_run() as run:
        pass
    assert run.info.experiment_id == "0"
    assert mlflow.get_experiment("0").name == "Default"


def test_set_experiment(tracking_uri: str) -> None:
    experiment = mlflow.set_experiment("exp")
    assert os.environ["MLFLOW_EXPERIMENT_ID"] == experiment.experiment_id
    assert mlflow.set_experiment("exp").experiment_id == experiment.experiment_id
    assert mlflow.set_experiment(experiment_id=experiment.experiment_id).name == "exp"
    with mlflow.start_run() as run:
        pass
    assert run.info.experiment_id == experiment.experiment_id
    mlflow.delete_experiment(experiment.experiment_id)
    with pytest.raises(MlflowException, match="Cannot set a deleted experiment 'exp'"):
        mlflow.set_experiment("exp")
    with pytest.raises(MlflowException, match="exactly one of"):
        mlflow.set_experiment()


def test_description_and_tags(tracking_uri: str) -> None:
    with mlflow.start_run(description="notes", tags={"k": 1}) as run:
        pass
    assert run.data.tags["mlflow.note.content"] == "notes"
    assert run.data.tags["k"] == "1"
    with pytest.raises(MlflowException, match="Description is already set"):
        mlflow.start_run(description="x", tags={"mlflow.note.content": "y"})


def test_system_tags(tracking_uri: str) -> None:
    os.environ["MLFLOW_TRACKING_USERNAME"] = "tester"
    with mlflow.start_run() as run:
        pass
    tags = run.data.tags
    assert tags["mlflow.user"] == "tester"
    assert run.info.user_id == "tester"
    assert tags["mlflow.source.name"] == sys.argv[0]
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.runName"] == run.info.run_name


def test_last_active_run_is_per_thread_and_fresh(tracking_uri: str) -> None:
    assert mlflow.last_active_run() is None
    with mlflow.start_run() as run:
        mlflow.log_metric("m", 3.0)
    last = mlflow.last_active_run()
    assert last is not None
    assert last.data.metrics == {"m": 3.0}
    assert last.info.run_id == run.info.run_id


def _run_script(tmp_path: Path, body: str, uri: str, cwd: Path | None = None) -> str:
    script = (cwd or tmp_path) / "script.py"
    script.write_text(textwrap.dedent(body))
    result = subprocess.run(
        [sys.executable, str(script), uri],
        capture_output=True,
        text=True,
        cwd=cwd or tmp_path,
        timeout=120,
    )
    return result.stdout + result.stderr


def test_runs_left_open_are_ended_at_exit(tmp_path: Path, sqlite_uri: str) -> None:
    out = _run_script(
        tmp_path,
        """
        import sys, tracklet as mlflow
        mlflow.set_tracking_uri(sys.argv[1])
        print(mlflow.start_run().info.run_id)
        """,
        sqlite_uri,
    )
    finished_id = out.split()[0]
    out = _run_script(
        tmp_path,
        """
        import sys, tracklet as mlflow
        mlflow.set_tracking_uri(sys.argv[1])
        print(mlflow.start_run().info.run_id, flush=True)
        raise RuntimeError("boom")
        """,
        sqlite_uri,
    )
    failed_id = out.split()[0]
    mlflow.set_tracking_uri(sqlite_uri)
    assert mlflow.get_run(finished_id).info.status == "FINISHED"
    assert mlflow.get_run(failed_id).info.status == "FAILED"


def test_git_tags_inside_a_repository(tmp_path: Path, sqlite_uri: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "trunk"], cwd=repo, check=True)
    subprocess.run(
        [*git, "remote", "add", "origin", "https://user:secret@example.com/team/repo.git"],
        cwd=repo,
        check=True,
    )
    (repo / "README").write_text("x")
    subprocess.run([*git, "add", "README"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], cwd=repo, check=True)
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()
    out = _run_script(
        tmp_path,
        """
        import sys, tracklet as mlflow
        mlflow.set_tracking_uri(sys.argv[1])
        with mlflow.start_run() as run:
            print(run.info.run_id)
        """,
        sqlite_uri,
        cwd=repo,
    )
    mlflow.set_tracking_uri(sqlite_uri)
    tags = mlflow.get_run(out.split()[0]).data.tags
    assert tags["mlflow.source.git.commit"] == sha
    assert tags["mlflow.source.git.branch"] == "trunk"
    assert tags["mlflow.source.git.repoURL"] == "https://example.com/team/repo.git"
    assert tags["mlflow.source.name"].endswith("script.py")
