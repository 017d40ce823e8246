"""``tracklet import ./mlruns``: an MLflow 3.17.2 FileStore directory made here by MLflow itself
(``MLFLOW_ALLOW_FILE_STORE=true``: 3.17.2 refuses a file: tracking URI without it), imported and
compared entity by entity, point by point, with what MLflow's client reads from it; twice adds
nothing; an interrupted import resumes."""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.cli.transfer_checks import (
    _artifacts,
    _count,
    _row_counts,
    interrupt_at,
    mlflow_server_app,
    run,
    snapshot,
)

from tracklet.cli import main
from tracklet.tracking.client import MlflowClient


@pytest.fixture
def allow_file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")


def make_mlruns(base: Path) -> dict[str, Any]:
    """An mlruns directory written by MLflow: two live experiments and a deleted one, runs with
    NaN, infinite values and negative steps, params, tags, a dataset input, an artifact, a
    deleted run, a logged model with metrics and files, a registered model with a version,
    tags and an alias, and a trace."""
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient as TheirClient
    from mlflow.entities import Metric, Param, RunTag

    uri = (base / "mlruns").as_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = TheirClient(uri)
    made: dict[str, Any] = {"uri": uri, "path": str(base / "mlruns"), "runs": []}
    try:
        ids = [client.create_experiment(f"exp-{e}", tags={"team": f"t{e}"}) for e in range(3)]
        made["experiments"] = ids
        frame = pd.DataFrame({"x": [1, 2, 3], "y": [0.1, 0.2, 0.3]})
        for e, experiment_id in enumerate(ids):
            for r in range(2):
                with mlflow.start_run(experiment_id=experiment_id, run_name=f"run-{e}-{r}") as run:
                    t = 1_700_000_000_000
                    metrics = [Metric("loss", 1.0 / (i + 1), t + i, i - 2) for i in range(5)]
                    metrics += [
                        Metric("loss", math.nan, t + 9, -5),
                        Metric("acc", 0.5, t, 1),
                        Metric("acc", 0.7, t + 1, 1),  # a repeated step
                        Metric("big", math.inf, t, 0),
                        Metric("big", -math.inf, t + 1, 1),
                        Metric("odd", math.nan, t, 0),
                    ]
                    client.log_batch(
                        run.info.run_id,
                        metrics=metrics,
                        params=[Param("lr", str(0.1 * (r + 1))), Param("nested/key", "v")],
                        tags=[RunTag("stage", "dev"), RunTag("index", str(r))],
                    )
                    mlflow.log_text(f"notes {e} {r}", "notes/readme.txt")
                    mlflow.log_input(mlflow.data.from_pandas(frame, name="data"), context="train")
                    made["runs"].append(run.info.run_id)
        with mlflow.start_run(experiment_id=ids[0], run_name="with-model") as run:
            model = mlflow.initialize_logged_model(
                name="net", source_run_id=run.info.run_id, params={"depth": "3"}, tags={"k": "v"}
            )
            mlflow.log_metric("val", 0.5, step=1, model_id=model.model_id)
            client.log_outputs(
                run.info.run_id, [mlflow.entities.LoggedModelOutput(model.model_id, 1)]
            )
            model_dir = base / "model_files"
            model_dir.mkdir()
            (model_dir / "MLmodel").write_text("flavors: {}\n")
            client.log_model_artifacts(model.model_id, str(model_dir))
            mlflow.finalize_logged_model(model.model_id, "READY")
            made["runs"].append(run.info.run_id)
            made["model_id"] = model.model_id
        client.create_registered_model("reg", tags={"owner": "me"}, description="a model")
        version = client.create_model_version(
            "reg", f"models:/{made['model_id']}", run_id=made["runs"][-1], tags={"v": "1"}
        )
        client.create_model_version("reg", f"models:/{made['model_id']}", run_id=made["runs"][-1])
        client.set_registered_model_alias("reg", "champion", version.version)
        with mlflow.start_run(experiment_id=ids[1], run_name="gone") as run:
            mlflow.log_metric("m", 1.0)
        client.delete_run(run.info.run_id)
        made["runs"].append(run.info.run_id)
        mlflow.set_experiment(experiment_id=ids[0])

        @mlflow.trace(name="predict")
        def predict(x: int) -> int:
            return x + 1

        predict(1)
        made["trace_id"] = mlflow.get_last_active_trace_id()
        mlflow.flush_trace_async_logging()
        client.delete_experiment(ids[2])
    finally:
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)
    return made


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield make_mlruns(tmp_path_factory.mktemp("mlruns"))
    finally:
        os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)


