"""Tracking server: ``tracklet server`` vs ``mlflow server`` 3.17.2, same machine, same run.

    python -m bench.bench_server            # the full table (a few minutes; mlflow starts slowly)
    python -m bench.bench_server --quick    # smaller workloads

Both servers run as subprocesses on SQLite in fresh temporary directories. Client load comes
from separate processes (two at a time, started together); ``log_metric`` uses MLflow's own
client against both servers, ``log_batch`` is measured with MLflow's client against both and
with tracklet's client against tracklet.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench._common import ROOT, Row, emit, print_table

MODULE = "bench.bench_server"
QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


class Server:
    """A server subprocess; ``startup`` is the time from spawn until /health answered."""

    def __init__(self, kind: str, workdir: Path, workers: int = 1) -> None:
        self.kind = kind
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        bindir = Path(sys.executable).parent
        if kind == "mlflow":
            command = [
                str(bindir / "mlflow"),
                "server",
                "--backend-store-uri",
                f"sqlite:///{workdir / 'mlflow.db'}",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ]
        else:
            command = [
                str(bindir / "tracklet"),
                "server",
                "--backend-store-uri",
                f"sqlite:///{workdir / 'tracklet.db'}",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ]
        self.log = open(workdir / f"{kind}.log", "wb")  # noqa: SIM115
        start = time.perf_counter()
        self.process = subprocess.Popen(
            command,
            cwd=workdir,
            env={**os.environ, **QUIET},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        while not _healthy(self.url):
            if self.process.poll() is not None:
                raise RuntimeError(f"{kind} server exited; see {workdir / f'{kind}.log'}")
            time.sleep(0.005)
        self.startup = time.perf_counter() - start

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


# --------------------------------------------------------------------------- client workers


def _client(lib: str, url: str):  # type: ignore[no-untyped-def]
    if lib == "mlflow":
        import mlflow

        return mlflow.MlflowClient(url)
    import tracklet

    return tracklet.MlflowClient(url)


def _metric_cls(lib: str):  # type: ignore[no-untyped-def]
    if lib == "mlflow":
        from mlflow.entities import Metric
    else:
        from tracklet.entities import Metric
    return Metric


def _wait_until(start_at: float) -> None:
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)


def w_log_metric(lib: str, url: str, run_id: str, seconds: str, start_at: str) -> None:
    client = _client(lib, url)
    client.log_metric(run_id, "warmup", 0.0)
    _wait_until(float(start_at))
    deadline = time.perf_counter() + float(seconds)
    count = 0
    start, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() < deadline:
        client.log_metric(run_id, f"m{os.getpid()}", 0.5, step=count)
        count += 1
    emit({"count": count, "elapsed": time.perf_counter() - start, "cpu": time.process_time() - cpu})


def w_log_batch(lib: str, url: str, run_id: str, seconds: str, start_at: str) -> None:
    client = _client(lib, url)
    metric = _metric_cls(lib)
    now = int(time.time() * 1000)
    key = f"b{os.getpid()}"
    # Built before the clock starts (fresh points: identical ones would be deduplicated).
    batches = [[metric(key, float(i), now, b * 1000 + i) for i in range(1000)] for b in range(300)]
    client.log_batch(run_id, metrics=[metric("warmup", 0.0, now, 0)])
    _wait_until(float(start_at))
    deadline = time.perf_counter() + float(seconds)
    count = 0
    start = time.perf_counter()
    cpu = time.process_time()
    for batch in batches:
        if time.perf_counter() >= deadline:
            break
        client.log_batch(run_id, metrics=batch)
        count += 1
    emit(
        {
            "count": count * 1000,
            "elapsed": time.perf_counter() - start,
            "cpu": time.process_time() - cpu,
        }
    )


def _spawn(name: str, lib: str, *args: str) -> subprocess.Popen[str]:
    # Started in ROOT, which ``-m`` puts on sys.path, rather than with ROOT in PYTHONPATH: a
    # second copy of it on sys.path made each of the ~11 imports that mlflow's client tries
    # (and fails) on every request scan one directory more.
    env = {**os.environ, **QUIET}
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.Popen(
        [sys.executable, "-m", MODULE, "worker", name, lib, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


CLIENT_CPU: dict[tuple[str, str, str], float] = {}  # (workload, client lib, url) -> ms/request
SERVER_CPU: dict[tuple[str, str, str], float] = {}  # the same, for the server's processes


def _server_cpu(pid: int) -> float | None:
    """CPU seconds used so far by process ``pid`` and its children (``--workers``), from /proc;
    None where there is no /proc."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, found = 0.0, False
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
            found = True
    return total if found else None


