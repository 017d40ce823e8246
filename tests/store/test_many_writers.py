"""Many processes opening one fresh SQLite file at once and writing runs: every run and every
point is there afterwards, whoever created the schema, and the writers queued on the shared
file lock (``file_lock``) rather than failing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import tracklet
from tracklet.store.sql.file_lock import SUFFIX

PROCESSES = 4
RUNS = 8
KEYS = 20

_WORKER = """
import sys, time
import tracklet
uri, runs, keys, start_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
time.sleep(max(0.0, start_at - time.time()))
tracklet.set_tracking_uri(uri)
for i in range(runs):
    with tracklet.start_run():
        tracklet.log_param("i", i)
        for step in range(5):
            tracklet.log_metric("loss", 1.0 / (step + 1), step=step)
        for step in range(3):
            tracklet.log_metrics({f"layer{k}": k + step / 4 for k in range(keys)}, step=step)
print("ok")
"""


def test_processes_on_a_fresh_file_lose_nothing(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'crowd.db'}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    start_at = time.time() + 3.0  # all imported by then: they open the new file together
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, uri, str(RUNS), str(KEYS), str(start_at)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-2000:]
        assert out.split() == ["ok"]
    assert (tmp_path / f"crowd.db{SUFFIX}").exists()

    client = tracklet.MlflowClient(uri)
    runs = client.search_runs(["0"], max_results=1000)
    assert len(runs) == PROCESSES * RUNS
    assert sorted(r.data.params["i"] for r in runs) == sorted(
        str(i) for i in range(RUNS) for _ in range(PROCESSES)
    )
    for run in runs:
        assert run.info.status == "FINISHED"
        loss = client.get_metric_history(run.info.run_id, "loss")
        assert [(m.step, m.value) for m in loss] == [(s, 1.0 / (s + 1)) for s in range(5)]
        assert run.data.metrics == {"loss": 0.2} | {f"layer{k}": k + 0.5 for k in range(KEYS)}
        layer = client.get_metric_history(run.info.run_id, f"layer{KEYS - 1}")
        assert [m.value for m in layer] == [KEYS - 1 + s / 4 for s in range(3)]
