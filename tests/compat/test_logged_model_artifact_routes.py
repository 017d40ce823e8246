"""Issue 18 item 3: a logged model's files listed and downloaded over the routes MLflow's server
has (``logged-models/{id}/artifacts/directories`` and ``.../files``), compared live with
``mlflow server`` 3.17.2: same listings, bytes, headers and errors."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.xdist_group("mlflow_server")

LIST = "/mlflow/logged-models/{}/artifacts/directories"
FILES = "/ajax-api/2.0/mlflow/logged-models/{}/artifacts/files"
CASES: list[tuple[str, dict[str, str]]] = [
    (f"/api/2.0{LIST}", {}),
    (f"/ajax-api/2.0{LIST}", {"artifact_directory_path": "sub"}),
    (f"/ajax-api/2.0{LIST}", {"artifact_directory_path": "../x"}),
    (FILES, {"artifact_file_path": "sub/w.bin"}),
    (FILES, {"artifact_file_path": "MLmodel"}),
    (FILES, {}),
    (FILES, {"artifact_file_path": "../x"}),
]


def _answers(url: str, tmp_path: Path) -> list[tuple[Any, ...]]:
    import mlflow

    client = mlflow.MlflowClient(url)
    model = client.create_logged_model(client.create_experiment(f"lm-{time.time_ns()}"), name="m")
    folder = tmp_path / url.rsplit(":", 1)[1]
    os.makedirs(folder / "sub")
    (folder / "MLmodel").write_text("flavors: {}")
    (folder / "sub" / "w.bin").write_bytes(b"\x00\x01")
    client.log_model_artifacts(model.model_id, str(folder))
    out = []
    for path, params in CASES:
        response = requests.get(url + path.format(model.model_id), params=params)
        headers = response.headers
        if "json" in headers.get("content-type", ""):
            body = response.json()
            if "root_uri" in body:  # each server's own location
                assert body.pop("root_uri").endswith(model.model_id + "/artifacts")
        else:
            body = response.content
        out.append(
            (
                response.status_code,
                body,
                headers.get("content-type"),
                headers.get("content-disposition"),
            )
        )
    return out


def test_logged_model_artifact_routes_match_mlflow(
    tracklet_server: Any, mlflow_server: Any, tmp_path: Path
) -> None:
    ours = _answers(tracklet_server.url, tmp_path)
    theirs = _answers(mlflow_server.url, tmp_path)
    for case, mine, oracle in zip(CASES, ours, theirs, strict=True):
        assert mine == oracle, case
    assert theirs[0][1]["files"]  # the listing is not empty
