"""Everyday-tools benchmarks (issue 15): system metrics sampling overhead, tracklet vs MLflow.

Run by hand (about half a minute)::

    /work/venv/bin/python bench/bench_tools_api.py [--cycles 200]

One monitor cycle is what the sampling thread does every interval: take a sample (CPU, memory,
disk, network; GPUs where NVML answers), check that the run is still RUNNING (a ``get_run``,
as MLflow does), and log the averages (tracklet: queued on the asynchronous logger, whose
write is included by flushing it; MLflow: its BatchMetricsLogger's ``log_batch``). The cost is
process CPU time per cycle, measured over ``--cycles`` cycles on a fresh SQLite store for each
tool; the overhead is that cost as a share of one core at the default 10 s interval and at 1 s.
Target: <= 1% of one core.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def _tracklet_cycle_cost(uri: str, cycles: int) -> float:
    import tracklet
    from tracklet.system_metrics import SystemMetricsMonitor
    from tracklet.tracking.async_logging import flush_store

    client = tracklet.MlflowClient(uri)
    run_id = client.create_run(client.create_experiment("bench")).info.run_id
    monitor = SystemMetricsMonitor(run_id, client=client)
    monitor.sample()
    monitor.publish()
    flush_store(client._store)
    start = time.process_time()
    for _ in range(cycles):
        monitor.sample()
        assert monitor._run_is_running()
        monitor.publish()
        flush_store(client._store)
    return (time.process_time() - start) / cycles


def _mlflow_cycle_cost(uri: str, cycles: int) -> float:
    import mlflow
    from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(uri)
    run_id = client.create_run(client.create_experiment("bench")).info.run_id
    monitor = SystemMetricsMonitor(run_id, tracking_uri=uri)
    monitor.collect_metrics()
    monitor.publish_metrics(monitor.aggregate_metrics())
    start = time.process_time()
    for _ in range(cycles):
        monitor.collect_metrics()
        assert mlflow.MlflowClient(uri).get_run(run_id).info.status == "RUNNING"
        monitor.publish_metrics(monitor.aggregate_metrics())
    monitor.mlflow_logger.flush()
    return (time.process_time() - start) / cycles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tools-") as tmp:
        ours = _tracklet_cycle_cost(f"sqlite:///{Path(tmp) / 'tracklet.db'}", args.cycles)
        theirs = _mlflow_cycle_cost(f"sqlite:///{Path(tmp) / 'mlflow.db'}", args.cycles)
    print(f"system metrics, one monitor cycle ({args.cycles} cycles, SQLite, CPU time)")
    print(f"{'tool':<10}{'ms/cycle':>10}{'% core @10s':>14}{'% core @1s':>13}")
    for name, cost in (("tracklet", ours), ("mlflow", theirs)):
        print(f"{name:<10}{cost * 1e3:>10.2f}{cost / 10 * 100:>14.4f}{cost / 1 * 100:>13.3f}")
    print(f"tracklet / mlflow: {ours / theirs:.2f}x the CPU per cycle (target: <= 1% of a core)")


if __name__ == "__main__":
    main()
