"""The deployment of docs/DEPLOY.md, run as written: 3 ``tracklet server`` processes on separate
ports (as separate hosts would be) over one fresh PostgreSQL schema and moto's S3 server; 8
client processes log metrics, params, tags and artifacts through servers picked at random; one
server is killed with SIGKILL mid-run and restarted. Afterwards every acknowledged point, param,
tag, run and artifact is present exactly once (an unacknowledged one at most once) and reads the
same through every server.

The migrate, serve and health commands are read from docs/DEPLOY.md's ``recipe:`` blocks and run
by bash, with ``tracklet`` on PATH running this checkout.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import free_port, make_bucket, server_env, start_process, stop_process

ROOT = Path(__file__).resolve().parents[2]
CLIENT = Path(__file__).with_name("topology_client.py")
CLIENTS = 8
SERVERS = 3
BUCKET = "topology"
pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def recipe(name: str) -> str:
    """The shell block after ``<!-- recipe: name -->`` in docs/DEPLOY.md."""
    text = (ROOT / "docs" / "DEPLOY.md").read_text()
    match = re.search(rf"<!-- recipe: {name} -->\n```sh\n(.*?)```", text, re.S)
    assert match, f"docs/DEPLOY.md has no '{name}' recipe block"
    return match.group(1)


def test_recipe_blocks_are_the_documented_commands() -> None:
    assert recipe("migrate").strip() == 'tracklet db upgrade "$TRACKLET_DB_URI"'
    serve = recipe("serve")
    for flag in ("--backend-store-uri", "--artifacts-destination", "--host", "--port"):
        assert flag in serve
    assert "/health" in recipe("health")
    # bench_scaleout runs this statement after seeding its runs, as the recipe tells operators.
    assert recipe("after-bulk-load").strip() == (
        'psql "$TRACKLET_DB_URI" -c "VACUUM (ANALYZE) runs, latest_metrics, params, tags"'
    )


def _shim(bin_dir: Path) -> None:
    """``tracklet`` on PATH: this interpreter running this checkout's package."""
    bin_dir.mkdir()
    shim = bin_dir / "tracklet"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tracklet "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)


def _bash(block: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["bash", "-ec", block], env=env, cwd=cwd, capture_output=True, timeout=60)


class Deployment:
    def __init__(self, base: Path, env: dict[str, str]) -> None:
        self.base = base
        self.env = env
        self.ports = [free_port() for _ in range(SERVERS)]
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * SERVERS

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports[i]}"

    def host_env(self, i: int) -> dict[str, str]:
        return {**self.env, "PORT": str(self.ports[i])}

    def start(self, i: int) -> None:
        argv = ["bash", "-ec", "exec " + recipe("serve").strip()]
        self.procs[i] = start_process(argv, self.host_env(i), self.base, self.base / f"s{i}.log")

    def wait_ready(self, i: int, timeout: float = 60) -> None:
        """Until the recipe's health checks (liveness and readiness) pass on server ``i``."""
        deadline = time.monotonic() + timeout
        proc = self.procs[i]
        while _bash(recipe("health"), self.host_env(i), self.base).returncode != 0:
            assert proc is not None
            assert proc.poll() is None, (self.base / f"s{i}.log").read_text()[-2000:]
            assert time.monotonic() < deadline, f"server {i} did not become ready"
            time.sleep(0.1)

    def kill(self, i: int) -> None:
        proc = self.procs[i]
        assert proc is not None
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc is not None:
                stop_process(proc)


def _records(out_dir: Path) -> list[dict[str, Any]]:
    records = []
    for path in sorted(out_dir.glob("client-*.jsonl")):
        seed = int(path.stem.split("-")[1])
        for line in path.read_text().splitlines():
            records.append({**json.loads(line), "seed": seed})
    return records


def _wait_for_acks(out_dir: Path, after: float, count: int, timeout: float = 60) -> None:
    """Until clients have had ``count`` writes acknowledged since ``after`` (clients start
    slowly on a loaded machine, so the kill is timed by their progress, not the clock)."""
    deadline = time.monotonic() + timeout
    while sum(1 for r in _records(out_dir) if r["ok"] and r["t"] > after) < count:
        assert time.monotonic() < deadline, "the clients made no progress"
        time.sleep(0.1)


