"""Scale-out (issue 17): the deployment of docs/DEPLOY.md measured on one machine.

    python -m bench.bench_scaleout                      # the issue's sizes (1 GiB, 100k runs)
    python -m bench.bench_scaleout --artifact-mib 64 --runs 2000 --batches 10   # quick
    python -m bench.bench_scaleout --only artifact      # one workload (artifact, logbatch, search)

Workloads and the issue's targets:

- **artifact**: one file up and down through ``tracklet server --artifacts-destination s3://...``
  (plain streamed PUT and GET through the proxy) against boto3 straight to the same S3 server
  (moto's server mode in this process), with the server's RSS growth sampled every 20 ms; MLflow's
  server on the same bucket for comparison. Targets: RSS growth <= 64 MiB, proxy >= 80% of
  direct-to-S3 throughput.
- **logbatch**: 4 client processes send ``log-batch`` requests (10 keys x 100 steps each) to 3
  server processes on one PostgreSQL schema, each request to a server picked at random, written
  by the library's own ``MlflowClient.log_batch`` (tracklet's against tracklet's servers,
  MLflow's against MLflow's); every point is then counted back. Target: >= 400k points/s in
  total, 0 lost. MLflow's 3 servers on their own schema for comparison (``--no-mlflow`` skips
  them).
- **search**: ``runs/search`` latency at ``--runs`` runs (100k) over REST on PostgreSQL while 4
  clients write. Target: p95 <= 50 ms.

PostgreSQL comes from ``--postgres`` (default: TRACKLET_TEST_POSTGRES_URI or
postgresql://postgres@127.0.0.1:5432/test); each workload uses a fresh schema, dropped after.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench._common import ROOT, Row, emit, print_table

MIB = 1024 * 1024
MODULE = "bench.bench_scaleout"
CREDS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}
QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
KEYS, STEPS = 10, 100  # one log-batch request: 10 keys x 100 steps = 1000 points


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


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, []))
    return found


def _rss_tree(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants."""
    total = 0
    for current in _tree(pid):
        try:
            with open(f"/proc/{current}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_tree(pid: int) -> float:
    """CPU seconds of ``pid`` and its descendants (MLflow's server runs its workers there)."""
    return sum(_cpu_seconds(p) for p in _tree(pid))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL process on this machine (its backends included)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if not f.read().startswith("postgres"):
                        continue
            except OSError:
                continue
            total += _cpu_seconds(int(entry))
    return total


class Server:
    """``tracklet server`` or ``mlflow server`` as a subprocess (its own process group)."""

    def __init__(self, kind: str, workdir: Path, backend: str, env: dict[str, str], **kw: str):
        self.kind = kind
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = ["--backend-store-uri", backend, "--host", "127.0.0.1", "--port", str(self.port)]
        if "destination" in kw:
            args += ["--artifacts-destination", kw["destination"]]
        if kind == "tracklet":
            argv = [sys.executable, "-m", "tracklet", "server", *args]
        else:
            mlflow = os.path.join(os.path.dirname(sys.executable), "mlflow")
            argv = [mlflow, "server", *args, "--workers", "1"]
        full_env = {**env, **QUIET, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        self.proc = subprocess.Popen(
            argv,
            cwd=workdir,
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / f"{kind}-{self.port}.log", "ab"),  # noqa: SIM115
            start_new_session=True,
        )

    def wait(self, timeout: float = 180) -> Server:
        deadline = time.monotonic() + timeout
        while not _healthy(self.url):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.kind} server did not start (see its log)")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def _server_env(s3: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "AWS_"))}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    if s3:
        env.update(CREDS, MLFLOW_S3_ENDPOINT_URL=s3)
    return env


