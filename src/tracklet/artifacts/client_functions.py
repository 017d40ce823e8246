"""``mlflow.artifacts``' functions: download, list and read artifacts by run id or URI.

They resolve ``runs:/`` and ``models:/`` URIs through the tracking client, so this is the one
module of :mod:`tracklet.artifacts` that may import the tracking API (an exemption stated in
pyproject's import contracts); the repositories beside it never do. The client is imported when
a function runs: the tracking client imports the repositories, so a module-level import would be
a cycle.
"""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING, Any

from tracklet.exceptions import BAD_REQUEST, MlflowException

if TYPE_CHECKING:
    from tracklet.entities.file_info import FileInfo
    from tracklet.tracking.client import MlflowClient

__all__ = ["download_artifacts", "list_artifacts", "load_dict", "load_text"]


def _client(tracking_uri: str | None) -> MlflowClient:
    from tracklet.tracking.client import MlflowClient

    return MlflowClient(tracking_uri)


def _check_arguments(
    artifact_uri: str | None, run_id: str | None, artifact_path: str | None
) -> None:
    if (run_id, artifact_uri).count(None) != 1:
        raise MlflowException.invalid_parameter_value(
            "Exactly one of `run_id` or `artifact_uri` must be specified"
        )
    if artifact_uri is not None and artifact_path is not None:
        raise MlflowException.invalid_parameter_value(
            "`artifact_path` cannot be specified if `artifact_uri` is specified"
        )


def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | None = None,
    tracking_uri: str | None = None,
    registry_uri: str | None = None,
) -> str:
    """Download an artifact file or directory and return its local path.

    Args:
        artifact_uri: The artifact's URI (``runs:/<run_id>/path``, ``models:/<model_id>``,
            ``s3://...``, ...). Exactly one of ``artifact_uri`` and ``run_id`` is given.
        run_id: The run whose artifact ``artifact_path`` (its whole root if None) is wanted.
        artifact_path: With ``run_id``: the path under the run's artifact root.
        dst_path: Local directory to download into (created if missing); if None, a new
            temporary directory, or the artifact's own path when it is already local.
        tracking_uri: The tracking store that resolves ``runs:/`` and ``models:/`` URIs.
        registry_uri: Accepted for MLflow compatibility; unused.

    Returns:
        The local path of the downloaded file or directory.
    """
    _check_arguments(artifact_uri, run_id, artifact_path)
    if dst_path is not None:
        dst_path = os.path.abspath(dst_path)
        os.makedirs(dst_path, exist_ok=True)
    client = _client(tracking_uri)
    if artifact_uri is not None:
        return client._download_from_uri(artifact_uri, dst_path)
    assert run_id is not None
    return client.download_artifacts(run_id, artifact_path or "", dst_path)


def list_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    tracking_uri: str | None = None,
) -> list[FileInfo]:
    """The files and directories directly under an artifact directory.

    Args:
        artifact_uri: The directory's URI. Exactly one of ``artifact_uri`` and ``run_id``.
        run_id: The run whose directory ``artifact_path`` (its root if None) is listed.
        artifact_path: With ``run_id``: the directory under the run's artifact root.
        tracking_uri: The tracking store that resolves ``runs:/`` and ``models:/`` URIs.
    """
    _check_arguments(artifact_uri, run_id, artifact_path)
    client = _client(tracking_uri)
    if artifact_uri is not None:
        root, path = client._resolve_artifact_uri(artifact_uri)
        return client._repository(root).list_artifacts(path or None)
    assert run_id is not None
    return client.list_artifacts(run_id, artifact_path)


def _read(artifact_uri: str) -> str:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tracklet-") as tmp:
        local = download_artifacts(artifact_uri=artifact_uri, dst_path=tmp)
        try:
            with open(local, encoding="utf-8") as f:
                return f.read()
        except UnicodeDecodeError as e:
            raise MlflowException(
                f"Failed to load the artifact at {artifact_uri!r} as text: it is not valid "
                "UTF-8. Download it with `download_artifacts` and open it with the right "
                "encoding.",
                BAD_REQUEST,
            ) from e


def load_text(artifact_uri: str) -> str:
    """The contents of a text artifact, e.g. ``load_text(run.info.artifact_uri + "/a.txt")``."""
    return _read(artifact_uri)


def load_dict(artifact_uri: str) -> dict[str, Any]:
    """A JSON artifact as a dict (YAML for ``.yml``/``.yaml`` files)."""
    import json

    text = _read(artifact_uri)
    if posixpath.splitext(artifact_uri)[1] in (".yml", ".yaml"):
        import yaml

        loaded = yaml.safe_load(text)
    else:
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as e:
            raise MlflowException.invalid_parameter_value(
                f"Unable to form a JSON object from file content: {e}"
            ) from e
    if not isinstance(loaded, dict):
        raise MlflowException.invalid_parameter_value(
            f"The artifact at {artifact_uri!r} holds a {type(loaded).__name__}, not a dict"
        )
    return loaded
