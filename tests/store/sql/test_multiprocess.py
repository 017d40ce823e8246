"""Many processes on one fresh SQLite file, and durability against kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tracklet.store.sql.store import SqlStore

pytestmark = pytest.mark.slow

_WRITER = textwrap.dedent(
    """
    import sys
    import tracklet as mlflow

    mlflow.set_tracking_uri(sys.argv[1])
    worker = int(sys.argv[2])
    mlflow.set_experiment("crowd")
    for i in range(int(sys.argv[3])):
        with mlflow.start_run(run_name=f"w{worker}-r{i}"):
            mlflow.log_params({"worker": worker, "i": i})
            for step in range(5):
                mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
            mlflow.set_tags({"kind": "crowd"})
    print("ok")
    """
)


def test_eight_processes_write_one_fresh_file(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    runs_each = 6
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), uri, str(w), str(runs_each)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(8)
    ]
    results = [p.communicate(timeout=240) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    store = SqlStore(uri)
    experiment = store.get_experiment_by_name("crowd")
    assert experiment is not None
    runs = store.search_runs([experiment.experiment_id], max_results=1000)
    assert len(runs) == 8 * runs_each
    assert {r.info.run_name for r in runs} == {
        f"w{w}-r{i}" for w in range(8) for i in range(runs_each)
    }
    for run in runs:
        assert run.info.status == "FINISHED"
        assert [m.step for m in store.get_metric_history(run.info.run_id, "loss")] == list(range(5))
    store.close()


_KILLED = textwrap.dedent(
    """
    import sys
    import tracklet as mlflow

    mlflow.set_tracking_uri(sys.argv[1])
    run = mlflow.start_run()
    print(run.info.run_id, flush=True)
    step = 0
    while True:
        mlflow.log_metric("acked", float(step), step=step)
        print(step, flush=True)  # printed only after log_metric returned
        step += 1
    """
)


def test_every_acknowledged_point_survives_sigkill(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'killed.db'}"
    script = tmp_path / "killed.py"
    script.write_text(_KILLED)
    with subprocess.Popen(
        [sys.executable, str(script), uri], stdout=subprocess.PIPE, text=True, bufsize=1
    ) as proc:
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        acked = -1
        # Let it cross several tail -> chunk moves before the kill.
        while acked < 700:
            acked = int(proc.stdout.readline())
        os.kill(proc.pid, signal.SIGKILL)
        for line in proc.stdout:  # anything printed before the kill was acknowledged too
            if line.strip():
                acked = int(line)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    store = SqlStore(uri)
    steps = [m.step for m in store.get_metric_history(run_id, "acked")]
    assert steps[: acked + 1] == list(range(acked + 1))
    assert store.get_run(run_id).info.status == "RUNNING"  # killed: nobody ended it
    store.close()