@contextmanager
def _schema(postgres: str) -> Iterator[str]:
    """A fresh PostgreSQL schema; the URI that works in it (search_path), dropped after."""
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in postgres else "?"
    options = urllib.parse.quote(f"-csearch_path={name}")
    try:
        yield f"{postgres}{sep}options={options}"
    finally:
        with psycopg.connect(postgres, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")


# ---------------------------------------------------------------------------------- artifact


def _moto() -> tuple[Any, str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def _make_file(path: Path, mib: int) -> None:
    block = os.urandom(MIB)
    with open(path, "wb") as f:
        for i in range(mib):
            f.write(block[i % 997 :] + block[: i % 997])  # every MiB different


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(MIB):
            yield chunk


def _through_proxy(server: Server, src: Path, dst: Path) -> dict[str, float]:
    """PUT then GET ``src`` through the server's proxy; seconds each and peak RSS growth."""
    import httpx

    url = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/bench/{uuid.uuid4().hex}/blob.bin"
    size = src.stat().st_size
    with httpx.Client(timeout=600) as http:
        http.put(f"{url}.warm", content=b"x" * MIB).raise_for_status()  # imports, connections
        time.sleep(0.5)
        base = _rss_tree(server.proc.pid)
        peak = [base]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _rss_tree(server.proc.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = time.perf_counter()
        headers = {"Content-Length": str(size)}
        http.put(url, content=_file_chunks(src), headers=headers).raise_for_status()
        t1 = time.perf_counter()
        with http.stream("GET", url) as response, open(dst, "wb") as out:
            response.raise_for_status()
            for chunk in response.iter_bytes(MIB):
                out.write(chunk)
        t2 = time.perf_counter()
        done.set()
        sampler.join()
    assert dst.stat().st_size == size
    return {"up": t1 - t0, "down": t2 - t1, "rss_growth": (peak[0] - base) / MIB}


def _direct(s3_url: str, bucket: str, src: Path, dst: Path) -> dict[str, float]:
    import boto3

    client = boto3.client("s3", endpoint_url=s3_url, **_boto_creds())
    key = f"direct/{uuid.uuid4().hex}/blob.bin"
    t0 = time.perf_counter()
    client.upload_file(str(src), bucket, key)
    t1 = time.perf_counter()
    client.download_file(bucket, key, str(dst))
    t2 = time.perf_counter()
    client.delete_object(Bucket=bucket, Key=key)
    return {"up": t1 - t0, "down": t2 - t1}


def _boto_creds() -> dict[str, Any]:
    from botocore.config import Config

    return {
        "config": Config(read_timeout=900),  # moto assembles a 1 GiB object slowly
        "aws_access_key_id": CREDS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDS["AWS_SECRET_ACCESS_KEY"],
        "region_name": CREDS["AWS_DEFAULT_REGION"],
    }


def _empty_bucket(s3_url: str, bucket: str) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=s3_url, **_boto_creds())
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=obj["Key"])


def bench_artifact(args: argparse.Namespace, work: Path) -> list[Row]:
    import boto3

    moto, s3_url = _moto()
    bucket = "bench"
    boto3.client("s3", endpoint_url=s3_url, **_boto_creds()).create_bucket(Bucket=bucket)
    src, dst = work / "src.bin", work / "dst.bin"
    _make_file(src, args.artifact_mib)
    size_mib = float(args.artifact_mib)
    results: dict[str, dict[str, float]] = {}
    try:
        results["direct"] = _direct(s3_url, bucket, src, dst)
        kinds = ["tracklet"] + ([] if args.no_mlflow else ["mlflow"])
        for kind in kinds:
            server = Server(
                kind,
                work,
                f"sqlite:///{work / f'{kind}.db'}",
                _server_env(s3_url),
                destination=f"s3://{bucket}/{kind}",
            ).wait()
            try:
                results[kind] = _through_proxy(server, src, dst)
            finally:
                server.stop()
            _empty_bucket(s3_url, bucket)
    finally:
        moto.stop()
    direct = results["direct"]
    rows = []
    for phase in ("up", "down"):
        direct_rate = size_mib / direct[phase]
        tracklet_rate = size_mib / results["tracklet"][phase]
        mlflow_rate = size_mib / results["mlflow"][phase] if "mlflow" in results else None
        rows.append(
            Row(
                f"{args.artifact_mib} MiB {phase} through the proxy",
                "MiB/s",
                mlflow_rate,
                tracklet_rate,
                ">= 80% of direct",
                note=f"direct S3 {direct_rate:,.0f} MiB/s; tracklet "
                f"{tracklet_rate / direct_rate:.0%} of it",
            )
        )
    rows.append(
        Row(
            "server RSS growth during up+down",
            "MiB",
            results["mlflow"]["rss_growth"] if "mlflow" in results else None,
            results["tracklet"]["rss_growth"],
            "<= 64 MiB",
            higher_is_better=False,
        )
    )
    return rows


# ---------------------------------------------------------------------------------- log-batch


def _cluster(kind: str, uri: str, work: Path, count: int = 3) -> list[Server]:
    env = _server_env()
    if kind == "tracklet":
        subprocess.run(
            [sys.executable, "-m", "tracklet", "db", "upgrade", uri],
            env=env,
            check=True,
            capture_output=True,
        )
    else:
        uri = uri.replace("postgresql://", "postgresql+psycopg://", 1)  # no psycopg2 here
        mlflow = os.path.join(os.path.dirname(sys.executable), "mlflow")
        subprocess.run([mlflow, "db", "upgrade", uri], env=env, check=True, capture_output=True)
    servers = [Server(kind, work, uri, env) for _ in range(count)]
    return [s.wait() for s in servers]


def _writers(
    kind: str, urls: list[str], run_ids: list[str], batches: int, until: float = 0
) -> tuple[list[Any], float]:
    """The writing clients, started together once each is ready (imported, its Metric lists
    built, its clients connected); the processes and the moment they start."""
    env = {**_server_env(), **QUIET}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", MODULE, "worker", kind, run_id, str(batches), str(until), *urls],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for run_id in run_ids
    ]
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("a writing client failed to start")
    go = time.time() + 0.2  # every writer starts at the same moment
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(f"{go}\n")
        proc.stdin.flush()
    return procs, go


