"""Everyday-tools benchmarks (issue 15): ``tracklet import`` of an MLflow database and
``tracklet runs list``, against MLflow 3.17.2 on the same machine in the same run.

Run by hand (full size: a few minutes, most of it building the MLflow database)::

    /work/venv/bin/python bench/bench_tools.py
    /work/venv/bin/python bench/bench_tools.py --runs 100 --steps 100 --list-runs 2000  # quick

Rows:
- import: an MLflow 3.17.2 SQLite database of ``--runs`` runs x ``--metrics`` metrics x
  ``--steps`` steps (plus 5 params and 3 tags a run), written with SQL into the schema MLflow
  creates (MLflow reads it back before timing, as a check). tracklet: ``tracklet import`` in a
  fresh process, start to end. MLflow: its client copying runs into another MLflow database
  (``search_runs``, ``get_metric_history`` per key, then ``create_run`` + ``log_batch`` of
  1,000 items), on the first ``--mlflow-runs`` runs, scaled to all runs (per-run cost x runs):
  copying ten million points with MLflow's client takes far too long to run in full.
  Targets: <= 30 s and >= 20x faster than MLflow.
- runs list: ``tracklet runs list -x 1`` on a tracklet database of ``--list-runs`` runs (made by
  importing), against ``mlflow runs list --experiment-id 1`` on the MLflow database, each a
  fresh process, start to last line, best of 3. Target: <= 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._common import Row, print_table

BASE_TIME = 1_700_000_000_000


def make_mlflow_db(path: Path, runs: int, metrics: int, steps: int) -> list[str]:
    """An MLflow 3.17.2 database (MLflow's schema) filled with SQL; the run ids."""
    from tracklet.transfer.db_export import _create_mlflow_sqlite

    _create_mlflow_sqlite(str(path))
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(
        "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, "
        "creation_time, last_update_time) VALUES (0, 'Default', ?, 'active', ?, ?), "
        "(1, 'bench', ?, 'active', ?, ?)",
        (str(path.parent / "mlruns" / "0"), BASE_TIME, BASE_TIME) * 1
        + (str(path.parent / "mlruns" / "1"), BASE_TIME, BASE_TIME),
    )
    ids = [uuid.uuid4().hex for _ in range(runs)]
    keys = [f"metric_{k}" for k in range(metrics)]
    for i, run_id in enumerate(ids):
        start = BASE_TIME + i * 1000
        db.execute(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, "
            "user_id, status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, "
            "experiment_id) VALUES (?, ?, 'UNKNOWN', '', '', 'bench', 'FINISHED', ?, ?, '', "
            "'active', ?, 1)",
            (run_id, f"run-{i}", start, start + steps, str(path.parent / "mlruns" / "1" / run_id)),
        )
        db.executemany(
            "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
            [(f"p{p}", str(p * i), run_id) for p in range(5)],
        )
        db.executemany(
            "INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
            [
                ("mlflow.runName", f"run-{i}", run_id),
                ("mlflow.user", "bench", run_id),
                ("t", "x", run_id),
            ],
        )
        db.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
            "VALUES (?, ?, ?, ?, ?, 0)",
            [
                (key, s / (k + 1), start + s, run_id, s)
                for k, key in enumerate(keys)
                for s in range(steps)
            ],
        )
        db.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
            "VALUES (?, ?, ?, ?, 0, ?)",
            [
                (key, (steps - 1) / (k + 1), start + steps - 1, steps - 1, run_id)
                for k, key in enumerate(keys)
            ],
        )
        if i % 100 == 99:
            db.commit()
    db.commit()
    db.close()
    return ids


def _check_with_mlflow(uri: str, run_id: str, steps: int) -> None:
    code = (
        "import mlflow, sys; c = mlflow.MlflowClient(sys.argv[1]);"
        "h = c.get_metric_history(sys.argv[2], 'metric_0');"
        "assert len(h) == int(sys.argv[3]), len(h)"
    )
    subprocess.run(
        [sys.executable, "-c", code, uri, run_id, str(steps)], check=True, capture_output=True
    )


