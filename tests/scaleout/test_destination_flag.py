"""``--artifacts-destination``: local paths, ``file:`` and ``s3://bucket[/path]`` are accepted;
other schemes, and an S3 URI without a bucket, are refused naming the flag."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tracklet.cli import main
from tracklet.cli.server import _settings


def _options(destination: str) -> dict[str, object]:
    return {
        "backend_store_uri": "sqlite:///x.db",
        "serve_artifacts": True,
        "artifacts_destination": destination,
        "default_artifact_root": None,
        "host": "127.0.0.1",
        "allowed_hosts": None,
        "cors_allowed_origins": None,
        "disable_security_middleware": False,
        "x_frame_options": "SAMEORIGIN",
        "max_request_size": "64M",
        "max_artifact_size": "100G",
        "static_prefix": "",
    }


@pytest.mark.parametrize("destination", ["s3://bucket", "s3://bucket/a/b", "./mlartifacts"])
def test_accepted_destinations(destination: str) -> None:
    settings = _settings(_options(destination))
    assert settings.artifacts_destination == destination
    assert settings.default_artifact_root == "mlflow-artifacts:/"
    assert settings.artifacts_are_local is not destination.startswith("s3:")
    # An object-store destination is no local root a client may point an experiment at.
    assert (settings.local_artifact_roots() == ()) is destination.startswith("s3:")


@pytest.mark.parametrize(
    ("destination", "why"),
    [("gs://bucket/x", "not supported yet"), ("s3:///nobucket", "names no bucket")],
)
def test_refused_destinations(destination: str, why: str) -> None:
    result = CliRunner().invoke(main, ["server", "--artifacts-destination", destination])
    assert result.exit_code == 2
    assert "--artifacts-destination" in result.output
    assert why in " ".join(result.output.split())
