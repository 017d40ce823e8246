"""``tracklet server`` (and ``tracklet ui``): the tracking server on uvicorn, with MLflow's flags.

With ``--workers N`` the socket is bound once and N worker processes share it, each opening its
own connections to the backend store (use PostgreSQL for several workers under write load).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
from typing import Any

import click

DEFAULT_ARTIFACTS_DESTINATION = "./mlartifacts"
_SIZE_SUFFIXES = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def _default_backend_uri() -> str:
    # The library's own default (tracking/uri.py): tracklet.db in the working directory.
    return f"sqlite:///{os.path.abspath('tracklet.db')}"


def parse_size(text: str) -> int:
    """``"64M"``, ``"1g"``, ``"1048576"`` -> bytes."""
    value = text.strip().lower().removesuffix("b").removesuffix("i")
    suffix = value[-1:] if value[-1:] in _SIZE_SUFFIXES and not value[-1:].isdigit() else ""
    number = value[: len(value) - len(suffix)] if suffix else value
    try:
        return int(float(number) * _SIZE_SUFFIXES[suffix])
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a size such as 64M or 1G") from None


def _split(values: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in values.split(",") if v.strip()) if values else ()


def _check_prefix(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value and (not value.startswith("/") or value.endswith("/")):
        raise click.BadParameter("must start with '/' and not end with '/', e.g. /mlflow")
    return value


def _log_config(level: str) -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {**LOGGING_CONFIG, "loggers": dict(LOGGING_CONFIG["loggers"])}
    config["loggers"]["tracklet"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    config["loggers"]["uvicorn.access"] = {"handlers": [], "level": "WARNING", "propagate": False}
    return config


def _options(func: Any) -> Any:
    options = [
        click.option(
            "--backend-store-uri",
            envvar="MLFLOW_BACKEND_STORE_URI",
            metavar="URI",
            default=None,
            help="Database for experiments and runs: sqlite:///path.db or "
            "postgresql://user@host/db. Default: sqlite:///<cwd>/tracklet.db.",
        ),
        click.option(
            "--default-artifact-root",
            envvar="MLFLOW_DEFAULT_ARTIFACT_ROOT",
            metavar="URI",
            default=None,
            help="Artifact root of experiments created through this server. Default: "
            "mlflow-artifacts:/ (the server's own proxy) with --serve-artifacts, else ./mlruns.",
        ),
        click.option(
            "--serve-artifacts/--no-serve-artifacts",
            envvar="MLFLOW_SERVE_ARTIFACTS",
            default=True,
            show_default=True,
            help="Serve the mlflow-artifacts proxy: clients upload and download artifacts "
            "through this server, which stores them under --artifacts-destination.",
        ),
        click.option(
            "--artifacts-destination",
            envvar="MLFLOW_ARTIFACTS_DESTINATION",
            metavar="PATH",
            default=DEFAULT_ARTIFACTS_DESTINATION,
            show_default=True,
            help="Where the proxy stores artifacts: a local directory, a file:// URI, or "
            "s3://bucket/path (S3 or S3-compatible: endpoint from MLFLOW_S3_ENDPOINT_URL, "
            "credentials and region from boto3's usual chain; clients need none).",
        ),
        click.option(
            "--presigned-urls/--no-presigned-urls",
            envvar="TRACKLET_PRESIGNED_URLS",
            default=True,
            show_default=True,
            help="With an s3:// --artifacts-destination, let clients send large files in "
            "presigned parts and read downloads from presigned URLs (as MLflow's server does; "
            "clients then need to reach the object store, not credentials). Off: every byte "
            "goes through this server.",
        ),
        click.option(
            "--host",
            "-h",
            default="127.0.0.1",
            show_default=True,
            help="Address to bind. Use 0.0.0.0 to accept other machines (and set --allowed-hosts).",
        ),
        click.option(
            "--port", "-p", default=5000, show_default=True, type=int, help="Port to listen on."
        ),
        click.option(
            "--workers",
            "-w",
            default=1,
            show_default=True,
            type=click.IntRange(min=1),
            help="Worker processes serving requests.",
        ),
        click.option(
            "--static-prefix",
            envvar="MLFLOW_STATIC_PREFIX",
            default="",
            callback=_check_prefix,
            help="Serve every route under this path prefix (e.g. /mlflow); clients then use "
            "http://host:port/mlflow as the tracking URI.",
        ),
        click.option(
            "--allowed-hosts",
            envvar="MLFLOW_SERVER_ALLOWED_HOSTS",
            default=None,
            help="Comma-separated Host header patterns to accept (fnmatch, e.g. "
            "'mlflow.example.com,*.internal:5000'; '*' accepts all). Default: localhost names, "
            "plus private-network addresses when bound beyond loopback. Guards against DNS "
            "rebinding.",
        ),
        click.option(
            "--cors-allowed-origins",
            envvar="MLFLOW_SERVER_CORS_ALLOWED_ORIGINS",
            default=None,
            help="Comma-separated browser origins allowed to make state-changing API calls "
            "(localhost origins always are; '*' allows all).",
        ),
        click.option(
            "--disable-security-middleware",
            is_flag=True,
            default=False,
            help="Turn off Host/Origin checks and security headers (not recommended).",
        ),
        click.option(
            "--x-frame-options",
            default="SAMEORIGIN",
            show_default=True,
            help="X-Frame-Options response header ('NONE' to omit it).",
        ),
        click.option(
            "--max-request-size",
            default="64M",
            show_default=True,
            help="Largest JSON request body accepted; larger ones get HTTP 413.",
        ),
        click.option(
            "--max-artifact-size",
            default="100G",
            show_default=True,
            help="Largest artifact upload accepted through the proxy (streamed); HTTP 413 above.",
        ),
        click.option(
            "--app-name",
            type=click.Choice(["basic-auth"]),
            default=None,
            help="'basic-auth' turns on users and per-experiment / per-registered-model "
            "permissions (MLflow's flag). The first start needs TRACKLET_ADMIN_USERNAME and "
            "TRACKLET_ADMIN_PASSWORD: there is no default admin password.",
        ),
        click.option(
            "--auth-database-uri",
            envvar="TRACKLET_AUTH_DATABASE_URI",
            default="sqlite:///basic_auth.db",
            show_default=True,
            help="Where users and permissions are kept (with --app-name basic-auth).",
        ),
        click.option(
            "--auth-default-permission",
            envvar="TRACKLET_AUTH_DEFAULT_PERMISSION",
            type=click.Choice(["READ", "USE", "EDIT", "MANAGE", "NO_PERMISSIONS"]),
            default="READ",
            show_default=True,
            help="What a user may do with an experiment or model they hold no grant on.",
        ),
        click.option(
            "--log-level",
            type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
            default="info",
            show_default=True,
            help="Server log level; 'info' logs one line per request.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command()
@_options
def server(**options: Any) -> None:
    """Run the tracking server: MLflow's REST API over a tracklet database.

    MLflow clients work unchanged: point them at it with
    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 (or set_tracking_uri). Stops cleanly on
    SIGTERM or Ctrl-C.

    \b
    Examples:
      tracklet server
      tracklet server --backend-store-uri postgresql://user@db/tracking --workers 4 \\
          --host 0.0.0.0 --allowed-hosts tracking.example.com
    """
    run_server(**options)


@click.command()
@_options
def ui(**options: Any) -> None:
    """Run the tracking server for local use (the same server as ``tracklet server``)."""
    run_server(**options)


def _settings(options: dict[str, Any]) -> Any:
    from tracklet.server.settings import PROXY_ARTIFACT_ROOT, ServerSettings

    backend = options["backend_store_uri"] or _default_backend_uri()
    serve = options["serve_artifacts"]
    destination = options["artifacts_destination"]
    scheme = destination.partition("://")[0] if "://" in destination else ""
    if scheme not in ("", "file", "s3"):
        raise click.BadParameter(
            f"{destination!r}: the artifact proxy stores artifacts in a local directory, a "
            "file:// URI or s3://bucket/path; other destinations are not supported yet.",
            param_hint="--artifacts-destination",
        )
    if scheme == "s3" and not destination[len("s3://") :].split("/", 1)[0]:
        raise click.BadParameter(
            f"{destination!r} names no bucket: use s3://bucket or s3://bucket/path",
            param_hint="--artifacts-destination",
        )
    root = options["default_artifact_root"]
    if root is None:
        root = PROXY_ARTIFACT_ROOT if serve else os.path.abspath("mlruns")
    return ServerSettings(
        backend_store_uri=backend,
        default_artifact_root=root,
        artifacts_destination=options["artifacts_destination"],
        serve_artifacts=serve,
        host=options["host"],
        allowed_hosts=_split(options["allowed_hosts"]),
        cors_allowed_origins=_split(options["cors_allowed_origins"]),
        disable_security_middleware=options["disable_security_middleware"],
        x_frame_options=options["x_frame_options"],
        max_request_bytes=parse_size(options["max_request_size"]),
        max_artifact_bytes=parse_size(options["max_artifact_size"]),
        static_prefix=options["static_prefix"],
        presigned_urls=options.get("presigned_urls", True),
        app_name=options.get("app_name"),
        auth_database_uri=_auth_uri(options.get("auth_database_uri") or "sqlite:///basic_auth.db"),
        auth_default_permission=options.get("auth_default_permission") or "READ",
    )


def _auth_uri(uri: str) -> str:
    # Absolute, so every worker (and a later restart from elsewhere) opens the same file.
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return f"sqlite:///{os.path.abspath(uri[len('sqlite:///') :])}"
    return uri


def _check_backend(settings: Any) -> None:
    """Open the backend store once before any banner: a bad URI, a missing driver or an
    unreachable database is one line naming the URI and the cause, not a worker's traceback."""
    from tracklet.server.app import open_store

    try:
        open_store(settings).close()
    except Exception as error:  # any failure to open is reported, then exit 1
        cause = getattr(error, "orig", None) or error  # SQLAlchemy wraps the driver's error
        message = getattr(cause, "message", None) or str(cause) or type(cause).__name__
        raise click.ClickException(
            f"cannot open the backend store {_shown(settings.backend_store_uri)}: "
            + " ".join(message.split())
        ) from None


