"""MlflowClient's ``log_table`` / ``load_table``: MLflow 3.17.2's table artifacts.

A table is a pandas DataFrame written as JSON in pandas' ``split`` orientation (or Parquet),
with images in it saved beside it under ``table_images/`` (a PNG and a WebP thumbnail, the cell
holding ``{"type": "image", "filepath": ..., "compressed_filepath": ...}``). Logging to a file
that exists appends the rows. The run's ``mlflow.loggedArtifacts`` tag lists each table
(``[{"path": "dir/t.json", "type": "table"}]``): MLflow's UI shows tables from it, and
``load_table`` finds the runs that have a table by searching that tag. Files and tags are MLflow's
byte for byte, so each tool reads the other's tables.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import posixpath
import tempfile
import uuid
from typing import TYPE_CHECKING, Any, Protocol

from tracklet.exceptions import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)

if TYPE_CHECKING:
    from tracklet.entities import PagedList, Run
    from tracklet.entities.file_info import FileInfo

_logger = logging.getLogger(__name__)

MLFLOW_LOGGED_ARTIFACTS = "mlflow.loggedArtifacts"
_FORBIDDEN = ('"', "'", ",", ":", "[", "]", "{", "}")  # they would break the tag's LIKE search
_SUFFIXES = (".json", ".parquet")


class _Client(Protocol):
    """What the mixin needs of MlflowClient."""

    def get_run(self, run_id: str) -> Run: ...

    def set_tag(
        self, run_id: str, key: str, value: Any, synchronous: bool | None = None
    ) -> Any: ...

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]: ...

    def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str: ...

    def search_runs(
        self,
        experiment_ids: list[str] | str,
        filter_string: str = "",
        run_view_type: int = ...,
        max_results: int = ...,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]: ...

    def _log_artifact_helper(
        self, run_id: str, artifact_file: str
    ) -> contextlib.AbstractContextManager[str]: ...


def check_table_file(artifact_file: str) -> None:
    """Refuse characters MLflow refuses in a table's path (they would break the tag search).

    Raises:
        ValueError: naming the character, as MLflow.
    """
    for char in _FORBIDDEN:
        if char in artifact_file:
            raise ValueError(f"The artifact_file contains forbidden character: {char}")


def read_table(path: str) -> Any:
    """A table file as a DataFrame (``split``-oriented JSON, or Parquet)."""
    import pandas as pd

    if path.endswith(".json"):
        return pd.read_json(path, orient="split")
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    raise ValueError(f"Unsupported file type in {path}. Expected .json or .parquet")


def _is_image(obj: Any) -> bool:
    return all(callable(getattr(obj, name, None)) for name in ("save", "resize")) and hasattr(
        obj, "size"
    )


def _existing_table(client: _Client, run_id: str, artifact_file: str) -> Any | None:
    directory = posixpath.dirname(posixpath.normpath(artifact_file)) or None
    paths = {f.path for f in client.list_artifacts(run_id, path=directory) if not f.is_dir}
    if artifact_file not in paths:
        return None
    with tempfile.TemporaryDirectory(prefix="tracklet-") as tmp:
        return read_table(client.download_artifacts(run_id, artifact_file, tmp))


class TablesClientMixin:
    """``log_table`` and ``load_table`` of MlflowClient."""

    def log_table(self: _Client, run_id: str, data: Any, artifact_file: str) -> None:
        """Log a table (a dict of columns or a pandas DataFrame) as a JSON or Parquet artifact;
        if ``artifact_file`` exists in the run, the rows are appended to it.

        Args:
            run_id: The run's id.
            data: A dict (column name -> values, or one row of scalars) or a DataFrame. Columns
                of PIL images are saved as image files under ``table_images/``.
            artifact_file: The table's path under the run's artifact root, ending in ``.json``
                or ``.parquet`` (e.g. ``"eval/results.json"``).

        Raises:
            ValueError: for another suffix, a forbidden character (``"',:[]{}``), or a column
                mixing images and other values.
            MlflowException: INVALID_PARAMETER_VALUE for data of another type, or data that
                cannot be written as JSON.

        Example::

            client.log_table(run_id, {"inputs": ["a", "b"], "score": [0.1, 0.9]}, "t.json")
        """
        import pandas as pd

        check_table_file(artifact_file)
        if not artifact_file.endswith(_SUFFIXES):
            raise ValueError(
                f"Invalid artifact file path '{artifact_file}'. Please ensure the file you are "
                "trying to log as a table has a file name with either '.json' or '.parquet' "
                "extension."
            )
        if not isinstance(data, pd.DataFrame | dict):
            raise MlflowException(
                "data must be a pandas.DataFrame or a dictionary", INVALID_PARAMETER_VALUE
            )
        if isinstance(data, dict):
            try:
                data = pd.DataFrame(data)
            except ValueError:  # all scalars: one row, as MLflow
                data = pd.DataFrame([data])
        else:
            data = data.copy()  # image columns are replaced below: never the caller's frame
        # Images can only be in object columns (pandas 3's string columns never hold them).
        for column in [c for c in data.columns if data[c].dtype == object]:
            images = data[column].map(_is_image)
            if images.any() and not images.all():
                raise ValueError(
                    f"Column `{column}` contains a mix of images and non-images. Please ensure "
                    "that all elements in the column are of the same type."
                )
            if len(images) and images.all():
                data[column] = data[column].map(
                    lambda image: _save_table_image(self, run_id, artifact_file, image)
                )
        existing = _existing_table(self, run_id, artifact_file)
        if existing is not None:
            data = pd.concat([existing, data], ignore_index=True)
        with self._log_artifact_helper(run_id, artifact_file) as path:
            try:
                if path.endswith(".json"):
                    data.to_json(path, orient="split", index=False, date_format="iso")
                else:
                    data.to_parquet(path, index=False)
            except Exception as exc:
                raise MlflowException(
                    f"Failed to save {data} as table as the data is not JSON serializable. "
                    f"Error: {exc}"
                ) from exc
        tag = json.loads(self.get_run(run_id).data.tags.get(MLFLOW_LOGGED_ARTIFACTS, "[]"))
        entry = {"path": artifact_file, "type": "table"}
        if entry not in tag:
            tag.append(entry)
            self.set_tag(run_id, MLFLOW_LOGGED_ARTIFACTS, json.dumps(tag), synchronous=True)

    def load_table(
        self: _Client,
        experiment_id: str,
        artifact_file: str,
        run_ids: list[str] | None = None,
        extra_columns: list[str] | None = None,
    ) -> Any:
        """Read the table ``artifact_file`` of every run of an experiment that logged it (or of
        ``run_ids``), concatenated, newest run first.

        Args:
            experiment_id: The experiment.
            artifact_file: The table's path under each run's artifact root.
            run_ids: Only these runs (a warning if some have no such table).
            extra_columns: Run columns to add to each run's rows, as ``search_runs`` names them
                (``"run_id"``, ``"status"``, ``"metrics.acc"``, ``"tags.team"``, ...); a
                name the table already has gets an underscore appended.

        Returns:
            A pandas DataFrame.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST if no run has the table.
        """
        import pandas as pd

        check_table_file(artifact_file)
        pattern = f'"path"%:%"{artifact_file}",%"type"%:%"table"'
        filter_string = f"tags.`{MLFLOW_LOGGED_ARTIFACTS}` LIKE '%{pattern}%'"
        if run_ids:
            filter_string += f" and attributes.run_id IN ({','.join(map(repr, run_ids))})"
        runs: list[Run] = []
        token: str | None = None
        while True:
            page = self.search_runs([experiment_id], filter_string, page_token=token)
            runs.extend(page)
            token = page.token
            if not token:
                break
        if run_ids and len(run_ids) != len(runs):
            _logger.warning(
                "Not all runs have the specified table artifact. Some runs will be skipped."
            )
        if not runs:
            raise MlflowException(
                "No runs found with the corresponding table artifact.", RESOURCE_DOES_NOT_EXIST
            )
        frames = []
        for run in runs:
            table = _existing_table(self, run.info.run_id, artifact_file)
            if table is None:
                raise MlflowException(
                    f"Artifact {artifact_file} not found for run {run.info.run_id}.",
                    RESOURCE_DOES_NOT_EXIST,
                )
            for column in extra_columns or ():
                name = column
                if column in table:
                    name = f"{column}_"
                    _logger.warning(
                        "Column name %s already exists in the table. Resolving the conflict, by "
                        "appending an underscore to the column name.",
                        column,
                    )
                table[name] = _run_column(run, column)
            frames.append(table)
        return pd.concat(frames, ignore_index=True)


def _save_table_image(
    client: _Client, run_id: str, artifact_file: str, image: Any
) -> dict[str, str]:
    from tracklet.artifacts.media import thumbnail

    table_name = os.path.splitext(artifact_file)[0]
    stem = posixpath.join("table_images", table_name, str(uuid.uuid4()))
    with client._log_artifact_helper(run_id, stem + ".png") as path:
        image.save(path)
    with client._log_artifact_helper(run_id, stem + ".webp") as path:
        thumbnail(image).save(path)
    return {"type": "image", "filepath": stem + ".png", "compressed_filepath": stem + ".webp"}


def _run_column(run: Run, column: str) -> Any:
    """The value ``search_runs``' DataFrame has in ``column`` for ``run``.

    Raises:
        KeyError: for a column search_runs does not have (as MLflow's row lookup does).
    """
    info, data = run.info, run.data
    if column in ("start_time", "end_time"):
        import pandas as pd

        millis = getattr(info, column)
        return pd.to_datetime(millis, unit="ms", utc=True) if millis is not None else None
    if column in ("run_id", "experiment_id", "status", "artifact_uri"):
        return getattr(info, column)
    kind, _, key = column.partition(".")
    if kind == "metrics" and key:
        return data.metrics.get(key, float("nan"))  # a missing metric is NaN in the DataFrame
    if kind == "params" and key:
        return data.params.get(key)
    if kind == "tags" and key:
        return data.tags.get(key)
    raise KeyError(column)
