"""One writing client of the topology test (run as its own process).

Usage: ``python topology_client.py OUT_FILE EXPERIMENT_ID SEED STOP_FILE URL [URL ...]``

Creates runs and logs metric batches, params, tags and artifacts through a server picked at
random for each request, never retrying: a request answered 200 is *acknowledged*, anything else
(a refused connection, a reset while its server is killed) is *unacknowledged*, and both are
written to OUT_FILE as JSON lines, so the test can check that every acknowledged write is present
exactly once and an unacknowledged one at most once. Stops after MAX_RUNS runs, or once
STOP_FILE exists (checked between requests).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from typing import Any

import httpx

KEYS = 4  # metric keys per run
STEPS = 10  # steps per batch
BATCHES = 6  # batches per run; each also logs one param, one tag and one artifact
# A cap, not the plan: the test stops the clients once writes went through the restarted server
# (12 runs were done before the restart on a quiet machine, and the test waited in vain).
MAX_RUNS = 100


def metric_value(run_index: int, key: int, step: int) -> float:
    return run_index * 1000 + key * 100 + step * 0.5


def main() -> None:
    out_path, experiment_id, seed, stop_file, *urls = sys.argv[1:]
    rng = random.Random(int(seed))
    client = httpx.Client(timeout=10)
    out = open(out_path, "a", buffering=1)  # noqa: SIM115 (line-buffered log, closed at exit)

    def record(**entry: Any) -> None:
        out.write(json.dumps({**entry, "t": time.time()}) + "\n")

    def call(method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        url = rng.choice(urls)
        try:
            response = client.request(method, f"{url}{path}", **kwargs)
        except httpx.HTTPError:
            return None
        return response if response.status_code == 200 else None

    for run_index in range(MAX_RUNS):
        if os.path.exists(stop_file):
            break
        created = call(
            "POST",
            "/api/2.0/mlflow/runs/create",
            json={"experiment_id": experiment_id, "start_time": int(time.time() * 1000)},
        )
        if created is None:
            record(op="create", ok=False)
            continue
        run_id = created.json()["run"]["info"]["run_id"]
        record(op="create", ok=True, run_id=run_id)
        for batch in range(BATCHES):
            steps = range(batch * STEPS, (batch + 1) * STEPS)
            metrics = [
                {
                    "key": f"m{key}",
                    "value": metric_value(run_index, key, step),
                    "step": step,
                    "timestamp": 1_700_000_000_000 + step,
                }
                for key in range(KEYS)
                for step in steps
            ]
            body = {
                "run_id": run_id,
                "metrics": metrics,
                "params": [{"key": f"p{batch}", "value": f"{seed}-{batch}"}],
                "tags": [{"key": f"t{batch}", "value": f"tag-{batch}"}],
            }
            ok = call("POST", "/api/2.0/mlflow/runs/log-batch", json=body) is not None
            record(op="batch", ok=ok, run_id=run_id, batch=batch, run_index=run_index)
            content = f"{run_id} batch {batch} seed {seed}\n".encode() * (batch + 1)
            path = f"{experiment_id}/{run_id}/artifacts/files/f{batch}.txt"
            ok = call("PUT", f"/api/2.0/mlflow-artifacts/artifacts/{path}", content=content)
            record(op="artifact", ok=ok is not None, run_id=run_id, name=f"files/f{batch}.txt")
            if os.path.exists(stop_file):
                break
            time.sleep(0.02)
    out.close()


if __name__ == "__main__":
    main()