def concurrent_rate(
    name: str, lib: str, server: Server, run_ids: list[str], seconds: float
) -> float:
    """Items per second over all clients (one process per run id), started together; the
    clients' own CPU time per request goes to CLIENT_CPU (it bounds what a server can show),
    the server's to SERVER_CPU (both share the machine's cores)."""
    url = server.url
    start_at = time.time() + 12.0  # time for the clients to import, build data and warm up
    procs = [_spawn(name, lib, url, run_id, str(seconds), str(start_at)) for run_id in run_ids]
    server_before = _server_cpu(server.process.pid)
    total, longest, cpu, requests = 0, 0.0, 0.0, 0
    for proc in procs:
        out, err = proc.communicate(timeout=seconds + 120)
        if proc.returncode != 0:
            raise RuntimeError(f"{name} {lib} client failed:\n{err[-3000:]}")
        result = json.loads(out.strip().splitlines()[-1])
        total += result["count"]
        longest = max(longest, result["elapsed"])
        cpu += result["cpu"]
        requests += result["count"] // (1000 if name == "log_batch" else 1)
    server_after = _server_cpu(server.process.pid)
    CLIENT_CPU[(name, lib, url)] = cpu / max(requests, 1) * 1000
    if server_before is not None and server_after is not None:
        # Includes the clients' warm-up requests (a few) and idle waiting (next to nothing).
        SERVER_CPU[(name, lib, url)] = (server_after - server_before) / max(requests, 1) * 1000
    return total / longest


# --------------------------------------------------------------------------- search


