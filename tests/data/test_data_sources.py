"""Dataset sources: resolution of paths and URIs, the default code source, JSON round trips."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from typing import Any

import mlflow.data
import pandas as pd
import pytest

import tracklet.data
from tracklet.data.code_dataset_source import CodeDatasetSource
from tracklet.data.dataset_source_registry import get_dataset_source_from_json
from tracklet.data.http_dataset_source import HTTPDatasetSource
from tracklet.data.sources import LocalArtifactDatasetSource, S3ArtifactDatasetSource
from tracklet.exceptions import MlflowException

DF = pd.DataFrame({"a": [1, 2]})

RESOLVABLE: list[Any] = [
    "/data/train.csv",
    "data/train.csv",
    "file:///data/train.csv",
    "file://localhost/data/train.csv",
    Path("/data/train.csv"),
    "s3://bucket/train.csv",
    "s3:/bucket/train.csv",
    "gs://bucket/train.csv",
    "wasbs://container@account.blob.core.windows.net/train.csv",
    "abfss://container@account.dfs.core.windows.net/train.csv",
    "hdfs://namenode/train.csv",
    "viewfs://cluster/train.csv",
    "ftp://host/train.csv",
    "sftp://host/train.csv",
    "r2://bucket/train.csv",
    "b2://bucket/train.csv",
    "https://example.com/train.csv",
    "http://localhost/train.csv",
]

UNRESOLVABLE: list[Any] = [
    "runs:/0123/train.csv",
    "models:/m/1",
    "mlflow-artifacts:/train.csv",
    "dbfs:/train.csv",
    "file://remote-host/train.csv",
    "unknown:thing",
    5,
]


def _described(source: Any) -> tuple[str, str, str]:
    return type(source).__name__, source._get_source_type(), source.to_json()


@pytest.mark.filterwarnings("ignore:The specified dataset source can be interpreted")
@pytest.mark.parametrize("raw", RESOLVABLE, ids=str)
def test_source_resolution_matches_mlflow(raw: Any) -> None:
    ours = tracklet.data.from_pandas(DF, source=raw).source
    theirs = mlflow.data.from_pandas(DF, source=raw).source
    assert _described(ours) == _described(theirs)


@pytest.mark.parametrize("raw", UNRESOLVABLE, ids=str)
def test_unresolvable_sources_raise_like_mlflow(raw: Any) -> None:
    with pytest.raises(Exception, match="Could not find a source information resolver"):
        mlflow.data.from_pandas(DF, source=raw)
    with pytest.raises(MlflowException, match="Could not find a source information resolver") as e:
        tracklet.data.from_pandas(DF, source=raw)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_known_source_json() -> None:
    local = tracklet.data.from_pandas(DF, source="data/train.csv").source
    assert isinstance(local, LocalArtifactDatasetSource)
    assert (local._get_source_type(), local.to_json()) == ("local", '{"uri": "data/train.csv"}')
    s3 = tracklet.data.from_numpy(DF.to_numpy(), source="s3://b/k.npy").source
    assert isinstance(s3, S3ArtifactDatasetSource)
    assert (s3._get_source_type(), s3.to_dict()) == ("s3", {"uri": "s3://b/k.npy"})
    http = tracklet.data.from_pandas(DF, source="https://h/x.csv").source
    assert isinstance(http, HTTPDatasetSource)
    assert (http._get_source_type(), http.to_json()) == ("http", '{"url": "https://h/x.csv"}')


def test_a_source_object_is_used_as_given() -> None:
    source = HTTPDatasetSource("https://h/x.csv")
    assert tracklet.data.from_pandas(DF, source=source).source is source


def test_default_source_is_the_calling_code_as_in_mlflow() -> None:
    from tracklet.tracking import system_tags

    ours = tracklet.data.from_pandas(DF).source
    theirs = mlflow.data.from_pandas(DF).source
    assert isinstance(ours, CodeDatasetSource)
    assert ours._get_source_type() == theirs._get_source_type() == "code"
    # The tags a new run gets. Git tags are left out of the comparison: MLflow omits them for a
    # git-ignored main file (here pytest inside .venv), which tracklet's system_tags does not.
    tags = ours.to_dict()["tags"]
    assert tags == system_tags.context_tags()
    ours_non_git, theirs_non_git = (
        {k: v for k, v in t.items() if not k.startswith("mlflow.source.git.")}
        for t in (tags, theirs.to_dict()["tags"])
    )
    assert ours_non_git == theirs_non_git
    assert set(ours_non_git) == {"mlflow.user", "mlflow.source.name", "mlflow.source.type"}


@pytest.mark.parametrize(
    "source",
    [
        CodeDatasetSource({"mlflow.user": "u"}),
        HTTPDatasetSource("https://h/x.csv"),
        LocalArtifactDatasetSource("/d/x.csv"),
        S3ArtifactDatasetSource("s3://b/x.csv"),
    ],
    ids=lambda s: type(s).__name__,
)
def test_source_json_round_trip(source: Any) -> None:
    parsed = get_dataset_source_from_json(source.to_json(), source._get_source_type())
    assert type(parsed) is type(source)
    assert parsed.to_dict() == source.to_dict()
    assert type(source).from_json(source.to_json()).to_dict() == source.to_dict()


def test_unknown_source_type_cannot_be_parsed() -> None:
    with pytest.raises(MlflowException, match="unrecognized source type: nowhere") as e:
        get_dataset_source_from_json('{"path": "x"}', "nowhere")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_get_source_of_dataset_entity_and_input() -> None:
    from tracklet.entities import DatasetInput

    dataset = tracklet.data.from_pandas(DF, source="s3://b/k.csv")
    assert tracklet.data.get_source(dataset) is dataset.source
    entity = dataset._to_mlflow_entity()
    for value in (entity, DatasetInput(entity)):
        source = tracklet.data.get_source(value)
        assert isinstance(source, S3ArtifactDatasetSource)
        assert source.uri == "s3://b/k.csv"
    with pytest.raises(MlflowException, match="Unrecognized dataset type"):
        tracklet.data.get_source("s3://b/k.csv")


def test_local_source_loads_its_file(tmp_path: Path) -> None:
    csv = tmp_path / "train.csv"
    DF.to_csv(csv, index=False)
    source = tracklet.data.from_pandas(DF, source=str(csv)).source
    assert isinstance(source, LocalArtifactDatasetSource)
    assert Path(source.load()).read_text() == csv.read_text()
    copied = Path(source.load(dst_path=str(tmp_path / "out")))
    assert copied.parent == tmp_path / "out"
    assert copied.read_text() == csv.read_text()


def test_code_source_cannot_be_loaded() -> None:
    with pytest.raises(NotImplementedError):
        CodeDatasetSource({}).load()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_http_source_downloads_its_url(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("a\n1\n")
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/train.csv"
        source = tracklet.data.from_pandas(DF, source=url).source
        assert isinstance(source, HTTPDatasetSource)
        local = Path(source.load(dst_path=str(tmp_path / "out")))
        assert local == tmp_path / "out" / "train.csv"
        assert local.read_text() == "a\n1\n"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
