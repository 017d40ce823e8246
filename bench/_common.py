"""Shared helpers for the hand-run benchmarks: subprocess workloads and the comparison table.

Each workload runs in a fresh interpreter (``python -m bench.<module> worker <lib> <name>``),
so tracklet and mlflow never share a process, an import or a database, and prints one JSON
line with its result. A workload is run ``repeat`` times and the best result is kept, which
on a shared 2-core machine is the least noisy statistic.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    workload: str
    unit: str
    mlflow: float | None
    tracklet: float | None
    target: str
    higher_is_better: bool = True
    note: str = ""

    def ratio(self) -> str:
        if not self.mlflow or not self.tracklet:
            return "-"
        ratio = (
            self.tracklet / self.mlflow if self.higher_is_better else self.mlflow / self.tracklet
        )
        return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:,.1f}x"


def run_worker(module: str, lib: str, name: str, *args: str, timeout: float = 900) -> dict:
    """Run one workload in a fresh interpreter in a fresh directory; its JSON result."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{lib}-") as workdir:
        env = dict(os.environ)
        env.pop("MLFLOW_TRACKING_URI", None)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        env.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
        proc = subprocess.run(
            [sys.executable, "-m", module, "worker", lib, name, *args],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{module} {lib} {name} failed:\n{proc.stderr[-3000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])


def best(results: list[dict], key: str, higher_is_better: bool = True) -> dict:
    return (max if higher_is_better else min)(results, key=lambda r: r[key])


def repeat(fn: Callable[[], dict], times: int, key: str, higher_is_better: bool = True) -> dict:
    return best([fn() for _ in range(times)], key, higher_is_better)


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("s", "ms"):
        return f"{value:,.3f} {unit}" if value < 10 else f"{value:,.1f} {unit}"
    if value >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:,.2f} {unit}"


def print_table(title: str, rows: list[Row]) -> None:
    headers = ["workload", "mlflow 3.17.2", "tracklet", "tracklet vs mlflow", "target", "note"]
    table = [
        [r.workload, fmt(r.mlflow, r.unit), fmt(r.tracklet, r.unit), r.ratio(), r.target, r.note]
        for r in rows
    ]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(headers)]
    print(f"\n{title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in table:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    sys.stdout.flush()


def emit(result: dict) -> None:
    print(json.dumps(result))
