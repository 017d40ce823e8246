"""Artifact URI scheme -> repository. Implementations (and boto3/httpx) load on first use.

``runs:/`` and ``models:/`` URIs name a run's or a logged model's artifacts; they are resolved
to one of these schemes by the tracking client (:mod:`tracklet.tracking.client_artifacts`).
"""

from __future__ import annotations

from collections.abc import Callable

from tracklet.artifacts.base import ArtifactRepository
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException

RepositoryFactory = Callable[[str, str | None], ArtifactRepository]
_ENTRY_POINT_GROUP = "tracklet.artifact_repository"


def scheme_of(uri: str) -> str:
    """The URI's scheme, '' for a plain path (including Windows drive paths like ``C:\\x``)."""
    scheme, sep, _ = uri.partition(":")
    if not sep or len(scheme) == 1 or "/" in scheme or "\\" in scheme:
        return ""
    return scheme.lower()


def _local(uri: str, tracking_uri: str | None) -> ArtifactRepository:
    from tracklet.artifacts.local import LocalArtifactRepository

    return LocalArtifactRepository(uri)


def _s3(uri: str, tracking_uri: str | None) -> ArtifactRepository:
    from tracklet.artifacts.s3 import S3ArtifactRepository

    return S3ArtifactRepository(uri)


def _http(uri: str, tracking_uri: str | None) -> ArtifactRepository:
    from tracklet.artifacts.http import HttpArtifactRepository

    return HttpArtifactRepository(uri)


def _mlflow_artifacts(uri: str, tracking_uri: str | None) -> ArtifactRepository:
    from tracklet.artifacts.http import HttpArtifactRepository, resolve_mlflow_artifacts_uri

    if tracking_uri is None:
        # The caller knows which server it talks to; this layer never reads the tracking API.
        raise MlflowException(
            f"Artifact URI {uri!r} is relative to a tracking server: pass the server's "
            "tracking_uri (http://host:port) to resolve it.",
            INVALID_PARAMETER_VALUE,
        )
    return HttpArtifactRepository(resolve_mlflow_artifacts_uri(uri, tracking_uri))


_BUILTIN: dict[str, RepositoryFactory] = {
    "": _local,
    "file": _local,
    "s3": _s3,
    "http": _http,
    "https": _http,
    "mlflow-artifacts": _mlflow_artifacts,
}


def get_artifact_repository(uri: str, tracking_uri: str | None = None) -> ArtifactRepository:
    """The repository for artifact URI ``uri``.

    Args:
        uri: A plain path, ``file://``, ``s3://``, ``http(s)://`` or ``mlflow-artifacts:`` URI.
        tracking_uri: The tracking server ``mlflow-artifacts:`` URIs resolve against
            (required for them; the tracking client passes its own).

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for an unknown scheme, or an
            ``mlflow-artifacts:`` URI without ``tracking_uri``.
    """
    scheme = scheme_of(uri)
    factory = _BUILTIN.get(scheme)
    if factory is None:
        from importlib.metadata import entry_points

        plugins = {ep.name: ep for ep in entry_points(group=_ENTRY_POINT_GROUP)}
        if scheme not in plugins:
            supported = ", ".join(sorted(s for s in {*_BUILTIN, *plugins} if s))
            raise MlflowException(
                f"Unsupported artifact URI {uri!r}: scheme {scheme!r} is not one of "
                f"{supported} (or a local path).",
                INVALID_PARAMETER_VALUE,
            )
        factory = plugins[scheme].load()
    return factory(uri, tracking_uri)
