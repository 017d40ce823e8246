"""MlflowClient's artifact methods (log_artifact, list_artifacts, download_artifacts, ...).

A run's artifacts live under ``run.info.artifact_uri``, a logged model's under its
``artifact_location``; the repository for that URI's scheme moves the bytes
(:mod:`tracklet.artifacts.registry`). ``runs:/`` and ``models:/`` URIs are resolved here, since
resolving them takes the tracking store.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from tracklet.artifacts.paths import validate_relative_path
from tracklet.artifacts.registry import get_artifact_repository
from tracklet.exceptions import MlflowException
from tracklet.tracking import background
from tracklet.tracking.run_model_artifacts import download_run_artifact

if TYPE_CHECKING:
    from tracklet.artifacts.base import ArtifactRepository
    from tracklet.entities import LoggedModel, Run
    from tracklet.entities.file_info import FileInfo

MLFLOW_LOGGED_IMAGES = "mlflow.loggedImages"
_IMAGE_KEY = re.compile(r"^[a-zA-Z0-9_\-./ ]+$")
_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")


class _Client(Protocol):
    """What the mixin needs of MlflowClient."""

    @property
    def tracking_uri(self) -> str: ...

    def get_run(self, run_id: str) -> Run: ...

    def _run_now(self, run_id: str) -> Run: ...

    def get_logged_model(self, model_id: str) -> LoggedModel: ...

    def set_tag(
        self, run_id: str, key: str, value: Any, synchronous: bool | None = None
    ) -> Any: ...

    def _repository(self, uri: str) -> ArtifactRepository: ...

    def _run_repository(self, run_id: str) -> ArtifactRepository: ...

    def _resolve_artifact_uri(self, uri: str) -> tuple[str, str]: ...

    def log_artifact(
        self, run_id: str, local_path: str, artifact_path: str | None = None
    ) -> None: ...

    def _log_artifact_helper(
        self, run_id: str, artifact_file: str
    ) -> contextlib.AbstractContextManager[str]: ...


def split_artifact_file(artifact_file: str) -> tuple[str | None, str]:
    """(directory or None, file name) of a run-relative file path such as ``dir/data.json``."""
    relative = validate_relative_path(artifact_file)
    if not relative:
        raise MlflowException.invalid_parameter_value(
            f"Invalid artifact file {artifact_file!r}: it must name a file"
        )
    directory, name = posixpath.split(relative)
    return directory or None, name


class ArtifactsClientMixin:
    """Artifact methods of :class:`tracklet.MlflowClient`."""

    # ------------------------------------------------------------------ resolution

    def _repository(self: _Client, uri: str) -> ArtifactRepository:
        # One repository per URI and client, so S3/HTTP connections are reused across calls.
        cache: dict[str, ArtifactRepository] = self.__dict__.setdefault("_artifact_repos", {})
        repo = cache.get(uri)
        if repo is None:
            repo = cache[uri] = get_artifact_repository(uri, self.tracking_uri)
        return repo

    def _run_repository(self: _Client, run_id: str) -> ArtifactRepository:
        uri = self._run_now(run_id).info.artifact_uri  # readers wait for background work first
        if not uri:
            raise MlflowException(f"Run {run_id} has no artifact location")
        return self._repository(uri)

    def _resolve_artifact_uri(self: _Client, uri: str) -> tuple[str, str]:
        """(artifact root URI, path under it) of a ``runs:/``, ``models:/`` or direct URI."""
        if uri.startswith("runs:"):
            run_id, _, path = uri[len("runs:") :].lstrip("/").partition("/")
            if not run_id:
                raise MlflowException.invalid_parameter_value(
                    f"Invalid runs URI {uri!r}: expected runs:/<run_id>/<path>"
                )
            background.wait(run_id)
            root = self.get_run(run_id).info.artifact_uri
            return str(root), validate_relative_path(path)
        if uri.startswith("models:"):
            model_id, _, path = uri[len("models:") :].lstrip("/").partition("/")
            if not _MODEL_ID.match(model_id):
                # A registered version (models:/name/3, name@alias, name/latest, name/Stage):
                # read from where the version's source points.
                client: Any = self  # MlflowClient, with its registry methods
                return client._resolve_artifact_uri(client._registered_model_source(uri))  # type: ignore[no-any-return]
            root = self.get_logged_model(model_id).artifact_location
            return root, validate_relative_path(path)
        # A direct URI (maybe a logged model's files being written): the repository is its
        # parent, the artifact its last segment.
        background.wait()
        stripped = uri.rstrip("/")
        parent, _, name = stripped.rpartition("/")
        if not parent or parent.endswith(":") or parent.endswith(":/"):
            return stripped, ""
        return parent, validate_relative_path(name)

    def _download_from_uri(self: _Client, artifact_uri: str, dst_path: str | None = None) -> str:
        if artifact_uri.startswith("runs:"):  # maybe a logged model named after the run
            run_id, _, path = artifact_uri[len("runs:") :].lstrip("/").partition("/")
            if run_id:
                background.wait(run_id)
                return download_run_artifact(self, run_id, path, dst_path)
        root, path = self._resolve_artifact_uri(artifact_uri)
        return self._repository(root).download_artifacts(path, dst_path)

    # ------------------------------------------------------------------ runs

    def log_artifact(
        self: _Client, run_id: str, local_path: str, artifact_path: str | None = None
    ) -> None:
        """Upload a local file (or a directory, as a directory of that name) to a run.

        Args:
            run_id: The run.
            local_path: The file or directory to upload.
            artifact_path: The directory under the run's artifact root to write to.
        """
        local_path = os.fspath(local_path)
        repo = self._run_repository(run_id)
        if os.path.isdir(local_path):
            name = os.path.basename(os.path.normpath(local_path))
            target = posixpath.join(artifact_path, name) if artifact_path else name
            repo.log_artifacts(local_path, target)
        else:
            repo.log_artifact(local_path, artifact_path)

    def log_artifacts(
        self: _Client, run_id: str, local_dir: str, artifact_path: str | None = None
    ) -> None:
        """Upload the contents of a local directory to a run.

        Args:
            run_id: The run.
            local_dir: The directory whose files (recursively) are uploaded.
            artifact_path: The directory under the run's artifact root to write to.
        """
        self._run_repository(run_id).log_artifacts(os.fspath(local_dir), artifact_path)

    @contextlib.contextmanager
    def _log_artifact_helper(self: _Client, run_id: str, artifact_file: str) -> Iterator[str]:
        """A temporary file path to write; it is uploaded as ``artifact_file`` afterwards."""
        import tempfile

        directory, name = split_artifact_file(artifact_file)
        with tempfile.TemporaryDirectory(prefix="tracklet-") as tmp:
            path = os.path.join(tmp, name)
            yield path
            self.log_artifact(run_id, path, directory)

    def log_text(self: _Client, run_id: str, text: str, artifact_file: str) -> None:
        """Write text to a file in the run's artifacts.

        Args:
            run_id: The run's id.
            text: The text, written as UTF-8.
            artifact_file: The file's path under the run's artifact root, e.g. ``dir/notes.txt``.

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for a path that leaves the artifact root.

        Example::

            client.log_text(run_id, "lr was too high", "notes/today.txt")
        """
        # The file is closed before the helper uploads it (contexts exit in reverse).
        with (
            self._log_artifact_helper(run_id, artifact_file) as path,
            open(path, "w", encoding="utf-8") as f,
        ):
            f.write(text)

    def log_dict(
        self: _Client, run_id: str, dictionary: dict[str, Any], artifact_file: str
    ) -> None:
        """Write a dict to a file in the run's artifacts: YAML for ``.yml``/``.yaml``, JSON for any
        other suffix (objects JSON cannot encode are written with ``str``).

        Args:
            run_id: The run's id.
            dictionary: The dict to write.
            artifact_file: The file's path under the run's artifact root, e.g. ``config.yaml``.

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for a path that leaves the artifact root.
        """
        import json

        extension = os.path.splitext(artifact_file)[1]
        with (
            self._log_artifact_helper(run_id, artifact_file) as path,
            open(path, "w", encoding="utf-8") as f,
        ):
            if extension in (".yml", ".yaml"):
                import yaml

                yaml.dump(dictionary, f, indent=2, default_flow_style=False)
            else:
                json.dump(dictionary, f, indent=2, default=str)

    def log_figure(
        self: _Client,
        run_id: str,
        figure: Any,
        artifact_file: str,
        *,
        save_kwargs: dict[str, Any] | None = None,
    ) -> None:
        """Save a matplotlib or plotly figure to a file in the run's artifacts.

        Args:
            run_id: The run's id.
            figure: A ``matplotlib.figure.Figure`` or a ``plotly.graph_objects.Figure``.
            artifact_file: The file's path under the run's artifact root; its suffix picks the
                format (``.png``, ``.svg``, ``.pdf``; ``.html`` for plotly).
            save_kwargs: Extra arguments for ``savefig`` (matplotlib) or ``write_html`` /
                ``write_image`` (plotly).

        Raises:
            TypeError: For an object that is neither kind of figure.
        """
        from tracklet.artifacts.media import save_figure

        with self._log_artifact_helper(run_id, artifact_file) as path:
            save_figure(figure, path, save_kwargs)

    def log_image(
        self: _Client,
        run_id: str,
        image: Any,
        artifact_file: str | None = None,
        key: str | None = None,
        step: int | None = None,
        timestamp: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """Log a numpy or PIL image: as one file (``artifact_file``), or as step ``step`` of the
        image series ``key`` (a full-size PNG plus a WebP thumbnail, as MLflow's UI expects).

        Args:
            run_id: The run's id.
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

        Example::

            client.log_image(run_id, numpy_image, key="samples", step=epoch)
        """
        import uuid

        from tracklet.artifacts.media import thumbnail, to_pil_image

        if artifact_file is not None and any(a is not None for a in (key, step, timestamp)):
            raise TypeError(
                "The `artifact_file` parameter cannot be used in conjunction with `key`, "
                "`step`, or `timestamp` parameters."
            )
        if artifact_file is None and key is None:
            raise TypeError(
                "Invalid arguments: Please specify exactly one of `artifact_file` or `key`."
            )
        pil_image = to_pil_image(image)
        if artifact_file is not None:
            with self._log_artifact_helper(run_id, artifact_file) as path:
                pil_image.save(path)
            return
        assert key is not None
        if not _IMAGE_KEY.match(key):
            raise ValueError(
                "The `key` parameter may only contain alphanumerics, underscores (_), dashes "
                f"(-), periods (.), spaces ( ), and slashes (/). Got {key!r}."
            )
        timestamp = timestamp or int(time.time() * 1000)
        stem = (
            f"images/{key.replace('/', '~')}+step+{step or 0}+timestamp+{timestamp}+{uuid.uuid4()}"
        )
        with self._log_artifact_helper(run_id, f"{stem}.png") as path:
            pil_image.save(path)
        with self._log_artifact_helper(run_id, f"{stem}+compressed.webp") as path:
            thumbnail(pil_image).save(path)
        self.set_tag(run_id, MLFLOW_LOGGED_IMAGES, True, synchronous)

    def list_artifacts(self: _Client, run_id: str, path: str | None = None) -> list[FileInfo]:
        """List the files and directories directly under a path of the run's artifacts.

        Args:
            run_id: The run's id.
            path: A directory relative to the run's artifact root; the root if None.

        Returns:
            A list of FileInfo (``path``, ``is_dir``, ``file_size``), empty for a missing path.
        """
        background.wait(run_id)
        return self._run_repository(run_id).list_artifacts(path)

    def download_artifacts(
        self: _Client, run_id: str, path: str, dst_path: str | None = None
    ) -> str:
        """Download a run's artifact file or directory.

        Args:
            run_id: The run's id.
            path: The artifact's path relative to the run's artifact root.
            dst_path: An existing local directory; if None, a new temporary directory (or,
                for artifacts already on the local file system, their own path).

        Returns:
            The local path of the downloaded file or directory.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST for a missing artifact.
        """
        background.wait(run_id)
        return download_run_artifact(self, run_id, path, dst_path)

    # ------------------------------------------------------------------ logged models

    def log_model_artifact(
        self: _Client, model_id: str, local_path: str, artifact_path: str | None = None
    ) -> None:
        """Upload a local file to a logged model's artifacts.

        Args:
            model_id: The logged model's id.
            local_path: The file to upload.
            artifact_path: The directory under the model's artifact root; the root if None.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown model.
        """
        root = self.get_logged_model(model_id).artifact_location
        self._repository(root).log_artifact(os.fspath(local_path), artifact_path)

    def log_model_artifacts(
        self: _Client, model_id: str, local_dir: str, artifact_path: str | None = None
    ) -> None:
        """Upload the contents of a local directory to a logged model's artifacts.

        Args:
            model_id: The logged model's id.
            local_dir: The directory whose files (recursively) are uploaded.
            artifact_path: The directory under the model's artifact root; the root if None.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown model.
        """
        root = self.get_logged_model(model_id).artifact_location
        self._repository(root).log_artifacts(os.fspath(local_dir), artifact_path)

    def list_logged_model_artifacts(
        self: _Client, model_id: str, path: str | None = None
    ) -> list[FileInfo]:
        """List the files and directories directly under a path of a logged model's artifacts.

        Args:
            model_id: The logged model's id.
            path: A directory relative to the model's artifact root; the root if None.

        Returns:
            A list of FileInfo (``path``, ``is_dir``, ``file_size``).

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown model.
        """
        root = self.get_logged_model(model_id).artifact_location
        return self._repository(root).list_artifacts(path)
