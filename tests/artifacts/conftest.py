"""Shared checks for artifact repositories: the same round trip runs against each scheme."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.live_server import serving

from tracklet.artifacts.base import ArtifactRepository
from tracklet.entities import FileInfo

RoundTrip = Callable[..., None]


def tree_of(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    """Text, empty, binary and multi-chunk (3 MiB + 7 bytes, random) files, nested."""
    src = tmp_path / "sample"
    (src / "nested" / "deeper").mkdir(parents=True)
    (src / "a.txt").write_text("alpha\n")
    (src / "empty.bin").write_bytes(b"")
    (src / "nested" / "all-bytes.bin").write_bytes(bytes(range(256)) * 4)
    (src / "nested" / "deeper" / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 7))
    (src / "name with spaces.txt").write_text("spaces")
    return src


@pytest.fixture
def round_trip(sample_dir: Path, tmp_path: Path) -> RoundTrip:
    """Upload ``sample_dir`` and one file, list, download (file, directory, root) and delete,
    checking every byte."""

    def check(repo: ArtifactRepository, empty_file_size: int | None = 0) -> None:
        """``empty_file_size``: what the listing reports for an empty file (MLflow's server
        omits a zero size, so its listings say None)."""
        expected = tree_of(sample_dir)
        repo.log_artifacts(str(sample_dir), "run")
        repo.log_artifact(str(sample_dir / "a.txt"))
        repo.log_artifact(str(sample_dir / "a.txt"), "x/y")

        assert repo.list_artifacts() == [
            FileInfo("a.txt", False, 6),
            FileInfo("run", True, None),
            FileInfo("x", True, None),
        ]
        assert repo.list_artifacts("run") == [
            FileInfo("run/a.txt", False, 6),
            FileInfo("run/empty.bin", False, empty_file_size),
            FileInfo("run/name with spaces.txt", False, 6),
            FileInfo("run/nested", True, None),
        ]
        assert repo.list_artifacts("run/nested/deeper") == [
            FileInfo("run/nested/deeper/big.bin", False, 3 * 1024 * 1024 + 7)
        ]
        assert repo.list_artifacts("run/a.txt") == []
        assert repo.list_artifacts("missing") == []

        dst = tmp_path / "download"
        dst.mkdir()
        got = Path(repo.download_artifacts("run", str(dst)))
        assert got == dst / "run"
        assert tree_of(got) == expected
        one = Path(
            repo.download_artifacts("run/nested/deeper/big.bin", str(dst / ".." / "download"))
        )
        assert one.read_bytes() == expected["nested/deeper/big.bin"]
        everything = tmp_path / "everything"
        everything.mkdir()
        whole = Path(repo.download_artifacts("", str(everything)))
        assert tree_of(whole) == {
            "a.txt": b"alpha\n",
            "x/y/a.txt": b"alpha\n",
            **{f"run/{k}": v for k, v in expected.items()},
        }

        repo.delete_artifacts("run/nested")
        assert [f.path for f in repo.list_artifacts("run")] == [
            "run/a.txt",
            "run/empty.bin",
            "run/name with spaces.txt",
        ]
        repo.delete_artifacts()
        assert repo.list_artifacts() == []

    return check


class LiveServer:
    """A tracklet server (uvicorn in a thread) on 127.0.0.1 serving the artifact proxy."""

    def __init__(self, url: str, destination: Path) -> None:
        self.url = url
        self.destination = destination


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from tracklet.server.app import create_app
    from tracklet.server.settings import ServerSettings

    base = tmp_path_factory.mktemp("server")
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{base / 'server.db'}",
        artifacts_destination=str(base / "mlartifacts"),
    )
    with serving(create_app(settings), lifespan="on") as port:
        yield LiveServer(f"http://127.0.0.1:{port}", base / "mlartifacts")
