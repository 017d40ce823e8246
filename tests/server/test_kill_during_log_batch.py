"""kill -9 of ``tracklet server`` during a log-batch storm from several clients (issue 9): after
a restart on the same database every acknowledged batch is there, whole, and every batch that
was in flight is there whole or not at all (one transaction per request, synchronous commits)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from tests.cli.test_server_cli import _free_port, _healthy

CLIENTS = 4
STEPS = 25  # metric points per batch, besides one param and one tag


def _serve(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    log = open(tmp_path / f"server-{port}.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "tracklet", "server", "--port", str(port)),
            *("--backend-store-uri", f"sqlite:///{tmp_path / 'db.sqlite'}"),
        ],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    start = time.monotonic()
    while not _healthy(f"http://127.0.0.1:{port}"):
        assert process.poll() is None, (tmp_path / f"server-{port}.log").read_text()
        assert time.monotonic() - start < 60, "server did not start"
        time.sleep(0.02)
    return process


def _batch(run_id: str, index: int) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "metrics": [
            {"key": "m", "value": float(index), "timestamp": 1, "step": index * STEPS + j}
            for j in range(STEPS)
        ],
        "params": [{"key": f"p{index}", "value": str(index)}],
        "tags": [{"key": f"t{index}", "value": "x"}],
    }


def _storm(url: str, run_id: str, acknowledged: list[int], sent: list[int]) -> None:
    with httpx.Client(base_url=url, timeout=10) as http:
        index = 0
        while True:
            sent.append(index)
            try:
                response = http.post("/api/2.0/mlflow/runs/log-batch", json=_batch(run_id, index))
            except httpx.HTTPError:
                return  # the server is gone
            assert response.status_code == 200, response.text
            acknowledged.append(index)
            index += 1


def test_kill_9_during_a_log_batch_storm_loses_no_acknowledged_batch(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _serve(tmp_path, port)
    try:
        runs = [
            httpx.post(f"{url}/api/2.0/mlflow/runs/create", json={"experiment_id": "0"}).json()[
                "run"
            ]["info"]["run_id"]
            for _ in range(CLIENTS)
        ]
        acked: list[list[int]] = [[] for _ in runs]
        sent: list[list[int]] = [[] for _ in runs]
        threads = [
            threading.Thread(target=_storm, args=(url, run, acked[i], sent[i]))
            for i, run in enumerate(runs)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60  # a loaded CI machine may be slow to get going
        while min(len(a) for a in acked) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(server.pid, signal.SIGKILL)
        for thread in threads:
            thread.join(20)
    finally:
        server.kill()
        server.wait()
    assert all(len(a) >= 5 for a in acked), [len(a) for a in acked]

    port = _free_port()
    server = _serve(tmp_path, port)
    try:
        for run_id, acknowledged, attempted in zip(runs, acked, sent, strict=True):
            run = httpx.get(
                f"http://127.0.0.1:{port}/api/2.0/mlflow/runs/get", params={"run_id": run_id}
            )
            data = run.json()["run"]["data"]
            params = {p["key"] for p in data.get("params", [])}
            tags = {t["key"] for t in data.get("tags", [])}
            history = httpx.get(
                f"http://127.0.0.1:{port}/api/2.0/mlflow/metrics/get-history",
                params={"run_id": run_id, "metric_key": "m", "max_results": 1_000_000},
            ).json()["metrics"]
            steps = {int(m["step"]) for m in history}
            for index in attempted:
                present = (
                    sum(index * STEPS + j in steps for j in range(STEPS)),
                    f"p{index}" in params,
                    f"t{index}" in tags,
                )
                if index in acknowledged:
                    assert present == (STEPS, True, True), (run_id, index, present)
                else:  # in flight at the kill: all or nothing
                    assert present in ((STEPS, True, True), (0, False, False)), (index, present)
            assert len(history) == len(steps)  # nothing doubled
            assert max(steps) < (max(attempted) + 1) * STEPS
    finally:
        server.terminate()
        server.wait(20)
