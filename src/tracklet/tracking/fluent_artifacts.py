"""The fluent artifact functions (log_artifact, log_artifacts, log_text, get_artifact_uri, ...).

Each writes to the active run (starting one if none is active, as MLflow does) unless a
``run_id`` is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracklet.artifacts.paths import validate_relative_path
from tracklet.tracking.context import current_client, current_experiment_id
from tracklet.tracking.fluent import active_run, start_run

if TYPE_CHECKING:
    from tracklet.entities import Run

__all__ = [
    "get_artifact_uri",
    "load_table",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_table",
    "log_text",
]


def _active_or_new_run() -> Run:
    """The active run, or a new one started as the logging functions do when none is active."""
    run = active_run()
    return run if run is not None else start_run()


def _run_id(run_id: str | None) -> str:
    return run_id or _active_or_new_run().info.run_id


def log_artifact(
    local_path: str, artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Upload a local file or directory to the run's artifacts.

    Args:
        local_path: The file (or directory) to upload.
        artifact_path: The directory under the run's artifact root to write to.
        run_id: The run; the active run if None.
    """
    current_client().log_artifact(_run_id(run_id), local_path, artifact_path)


def log_artifacts(
    local_dir: str, artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Upload the contents of a local directory to the run's artifacts.

    Args:
        local_dir: The directory whose files (recursively) are uploaded.
        artifact_path: The directory under the run's artifact root to write to.
        run_id: The run; the active run if None.
    """
    current_client().log_artifacts(_run_id(run_id), local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    """Write text to a file in the active run's artifacts (the run is started if none is active).

    Args:
        text: The text, written as UTF-8.
        artifact_file: The file's path under the run's artifact root, e.g. ``dir/notes.txt``.
        run_id: The run; the active run if None.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a path that leaves the artifact root.

    Example::

        tracklet.log_text("lr was too high", "notes/today.txt")
    """
    current_client().log_text(_run_id(run_id), text, artifact_file)


def log_dict(dictionary: dict[str, Any], artifact_file: str, run_id: str | None = None) -> None:
    """Write a dict to a file in the active run's artifacts: YAML for ``.yml``/``.yaml``, JSON
    for any other suffix.

    Args:
        dictionary: The dict to write.
        artifact_file: The file's path under the run's artifact root, e.g. ``config.yaml``.
        run_id: The run; the active run if None.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a path that leaves the artifact root.
    """
    current_client().log_dict(_run_id(run_id), dictionary, artifact_file)


def log_figure(
    figure: Any, artifact_file: str, *, save_kwargs: dict[str, Any] | None = None
) -> None:
    """Save a matplotlib or plotly figure to a file in the active run's artifacts.

    Args:
        figure: A ``matplotlib.figure.Figure`` or a ``plotly.graph_objects.Figure``.
        artifact_file: The file's path under the run's artifact root; its suffix picks the
            format (``.png``, ``.svg``, ``.pdf``; ``.html`` for plotly).
        save_kwargs: Extra arguments for ``savefig`` (matplotlib) or ``write_html`` /
            ``write_image`` (plotly).

    Raises:
        TypeError: For an object that is neither kind of figure.

    Example::

        fig, ax = matplotlib.pyplot.subplots()
        ax.plot([0, 1], [2, 3])
        tracklet.log_figure(fig, "figure.png")
    """
    current_client().log_figure(_run_id(None), figure, artifact_file, save_kwargs=save_kwargs)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = False,
) -> None:
    """Log a numpy or PIL image to the active run: as one file (``artifact_file``), or as step
    ``step`` of the image series ``key``.

    Args:
        image: A ``PIL.Image.Image`` or a numpy array (HxW, HxWx3 or HxWx4; integers in
            0..255 or floats in 0..1).
        artifact_file: The file's path under the run's artifact root (not with ``key``).
        key: The image series' name (letters, digits, ``_-. /`` and spaces).
        step: The series' step; 0 by default.
        timestamp: Milliseconds since the epoch; now by default.
        synchronous: How the run's ``mlflow.loggedImages`` tag is set (see ``set_tag``).

    Raises:
        TypeError: For ``artifact_file`` together with ``key``/``step``/``timestamp``, or
            neither ``artifact_file`` nor ``key``.
        ValueError: For a ``key`` with other characters.
    """
    current_client().log_image(
        _run_id(None), image, artifact_file, key, step, timestamp, synchronous
    )


def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Log a table (a dict of columns or a pandas DataFrame) as MLflow's JSON (or Parquet)
    table artifact; logging to an existing file appends the rows (see
    ``MlflowClient.log_table``).

    Args:
        data: A dict or a DataFrame.
        artifact_file: The table's path, ending in ``.json`` or ``.parquet``.
        run_id: The run; the active run if None (one is started if none is active).

    Example::

        tracklet.log_table({"inputs": ["a"], "outputs": ["b"]}, artifact_file="qa.json")
    """
    current_client().log_table(_run_id(run_id), data, artifact_file)


def load_table(
    artifact_file: str,
    run_ids: list[str] | None = None,
    extra_columns: list[str] | None = None,
) -> Any:
    """Read a table logged by ``log_table`` from every run of the active experiment that has it
    (or from ``run_ids``), as one pandas DataFrame (see ``MlflowClient.load_table``).

    Args:
        artifact_file: The table's path under each run's artifact root.
        run_ids: Only these runs.
        extra_columns: Run columns to add, e.g. ``["run_id"]``.

    Returns:
        A pandas DataFrame.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST if no run has the table.
    """
    return current_client().load_table(
        current_experiment_id(), artifact_file, run_ids, extra_columns
    )


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The URI of the active run's artifact root, or of ``artifact_path`` under it.

    Args:
        artifact_path: A path relative to the run's artifact root.

    Returns:
        An absolute URI (or local path) such as ``s3://bucket/1/<run_id>/artifacts/model``.
    """
    run = _active_or_new_run()
    root = str(run.info.artifact_uri)
    if not artifact_path:
        return root
    return f"{root.rstrip('/')}/{validate_relative_path(artifact_path)}"
