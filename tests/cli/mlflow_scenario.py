"""An MLflow 3.17.2 store made with MLflow itself, for the import and export tests: two
experiments, runs with metric histories (NaN and repeated steps included), params, tags, a
dataset input, a deleted run, a logged model with params and metrics, artifacts, a registered
model with a version and an alias, and a trace."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any


def make_mlflow_store(
    base: Path, runs_per_experiment: int = 2, uri: str | None = None
) -> dict[str, Any]:
    """Create ``base/mlflow.db`` (or fill the database at ``uri``, whose schema MLflow
    creates) and ``base/mlruns`` with MLflow; returns the ids made."""
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    from tracklet.transfer.db_export import _create_mlflow_sqlite

    # The schema MLflow 3.17.2 creates, from tracklet's snapshot of it: MLflow opens it without
    # running its ~100 migrations (20 s on a loaded machine), and the test proves the snapshot.
    if uri is None:
        _create_mlflow_sqlite(str(base / "mlflow.db"))
        uri = f"sqlite:///{base / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    made: dict[str, Any] = {"uri": uri, "runs": [], "experiments": []}
    try:
        for e in range(2):
            experiment_id = client.create_experiment(
                f"exp-{e}", artifact_location=str(base / "mlruns" / f"e{e}"), tags={"team": f"t{e}"}
            )
            made["experiments"].append(experiment_id)
            for r in range(runs_per_experiment):
                with mlflow.start_run(experiment_id=experiment_id, run_name=f"run-{e}-{r}") as run:
                    # One log_batch a run (each MLflow commit is an fsync on a busy disk).
                    metrics = [
                        Metric("loss", 1.0 / (i + 1), 1_700_000_000_000, i) for i in range(5)
                    ]
                    metrics += [Metric("acc", i / 10, 1_700_000_000_000 + i, i) for i in range(5)]
                    metrics.append(Metric("acc", 0.99, 1_700_000_000_500, 2))  # repeated step
                    metrics.append(Metric("odd", math.nan, 1_700_000_000_000, 0))
                    client.log_batch(
                        run.info.run_id,
                        metrics=metrics,
                        params=[Param("lr", str(0.1 * (r + 1))), Param("layers", str(r))],
                        tags=[RunTag("stage", "dev"), RunTag("index", str(r))],
                    )
                    mlflow.log_text(f"notes {e} {r}", "notes/readme.txt")
                    frame = pd.DataFrame({"x": [1, 2, 3], "y": [0.1, 0.2, 0.3]})
                    mlflow.log_input(
                        mlflow.data.from_pandas(frame, name=f"data-{r}"), context="training"
                    )
                    made["runs"].append(run.info.run_id)
        # A logged model, linked to a run, with params, metrics and files.
        with mlflow.start_run(experiment_id=made["experiments"][0], run_name="with-model") as run:
            model = mlflow.initialize_logged_model(
                name="net",
                source_run_id=run.info.run_id,
                params={"depth": "3"},
                tags={"kind": "demo"},
            )
            mlflow.log_metric("val", 0.5, step=1, model_id=model.model_id)
            client.log_outputs(
                run.info.run_id, [mlflow.entities.LoggedModelOutput(model.model_id, 1)]
            )
            model_dir = base / "model_files"
            model_dir.mkdir(exist_ok=True)
            (model_dir / "MLmodel").write_text("flavors: {}\n")
            client.log_model_artifacts(model.model_id, str(model_dir))
            mlflow.finalize_logged_model(model.model_id, "READY")
            made["runs"].append(run.info.run_id)
            made["model_id"] = model.model_id
        client.create_registered_model("reg", tags={"owner": "me"}, description="a model")
        version = client.create_model_version(
            "reg", f"models:/{made['model_id']}", run_id=made["runs"][-1], tags={"v": "1"}
        )
        client.set_registered_model_alias("reg", "champion", version.version)
        # A deleted run.
        with mlflow.start_run(experiment_id=made["experiments"][1], run_name="gone") as run:
            mlflow.log_metric("m", 1.0)
        client.delete_run(run.info.run_id)
        made["runs"].append(run.info.run_id)
        # A trace.
        mlflow.set_experiment(experiment_id=made["experiments"][0])

        @mlflow.trace(name="predict")
        def predict(x: int) -> int:
            return x + 1

        predict(1)
        made["trace_id"] = mlflow.get_last_active_trace_id()
        mlflow.flush_trace_async_logging()
    finally:
        mlflow.set_tracking_uri(None)
    return made