def _mlflow_copy_per_run(src_uri: str, dst_dir: Path, sample: int) -> float:
    """Seconds per run for MLflow's client to read runs and log them into a new database."""
    code = r"""
import sys, time
import mlflow
from mlflow.entities import Metric, Param, RunTag
src = mlflow.MlflowClient(sys.argv[1]); dst = mlflow.MlflowClient(sys.argv[2])
sample = int(sys.argv[3])
runs = src.search_runs(["1"], max_results=sample)
exp = dst.create_experiment("bench-copy")
start = time.perf_counter()
for run in runs:
    items = [Metric(m.key, m.value, m.timestamp, m.step) for key in run.data.metrics
             for m in src.get_metric_history(run.info.run_id, key)]
    new = dst.create_run(exp, start_time=run.info.start_time, run_name=run.info.run_name)
    params = [Param(k, v) for k, v in run.data.params.items()]
    tags = [RunTag(k, v) for k, v in run.data.tags.items() if not k.startswith("mlflow.runName")]
    dst.log_batch(new.info.run_id, params=params, tags=tags)
    for at in range(0, len(items), 1000):
        dst.log_batch(new.info.run_id, metrics=items[at:at + 1000])
    dst.set_terminated(new.info.run_id, end_time=run.info.end_time)
print((time.perf_counter() - start) / len(runs))
"""
    from tracklet.transfer.db_export import _create_mlflow_sqlite

    _create_mlflow_sqlite(str(dst_dir / "copy.db"))
    out = subprocess.run(
        [sys.executable, "-c", code, src_uri, f"sqlite:///{dst_dir / 'copy.db'}", str(sample)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(argv, cwd=cwd, check=True, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--mlflow-runs", type=int, default=10, help="runs MLflow copies")
    parser.add_argument("--list-runs", type=int, default=10_000)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent / "src"))
    tracklet_cli = [sys.executable, "-m", "tracklet"]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-tools-") as tmp:
        base = Path(tmp)
        built = time.perf_counter()
        ids = make_mlflow_db(base / "mlflow.db", args.runs, args.metrics, args.steps)
        src = f"sqlite:///{base / 'mlflow.db'}"
        _check_with_mlflow(src, ids[0], args.steps)
        print(f"built the MLflow database in {time.perf_counter() - built:.1f} s", file=sys.stderr)
        seconds, out = _timed(
            [*tracklet_cli, "import", src, "--to", f"sqlite:///{base / 'tracklet.db'}"], base, env
        )
        print(out, file=sys.stderr)
        per_run = _mlflow_copy_per_run(src, base, min(args.mlflow_runs, args.runs))
        points = args.runs * args.metrics * args.steps
        rows.append(
            Row(
                f"import {args.runs:,} runs x {args.metrics} x {args.steps:,} ({points:,} points)",
                "s",
                per_run * args.runs,
                seconds,
                "<= 30 s, >= 20x",
                higher_is_better=False,
                note=f"mlflow: client copy of {min(args.mlflow_runs, args.runs)} runs, scaled",
            )
        )

        list_db = base / "list-mlflow.db"
        make_mlflow_db(list_db, args.list_runs, 1, 1)
        list_uri = f"sqlite:///{base / 'list-tracklet.db'}"
        _timed([*tracklet_cli, "import", f"sqlite:///{list_db}", "--to", list_uri], base, env)
        ours, theirs = [], []
        mlflow_env = dict(os.environ, MLFLOW_TRACKING_URI=f"sqlite:///{list_db}")
        for _ in range(3):
            t, out = _timed(
                [*tracklet_cli, "runs", "list", "-x", "1", "--tracking-uri", list_uri], base, env
            )
            assert len(out.splitlines()) == args.list_runs + 2, out[-500:]
            ours.append(t)
            t, out = _timed(
                [sys.executable, "-m", "mlflow", "runs", "list", "--experiment-id", "1"],
                base,
                mlflow_env,
            )
            theirs.append(t)
        rows.append(
            Row(
                f"runs list, {args.list_runs:,} runs (CLI start to last line)",
                "s",
                min(theirs),
                min(ours),
                "<= 0.5 s",
                higher_is_better=False,
                note="best of 3, fresh processes",
            )
        )
    print_table("tracklet import and tracklet runs list vs MLflow 3.17.2", rows)
    print(f"\nload average: {os.getloadavg()[0]:.1f} (2 cores)")


if __name__ == "__main__":
    main()
