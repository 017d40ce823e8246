"""The server's settings: what ``tracklet server`` was started with, resolved once."""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass

# What /version answers: MLflow clients parse it to pick protocol features (spec trap 1), so it
# names the MLflow release whose REST protocol tracklet speaks.
MLFLOW_COMPATIBLE_VERSION = "3.17.2"
PROXY_ARTIFACT_ROOT = "mlflow-artifacts:/"
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_ARTIFACT_BYTES = 100 * 1024**3
_LOCALHOST_NAMES = ("localhost", "127.0.0.1", "[::1]", "::1")
# RFC 1918 and RFC 4193 private ranges: MLflow's defaults for a server bound beyond loopback.
_PRIVATE_PATTERNS = (
    "192.168.*",
    "10.*",
    *(f"172.{i}.*" for i in range(16, 32)),
    "fc00:*",
    "fd00:*",
)


@dataclass(frozen=True)
class ServerSettings:
    """Everything a worker needs to build its app; picklable, so workers can be spawned.

    Attributes:
        backend_store_uri: Database URI (``sqlite:///...`` or ``postgresql://...``).
        default_artifact_root: Artifact root for new experiments; ``mlflow-artifacts:/`` when
            serving artifacts.
        artifacts_destination: Where the artifact proxy stores bytes: a local directory,
            ``file:`` or ``s3://bucket/prefix`` URI.
        serve_artifacts: Whether the ``/mlflow-artifacts`` proxy is on.
        host: The address the server binds (decides the default allowed hosts).
        allowed_hosts: Host header patterns accepted (fnmatch); ``("*",)`` accepts all.
        cors_allowed_origins: Origins allowed to make state-changing API calls.
        disable_security_middleware: Skip Host/Origin checks and security headers.
        x_frame_options: Value of the X-Frame-Options header ("NONE" to omit it).
        max_request_bytes: Largest JSON request body accepted (413 above).
        max_artifact_bytes: Largest artifact upload accepted (413 above).
        static_prefix: A path prefix every route is served under (e.g. ``/mlflow``).
        presigned_urls: With an object-store destination, hand clients presigned URLs for
            multipart uploads and downloads (MLflow's behaviour); off, every byte goes
            through the proxy (for clients that cannot reach the object store).
        app_name: ``"basic-auth"`` turns on users and permissions (server/auth/); None: off.
        auth_database_uri: The users-and-grants database (default: basic_auth.db beside the
            working directory, as MLflow's).
        auth_default_permission: What a user may do on a resource without a grant.
    """

    backend_store_uri: str
    default_artifact_root: str = PROXY_ARTIFACT_ROOT
    artifacts_destination: str = "./mlartifacts"
    serve_artifacts: bool = True
    host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()
    cors_allowed_origins: tuple[str, ...] = ()
    disable_security_middleware: bool = False
    x_frame_options: str = "SAMEORIGIN"
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES
    static_prefix: str = ""
    presigned_urls: bool = True
    app_name: str | None = None
    auth_database_uri: str = "sqlite:///basic_auth.db"
    auth_default_permission: str = "READ"

    @property
    def artifacts_are_local(self) -> bool:
        """Whether the proxy's destination is a local directory (not object storage)."""
        return not self.artifacts_destination.startswith("s3:")

    @property
    def artifacts_path(self) -> str:
        """The artifact proxy's destination as an absolute local path."""
        return local_path(self.artifacts_destination)

    def local_artifact_roots(self) -> tuple[str, ...]:
        """The local directories a client may place an experiment's artifacts in."""
        roots = [self.artifacts_path] if self.serve_artifacts and self.artifacts_are_local else []
        scheme = urllib.parse.urlsplit(self.default_artifact_root).scheme
        if len(scheme) <= 1 or scheme == "file":
            roots.append(local_path(self.default_artifact_root))
        return tuple(roots)

    def effective_allowed_hosts(self) -> tuple[str, ...]:
        """The Host header patterns to accept: the configured ones, else MLflow's defaults
        (loopback names on any port; private ranges and the bound name if bound beyond it)."""
        if self.allowed_hosts:
            return self.allowed_hosts
        hosts: list[str] = []
        for name in _LOCALHOST_NAMES:
            hosts += [name, f"{name.replace('[', '[[]', 1)}:*"]
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            hosts += list(_PRIVATE_PATTERNS)
            if self.host not in ("0.0.0.0", "::"):
                hosts += [self.host, f"{self.host}:*"]
        return tuple(hosts)


def local_path(uri_or_path: str) -> str:
    """``file:///x`` or a path -> an absolute local path."""
    if uri_or_path.startswith("file:"):
        parsed = urllib.parse.urlparse(uri_or_path)
        return os.path.abspath(urllib.parse.unquote(parsed.path))
    return os.path.abspath(uri_or_path)
