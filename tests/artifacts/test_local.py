"""LocalArtifactRepository: plain paths and file:// URIs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracklet.artifacts.local import LocalArtifactRepository, local_path_of
from tracklet.artifacts.registry import get_artifact_repository, scheme_of
from tracklet.exceptions import MlflowException

from .conftest import RoundTrip, tree_of


def test_round_trip_plain_path(tmp_path: Path, round_trip: RoundTrip) -> None:
    round_trip(LocalArtifactRepository(str(tmp_path / "root")))


def test_round_trip_file_uri(tmp_path: Path, round_trip: RoundTrip) -> None:
    repo = get_artifact_repository((tmp_path / "r oot").as_uri())
    assert isinstance(repo, LocalArtifactRepository)
    assert repo.root == str(tmp_path / "r oot")
    round_trip(repo)


def test_files_land_in_mlflow_layout(tmp_path: Path, sample_dir: Path) -> None:
    repo = LocalArtifactRepository(str(tmp_path / "root"))
    repo.log_artifacts(str(sample_dir), "model")
    assert tree_of(tmp_path / "root" / "model") == tree_of(sample_dir)


def test_download_without_destination_returns_the_local_path(tmp_path: Path) -> None:
    repo = LocalArtifactRepository(str(tmp_path / "root"))
    src = tmp_path / "f.txt"
    src.write_text("x")
    repo.log_artifact(str(src), "d")
    assert repo.download_artifacts("d/f.txt") == str(tmp_path / "root" / "d" / "f.txt")
    with pytest.raises(MlflowException) as e:
        repo.download_artifacts("d/nope.txt")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as e:
        repo.download_artifacts("d/nope.txt", str(tmp_path))
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_download_into_a_missing_destination_fails(tmp_path: Path) -> None:
    repo = LocalArtifactRepository(str(tmp_path / "root"))
    with pytest.raises(MlflowException, match="does not exist"):
        repo.download_artifacts("", str(tmp_path / "nope"))


@pytest.mark.parametrize(
    ("uri", "scheme"),
    [
        ("/a/b", ""),
        ("relative/dir", ""),
        ("C:\\x\\y", ""),
        ("file:///a", "file"),
        ("S3://b/k", "s3"),
        ("mlflow-artifacts:/1/2", "mlflow-artifacts"),
        ("https://h/api", "https"),
    ],
)
def test_scheme_of(uri: str, scheme: str) -> None:
    assert scheme_of(uri) == scheme


def test_local_path_of_file_uris() -> None:
    assert local_path_of("file:///tmp/a%20b") == "/tmp/a b"
    assert local_path_of("file://localhost/tmp/x") == "/tmp/x"
    assert local_path_of("/plain") == "/plain"


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(MlflowException, match="scheme 'gopher'") as e:
        get_artifact_repository("gopher://x/y")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
