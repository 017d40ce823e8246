"""Authentication's cost: log-batch requests per second through ``tracklet server`` with
``--app-name basic-auth`` (Basic credentials on every request) against the same server without
it, and the same for ``mlflow server`` 3.17.2 (issue 9's target: tracklet keeps >= 90%).

    python -m bench.bench_auth                 # 3 rounds of 10 s per server
    python -m bench.bench_auth --seconds 3     # shorter

Each server runs on SQLite in a fresh directory; two client threads, each with its own keep-alive
connection, send log-batch requests (10 keys x 10 steps) to one run for the measured time. The
best round of each server counts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench._common import Row, print_table
from bench.bench_server import QUIET, _free_port, _healthy

API = "/api/2.0/mlflow"
USER, PASSWORD = "bench-admin", "a-long-bench-password-1"
MLFLOW_ADMIN = ("admin", "a-long-bench-password-2")  # set in its basic_auth.ini


def _start(kind: str, workdir: Path, auth: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    bindir = Path(sys.executable).parent
    command = [
        str(bindir / kind),
        "server",
        "--backend-store-uri",
        f"sqlite:///{workdir / 'db.sqlite'}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    if kind == "mlflow":
        command += ["--workers", "1"]
    env = {**os.environ, **QUIET}
    if auth:
        command += ["--app-name", "basic-auth"]
        env |= {"TRACKLET_ADMIN_USERNAME": USER, "TRACKLET_ADMIN_PASSWORD": PASSWORD}
        env["MLFLOW_AUTH_CONFIG_PATH"] = str(_mlflow_auth_config(workdir))
        env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = "bench-secret"  # MLflow's auth requires one
    log = open(workdir / "server.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while not _healthy(url):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{kind} server did not start; see {workdir / 'server.log'}")
        time.sleep(0.05)
    return process, url


def _mlflow_auth_config(workdir: Path) -> Path:
    path = workdir / "basic_auth.ini"
    path.write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = sqlite:///{workdir / 'auth.db'}\n"
        f"admin_username = {MLFLOW_ADMIN[0]}\nadmin_password = {MLFLOW_ADMIN[1]}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    return path


def _rate(url: str, credentials: tuple[str, str] | None, seconds: float) -> float:
    """log-batch requests per second from two threads."""
    setup = httpx.Client(base_url=url + API, auth=credentials, timeout=60)
    experiment = setup.post("/experiments/create", json={"name": f"auth-{time.time_ns()}"})
    experiment.raise_for_status()
    run = setup.post(
        "/runs/create", json={"experiment_id": experiment.json()["experiment_id"]}
    ).json()["run"]["info"]["run_id"]
    setup.close()
    counts = [0, 0]
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        with httpx.Client(base_url=url + API, auth=credentials, timeout=60) as http:
            step = 0
            while time.monotonic() < stop:
                metrics = [
                    {"key": f"k{k}", "value": 0.5, "timestamp": 1, "step": step + s}
                    for k in range(10)
                    for s in range(10)
                ]
                http.post(
                    "/runs/log-batch", json={"run_id": run, "metrics": metrics}
                ).raise_for_status()
                step += 10
                counts[index] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def _measure(kind: str, auth: bool, seconds: float, rounds: int) -> float:
    credentials = None
    if auth:
        credentials = (USER, PASSWORD) if kind == "tracklet" else MLFLOW_ADMIN
    with tempfile.TemporaryDirectory(prefix=f"bench-auth-{kind}-") as tmp:
        process, url = _start(kind, Path(tmp), auth)
        try:
            return max(_rate(url, credentials, seconds) for _ in range(rounds))
        finally:
            process.terminate()
            process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of one round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rates = {
        (kind, auth): _measure(kind, auth, args.seconds, args.rounds)
        for kind in ("mlflow", "tracklet")
        for auth in (False, True)
    }
    kept = {k: rates[(k, True)] / rates[(k, False)] * 100 for k in ("mlflow", "tracklet")}
    plain = [rates[("mlflow", False)], rates[("tracklet", False)]]
    with_auth = [rates[("mlflow", True)], rates[("tracklet", True)]]
    print_table(
        "Basic auth on log-batch (10 keys x 10 steps), 2 client threads, requests/s",
        [
            Row("log-batch, no auth", "req/s", *plain, ""),
            Row("log-batch, basic-auth", "req/s", *with_auth, ""),
            Row("throughput kept with auth", "%", kept["mlflow"], kept["tracklet"], ">= 90%"),
        ],
    )  # fmt: skip


if __name__ == "__main__":
    main()