def _collect(procs: list[Any]) -> list[dict[str, Any]]:
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=3600)
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _runs(url: str, count: int) -> tuple[str, list[str]]:
    import httpx

    with httpx.Client(base_url=url, timeout=60) as http:
        created = http.post("/api/2.0/mlflow/experiments/create", json={"name": uuid.uuid4().hex})
        experiment = created.json()["experiment_id"]
        run_ids = [
            http.post("/api/2.0/mlflow/runs/create", json={"experiment_id": experiment}).json()[
                "run"
            ]["info"]["run_id"]
            for _ in range(count)
        ]
    return experiment, run_ids


def _count_points(url: str, run_ids: list[str]) -> int:
    import httpx

    total = 0
    with httpx.Client(base_url=url, timeout=120) as http:
        for run_id in run_ids:
            for key in range(KEYS):
                history = http.get(
                    "/api/2.0/mlflow/metrics/get-history",
                    params={"run_id": run_id, "metric_key": f"m{key}"},
                ).json()
                total += len(history.get("metrics", []))
    return total


def bench_logbatch(args: argparse.Namespace, work: Path) -> list[Row]:
    rates: dict[str, float] = {}
    lost: dict[str, int] = {}
    cpu: dict[str, str] = {}
    for kind in ["tracklet"] + ([] if args.no_mlflow else ["mlflow"]):
        with _schema(args.postgres) as uri:
            servers = _cluster(kind, uri, work)
            try:
                urls = [s.url for s in servers]
                _, run_ids = _runs(urls[0], 4)
                procs, go = _writers(kind, urls, run_ids, args.batches)
                # CPU from the start: the clients' warm-up (a get_run per server) made each
                # server import its thread pool's backend (~50 ms, once a process) and connect.
                time.sleep(max(0.0, go - time.time()))
                servers_before = sum(_cpu_tree(s.proc.pid) for s in servers)
                postgres_before = _postgres_cpu()
                results = _collect(procs)
                server_cpu = sum(_cpu_tree(s.proc.pid) for s in servers) - servers_before
                postgres_cpu = _postgres_cpu() - postgres_before
                sent = sum(r["points"] for r in results)
                elapsed = max(r["t1"] for r in results) - min(r["t0"] for r in results)
                rates[kind] = sent / elapsed
                # Where a request's CPU goes: what bounds the rate on a machine's cores.
                requests = sent / (KEYS * STEPS) or 1
                client_cpu = sum(r["cpu"] for r in results)
                cpu[kind] = (
                    f"{kind} CPU ms/request: servers {server_cpu / requests * 1000:.2f}, "
                    f"PostgreSQL {postgres_cpu / requests * 1000:.2f}, "
                    f"clients {client_cpu / requests * 1000:.2f}"
                )
                lost[kind] = sent - _count_points(urls[-1], run_ids)
            finally:
                for s in servers:
                    s.stop()
    note = "; ".join(f"{k} lost {v}; {cpu[k]}" for k, v in lost.items())
    return [
        Row(
            f"log-batch 4 clients x {args.batches} x 1000 points, 3 servers, PostgreSQL",
            "points/s",
            rates.get("mlflow"),
            rates["tracklet"],
            ">= 400k/s, 0 lost",
            note=note,
        )
    ]