def _shown(uri: str) -> str:
    """``uri`` with its password (``user:secret@host``) masked, for banners and errors."""
    return re.sub(r"^([^:/]+://[^:/@]*):[^@/]*@", r"\1:***@", uri)


def _check_auth(settings: Any) -> None:
    """Refuse to start an auth server without an admin (made from the environment once)."""
    if settings.app_name is None:
        return
    from tracklet.server.auth.setup import AuthNotConfigured, open_auth

    try:
        auth, _ = open_auth(settings.auth_database_uri, settings.auth_default_permission)
    except AuthNotConfigured as error:
        raise click.ClickException(str(error)) from None
    auth.close()


def run_server(**options: Any) -> None:
    """Start uvicorn with the app for ``options`` (the CLI flags); returns when it stops."""
    import uvicorn

    from tracklet.server.config import TrackletUvicornConfig

    settings = _settings(options)
    _check_backend(settings)
    _check_auth(settings)
    log_level = options["log_level"]
    logging.getLogger("tracklet").setLevel(log_level.upper())
    config = TrackletUvicornConfig(
        settings,
        host=settings.host,
        port=options["port"],
        workers=options["workers"],
        log_config=_log_config(log_level),
        log_level=log_level,
        access_log=False,  # tracklet logs each request itself, with its duration
        timeout_graceful_shutdown=10,
    )
    where = (
        settings.artifacts_path if settings.artifacts_are_local else settings.artifacts_destination
    )
    click.echo(
        f"tracklet server: backend {_shown(settings.backend_store_uri)}, artifacts "
        + (
            f"proxied to {where}"
            if settings.serve_artifacts
            else f"at {settings.default_artifact_root}"
        ),
        err=True,
    )
    if settings.allowed_hosts == ("*",):
        click.echo(
            "WARNING: accepting every Host header leaves the server open to DNS rebinding attacks.",
            err=True,
        )
    # uvicorn re-raises the SIGTERM it handled once it has shut down; a no-op handler in its
    # place lets the process end with status 0 after the clean shutdown.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    if config.workers > 1:
        from uvicorn.supervisors import Multiprocess

        sock = config.bind_socket()
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run()
    sys.exit(0)
