"""Core tracking library: tracklet vs mlflow 3.17.2, same machine, same run.

    python -m bench.bench_core            # the full table (about 3 minutes)
    python -m bench.bench_core --quick    # fewer repeats
    python -m bench.bench_core --skip-mlflow --only async   # one row (see ROWS)

Every workload runs in a fresh interpreter and a fresh temporary directory (each library on
its default local SQLite store there), ``--repeat`` times; the best run is reported.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import time

from bench._common import Row, emit, print_table, repeat, run_worker

MODULE = "bench.bench_core"


def _import(lib: str):  # type: ignore[no-untyped-def]
    if lib == "mlflow":
        import mlflow

        mlflow.set_tracking_uri(f"sqlite:///{os.path.abspath('mlflow.db')}")
        return mlflow
    import tracklet

    return tracklet


def _metric(lib: str):  # type: ignore[no-untyped-def]
    if lib == "mlflow":
        from mlflow.entities import Metric
    else:
        from tracklet.entities import Metric
    return Metric


def w_log_metric_sync(lib: str, n: str) -> None:
    mlflow = _import(lib)
    count = int(n)
    with mlflow.start_run():
        for i in range(20):
            mlflow.log_metric("warmup", 0.5, step=i)
        start = time.perf_counter()
        for i in range(count):
            mlflow.log_metric("loss", 0.5, step=i)
        elapsed = time.perf_counter() - start
    emit({"rate": count / elapsed})


def w_async(lib: str, n: str) -> None:
    mlflow = _import(lib)
    count = int(n)
    with mlflow.start_run():
        mlflow.log_metric("warmup", 0.5, synchronous=False)
        mlflow.flush_async_logging()
        start = time.perf_counter()
        for i in range(count):
            mlflow.log_metric("loss", 0.5, step=i, synchronous=False)
        mlflow.flush_async_logging()
        elapsed = time.perf_counter() - start
    emit({"rate": count / elapsed})


def _batches(lib: str, batches: int, keys: int) -> list[list[object]]:
    metric = _metric(lib)
    now = int(time.time() * 1000)
    steps = 1000 // keys
    return [
        [metric(f"k{k}", 0.5, now, b * steps + s) for s in range(steps) for k in range(keys)]
        for b in range(batches)
    ]


def w_log_batch(lib: str, n: str, keys: str) -> None:
    mlflow = _import(lib)
    batches = _batches(lib, int(n), int(keys))
    client = mlflow.MlflowClient()
    with mlflow.start_run() as run:
        client.log_batch(run.info.run_id, metrics=batches[0])
        start = time.perf_counter()
        for batch in batches[1:]:
            client.log_batch(run.info.run_id, metrics=batch)
        elapsed = time.perf_counter() - start
    emit({"rate": (len(batches) - 1) * 1000 / elapsed})


def w_lifecycle(lib: str, n: str) -> None:
    mlflow = _import(lib)
    count = int(n)
    params = {f"p{i}": i for i in range(5)}
    metrics = {f"m{i}": i * 0.1 for i in range(5)}
    tags = {f"t{i}": str(i) for i in range(3)}
    with mlflow.start_run():
        pass
    start = time.perf_counter()
    for _ in range(count):
        with mlflow.start_run():
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
            mlflow.set_tags(tags)
    emit({"rate": count / (time.perf_counter() - start)})


def w_history(lib: str, n: str) -> None:
    mlflow = _import(lib)
    points = int(n)
    metric = _metric(lib)
    client = mlflow.MlflowClient()
    now = int(time.time() * 1000)
    with mlflow.start_run() as run:
        for start in range(0, points, 1000):
            client.log_batch(
                run.info.run_id,
                metrics=[
                    metric("acc", i * 1e-5, now + i // 100, i) for i in range(start, start + 1000)
                ],
            )
    timings = []
    for _ in range(3):
        start_time = time.perf_counter()
        history = client.get_metric_history(run.info.run_id, "acc")
        timings.append(time.perf_counter() - start_time)
        assert len(history) == points
    start_time = time.perf_counter()
    values = [m.value for m in history]
    materialize = time.perf_counter() - start_time
    assert len(values) == points
    emit({"seconds": min(timings), "materialize": materialize})


def w_import(lib: str) -> None:
    code = f"import time; t = time.perf_counter(); import {lib}; print(time.perf_counter() - t)"
    timings = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(5)
    ]
    emit({"seconds": min(timings)})


_CROWD_WORKER = """
import sys, traceback
lib, uri, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
failed = 0
try:
    mlflow = __import__(lib)
    mlflow.set_tracking_uri(uri)
except Exception:
    traceback.print_exc()
    print(runs)
    raise SystemExit(0)
for i in range(runs):
    try:
        with mlflow.start_run():
            mlflow.log_param("i", i)
            for step in range(5):
                mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    except Exception:
        failed += 1
