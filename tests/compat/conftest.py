"""Live servers for compatibility tests: tracklet's (uvicorn in a thread, once per session) and
a real ``mlflow server`` 3.17.2 (a subprocess, started once per session when a test needs it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tracklet.server.app import create_app
from tracklet.server.fast_rpc import FastRpcProtocol
from tracklet.server.settings import ServerSettings

QUIET_MLFLOW = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
}


@dataclass
class LiveServer:
    url: str
    artifacts: Path
    kind: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_health(url: str, timeout: float, process: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not become healthy in {timeout}s")


@pytest.fixture(scope="session")
def tracklet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """tracklet's server on a free loopback port, in a thread of the test process."""
    root = tmp_path_factory.mktemp("tracklet-server")
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{root / 'server.db'}",
        artifacts_destination=str(root / "mlartifacts"),
    )
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        http=FastRpcProtocol,  # as `tracklet server` runs it
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    _wait_for_health(url, 30)
    yield LiveServer(url, Path(settings.artifacts_path), "tracklet")
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real ``mlflow server`` (the venv's 3.17.2) on a free loopback port.

    Tests using it carry ``xdist_group("mlflow_server")`` so that, under ``pytest -n``, one
    worker runs them all and only one such server starts (it is slow to start)."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    mlflow_bin = Path(sys.executable).parent / "mlflow"
    env = {**os.environ, **QUIET_MLFLOW}
    command = [
        str(mlflow_bin),
        "server",
        "--backend-store-uri",
        f"sqlite:///{root / 'm.db'}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        # One process: four (the default) each import MLflow, and on a loaded machine its
        # supervisor kills workers slow to answer its health pings, so it never comes up.
        "--workers",
        "1",
    ]
    with open(root / "server.log", "wb") as log:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=log
        )
    url = f"http://127.0.0.1:{port}"
    try:
        # ~15 s on an idle machine; far longer when the machine is busy.
        _wait_for_health(url, 280, process)
        yield LiveServer(url, root / "mlartifacts", "mlflow")
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(params=["tracklet", "mlflow"])
def any_server(request: pytest.FixtureRequest) -> LiveServer:
    """Each test once against tracklet's server and once against MLflow's."""
    server: LiveServer = request.getfixturevalue(f"{request.param}_server")
    return server


@pytest.fixture
def mlflow(tracklet_server: LiveServer) -> Iterator[Any]:
    """The real mlflow package (test-only), its fluent API pointed at tracklet's server."""
    os.environ.update(QUIET_MLFLOW)
    import mlflow as real_mlflow

    real_mlflow.set_tracking_uri(tracklet_server.url)
    yield real_mlflow
    while real_mlflow.active_run() is not None:
        real_mlflow.end_run()


@pytest.fixture
def unique() -> str:
    """A name no other test uses (the servers live for the whole session)."""
    return f"t-{time.monotonic_ns()}"
