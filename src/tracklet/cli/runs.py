"""``tracklet runs list|describe|delete|restore``: MLflow's ``mlflow runs`` with its option names.

``list`` reads the runs as columns (no Run objects) a page of 50,000 at a time, so listing ten
thousand runs costs little more than starting Python.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from tracklet.cli._common import (
    VIEWS,
    act,
    client,
    echo_json,
    format_time,
    mlflow_errors,
    output_option,
    resolve_uri,
    table,
    tracking_uri_option,
    view_option,
)

if TYPE_CHECKING:
    from tracklet.entities import Run

_PAGE = 50_000
RUN_ID = click.option("--run-id", "-r", required=True, help="The run's ID.")


@click.group("runs")
def runs() -> None:
    """List, describe, delete and restore runs (of a database or a tracking server)."""


@runs.command("list")
@click.option(
    "--experiment-id",
    "-x",
    envvar="MLFLOW_EXPERIMENT_ID",
    required=True,
    help="The experiment whose runs to list (default: MLFLOW_EXPERIMENT_ID).",
)
@view_option
@output_option
@tracking_uri_option
def list_runs(experiment_id: str, view: str, output: str, tracking_uri: str | None) -> None:
    """List the runs of an experiment, newest first: start date, name and ID."""
    uri = resolve_uri(tracking_uri)
    rows = _sqlite_rows(uri, experiment_id, view)
    if rows is None:
        rows = _store_rows(uri, experiment_id, view)
    rows.sort(key=lambda r: (r[0] or 0, r[1] or "", r[2]), reverse=True)
    if output == "json":
        keys = ("start_time", "run_name", "run_id", "status")
        echo_json([dict(zip(keys, row, strict=True)) for row in rows])
        return
    click.echo(
        table(
            ["Date", "Name", "ID"], [(format_time(t), name or "", rid) for t, name, rid, _ in rows]
        )
    )


def _sqlite_rows(uri: str, experiment_id: str, view: str) -> list[tuple[Any, ...]] | None:
    """The listing read straight from a tracklet SQLite file with the standard library, or None
    to go through the store (any other URI, a missing file, another schema, a bad id).

    Why: importing SQLAlchemy and the SQL store costs about 0.4 s of CPU, most of the
    ``runs list`` budget (0.5 s from start to last line); these four columns of ``runs`` have
    been in every tracklet schema, and listing needs nothing the store adds (no folding, no
    packs). ``tests/cli`` checks that both paths give the same answer."""
    if not uri.startswith("sqlite:///") or not experiment_id.isdigit():
        return None
    path = uri[len("sqlite:///") :].partition("?")[0]
    if not os.path.isfile(path):
        return None
    import sqlite3

    stages = {"active_only": ("active",), "deleted_only": ("deleted",)}.get(
        view, ("active", "deleted")
    )
    marks = ", ".join("?" * len(stages))
    try:
        connection = sqlite3.connect(path, timeout=30)
        try:
            if not connection.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'tracklet_alembic_version'"
            ).fetchone():
                return None
            rows: list[tuple[Any, ...]] = connection.execute(
                "SELECT start_time, name, run_uuid, status FROM runs "
                f"WHERE experiment_id = ? AND lifecycle_stage IN ({marks})",
                (int(experiment_id), *stages),
            ).fetchall()
            return rows
        finally:
            connection.close()
    except sqlite3.Error:
        return None


def _store_rows(uri: str, experiment_id: str, view: str) -> list[tuple[Any, ...]]:
    """The listing through the store (PostgreSQL, a server, or the fallback), page by page as
    columns."""
    rows: list[tuple[Any, ...]] = []
    with mlflow_errors():
        tracker = client(uri)
        token: str | None = None
        while True:
            page = tracker.search_runs_columns([experiment_id], "", VIEWS[view], _PAGE, None, token)
            names = page.tags.get("mlflow.runName") or [None] * page.size
            info = page.info
            rows.extend(zip(info["start_time"], names, info["run_id"], info["status"], strict=True))
            token = page.token
            if not token:
                break
    return rows


@runs.command("describe")
@RUN_ID
@tracking_uri_option
def describe_run(run_id: str, tracking_uri: str | None) -> None:
    """Print a run as JSON: info, data (metrics, params, tags), inputs and outputs, in the shape
    of MLflow's ``Run.to_dictionary()``."""
    with mlflow_errors():
        run = client(tracking_uri).get_run(run_id)
    echo_json(run_to_dictionary(run))


@runs.command("delete")
@RUN_ID
@tracking_uri_option
def delete_run(run_id: str, tracking_uri: str | None) -> None:
    """Mark a run deleted (``restore`` brings it back; ``tracklet gc`` removes it for good)."""
    act(tracking_uri, lambda c: c.delete_run(run_id), f"Run with ID {run_id} has been deleted.")


@runs.command("restore")
@RUN_ID
@tracking_uri_option
def restore_run(run_id: str, tracking_uri: str | None) -> None:
    """Restore a deleted run."""
    act(tracking_uri, lambda c: c.restore_run(run_id), f"Run with id {run_id} has been restored.")


def run_to_dictionary(run: Run) -> dict[str, Any]:
    """MLflow's ``Run.to_dictionary()``: the same keys, in the same order."""
    info = run.info
    return {
        "info": {
            "artifact_uri": info.artifact_uri,
            "end_time": info.end_time,
            "experiment_id": info.experiment_id,
            "lifecycle_stage": info.lifecycle_stage,
            "run_id": info.run_id,
            "run_name": info.run_name,
            "start_time": info.start_time,
            "status": info.status,
            "user_id": info.user_id,
        },
        "data": {
            "metrics": dict(run.data.metrics),
            "params": dict(run.data.params),
            "tags": dict(run.data.tags),
        },
        "inputs": {
            "model_inputs": [{"model_id": m.model_id} for m in run.inputs.model_inputs],
            "dataset_inputs": [
                {
                    "dataset": {
                        "name": d.dataset.name,
                        "digest": d.dataset.digest,
                        "source_type": d.dataset.source_type,
                        "source": d.dataset.source,
                        "schema": d.dataset.schema,
                        "profile": d.dataset.profile,
                    },
                    "tags": {t.key: t.value for t in d.tags},
                }
                for d in run.inputs.dataset_inputs
            ],
        },
        "outputs": {
            "model_outputs": [
                {"model_id": m.model_id, "step": m.step} for m in run.outputs.model_outputs
            ]
        },
    }
