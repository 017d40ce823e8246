"""Copying a run's (or a logged model's) artifact directory from one root to another.

Local to local is a directory copy (overwriting, so a resumed import copies again safely);
anything else goes through tracklet's artifact repositories (S3, HTTP, the mlflow-artifacts
proxy) via a temporary directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from urllib.parse import unquote, urlparse


def local_path(uri: str) -> str | None:
    """The filesystem path of a plain path or ``file:`` URI; None for remote URIs."""
    scheme = urlparse(uri).scheme
    if scheme == "file":
        return unquote(urlparse(uri).path)
    return uri if scheme == "" else None


def resolve(uri: str, artifacts_destination: str | None) -> str:
    """``mlflow-artifacts:/x`` under the server's ``--artifacts-destination`` when given."""
    if artifacts_destination and uri.startswith("mlflow-artifacts:"):
        return os.path.join(artifacts_destination, urlparse(uri).path.lstrip("/"))
    return uri


def copy_tree(src: str, dst: str, tracking_uri: str | None = None) -> bool:
    """Copy the artifact directory ``src`` to ``dst``; False when ``src`` has nothing."""
    src_path, dst_path = local_path(src), local_path(dst)
    if src_path is not None and dst_path is not None:
        if not os.path.isdir(src_path):
            return False
        shutil.copytree(src_path, dst_path, dirs_exist_ok=True)
        return True
    from tracklet.artifacts.registry import get_artifact_repository

    source = get_artifact_repository(src, tracking_uri)
    if not source.list_artifacts():
        return False
    with tempfile.TemporaryDirectory(prefix="tracklet-import-") as tmp:
        source.download_artifacts("", tmp)
        get_artifact_repository(dst, tracking_uri).log_artifacts(tmp)
    return True