def test_three_servers_eight_clients_one_killed(
    postgres_uri: str, s3_endpoint: str, tmp_path: Path
) -> None:
    make_bucket(s3_endpoint, BUCKET)
    _shim(tmp_path / "bin")
    env = server_env(
        s3_endpoint,
        TRACKLET_DB_URI=postgres_uri,
        TRACKLET_ARTIFACTS=f"s3://{BUCKET}/artifacts",
        HOST="127.0.0.1",
        WORKERS="1",
        TRACKLET_ALLOWED_HOSTS="127.0.0.1:*",
        PATH=f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
    )
    migrated = _bash(recipe("migrate"), env, tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert b"Created the tracklet schema" in migrated.stdout

    deployment = Deployment(tmp_path, env)
    clients: list[subprocess.Popen[bytes]] = []
    try:
        for i in range(SERVERS):
            deployment.start(i)
        for i in range(SERVERS):
            deployment.wait_ready(i)
        urls = [deployment.url(i) for i in range(SERVERS)]
        created = httpx.post(
            f"{urls[0]}/api/2.0/mlflow/experiments/create", json={"name": "topology"}
        )
        experiment_id = created.json()["experiment_id"]

        stop_file = tmp_path / "stop"
        for seed in range(CLIENTS):
            out = tmp_path / f"client-{seed}.jsonl"
            argv = [sys.executable, str(CLIENT), str(out), experiment_id, str(seed)]
            clients.append(subprocess.Popen([*argv, str(stop_file), *urls], env=env, cwd=tmp_path))
        _wait_for_acks(tmp_path, after=0, count=CLIENTS * 2)
        killed_at = time.time()
        deployment.kill(1)  # kill -9, mid-run
        time.sleep(0.3)
        deployment.start(1)
        deployment.wait_ready(1)
        back_at = time.time()
        _wait_for_acks(tmp_path, after=back_at, count=CLIENTS * 2)
        stop_file.touch()
        for client in clients:
            assert client.wait(60) == 0

        records = _records(tmp_path)
        acked = [r for r in records if r["ok"]]
        # The kill landed mid-run: writes were acknowledged before it and after the restart.
        assert any(r["t"] < killed_at for r in acked)
        assert any(r["t"] > back_at for r in acked)
        for i in range(SERVERS):
            _check_through(deployment.url(i), experiment_id, records)
    finally:
        for client in clients:
            if client.poll() is None:
                client.kill()
        deployment.stop_all()


def _check_through(url: str, experiment_id: str, records: list[dict[str, Any]]) -> None:
    """Everything acknowledged is there exactly once through the server at ``url``."""
    with httpx.Client(base_url=url, timeout=30) as http:
        _check_runs(http, experiment_id, records)


def _check_runs(http: httpx.Client, experiment_id: str, records: list[dict[str, Any]]) -> None:
    from .topology_client import KEYS, STEPS, metric_value

    url = str(http.base_url)
    found = http.post(
        "/api/2.0/mlflow/runs/search",
        json={"experiment_ids": [experiment_id], "max_results": 1000},
    ).json()
    run_ids = [r["info"]["run_id"] for r in found.get("runs", [])]
    assert len(run_ids) == len(set(run_ids))
    created = {r["run_id"] for r in records if r["op"] == "create" and r["ok"]}
    unacked_creates = sum(1 for r in records if r["op"] == "create" and not r["ok"])
    assert created <= set(run_ids)
    assert len(run_ids) <= len(created) + unacked_creates

    by_run: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if r["op"] != "create" and r["run_id"] in created:
            by_run.setdefault(r["run_id"], []).append(r)

    def check_run(run_id: str) -> None:
        run = http.get("/api/2.0/mlflow/runs/get", params={"run_id": run_id}).json()["run"]
        data = run["data"]
        params = {p["key"]: p["value"] for p in data.get("params", [])}
        tags = {t["key"]: t["value"] for t in data.get("tags", []) if t["key"].startswith("t")}
        batches = [r for r in by_run.get(run_id, []) if r["op"] == "batch"]
        for key in range(KEYS):
            history = http.get(
                "/api/2.0/mlflow/metrics/get-history",
                params={"run_id": run_id, "metric_key": f"m{key}"},
            ).json()
            points = Counter((m["step"], m["value"]) for m in history.get("metrics", []))
            expected: set[tuple[int, float]] = set()
            for b in batches:
                wanted = {
                    (step, metric_value(b["run_index"], key, step))
                    for step in range(b["batch"] * STEPS, (b["batch"] + 1) * STEPS)
                }
                counts = [points[p] for p in wanted]
                if b["ok"]:
                    assert counts == [1] * STEPS, (url, run_id, key, b)
                else:
                    assert set(counts) <= {0, 1}, (url, run_id, key, b)
                expected |= wanted
            assert set(points) <= expected  # nothing logged that no client sent
        for b in batches:
            seed = b["seed"]
            if b["ok"]:
                assert params[f"p{b['batch']}"] == f"{seed}-{b['batch']}"
                assert tags[f"t{b['batch']}"] == f"tag-{b['batch']}"
        listed = http.get(
            "/api/2.0/mlflow/artifacts/list", params={"run_id": run_id, "path": "files"}
        ).json()
        names = Counter(f["path"] for f in listed.get("files", []))
        for a in (r for r in by_run.get(run_id, []) if r["op"] == "artifact"):
            if not a["ok"]:
                assert names[a["name"]] <= 1
                continue
            assert names[a["name"]] == 1, (url, run_id, a)
            batch = int(a["name"].rsplit("f", 1)[1].split(".")[0])
            path = f"{experiment_id}/{run_id}/artifacts/{a['name']}"
            body = http.get(f"/api/2.0/mlflow-artifacts/artifacts/{path}").content
            assert body == f"{run_id} batch {batch} seed {a['seed']}\n".encode() * (batch + 1)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(check_run, sorted(created)))