print(failed)
"""


def w_crowd(lib: str, processes: str, runs: str) -> None:
    uri = f"sqlite:///{os.path.abspath('crowd.db')}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CROWD_WORKER, lib, uri, runs],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(int(processes))
    ]
    failed = 0
    for proc in procs:
        out, _ = proc.communicate(timeout=900)
        failed += int(out.strip().splitlines()[-1]) if out.strip() else int(runs)
    emit({"failed": failed, "total": int(processes) * int(runs)})


def w_raw_sqlite(lib: str, n: str) -> None:
    # The physical reference: one commit per row, WAL, synchronous=NORMAL, indexed table.
    conn = sqlite3.connect("raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE p (id INTEGER PRIMARY KEY, run TEXT, key TEXT, v REAL, t INT, s INT)"
    )
    conn.execute("CREATE INDEX ix ON p (run, key)")
    count = int(n)
    start = time.perf_counter()
    for i in range(count):
        conn.execute(
            "INSERT INTO p (run, key, v, t, s) VALUES (?, ?, ?, ?, ?)",
            ("r" * 32, "loss", 0.5, i, i),
        )
    emit({"rate": count / (time.perf_counter() - start)})


ROWS = ("log_metric_sync", "async", "log_batch", "lifecycle", "history", "import", "crowd")

WORKERS = {
    "log_metric_sync": w_log_metric_sync,
    "async": w_async,
    "log_batch": w_log_batch,
    "lifecycle": w_lifecycle,
    "history": w_history,
    "import": w_import,
    "crowd": w_crowd,
    "raw_sqlite": w_raw_sqlite,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one repeat, smaller workloads")
    parser.add_argument("--skip-mlflow", action="store_true", help="tracklet column only")
    parser.add_argument(
        "--only", choices=ROWS, action="append", help="these rows only (repeatable)"
    )
    args = parser.parse_args()
    times = 1 if args.quick else args.repeat
    wanted = set(args.only or ROWS)

    def both(
        name: str, key: str, m_args: tuple[str, ...], t_args: tuple[str, ...], higher: bool = True
    ) -> tuple[dict | None, dict]:
        theirs = None
        if not args.skip_mlflow:
            theirs = repeat(lambda: run_worker(MODULE, "mlflow", name, *m_args), 1, key, higher)
        ours = repeat(lambda: run_worker(MODULE, "tracklet", name, *t_args), times, key, higher)
        return theirs, ours

    rows: list[Row] = []
    if "log_metric_sync" in wanted:
        raw = repeat(lambda: run_worker(MODULE, "raw", "raw_sqlite", "10000"), times, "rate")
        m, t = both("log_metric_sync", "rate", ("300",), ("10000",))
        rows.append(
            Row(
                "sequential log_metric, synchronous",
                "calls/s",
                m and m["rate"],
                t["rate"],
                ">= 10,000 and >= 75% of raw",
                note=f"raw SQLite commit/row: {raw['rate']:,.0f}/s = {t['rate'] / raw['rate']:.0%}",
            )
        )
    if "async" in wanted:
        m, t = both("async", "rate", ("3000",), ("300000",))
        rows.append(
            Row("async logging, end to end", "calls/s", m and m["rate"], t["rate"], ">= 300,000")
        )
    if "log_batch" in wanted:
        m, t = both("log_batch", "rate", ("6", "10"), ("300", "10"))
        rows.append(
            Row(
                "log_batch, 1000 metrics/call (10 keys x 100 steps)",
                "points/s",
                m and m["rate"],
                t["rate"],
                ">= 1,000,000",
            )
        )
    if "log_batch" in wanted:
        m, t = both("log_batch", "rate", ("6", "1000"), ("100", "1000"))
        rows.append(
            Row(
                "log_batch, 1000 metrics/call (1000 keys x 1 step)",
                "points/s",
                m and m["rate"],
                t["rate"],
                "(extra row)",
            )
        )
    if "lifecycle" in wanted:
        m, t = both("lifecycle", "rate", ("20",), ("1000",))
        rows.append(
            Row(
                "run lifecycle (start, 5 params, 5 metrics, 3 tags, end)",
                "runs/s",
                m and m["rate"],
                t["rate"],
                ">= 1,000",
            )
        )
    if "history" in wanted:
        m, t = both("history", "seconds", ("100000",), ("100000",), higher=False)
        rows.append(
            Row(
                "get_metric_history, 100k points",
                "s",
                m and m["seconds"],
                t["seconds"],
                "<= 0.050 s",
                higher_is_better=False,
                note=f"+{t['materialize']:.3f} s to build all 100k Metric objects",
            )
        )
    if "import" in wanted:
        m, t = both("import", "seconds", (), (), higher=False)
        rows.append(
            Row(
                "import time",
                "s",
                m and m["seconds"],
                t["seconds"],
                "<= 0.150 s",
                higher_is_better=False,
            )
        )
    if "crowd" in wanted:
        m, t = both("crowd", "failed", ("4", "50"), ("4", "50"), higher=False)
        rows.append(
            Row(
                "4 processes x 50 runs, fresh store: failed runs",
                "of 200",
                m and m["failed"],
                t["failed"],
                "0 failed",
                higher_is_better=False,
            )
        )
    print_table("Core library: tracklet vs mlflow 3.17.2 (best of runs; local SQLite)", rows)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        _, _, lib, name, *rest = sys.argv
        WORKERS[name](lib, *rest)
    else:
        main()
