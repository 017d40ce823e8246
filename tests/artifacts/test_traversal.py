"""Crafted paths never read or write outside an artifact root or a download destination.

Each probe goes through the public entry points (client, fluent-level ``tracklet.artifacts``
functions and a repository directly), and must fail with INVALID_PARAMETER_VALUE without
copying the secret that sits beside the artifact root.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import tracklet as mlflow
from tracklet import MlflowClient
from tracklet.artifacts.local import LocalArtifactRepository
from tracklet.exceptions import MlflowException

SECRET = b"top secret"

PROBES = [
    "../secret.txt",
    "../../secret.txt",
    "sub/../../secret.txt",
    "/etc/passwd",
    "%2e%2e/secret.txt",
    "%2E%2E%2Fsecret.txt",
    "%252e%252e/secret.txt",
    "%25252e%25252e%25252fsecret.txt",
    "..\\secret.txt",
    "sub\\..\\..\\secret.txt",
    "C:\\Windows\\win.ini",
    "C:/Windows/win.ini",
    "ok\x00/../../secret.txt",
]


@pytest.fixture
def run_with_secret(sqlite_uri: str, tmp_path: Path) -> tuple[str, Path]:
    """A run with one artifact; a secret file beside (outside) its artifact root; and a
    symlink inside the root that leads to the secret's directory."""
    mlflow.set_tracking_uri(sqlite_uri)
    with mlflow.start_run() as run:
        mlflow.log_text("fine", "sub/ok.txt")
    root = Path(run.info.artifact_uri)
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    (root.parent / "secret.txt").write_bytes(SECRET)
    os.symlink(outside, root / "escape")
    os.symlink(outside / "secret.txt", root / "sub" / "leak.txt")
    return run.info.run_id, root


def _no_secret_in(directory: Path) -> bool:
    return all(p.read_bytes() != SECRET for p in directory.rglob("*") if p.is_file())


@pytest.mark.parametrize("probe", PROBES)
def test_client_download_refuses_traversal(
    run_with_secret: tuple[str, Path], tmp_path: Path, probe: str, record_property: Any
) -> None:
    run_id, _ = run_with_secret
    dst = tmp_path / "dst"
    dst.mkdir()
    for dst_path in (str(dst), None):
        with pytest.raises(MlflowException) as e:
            MlflowClient().download_artifacts(run_id, probe, dst_path)
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert _no_secret_in(dst)
    record_property("traversal_probes", 2)


@pytest.mark.parametrize("probe", PROBES)
def test_module_download_and_list_refuse_traversal(
    run_with_secret: tuple[str, Path], tmp_path: Path, probe: str, record_property: Any
) -> None:
    run_id, _ = run_with_secret
    dst = tmp_path / "dst"
    calls = [
        lambda: mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=probe, dst_path=str(dst)
        ),
        lambda: mlflow.artifacts.download_artifacts(f"runs:/{run_id}/{probe}", dst_path=str(dst)),
        lambda: mlflow.artifacts.list_artifacts(run_id=run_id, artifact_path=probe),
        lambda: MlflowClient().list_artifacts(run_id, probe),
        lambda: mlflow.artifacts.load_text(f"runs:/{run_id}/{probe}"),
    ]
    for call in calls:
        with pytest.raises(MlflowException) as e:
            call()
        assert e.value.error_code == "INVALID_PARAMETER_VALUE", probe
    assert not dst.exists() or _no_secret_in(dst)
    record_property("traversal_probes", len(calls))


@pytest.mark.parametrize("path", ["escape/secret.txt", "escape", "sub/leak.txt"])
def test_symlinks_leaving_the_root_are_refused(
    run_with_secret: tuple[str, Path], tmp_path: Path, path: str, record_property: Any
) -> None:
    run_id, _ = run_with_secret
    dst = tmp_path / "dst"
    dst.mkdir()
    with pytest.raises(MlflowException) as e:
        MlflowClient().download_artifacts(run_id, path, str(dst))
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException):
        MlflowClient().list_artifacts(run_id, path)
    assert _no_secret_in(dst)
    record_property("traversal_probes", 2)


def test_whole_root_download_skips_escaping_symlinks(
    run_with_secret: tuple[str, Path], tmp_path: Path
) -> None:
    run_id, _ = run_with_secret
    dst = tmp_path / "dst"
    dst.mkdir()
    got = Path(MlflowClient().download_artifacts(run_id, "", str(dst)))
    assert sorted(p.relative_to(got).as_posix() for p in got.rglob("*")) == ["sub", "sub/ok.txt"]
    assert [f.path for f in MlflowClient().list_artifacts(run_id)] == ["sub"]
    assert [f.path for f in MlflowClient().list_artifacts(run_id, "sub")] == ["sub/ok.txt"]
    assert _no_secret_in(dst)


def test_download_never_writes_through_a_symlink_in_the_destination(
    run_with_secret: tuple[str, Path], tmp_path: Path
) -> None:
    run_id, _ = run_with_secret
    victim = tmp_path / "victim"
    victim.mkdir()
    dst = tmp_path / "dst"
    dst.mkdir()
    os.symlink(victim, dst / "sub")  # a download of sub/ok.txt would land in victim/
    with pytest.raises(MlflowException) as e:
        MlflowClient().download_artifacts(run_id, "sub/ok.txt", str(dst))
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert list(victim.iterdir()) == []


@pytest.mark.parametrize("probe", ["../x", "/abs", "%2e%2e/x", "a\\b"])
def test_uploads_refuse_crafted_destinations(
    tmp_path: Path, probe: str, record_property: Any
) -> None:
    repo = LocalArtifactRepository(str(tmp_path / "root"))
    src = tmp_path / "f.txt"
    src.write_text("x")
    with pytest.raises(MlflowException) as e:
        repo.log_artifact(str(src), probe)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException):
        repo.delete_artifacts(probe)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]
    record_property("traversal_probes", 2)


def test_upload_never_overwrites_through_a_symlink(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    os.symlink(victim, root / "f.txt")
    src = tmp_path / "src" / "f.txt"
    src.parent.mkdir()
    src.write_text("overwrite")
    with pytest.raises(MlflowException):
        LocalArtifactRepository(str(root)).log_artifact(str(src))
    assert victim.read_text() == "keep"
