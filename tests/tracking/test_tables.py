"""log_table / load_table: MLflow 3.17.2's table artifacts and ``mlflow.loggedArtifacts`` tag,
read and written both ways (MLflow's client and tracklet's on one tracklet server)."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import uvicorn

import tracklet
from tracklet.exceptions import MlflowException
from tracklet.server.app import create_app
from tracklet.server.settings import ServerSettings

TABLE = {"inputs": ["What is MLflow?", "What is tracklet?"], "score": [0.5, 1.0], "n": [1, 2]}


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """tracklet's server in a thread (artifacts proxied, as both clients need)."""
    import socket
    import time
    import urllib.request

    root = tmp_path_factory.mktemp("tables-server")
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{root / 'server.db'}",
        artifacts_destination=str(root / "mlartifacts"),
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                break
        except OSError:
            time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(10)


def test_mlflow_and_tracklet_read_and_append_each_others_tables(server_url: str) -> None:
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    import mlflow

    mlflow.set_tracking_uri(server_url)
    tracklet.set_tracking_uri(server_url)
    experiment_id = tracklet.create_experiment("tables-both-ways")
    client = mlflow.MlflowClient(server_url)
    ours = tracklet.MlflowClient(server_url)
    run_by_mlflow = client.create_run(experiment_id).info.run_id
    run_by_tracklet = ours.create_run(experiment_id).info.run_id
    client.log_table(run_by_mlflow, TABLE, "eval/results.json")
    ours.log_table(run_by_tracklet, TABLE, "eval/results.json")

    # The same bytes and the same tag, whoever wrote them.
    theirs_file = Path(client.download_artifacts(run_by_mlflow, "eval/results.json"))
    ours_file = Path(ours.download_artifacts(run_by_tracklet, "eval/results.json"))
    assert ours_file.read_bytes() == theirs_file.read_bytes()
    tag = "mlflow.loggedArtifacts"
    assert (
        ours.get_run(run_by_tracklet).data.tags[tag]
        == client.get_run(run_by_mlflow).data.tags[tag]
        == '[{"path": "eval/results.json", "type": "table"}]'
    )

    # Each appends to the table the other wrote.
    ours.log_table(
        run_by_mlflow, {"inputs": ["more"], "score": [0.25], "n": [3]}, "eval/results.json"
    )
    client.log_table(
        run_by_tracklet, {"inputs": ["more"], "score": [0.25], "n": [3]}, "eval/results.json"
    )
    for reader in (client, ours):
        loaded = reader.load_table(experiment_id, "eval/results.json", extra_columns=["run_id"])
        assert len(loaded) == 6
        assert sorted(loaded["run_id"].unique()) == sorted([run_by_mlflow, run_by_tracklet])
        assert loaded[loaded["run_id"] == run_by_tracklet]["n"].tolist() == [1, 2, 3]
    pd.testing.assert_frame_equal(
        ours.load_table(experiment_id, "eval/results.json", extra_columns=["run_id", "status"]),
        client.load_table(experiment_id, "eval/results.json", extra_columns=["run_id", "status"]),
    )
    # The tag is not listed twice after an append.
    assert json.loads(client.get_run(run_by_mlflow).data.tags[tag]) == [
        {"path": "eval/results.json", "type": "table"}
    ]
    mlflow.set_tracking_uri(None)