def worker(kind: str, run_id: str, batches: int, until: float, urls: list[str]) -> None:
    """One writing client: ``batches`` log-batch requests (or until ``until``), random servers.

    Each request is written by the library's own client, as a team would write it:
    ``MlflowClient(url).log_batch(run_id, metrics=[Metric, ...])`` (``tracklet`` or
    ``mlflow``), one client per server URL, a random one per request. Prints ``ready`` once
    prepared, then reads the moment to start from stdin (see ``_writers``)."""
    if kind == "tracklet":
        from tracklet import MlflowClient
        from tracklet.entities import Metric
    else:
        from mlflow import MlflowClient
        from mlflow.entities import Metric
    clients = [MlflowClient(u) for u in urls]
    rng = random.Random(run_id)
    # The Metric lists are built before the start (``batches`` of them): the clients share
    # the servers' two cores here, and the workload measures writing them, not making them.
    batches_of = [_batch_metrics(Metric, b) for b in range(batches)] if not until else []
    # Each client's first call imports its REST store and connects (~0.1 s, once per process):
    # paid before the start, so the figures are a running team's, not a starting process's.
    for client in clients:
        client.get_run(run_id)
    # Building those lists left the collector a full collection due (100k new objects): paid
    # here, as their building is, not by whichever request happens to trigger it (~30 ms, 0.3
    # ms a request over 100 requests).
    gc.collect()
    print("ready", flush=True)
    go = float(sys.stdin.readline())
    time.sleep(max(0.0, go - time.time()))
    t0 = time.time()
    cpu0 = time.process_time()
    points = failed = 0
    batch = 0
    while (until and time.time() < until) or (not until and batch < batches):
        metrics = batches_of[batch] if batches_of else _batch_metrics(Metric, batch)
        try:
            rng.choice(clients).log_batch(run_id, metrics=metrics)
        except Exception:  # counted; the count-back finds what is missing
            failed += 1
        else:
            points += KEYS * STEPS
        batch += 1
    cpu = time.process_time() - cpu0
    emit({"points": points, "failed": failed, "t0": t0, "t1": time.time(), "cpu": cpu})


def _batch_metrics(metric: Any, batch: int) -> list[Any]:
    """One log-batch request's metrics: KEYS keys x STEPS steps, from step ``batch * STEPS``."""
    return [
        metric(f"m{k}", s * 0.1, 1_700_000_000_000 + s, s)
        for k in range(KEYS)
        for s in range(batch * STEPS, (batch + 1) * STEPS)
    ]


# ---------------------------------------------------------------------------------- search


def _populate(uri: str, count: int) -> str:
    """``count`` finished runs with a metric, a param and a tag each (and the tags a client's
    run gets), written by the store's own bulk path (``tracklet import``'s writer: a batch of
    runs with all their rows per transaction) and packed as ending them would: 100k runs in
    about a minute instead of 300k REST calls."""
    from collections import Counter

    from tracklet.store.sql import metric_codec, run_packs
    from tracklet.store.sql.store import SqlStore
    from tracklet.transfer.db_import import ImportOptions
    from tracklet.transfer.writer import write_runs

    store = SqlStore(uri)
    experiment = store.create_experiment(f"search-{uuid.uuid4().hex[:6]}")
    location = store.get_experiment(experiment).artifact_location
    options = ImportOptions(copy_artifacts=False)
    now = int(time.time() * 1000)
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    per_batch = 2000
    for first in range(0, count, per_batch):
        batch, params, tags, latest = [], [], [], []
        for i in range(first, min(first + per_batch, count)):
            run_id = uuid.uuid4().hex
            name = f"run-{i}"
            start = now + i
            uri_i = f"{location}/{run_id}/artifacts"
            batch.append(
                (
                    run_id,
                    experiment,
                    name,
                    "bench",
                    "FINISHED",
                    start,
                    start + 1,
                    None,
                    "active",
                    uri_i,
                )
            )
            params.append(
                {"run_uuid": run_id, "key": "lr", "value": str([0.1, 0.01, 0.001][i % 3])}
            )
            for key, value in (
                ("team", f"t{i % 7}"),
                ("mlflow.runName", name),
                ("mlflow.user", "bench"),
            ):
                tags.append({"run_uuid": run_id, "key": key, "value": value})
            value = (i % 1000) / 1000
            latest.append(
                {
                    "run_uuid": run_id,
                    "key": "acc",
                    "value": value,
                    "is_nan": False,
                    "timestamp": now,
                    "step": 0,
                    "tail_n": 1,
                    "tail": metric_codec.pack_point(0, now, value),
                }
            )
        write_runs(
            store,
            options,
            {},
            batch,
            params,
            tags,
            ([], latest, len(latest)),
            ([], [], [], []),
            counts,
        )
        with store._writer.transaction() as db:  # ending a run packs it
            run_packs.pack_runs(db, [row[0] for row in batch], store._tail_sizes)
        done = first + len(batch)
        if done % 20_000 == 0 or done == count:
            rate = done / (time.perf_counter() - started)
            print(f"  populated {done:,}/{count:,} runs ({rate:,.0f}/s)", file=sys.stderr)
    store.close()
    return str(experiment)