def _their_snapshot(made: dict[str, Any]) -> dict[str, Any]:
    import mlflow

    mlflow.set_tracking_uri(made["uri"])
    mlflow.set_registry_uri(made["uri"])
    try:
        return snapshot(mlflow.MlflowClient(made["uri"], made["uri"]), made)
    finally:
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)


@pytest.mark.usefixtures("allow_file_store")
def test_import_mlruns_keeps_every_entity_and_point(source: dict[str, Any], store_uri: str) -> None:
    out = run("import", source["path"], "--to", store_uri).output
    assert _count(out, "runs") == len(source["runs"])
    assert _count(out, "traces") == 1
    ours = MlflowClient(store_uri)
    mine, theirs = snapshot(ours, source), _their_snapshot(source)
    assert mine == theirs
    # The scenario's values made it (not an empty store equal to an empty store).
    history = mine["runs"][source["runs"][0]]["histories"]
    assert (-5, 1_700_000_000_009, "nan") in history["loss"]
    assert [v for _, _, v in history["big"]] == [math.inf, -math.inf]
    assert mine["experiments"][source["experiments"][2]][1] == "deleted"
    assert ours.get_run(source["runs"][-1]).info.lifecycle_stage == "deleted"
    assert ours.get_model_version("reg", "2").version == "2"
    assert ours.get_model_version_by_alias("reg", "champion").version == "1"
    assert len(mine["runs"][source["runs"][0]]["datasets"]) == 1
    import mlflow

    theirs_client = mlflow.MlflowClient(source["uri"])
    for run_id in source["runs"][:2]:  # copied artifacts, same files and contents
        assert _artifacts(ours, run_id) == _artifacts(theirs_client, run_id) != {}
    model = ours.get_logged_model(source["model_id"])
    assert Path(model.artifact_location, "MLmodel").read_text() == "flavors: {}\n"
    # A deleted experiment's files moved into .trash while its metas still name the old
    # place (MLflow's client finds nothing there); the import copies them from .trash.
    gone = source["runs"][4]  # the first run of the deleted experiment
    assert _artifacts(ours, gone) == {"notes/readme.txt": "notes 2 0"}


@pytest.mark.usefixtures("allow_file_store")
def test_import_mlruns_twice_adds_nothing(source: dict[str, Any], tmp_path: Path) -> None:
    dest = tmp_path / "twice.db"
    # A file: URI names the directory as MLflow's tracking URI does.
    run("import", source["uri"], "--to", f"sqlite:///{dest}", "--keep-artifact-locations")
    first = _row_counts(str(dest))
    assert first["runs"] == len(source["runs"])
    again = run("import", source["path"], "--to", f"sqlite:///{dest}").output
    assert _count(again, "runs already present") == len(source["runs"])
    assert _row_counts(str(dest)) == first
    ours = MlflowClient(f"sqlite:///{dest}")
    assert ours.get_run(source["runs"][0]).info.artifact_uri.startswith(source["uri"])
    assert _artifacts(ours, source["runs"][0]) == {"notes/readme.txt": "notes 0 0"}


