"""``tracklet artifacts list|download|log-artifact|log-artifacts``: MLflow's ``mlflow
artifacts`` with its option names; downloads and directory uploads show a progress bar."""

from __future__ import annotations

import os
from typing import Any

import click

from tracklet.cli._common import (
    client,
    echo_json,
    mlflow_errors,
    progress,
    table,
    tracking_uri_option,
)

RUN_ID = click.option("--run-id", "-r", required=True, help="The run's ID.")
ARTIFACT_PATH = click.option(
    "--artifact-path",
    "-a",
    default=None,
    help="A directory under the run's artifact root (default: the root).",
)


@click.group("artifacts")
def artifacts() -> None:
    """List, download and upload a run's artifacts."""


@artifacts.command("list")
@RUN_ID
@ARTIFACT_PATH
@click.option(
    "--output",
    type=click.Choice(["json", "table"]),
    default="json",
    show_default=True,
    help="JSON (MLflow's output) or a table.",
)
@tracking_uri_option
def list_artifacts(
    run_id: str, artifact_path: str | None, output: str, tracking_uri: str | None
) -> None:
    """List the files and directories directly under a run's artifact directory."""
    with mlflow_errors():
        infos = client(tracking_uri).list_artifacts(run_id, artifact_path or None)
    if output == "table":
        click.echo(
            table(
                ["Path", "Directory", "Size"],
                [(i.path, "yes" if i.is_dir else "", i.file_size) for i in infos],
            )
        )
        return
    listed: list[dict[str, Any]] = []
    for info in infos:
        entry: dict[str, Any] = {"path": info.path, "is_dir": info.is_dir}
        if info.file_size is not None:
            entry["file_size"] = info.file_size
        listed.append(entry)
    echo_json(listed)


@artifacts.command("download")
@click.option("--run-id", "-r", default=None, help="The run whose artifacts to download.")
@click.option(
    "--artifact-path",
    "-a",
    default=None,
    help="With --run-id: a file or directory under the run's artifact root (default: all).",
)
@click.option(
    "--artifact-uri",
    "-u",
    default=None,
    help="Instead of --run-id: the artifact's URI (runs:/<id>/path, models:/<id>, s3://...).",
)
@click.option(
    "--dst-path",
    "-d",
    default=None,
    help="The local directory to download into, created if missing (default: a new "
    "temporary directory).",
)
@tracking_uri_option
def download(
    run_id: str | None,
    artifact_path: str | None,
    artifact_uri: str | None,
    dst_path: str | None,
    tracking_uri: str | None,
) -> None:
    """Download an artifact file or directory; prints its local path."""
    if artifact_uri is not None:  # MLflow ignores --run-id and --artifact-path then
        run_id = artifact_path = None
    elif run_id is None:
        raise click.UsageError("Either --run-id or --artifact-uri must be given.")
    if dst_path is not None:
        dst_path = os.path.abspath(dst_path)
        os.makedirs(dst_path, exist_ok=True)
    with mlflow_errors():
        tracker = client(tracking_uri)
        if artifact_uri is not None:
            root, path = tracker._resolve_artifact_uri(artifact_uri)
        else:
            assert run_id is not None
            root = tracker.get_run(run_id).info.artifact_uri or ""
            path = artifact_path or ""
        repo = tracker._repository(root)
        with progress(None, "Downloading", "file") as bar:
            plain = repo._download_file

            def counted(remote: str, local: str) -> None:
                plain(remote, local)
                bar.update()

            repo._download_file = counted  # type: ignore[method-assign,assignment]
            try:
                local = repo.download_artifacts(path, dst_path)
            finally:
                del repo._download_file
    click.echo(f"\n{local}")


@artifacts.command("log-artifact")
@click.option("--local-file", "-l", required=True, help="The local file to upload.")
@RUN_ID
@click.option(
    "--artifact-path",
    "-a",
    default=None,
    help="The directory under the run's artifact root to upload into (default: the root).",
)
@tracking_uri_option
def log_artifact(
    local_file: str, run_id: str, artifact_path: str | None, tracking_uri: str | None
) -> None:
    """Upload a local file into a run's artifacts."""
    if not os.path.isfile(local_file):
        raise click.BadParameter(f"{local_file!r} is not a file.", param_hint="--local-file")
    with mlflow_errors():
        client(tracking_uri).log_artifact(run_id, local_file, artifact_path)
    click.echo(f"Logged artifact from local file {local_file} to artifact_path={artifact_path}")


@artifacts.command("log-artifacts")
@click.option("--local-dir", "-l", required=True, help="The local directory whose files to upload.")
@RUN_ID
@click.option(
    "--artifact-path",
    "-a",
    default=None,
    help="The directory under the run's artifact root to upload into (default: the root).",
)
@tracking_uri_option
def log_artifacts(
    local_dir: str, run_id: str, artifact_path: str | None, tracking_uri: str | None
) -> None:
    """Upload a local directory's files (recursively) into a run's artifacts."""
    import posixpath

    if not os.path.isdir(local_dir):
        raise click.BadParameter(f"{local_dir!r} is not a directory.", param_hint="--local-dir")
    files = [
        os.path.join(top, name) for top, _, names in os.walk(local_dir) for name in sorted(names)
    ]
    with mlflow_errors():
        tracker = client(tracking_uri)
        repo = tracker._run_repository(run_id)
        with progress(len(files), "Uploading", "file") as bar:
            for path in files:
                relative = os.path.relpath(os.path.dirname(path), local_dir).replace(os.sep, "/")
                parts = [p for p in (artifact_path, relative) if p and p != "."]
                repo.log_artifact(path, posixpath.join(*parts) if parts else None)
                bar.update()
    click.echo(
        f"Logged {len(files)} artifact(s) from local dir {local_dir} "
        f"to artifact_path={artifact_path}"
    )
