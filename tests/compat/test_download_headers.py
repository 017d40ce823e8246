"""Issue 18 item 2: downloads carry MLflow's Content-Type and Content-Disposition.

The same files are logged to a run on ``mlflow server`` and on ``tracklet server`` with
MLflow's client, then fetched through ``get-artifact``, the ``mlflow-artifacts`` proxy and
``model-versions/get-artifact``; the
headers must be MLflow's, file by file.
"""

from __future__ import annotations

import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import requests

from tracklet.server.downloads import content_disposition, guess_mime_type

pytestmark = pytest.mark.xdist_group("mlflow_server")

NAMES = [
    "MLmodel",
    "MLproject",
    "conda.yaml",
    "notes.txt",
    "metrics.json",
    "model.pkl",
    "plot.png",
    "photo.jpeg",
    "page.html",
    "data.parquet",
    "noext",
    "with space.bin",
    "日本.txt",
]
HEADERS = ("content-type", "content-disposition", "x-content-type-options")


def _log_files(url: str, tmp_path: Path) -> tuple[str, str, str]:
    """(run_id, run artifact URI, registered model) of a run holding every file under ``dir/``
    and a model version whose source is that folder."""
    import mlflow

    client = mlflow.MlflowClient(url)
    experiment_id = client.create_experiment(f"d-{time.time_ns()}")
    run = client.create_run(experiment_id)
    folder = tmp_path / url.rsplit(":", 1)[1] / "dir"
    folder.mkdir(parents=True)
    for name in NAMES:
        (folder / name).write_bytes(b"content of " + name.encode())
    client.log_artifacts(run.info.run_id, str(folder), "dir")
    model = f"m-{time.time_ns()}"
    client.create_registered_model(model)
    client.create_model_version(model, f"{run.info.artifact_uri}/dir", run.info.run_id)
    return run.info.run_id, run.info.artifact_uri, model


def _headers(
    url: str, run_id: str, artifact_uri: str, model: str, name: str
) -> list[dict[str, Any]]:
    out = []
    proxied = urllib.parse.urlparse(artifact_uri).path.lstrip("/")
    for response in (
        requests.get(f"{url}/get-artifact", params={"run_id": run_id, "path": f"dir/{name}"}),
        requests.get(
            f"{url}/api/2.0/mlflow-artifacts/artifacts/{proxied}/dir/{urllib.parse.quote(name)}"
        ),
        requests.get(
            f"{url}/model-versions/get-artifact",
            params={"name": model, "version": "1", "path": name},
        ),
    ):
        assert response.status_code == 200, response.text
        assert response.content == b"content of " + name.encode()
        out.append({h: response.headers.get(h) for h in HEADERS})
    return out


def test_download_headers_match_mlflow_server(
    tracklet_server: Any, mlflow_server: Any, tmp_path: Path
) -> None:
    ours = _log_files(tracklet_server.url, tmp_path)
    theirs = _log_files(mlflow_server.url, tmp_path)
    for name in NAMES:
        expected = _headers(mlflow_server.url, *theirs, name)
        assert _headers(tracklet_server.url, *ours, name) == expected, name
    assert expected[0]["content-type"] == "text/plain"  # 日本.txt
    assert expected[0]["content-disposition"].startswith("attachment; filename=")


def test_guess_matches_mlflow() -> None:
    from mlflow.server.handlers import _content_disposition_attachment
    from mlflow.utils.mime_type_utils import _guess_mime_type

    for name in [*NAMES, "a.tar.gz", "x.svg", "x.csv", "x.ipynb", "x.PY", 'q"uote.txt', ""]:
        assert guess_mime_type(name) == _guess_mime_type(name), name
        assert content_disposition(name) == _content_disposition_attachment(name), name