@pytest.mark.usefixtures("allow_file_store")
def test_interrupted_mlruns_import_resumes(
    source: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracklet.transfer import mlruns_import

    clean = tmp_path / "clean.db"
    run("import", source["path"], "--to", f"sqlite:///{clean}")
    dest = tmp_path / "resumed.db"
    real = interrupt_at(monkeypatch, mlruns_import, "import_run_batch")
    interrupted = CliRunner().invoke(
        main, ["import", source["path"], "--to", f"sqlite:///{dest}", "--batch-size", "2"]
    )
    assert interrupted.exit_code == 1
    partial = _row_counts(str(dest))
    assert 0 < partial["runs"] < len(source["runs"])
    monkeypatch.setattr(mlruns_import, "import_run_batch", real)
    resumed = run("import", source["path"], "--to", f"sqlite:///{dest}", "--batch-size", "2")
    assert _count(resumed.output, "runs already present") == partial["runs"]
    assert _row_counts(str(dest)) == _row_counts(str(clean))
    assert snapshot(MlflowClient(f"sqlite:///{dest}"), source) == snapshot(
        MlflowClient(f"sqlite:///{clean}"), source
    )


@pytest.mark.usefixtures("allow_file_store")
def test_malformed_metric_file_is_refused(source: dict[str, Any], tmp_path: Path) -> None:
    copy = tmp_path / "mlruns"
    shutil.copytree(source["path"], copy)
    run_dir = next(p for p in copy.glob("*/*") if (p / "metrics" / "loss").is_file())
    with open(run_dir / "metrics" / "loss", "a") as file:
        file.write("1700000000000 not-a-number 3\n")
    dest = tmp_path / "bad.db"
    out = run("import", str(copy), "--to", f"sqlite:///{dest}", "--batch-size", "100", ok=False)
    assert "INVALID_PARAMETER_VALUE" in out.output
    assert f"{run_dir / 'metrics' / 'loss'}, line 7" in out.output
    assert "Traceback" not in out.output
    assert _row_counts(str(dest))["runs"] == 0  # the batch holding that run: nothing written


@pytest.mark.usefixtures("allow_file_store")
def test_import_from_mlflows_server_on_a_file_store(source: dict[str, Any], tmp_path: Path) -> None:
    """MLflow's server on the mlruns answers BatchGetTraces with NOT_IMPLEMENTED: the trace's
    spans come from its traces.json, as MLflow's client reads them."""
    dest = f"sqlite:///{tmp_path / 'served.db'}"
    with mlflow_server_app(source["uri"], str(tmp_path / "mlartifacts")) as url:
        out = run("import", url, "--to", dest).output
    assert _count(out, "traces") == 1
    assert _count(out, "spans") == 1
    assert snapshot(MlflowClient(dest), source) == _their_snapshot(source)


@pytest.mark.usefixtures("allow_file_store")
def test_import_an_older_mlruns_layout(tmp_path: Path) -> None:
    """What older MLflow releases wrote, read as MLflow 3.17.2 reads it: an integer experiment
    id, a run meta without run_name or lifecycle_stage (its name in the mlflow.runName tag),
    metric lines of two fields (step 0) and no .trash folder."""
    import mlflow

    root = tmp_path / "mlruns"
    experiment, run_dir = root / "5", root / "5" / ("a" * 32)
    for folder in ("metrics", "params", "tags", "artifacts"):
        (run_dir / folder).mkdir(parents=True)
    (experiment / "meta.yaml").write_text(
        f"artifact_location: {experiment}\nexperiment_id: 5\nlifecycle_stage: active\nname: old\n"
    )
    (run_dir / "meta.yaml").write_text(
        f"artifact_uri: {run_dir / 'artifacts'}\nend_time: 1500000000500\n"
        f"experiment_id: '5'\nrun_id: {'a' * 32}\nrun_uuid: {'a' * 32}\n"
        "start_time: 1500000000000\nstatus: 4\n"
        "user_id: someone\n"
    )
    (run_dir / "metrics" / "m").write_text("1500000000001 0.5\n1500000000002 nan\n")
    (run_dir / "params" / "p").write_text("1")
    (run_dir / "tags" / "mlflow.runName").write_text("legacy")
    dest = f"sqlite:///{tmp_path / 'old.db'}"
    out = run("import", str(root), "--to", dest).output
    assert _count(out, "runs") == 1
    ours, theirs = MlflowClient(dest), mlflow.MlflowClient(root.as_uri())

    def view(client: Any) -> tuple[Any, ...]:
        got = client.get_run("a" * 32)
        history = [
            (m.step, m.timestamp, "nan" if math.isnan(m.value) else m.value)
            for m in client.get_metric_history("a" * 32, "m")
        ]
        experiment = client.get_experiment("5")
        return (
            experiment.name,
            got.info.run_name,
            got.info.status,
            got.info.lifecycle_stage,
            got.info.start_time,
            got.info.end_time,
            dict(got.data.params),
            history,
        )

    assert view(ours) == view(theirs)
    assert view(ours)[1:3] == ("legacy", "FAILED")