def search_latency(url: str, runs: int, quick: bool) -> tuple[float | None, str]:
    """Median ms of search_runs (filter + order, 100 results) over ``runs`` runs, via REST."""
    import httpx

    from tracklet import MlflowClient
    from tracklet.entities import Metric, Param

    client = MlflowClient(url)
    experiment_id = client.create_experiment(f"search-{time.time()}")
    now = int(time.time() * 1000)
    for i in range(runs):
        run_id = client.create_run(experiment_id, start_time=now + i).info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric("acc", (i * 7919 % 1000) / 1000, now, 0)],
            params=[Param("model", "cnn" if i % 2 else "mlp")],
        )
    body = {
        "experiment_ids": [experiment_id],
        "filter": "metrics.acc > 0.5 and params.model = 'cnn'",
        "order_by": ["metrics.acc DESC"],
        "max_results": 100,
    }
    note = "filter + order"
    with httpx.Client(base_url=url) as http:
        probe = http.post("/api/2.0/mlflow/runs/search", json=body)
        if probe.status_code != 200:
            note = f"unfiltered (filters: {probe.json().get('message', '')[:40]})"
            body = {"experiment_ids": [experiment_id], "max_results": 100}
        timings = []
        for _ in range(10 if quick else 30):
            start = time.perf_counter()
            response = http.post("/api/2.0/mlflow/runs/search", json=body)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.text
    timings.sort()
    return timings[len(timings) // 2], note


# --------------------------------------------------------------------------- main


def _prepare_runs(url: str, count: int) -> list[str]:
    from tracklet import MlflowClient

    client = MlflowClient(url)
    experiment_id = client.create_experiment(f"bench-{time.time()}")
    return [client.create_run(experiment_id).info.run_id for _ in range(count)]


def _client_note(cpu_ms: float | None, per_request: int, server_ms: float | None = None) -> str:
    """The client's own CPU per request (and the server's), and the rate this machine's cores
    could reach at those costs with perfect overlap: two clients' CPU alone, and clients plus
    server, which share the cores here."""
    if not cpu_ms:
        return ""
    cores = min(2, os.cpu_count() or 1)
    unit = "points/s" if per_request > 1 else "req/s"
    note = f"client CPU {cpu_ms:.1f} ms/request: ceiling {cores * 1000 / cpu_ms * per_request:,.0f}"
    if server_ms:
        both = cores * 1000 / (cpu_ms + server_ms) * per_request
        note += f"; + server {server_ms:.2f} ms/request: ceiling {both:,.0f}"
    return f"{note} {unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="tracklet server --workers")
    parser.add_argument(
        "--servers", default="mlflow,tracklet", help="comma-separated subset of mlflow,tracklet"
    )
    args = parser.parse_args()
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    seconds = 5.0 if args.quick else 10.0
    rows: list[Row] = []
    results: dict[str, dict[str, float | None]] = {"mlflow": {}, "tracklet": {}}
    search_note = ""
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        for kind in args.servers.split(","):
            workdir = Path(tmp) / kind
            workdir.mkdir()
            if kind == "tracklet":
                # Start-up is measured as users start it (defaults: one worker), then the
                # throughput server is started with --workers.
                first = Server(kind, workdir)
                results[kind]["startup"] = first.startup
                first.stop()
            server = Server(kind, workdir, args.workers)
            try:
                results[kind].setdefault("startup", server.startup)
                runs = _prepare_runs(server.url, 2)
                results[kind]["log_metric"] = concurrent_rate(
                    "log_metric", "mlflow", server, runs, seconds
                )
                results[kind]["log_metric_cpu"] = CLIENT_CPU[("log_metric", "mlflow", server.url)]
                results[kind]["log_metric_server_cpu"] = SERVER_CPU.get(
                    ("log_metric", "mlflow", server.url)
                )
                results[kind]["log_batch"] = concurrent_rate(
                    "log_batch", "mlflow", server, runs, seconds
                )
                results[kind]["log_batch_cpu"] = CLIENT_CPU[("log_batch", "mlflow", server.url)]
                results[kind]["log_batch_server_cpu"] = SERVER_CPU.get(
                    ("log_batch", "mlflow", server.url)
                )
                if kind == "tracklet":
                    runs = _prepare_runs(server.url, 2)
                    results[kind]["log_batch_tracklet"] = concurrent_rate(
                        "log_batch", "tracklet", server, runs, seconds
                    )
                    results[kind]["log_batch_tracklet_cpu"] = CLIENT_CPU[
                        ("log_batch", "tracklet", server.url)
                    ]
                    results[kind]["log_batch_tracklet_server_cpu"] = SERVER_CPU.get(
                        ("log_batch", "tracklet", server.url)
                    )
                    results[kind]["search"], search_note = search_latency(
                        server.url, 1000 if args.quick else 5000, args.quick
                    )
            finally:
                server.stop()
    m, t = results["mlflow"], results["tracklet"]
    for key in ("startup", "log_metric", "log_batch", "log_batch_tracklet", "search"):
        m.setdefault(key, None)
        t.setdefault(key, None)
    rows.append(
        Row(
            "start until /health answers",
            "s",
            m["startup"],
            t["startup"],
            "<= 1 s",
            higher_is_better=False,
        )
    )
    rows.append(
        Row(
            "log_metric over REST, mlflow client, 2 procs",
            "req/s",
            m["log_metric"],
            t["log_metric"],
            ">= 1,000 req/s",
            note=_client_note(t.get("log_metric_cpu"), 1, t.get("log_metric_server_cpu")),
        )
    )
    rows.append(
        Row(
            "log_batch 1000 metrics, mlflow client, 2 procs",
            "points/s",
            m["log_batch"],
            t["log_batch"],
            ">= 500,000 points/s",
            note=_client_note(t.get("log_batch_cpu"), 1000, t.get("log_batch_server_cpu")),
        )
    )
    rows.append(
        Row(
            "log_batch 1000 metrics, tracklet client, 2 procs",
            "points/s",
            m["log_batch"],
            t["log_batch_tracklet"],
            ">= 500,000 points/s",
            note="mlflow column: mlflow client; "
            + _client_note(
                t.get("log_batch_tracklet_cpu"), 1000, t.get("log_batch_tracklet_server_cpu")
            ),
        )
    )
    rows.append(
        Row(
            f"search_runs over REST, {1000 if args.quick else 5000} runs, 100 results",
            "ms",
            None,
            t["search"],
            "<= 30 ms",
            higher_is_better=False,
            note=search_note,
        )
    )
    print_table(
        f"Tracking server (SQLite backend, loopback, {os.cpu_count()} cores, tracklet "
        f"--workers {args.workers}, load average before: {load_before})",
        rows,
    )


def worker(name: str, lib: str, *args: str) -> None:
    {"log_metric": w_log_metric, "log_batch": w_log_batch}[name](lib, *args)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(*sys.argv[2:])
    else:
        main()
