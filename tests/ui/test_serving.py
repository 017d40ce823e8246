"""How the server delivers the UI (no browser): index.html with CSP and ETag, hashed assets
precompressed by Accept-Encoding and immutable, 304s, gzip on the UI's JSON, and the prefix."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracklet.server.app import create_app
from tracklet.server.settings import ServerSettings

ASSETS = Path(__file__).resolve().parents[2] / "src" / "tracklet" / "server" / "ui_assets"

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = ServerSettings(backend_store_uri=f"sqlite:///{tmp_path / 'ui.db'}")
    with TestClient(create_app(settings), base_url="http://localhost") as test_client:
        yield test_client


def _script(client: TestClient, prefix: str = "") -> str:
    html = client.get(prefix + "/").text
    [script] = re.findall(r'src="(static-files/assets/[^"]+\.js)"', html)
    return f"{prefix}/{script}"


def test_index_at_root_with_csp_and_etag(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # The one inline script (the runs table's bootstrap fetch) is allowed by its hash only.
    [inline] = re.findall(r"<script>(.*?)</script>", response.text, re.S)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    script_src = response.headers["content-security-policy"].split("script-src ")[1].split(";")[0]
    assert script_src == f"'self' 'sha256-{digest}'"
    assert response.headers["cache-control"] == "no-cache"
    again = client.get("/", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(("accept", "coding"), [("br, gzip", "br"), ("gzip", "gzip"), ("", None)])
def test_assets_precompressed_by_accept_encoding(
    client: TestClient, accept: str, coding: str | None
) -> None:
    url = _script(client)
    assert client.get(url, headers={"Accept-Encoding": "br"}).headers["content-encoding"] == "br"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    response = client.get(url, headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == coding
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["content-type"].startswith("text/javascript")
    if coding == "br":  # httpx has no brotli decoder here: compare with the committed file
        assert (
            response.content
            == (ASSETS / url.split("static-files/", 1)[1]).with_suffix(".js.br").read_bytes()
        )
    else:  # httpx decoded gzip back
        assert response.content == plain.content
    assert client.get(url, headers={"If-None-Match": response.headers["etag"]}).status_code == 304


def test_unknown_asset_is_404(client: TestClient) -> None:
    assert client.get("/static-files/assets/../../app.py").status_code == 404
    assert client.get("/static-files/assets/nope.js").status_code == 404


def test_ui_json_is_gzipped_with_etag(client: TestClient) -> None:
    for i in range(30):
        run = client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": "0"}).json()
        client.post(
            "/api/2.0/mlflow/runs/log-parameter",
            json={"run_id": run["run"]["info"]["run_id"], "key": "p", "value": str(i)},
        )
    body = {"experiment_ids": ["0"], "max_results": 100}
    url = "/ajax-api/2.0/tracklet/runs/search-columns"
    response = client.post(url, json=body, headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["n"] == 30
    raw = client.post(url, json=body, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert gzip.decompress(gzip.compress(raw.content)) == raw.content
    assert raw.json() == response.json()
    cached = client.post(url, json=body, headers={"If-None-Match": response.headers["etag"]})
    assert cached.status_code == 304


def test_static_prefix_serves_everything_under_it(tmp_path: Path) -> None:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'ui.db'}", static_prefix="/tl"
    )
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        assert client.get("/").status_code == 404
        assert client.get("/tl/").status_code == 200
        assert client.get(_script(client, "/tl")).status_code == 200


def test_same_origin_posts_from_an_allowed_lan_host(tmp_path: Path) -> None:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'ui.db'}", allowed_hosts=["box.lan:5000"]
    )
    body = {"experiment_ids": ["0"]}
    url = "/ajax-api/2.0/tracklet/runs/search-columns"
    with TestClient(create_app(settings), base_url="http://box.lan:5000") as client:
        own = client.post(url, json=body, headers={"Origin": "http://box.lan:5000"})
        assert own.status_code == 200
        create = client.post(
            "/ajax-api/2.0/mlflow/experiments/create",
            json={"name": "from-lan"},
            headers={"Origin": "http://box.lan:5000"},
        )
        assert create.status_code == 200
        foreign = client.post(url, json=body, headers={"Origin": "http://evil.example"})
        assert foreign.status_code == 403
        other_port = client.post(url, json=body, headers={"Origin": "http://box.lan:6000"})
        assert other_port.status_code == 403
        wrong_host = client.post(
            url, json=body, headers={"Origin": "http://evil.example", "Host": "evil.example"}
        )
        assert wrong_host.status_code == 403
