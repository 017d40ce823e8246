"""``tracklet experiments create|search|rename|delete|restore|csv``: MLflow's ``mlflow
experiments`` with its option names."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from tracklet.entities import Experiment

from tracklet.cli._common import (
    VIEWS,
    act,
    client,
    echo_json,
    format_time,
    mlflow_errors,
    output_option,
    table,
    tracking_uri_option,
    view_option,
)

EXPERIMENT_ID = click.option("--experiment-id", "-x", required=True, help="The experiment's ID.")
_PAGE = 50_000


@click.group("experiments")
def experiments() -> None:
    """Create, search, rename, delete, restore and export experiments."""


@experiments.command("create")
@click.option("--experiment-name", "-n", required=True, help="The new experiment's name.")
@click.option(
    "--artifact-location",
    "-l",
    default=None,
    help="Where the experiment's runs keep artifacts ($artifact_location/$run_id/artifacts); "
    "by default the store (or the server) chooses.",
)
@tracking_uri_option
def create(experiment_name: str, artifact_location: str | None, tracking_uri: str | None) -> None:
    """Create an experiment."""
    with mlflow_errors():
        experiment_id = client(tracking_uri).create_experiment(experiment_name, artifact_location)
    click.echo(f"Created experiment '{experiment_name}' with id {experiment_id}")


@experiments.command("search")
@view_option
@click.option(
    "--max-results",
    type=click.IntRange(min=1),
    default=None,
    help="The most experiments to list (default: all).",
)
@output_option
@tracking_uri_option
def search(view: str, max_results: int | None, output: str, tracking_uri: str | None) -> None:
    """List experiments: ID, name and artifact location."""
    with mlflow_errors():
        tracker = client(tracking_uri)
        found: list[Experiment] = []
        token: str | None = None
        while True:
            wanted = _PAGE if max_results is None else min(_PAGE, max_results - len(found))
            page = tracker.search_experiments(VIEWS[view], wanted, page_token=token)
            found.extend(page)
            token = page.token
            if not token or (max_results is not None and len(found) >= max_results):
                break
    if output == "json":
        echo_json(
            [
                {
                    "experiment_id": e.experiment_id,
                    "name": e.name,
                    "artifact_location": e.artifact_location,
                    "lifecycle_stage": e.lifecycle_stage,
                    "creation_time": e.creation_time,
                    "last_update_time": e.last_update_time,
                    "tags": dict(e.tags),
                }
                for e in found
            ]
        )
        return
    rows = sorted(
        (
            (e.experiment_id, e.name, _absolute(e.artifact_location), format_time(e.creation_time))
            for e in found
        ),
        key=lambda row: (len(row[0]), row[0]),  # numeric ids in numeric order
    )
    click.echo(table(["Experiment Id", "Name", "Artifact Location", "Created"], rows))


def _absolute(location: str) -> str:
    # MLflow prints a plain path as an absolute one, a URI as it is.
    return (
        location if "://" in location or location.startswith("file:") else os.path.abspath(location)
    )


@experiments.command("rename")
@EXPERIMENT_ID
@click.option("--new-name", required=True, help="The experiment's new name.")
@tracking_uri_option
def rename(experiment_id: str, new_name: str, tracking_uri: str | None) -> None:
    """Rename an active experiment."""
    act(
        tracking_uri,
        lambda c: c.rename_experiment(experiment_id, new_name),
        f"Experiment with id {experiment_id} has been renamed to '{new_name}'.",
    )


@experiments.command("delete")
@EXPERIMENT_ID
@tracking_uri_option
def delete(experiment_id: str, tracking_uri: str | None) -> None:
    """Mark an experiment and its runs deleted (``restore`` brings them back; ``tracklet gc``
    removes them for good)."""
    act(
        tracking_uri,
        lambda c: c.delete_experiment(experiment_id),
        f"Experiment with ID {experiment_id} has been deleted.",
    )


@experiments.command("restore")
@EXPERIMENT_ID
@tracking_uri_option
def restore(experiment_id: str, tracking_uri: str | None) -> None:
    """Restore a deleted experiment and its runs."""
    act(
        tracking_uri,
        lambda c: c.restore_experiment(experiment_id),
        f"Experiment with id {experiment_id} has been restored.",
    )


@experiments.command("csv")
@EXPERIMENT_ID
@click.option("--filename", "-o", default=None, help="Write to this file (default: stdout).")
@tracking_uri_option
def csv(experiment_id: str, filename: str | None, tracking_uri: str | None) -> None:
    """Write an experiment's runs as CSV: the columns of ``search_runs``' DataFrame (needs
    pandas)."""
    from tracklet.tracking.fluent_search import _pandas, _search_columns

    with mlflow_errors():
        columns = _search_columns(client(tracking_uri), [experiment_id], "", 1, 10**9, None)
    frame = _pandas(columns)
    if filename:
        frame.to_csv(filename, index=False)
        click.echo(
            f"Experiment with ID {experiment_id} has been exported as a CSV to file: {filename}."
        )
    else:
        click.echo(frame.to_csv(index=False))