def _after_bulk_load(uri: str) -> None:
    """The statement of docs/DEPLOY.md's ``after-bulk-load`` step, as an operator runs it after
    such a load (autovacuum would, some time later; this machine's PostgreSQL may run without)."""
    import psycopg

    text = (ROOT / "docs" / "DEPLOY.md").read_text()
    block = text.split("<!-- recipe: after-bulk-load -->", 1)[1]
    match = re.search(r'-c "([^"]+)"', block)
    assert match, "docs/DEPLOY.md's after-bulk-load step runs no statement"
    statement = match.group(1)
    started = time.perf_counter()
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(statement)
    print(f"  {statement}: {time.perf_counter() - started:.1f} s", file=sys.stderr)


def bench_search(args: argparse.Namespace, work: Path) -> list[Row]:
    import httpx

    rows = []
    with _schema(args.postgres) as uri:
        servers = _cluster("tracklet", uri, work)
        try:
            experiment = _populate(uri, args.runs)
            _after_bulk_load(uri)
            urls = [s.url for s in servers]
            _, writer_runs = _runs(urls[0], 4)
            queries = {
                "default order": {},
                "filter + order": {
                    "filter": "metrics.acc >= 0.05 and params.lr = '0.01'",
                    "order_by": ["metrics.acc DESC"],
                },
            }
            clients = [httpx.Client(base_url=u, timeout=60) for u in urls]
            # Each server's first search of a freshly loaded database analyzes the searched
            # tables for the planner (planner_stats: ~3 s at 100k runs, once): a warm-up, as
            # in a deployment that has been searched before.
            for http in clients:
                for extra in queries.values():
                    body = {"experiment_ids": [experiment], "max_results": 100, **extra}
                    http.post("/api/2.0/mlflow/runs/search", json=body).raise_for_status()
            until = time.time() + 1.0 + args.search_seconds * len(queries) + 5
            procs, _ = _writers("tracklet", urls, writer_runs, 0, until)
            time.sleep(1.5)  # the writers are under way
            # This process's own full collections (it loaded 100k runs) would be timed as
            # server latency: what it holds now is out of the collector's sight.
            gc.collect()
            gc.freeze()
            for name, extra in queries.items():
                body = {"experiment_ids": [experiment], "max_results": 100, **extra}
                latencies = []
                stop = time.time() + args.search_seconds
                while time.time() < stop:
                    http = random.choice(clients)
                    t0 = time.perf_counter()
                    response = http.post("/api/2.0/mlflow/runs/search", json=body)
                    latencies.append((time.perf_counter() - t0) * 1000)
                    response.raise_for_status()
                    assert response.json().get("runs"), name
                p95 = statistics.quantiles(latencies, n=20)[-1]
                rows.append(
                    Row(
                        f"search_runs p95, {args.runs:,} runs, {name}, 4 writers",
                        "ms",
                        None,
                        p95,
                        "<= 50 ms",
                        higher_is_better=False,
                        note=f"median {statistics.median(latencies):.1f} ms, "
                        f"{len(latencies)} queries",
                    )
                )
            written = sum(r["points"] for r in _collect(procs))
            rows[-1].note += f"; writers logged {written:,} points meanwhile"
        finally:
            for s in servers:
                s.stop()
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        kind, run_id, batches, until, *urls = sys.argv[2:]
        worker(kind, run_id, int(batches), float(until), urls)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifact-mib", type=int, default=1024, help="artifact size (MiB)")
    parser.add_argument("--batches", type=int, default=50, help="log-batch requests per client")
    parser.add_argument("--runs", type=int, default=100_000, help="runs in the search workload")
    parser.add_argument("--search-seconds", type=float, default=10, help="per query shape")
    parser.add_argument("--only", default="artifact,logbatch,search")
    parser.add_argument("--no-mlflow", action="store_true", help="skip MLflow's servers")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TRACKLET_TEST_POSTGRES_URI")
        or "postgresql://postgres@127.0.0.1:5432/test",
    )
    args = parser.parse_args()
    load = os.getloadavg()[0]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-scaleout-") as tmp:
        work = Path(tmp)
        for name in args.only.split(","):
            print(f"running {name} ...", file=sys.stderr)
            started = time.perf_counter()
            rows += {"artifact": bench_artifact, "logbatch": bench_logbatch}.get(
                name, bench_search
            )(args, work)
            print(f"  {name} took {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print_table(
        f"Scale-out (issue 17), load average {load:.1f} at start, "
        f"{os.cpu_count()} CPUs: python -m {MODULE} {' '.join(sys.argv[1:])}",
        rows,
    )


if __name__ == "__main__":
    main()