def test_fluent_log_and_load(sqlite_uri: str) -> None:
    tracklet.set_tracking_uri(sqlite_uri)
    with tracklet.start_run() as first:
        tracklet.log_table(pd.DataFrame(TABLE), artifact_file="t.json")
        tracklet.log_table({"inputs": "one row of scalars", "score": 0.0, "n": 9}, "t.json")
    with tracklet.start_run() as second:
        tracklet.log_table(TABLE, "t.json")
        tracklet.log_metric("acc", 0.9)
    with tracklet.start_run():
        tracklet.log_table(TABLE, "other.json")
    table = tracklet.load_table("t.json", extra_columns=["run_id", "metrics.acc"])
    # Newest run first, as search_runs orders them.
    assert table["run_id"].tolist() == [second.info.run_id] * 2 + [first.info.run_id] * 3
    assert table["n"].tolist() == [1, 2, 1, 2, 9]
    assert table["metrics.acc"].tolist()[:2] == [0.9, 0.9]
    assert pd.isna(table["metrics.acc"].tolist()[2])
    with pytest.raises(KeyError):  # not a search_runs column, as in MLflow
        tracklet.load_table("t.json", extra_columns=["n"])
    with tracklet.start_run() as third:
        tracklet.log_table({"run_id": ["mine"]}, "clash.json")
    clash = tracklet.load_table("clash.json", extra_columns=["run_id"])
    assert clash.to_dict("records") == [{"run_id": "mine", "run_id_": third.info.run_id}]
    only = tracklet.load_table("t.json", run_ids=[first.info.run_id])
    assert only["inputs"].tolist()[-1] == "one row of scalars"


def test_parquet_tables_round_trip(sqlite_uri: str) -> None:
    pytest.importorskip("pyarrow")
    tracklet.set_tracking_uri(sqlite_uri)
    with tracklet.start_run():
        tracklet.log_table(TABLE, "t.parquet")
        tracklet.log_table(TABLE, "t.parquet")
    assert tracklet.load_table("t.parquet")["n"].tolist() == [1, 2, 1, 2]


def test_bad_input_is_refused_with_mlflows_errors(
    sqlite_uri: str, caplog: pytest.LogCaptureFixture
) -> None:
    tracklet.set_tracking_uri(sqlite_uri)
    with tracklet.start_run() as run:
        with pytest.raises(ValueError, match=r"either '\.json' or '\.parquet'"):
            tracklet.log_table(TABLE, "t.csv")
        with pytest.raises(ValueError, match="forbidden character: ,"):
            tracklet.log_table(TABLE, "a,b.json")
        with pytest.raises(MlflowException, match=r"pandas\.DataFrame or a dictionary") as info:
            tracklet.log_table([1, 2], "t.json")
        assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert tracklet.MlflowClient().list_artifacts(run.info.run_id) == []
    assert "mlflow.loggedArtifacts" not in tracklet.get_run(run.info.run_id).data.tags
    with pytest.raises(MlflowException, match="No runs found") as missing:
        tracklet.load_table("t.json")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with tracklet.start_run() as other:
        tracklet.log_table(TABLE, "t.json")
    caplog.set_level(logging.WARNING)
    tracklet.load_table("t.json", run_ids=[other.info.run_id, run.info.run_id])
    assert "Not all runs have the specified table artifact" in caplog.text


def test_image_columns_are_saved_as_mlflow_does(sqlite_uri: str) -> None:
    from PIL import Image

    tracklet.set_tracking_uri(sqlite_uri)
    image = Image.new("RGB", (600, 300), (10, 20, 30))
    with tracklet.start_run() as run:
        with pytest.raises(ValueError, match="mix of images and non-images"):
            tracklet.log_table({"img": [image, "text"]}, "imgs.json")
        tracklet.log_table({"prompt": ["a cat"], "img": [image]}, "gen/imgs.json")
    table = tracklet.load_table("gen/imgs.json")
    cell = table["img"][0]
    assert cell["type"] == "image"
    assert cell["filepath"].startswith("table_images/gen/imgs/")
    assert cell["filepath"].endswith(".png")
    assert cell["compressed_filepath"] == cell["filepath"][: -len(".png")] + ".webp"
    client = tracklet.MlflowClient()
    with Image.open(
        client.download_artifacts(run.info.run_id, cell["compressed_filepath"])
    ) as thumb:
        assert thumb.size == (256, 128)  # MLflow's compressed size, aspect ratio kept
