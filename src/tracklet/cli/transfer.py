"""``tracklet import SOURCE`` and ``tracklet export DEST``: bring an MLflow store's data into
tracklet with its ids, and write tracklet's data into an MLflow database."""

from __future__ import annotations

import os
import time
from collections import Counter

import click

from tracklet.cli._common import mlflow_errors, progress, resolve_uri, table


def _print_summary(verb: str, counts: Counter[str], seconds: float) -> None:
    rows = [(name, count) for name, count in counts.items() if count]
    click.echo(table(["what", "count"], rows) if rows else "Nothing new to move.")
    click.echo(f"{verb} in {seconds:.1f} s.")


def _database_uri(uri: str, role: str) -> str:
    from tracklet.transfer.source import is_database_uri

    if not is_database_uri(uri):
        raise click.UsageError(
            f"The {role} {uri!r} is not a database URI. Ids are kept, which only a database "
            "allows: give the tracking server's database (sqlite:///... or postgresql://...)."
        )
    return uri


def _local_source(source: str) -> str:
    """A ``file:`` URI (an mlruns directory as MLflow's tracking URI names it) as its path."""
    if source.startswith("file:"):
        from tracklet.transfer.artifact_copy import local_path

        return local_path(source) or source
    return source


@click.command("import")
@click.argument("source")
@click.option(
    "--to",
    "to_uri",
    default=None,
    metavar="URI",
    help="The tracklet database to import into (default: MLFLOW_TRACKING_URI, else "
    "sqlite:///tracklet.db).",
)
@click.option(
    "--keep-artifact-locations",
    is_flag=True,
    help="Refer to the source's artifact locations instead of copying the files into the "
    "destination's artifact root.",
)
@click.option(
    "--artifacts-destination",
    default=None,
    metavar="PATH",
    help="Where the source's MLflow server kept proxied artifacts (its "
    "--artifacts-destination), to read mlflow-artifacts:/ locations from.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Runs written per transaction (an interrupted import resumes after the last one).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Processes reading metric points beside the writer (0: read in this process, the "
    "fastest on 2 cores; more can pay with idle cores and a remote PostgreSQL source).",
)
def import_(
    source: str,
    to_uri: str | None,
    keep_artifact_locations: bool,
    artifacts_destination: str | None,
    batch_size: int,
    workers: int,
) -> None:
    """Import an MLflow store into tracklet, ids kept: experiments, runs with every metric
    point, params, tags, datasets, logged models, registered models and traces; artifacts are
    copied. SOURCE is an MLflow database URI (sqlite:///mlflow.db, postgresql://...), an
    MLflow mlruns directory (./mlruns or file:///.../mlruns, MLflow's file store), a running
    tracking server's URL (read over REST), or a TensorBoard log directory (scalars become
    runs). Running it again adds only what is new; an interrupted import resumes."""
    from tracklet.store.sql.store import SqlStore
    from tracklet.transfer.mlruns_reader import is_mlruns

    source = _local_source(source)
    destination = _database_uri(resolve_uri(to_uri), "destination")
    started = time.perf_counter()
    with mlflow_errors():
        store = SqlStore(destination)
        try:
            if source.startswith(("http://", "https://")):
                from tracklet.transfer.db_import import ImportOptions
                from tracklet.transfer.server_import import import_server

                options = ImportOptions(
                    copy_artifacts=not keep_artifact_locations, batch_size=batch_size
                )
                counts = import_server(source, store, options, progress)
            elif os.path.isdir(source) and is_mlruns(source):
                from tracklet.transfer.db_import import ImportOptions
                from tracklet.transfer.mlruns_import import import_mlruns

                options = ImportOptions(
                    copy_artifacts=not keep_artifact_locations, batch_size=batch_size
                )
                counts = import_mlruns(source, store, options, progress)
            elif os.path.isdir(source):
                from tracklet.transfer.tensorboard import import_tensorboard

                counts = import_tensorboard(source, store, progress)
            else:
                from tracklet.transfer.db_import import ImportOptions, import_database

                options = ImportOptions(
                    copy_artifacts=not keep_artifact_locations,
                    artifacts_destination=artifacts_destination,
                    batch_size=batch_size,
                    workers=workers,
                )
                counts = import_database(_database_uri(source, "source"), store, options, progress)
        finally:
            store.close()
    _print_summary("Imported", counts, time.perf_counter() - started)


@click.command("export")
@click.argument("dest")
@click.option(
    "--from",
    "from_uri",
    default=None,
    metavar="URI",
    help="The tracklet store to export (default: MLFLOW_TRACKING_URI, else sqlite:///tracklet.db).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Runs written per transaction (an interrupted export resumes after the last one).",
)
def export(dest: str, from_uri: str | None, batch_size: int) -> None:
    """Export a tracklet database into an MLflow 3.17.2 database, ids kept (experiments, runs
    with every metric point, params, tags, datasets, logged models, registered models). DEST is
    an MLflow database URI; a sqlite:/// file that does not exist is created with MLflow's
    schema. Artifact locations are kept as they are. Running it again adds only what is new."""
    from tracklet.store.sql.store import SqlStore
    from tracklet.transfer.db_export import export_database

    source = _database_uri(resolve_uri(from_uri), "source")
    started = time.perf_counter()
    with mlflow_errors():
        store = SqlStore(source)
        try:
            counts = export_database(
                store, _database_uri(dest, "destination"), batch_size, progress
            )
        finally:
            store.close()
    _print_summary("Exported", counts, time.perf_counter() - started)
