"""Small versions of UI.md's data sets, written over REST with plain HTTP (the server under test
is the only store): runs with params/metrics/tags and nested children (D1), a long metric with
two spikes (D2), a run with many keys (D3), artifacts (D4) and five runs differing in two
params (D5)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import httpx

API = "/api/2.0/mlflow"


@dataclass
class Runs:
    experiment_id: str
    run_ids: list[str] = field(default_factory=list)
    parents: dict[str, list[str]] = field(default_factory=dict)


class Rest:
    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url + API, timeout=30)

    def close(self) -> None:
        self.http.close()

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(path, json=body)
        response.raise_for_status()
        out: dict[str, Any] = response.json()
        return out

    def experiment(self, name: str) -> str:
        experiment_id: str = self.call("/experiments/create", {"name": name})["experiment_id"]
        return experiment_id

    def run(
        self, experiment_id: str, name: str, start: int, tags: dict[str, str] | None = None
    ) -> str:
        all_tags = {"mlflow.runName": name, **(tags or {})}
        body = {
            "experiment_id": experiment_id,
            "run_name": name,
            "start_time": start,
            "tags": [{"key": k, "value": v} for k, v in all_tags.items()],
        }
        run_id: str = self.call("/runs/create", body)["run"]["info"]["run_id"]
        return run_id

    def log(
        self,
        run_id: str,
        metrics: dict[str, float] | None = None,
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        step: int = 0,
        timestamp: int = 1,
    ) -> None:
        self.call(
            "/runs/log-batch",
            {
                "run_id": run_id,
                "metrics": [
                    {"key": k, "value": v, "timestamp": timestamp, "step": step}
                    for k, v in (metrics or {}).items()
                ],
                "params": [{"key": k, "value": v} for k, v in (params or {}).items()],
                "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
            },
        )

    def end(self, run_id: str, start: int) -> None:
        self.call(
            "/runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": start + 61_000}
        )


def many_runs(url: str, n: int = 150, parents: int = 5, children: int = 4) -> Runs:
    """D1 in small: ``n`` runs with p0..p4 (p0 in 3 values), m0..m4 and t0..t2; the first
    ``parents`` runs have ``children`` children each; the last two are left RUNNING."""
    rest = Rest(url)
    rng = random.Random(7)
    runs = Runs(rest.experiment("ui-runs"))
    base = 1_700_000_000_000
    for i in range(n):
        parent = runs.run_ids[i % parents] if parents <= i < parents * (children + 1) else None
        tags = {"mlflow.parentRunId": parent} if parent else {}
        run_id = rest.run(runs.experiment_id, f"run-{i:04d}", base + i * 1000, tags)
        runs.run_ids.append(run_id)
        if parent:
            runs.parents.setdefault(parent, []).append(run_id)
        rest.log(
            run_id,
            metrics={f"m{k}": round(rng.random(), 6) for k in range(5)},
            params={"p0": f"v{i % 3}", **{f"p{k}": str(rng.randint(0, 99)) for k in range(1, 5)}},
            tags={f"t{k}": f"tag{k}-{i % 4}" for k in range(3)},
        )
        if i < n - 2:
            rest.end(run_id, base + i * 1000)
    rest.close()
    return runs


def series_values(n: int) -> list[float]:
    """D2's shape: smooth plus noise, with 1e6 at 7/9 of the way and -1e6 at 2/9."""
    rng = random.Random(3)
    values = [math.exp(-i / (n / 4)) + rng.random() * 0.05 for i in range(n)]
    values[n * 2 // 9] = -1e6
    values[n * 7 // 9] = 1e6
    return values


def log_series(
    rest: Rest, run_id: str, key: str, values: list[float], t0: int = 1_700_000_000_000
) -> None:
    for start in range(0, len(values), 1000):
        rest.call(
            "/runs/log-batch",
            {
                "run_id": run_id,
                "metrics": [
                    {"key": key, "value": values[i], "timestamp": t0 + i * 10, "step": i}
                    for i in range(start, min(len(values), start + 1000))
                ],
            },
        )


@dataclass
class RunPage:
    experiment_id: str
    hist: str  # D2 in small: `loss` over 20,000 steps with a spike each way
    keys: str  # D3 in small: 12 keys x 50 steps, plus system metrics
    files: str  # D4 in small: artifacts of each previewable kind
    n_hist: int = 20_000


def png(size: int) -> bytes:
    import io

    from PIL import Image

    image = Image.new("RGB", (size, size), (36, 99, 235))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def run_page(url: str) -> RunPage:
    rest = Rest(url)
    experiment_id = rest.experiment("ui-run-page")
    base = 1_700_000_000_000
    hist = rest.run(experiment_id, "hist", base)
    log_series(rest, hist, "loss", series_values(20_000))
    rest.log(hist, params={"lr": "0.01", "layers": "4"}, tags={"team": "vision"})
    rest.end(hist, base)
    keys = rest.run(experiment_id, "keys", base + 1000)
    for step in range(50):
        rest.log(
            keys,
            metrics={
                **{f"train/m{k:02d}": math.sin(step / 7 + k) + 2 for k in range(8)},
                **{f"val/m{k:02d}": math.cos(step / 5 + k) + 2 for k in range(4)},
                "system/cpu_utilization_percentage": 20 + step % 10,
            },
            step=step,
            timestamp=base + step * 1000,
        )
    rest.end(keys, base + 1000)
    files = rest.run(experiment_id, "files", base + 2000)
    info = rest.http.get("/runs/get", params={"run_id": files}).json()["run"]["info"]
    root = info["artifact_uri"].removeprefix("mlflow-artifacts:/")
    csv = "a,b,text\n" + "".join(f'{i},{i * i},"row ""{i}"", ok"\n' for i in range(100_000))
    artifacts = {
        "plot.png": png(512),
        "table.csv": csv.encode(),
        "data/config.json": b'{"b": [1, 2], "a": {"nested": true}}',
        "data/env.yaml": b"name: demo\nchannels: [conda-forge]\n",
        "model/MLmodel": b"artifact_path: model\nflavors:\n"
        b"  python_function:\n    loader_module: x\n"
        b"  sklearn:\n    sklearn_version: 1.5.0\nmodel_uuid: abc\n",
        "evil.html": b"<h1>hi</h1><script>parent.__xss=1</script>"
        b'<img src=x onerror="parent.__xss=2">',
        "big.bin": bytes(3 * 1024 * 1024),
    }
    for path, data in artifacts.items():
        response = httpx.put(
            f"{url}/api/2.0/mlflow-artifacts/artifacts/{root}/{path}", content=data, timeout=30
        )
        response.raise_for_status()
    rest.end(files, base + 2000)
    rest.close()
    return RunPage(experiment_id, hist, keys, files)


def compare_runs(url: str) -> tuple[str, list[str]]:
    """D5: five runs whose ten params differ in exactly two (lr, depth), each with acc and a
    short loss curve."""
    rest = Rest(url)
    experiment_id = rest.experiment("ui-compare")
    run_ids = []
    for i in range(5):
        run_id = rest.run(experiment_id, f"cmp-{i}", 1_700_000_000_000 + i)
        params = {f"same{k}": "x" for k in range(8)}
        params.update({"lr": str(0.1 / (i + 1)), "depth": str(3 + i % 2)})
        rest.log(run_id, metrics={"acc": 0.5 + i / 10}, params=params)
        for step in range(1, 4):
            rest.log(run_id, metrics={"loss": 1 / (step + i)}, step=step, timestamp=step)
        rest.end(run_id, 1_700_000_000_000)
        run_ids.append(run_id)
    rest.close()
    return experiment_id, run_ids
