"""Live updates across servers: the change cursor is the store's, so an event stream opened on
one server sees a point logged through another server over the same database (as with
``--workers N`` or several servers in front of one PostgreSQL)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.cli.test_server_cli import _free_port, _healthy

API = "/api/2.0/mlflow"
EVENTS = "/ajax-api/2.0/tracklet/events"


def _serve(tmp_path: Path, store_uri: str, count: int) -> list[tuple[str, subprocess.Popen[bytes]]]:
    """``count`` servers over ``store_uri``, started side by side; their URLs and processes."""
    servers = []
    for _ in range(count):
        port = _free_port()
        with open(tmp_path / f"server-{port}.log", "wb") as log:
            process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "tracklet", "server", "--port", str(port)),
                    *("--backend-store-uri", store_uri),
                    *("--artifacts-destination", str(tmp_path / "artifacts")),
                ],
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        servers.append((f"http://127.0.0.1:{port}", process))
    start = time.monotonic()
    for url, process in servers:
        while not _healthy(url):
            assert process.poll() is None, (
                tmp_path / f"server-{url.rsplit(':', 1)[1]}.log"
            ).read_text()
            assert time.monotonic() - start < 60, "server did not start"
            time.sleep(0.02)
    return servers


class _Stream:
    """An event stream read off a plain socket (closable at once, unlike a blocked read in a
    thread); ``until`` returns the time the first line holding ``text`` arrived."""

    def __init__(self, url: str, path: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        self.buffer = b""

    def until(self, text: str, seconds: float) -> float:
        deadline = time.monotonic() + seconds
        while text.encode() not in self.buffer:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            assert chunk, "the stream ended"
            self.buffer += chunk
        return time.monotonic()

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_stream_on_server_b_sees_a_point_logged_through_server_a(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        store_uri = f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        store_uri = str(request.getfixturevalue("postgres_uri"))
    (a_url, a), (b_url, b) = _serve(tmp_path, store_uri, 2)
    stream = None
    try:
        with httpx.Client(base_url=a_url + API, timeout=10) as http:
            experiment_id = http.post("/experiments/create", json={"name": "live"}).json()[
                "experiment_id"
            ]
            run_id = http.post("/runs/create", json={"experiment_id": experiment_id}).json()["run"][
                "info"
            ]["run_id"]
            stream = _Stream(b_url, f"{EVENTS}?run_id={run_id}")
            stream.until("retry:", 30)  # subscribed on server B
            http.post(
                "/runs/log-metric",
                json={"run_id": run_id, "key": "loss", "value": 0.5, "timestamp": 7, "step": 3},
            ).raise_for_status()
            logged = time.monotonic()
            seen = stream.until('"key":"loss","last_step":3', 10)
            assert seen - logged <= 3.0
    finally:
        if stream is not None:
            stream.close()
        for process in (a, b):
            process.terminate()
            process.wait(20)
