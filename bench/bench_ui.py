"""The web UI: tracklet's against MLflow 3.17.2's, both in headless Chromium, same data, same run.

    python -m bench.bench_ui [--runs 10000] [--points 1000000] [--repeat 3]

Both servers run as subprocesses on SQLite (bench_server.Server) and get the same data over the
same REST calls: an experiment of ``--runs`` runs (5 params, 5 metrics, 3 tags each) and a run
with ``--points`` steps of ``loss`` carrying a +1e6 and a -1e6 spike. Each figure is the median
of ``--repeat`` cold loads (a fresh browser context: no cache), timed from navigation start with
DOM predicates that hold for both UIs (the run's name as visible text, a chart element). The
browser is Debian's /usr/bin/chromium (never a downloaded one).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import tempfile
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from bench._common import Row, print_table
from bench.bench_server import Server

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
API = "/api/2.0/mlflow"
TIMEOUT_MS = 60_000


def load(url: str, runs: int, points: int) -> dict[str, str]:
    """The same data on either server; the ids the pages need."""
    http = httpx.Client(base_url=url + API, timeout=120)
    experiment = http.post("/experiments/create", json={"name": "ui-bench"}).json()["experiment_id"]
    rng = random.Random(1)
    base = 1_700_000_000_000
    for i in range(runs):
        run = http.post(
            "/runs/create",
            json={"experiment_id": experiment, "run_name": f"run-{i:05d}", "start_time": base + i},
        ).json()["run"]["info"]["run_id"]
        http.post(
            "/runs/log-batch",
            json={
                "run_id": run,
                "metrics": [
                    {"key": f"m{k}", "value": rng.random(), "timestamp": 1, "step": 0}
                    for k in range(5)
                ],
                "params": [{"key": f"p{k}", "value": str(rng.randint(0, 9))} for k in range(5)],
                "tags": [{"key": f"t{k}", "value": f"v{i % 3}"} for k in range(3)],
            },
        )
        http.post("/runs/update", json={"run_id": run, "status": "FINISHED", "end_time": base + i})
    hist = http.post(
        "/runs/create", json={"experiment_id": experiment, "run_name": "hist", "start_time": base}
    ).json()["run"]["info"]["run_id"]
    for start in range(0, points, 1000):
        batch = []
        for i in range(start, min(points, start + 1000)):
            value = math.exp(-i / (points / 4)) + rng.random() * 0.05
            if i == points * 7 // 9:
                value = 1e6
            elif i == points * 2 // 9:
                value = -1e6
            batch.append({"key": "loss", "value": value, "timestamp": base + i, "step": i})
        http.post("/runs/log-batch", json={"run_id": hist, "metrics": batch})
    http.close()
    return {"experiment": experiment, "hist": hist}


def _since_navigation(page: Any) -> float:
    return float(page.evaluate("performance.now()")) / 1000


def measure(kind: str, url: str, ids: dict[str, str], runs: int, browser: Any) -> dict[str, Any]:
    """One cold load of each page: JS bytes, first row, last row (tracklet), chart drawn."""
    out: dict[str, Any] = {}
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    scripts: list[Any] = []
    page.on("requestfinished", lambda r: r.resource_type == "script" and scripts.append(r))
    page.goto(f"{url}/#/experiments/{ids['experiment']}", wait_until="commit")
    try:
        page.get_by_text(f"run-{runs - 1:05d}", exact=True).first.wait_for(timeout=TIMEOUT_MS)
        out["first_row"] = _since_navigation(page)
    except PlaywrightTimeout:
        out["first_row"] = None
    # Both UIs keep connections open (polling, an event stream): no "network idle"; by now the
    # page's scripts have loaded, and lazy ones get a moment more.
    page.wait_for_timeout(2000)
    out["js_kb"] = sum(r.sizes()["responseBodySize"] for r in scripts) / 1024
    out["js_compressed"] = all(
        (r.response() and r.response().headers.get("content-encoding")) for r in scripts
    )
    if kind == "tracklet":
        page.get_by_test_id("run-count").filter(has_text=f"{runs + 1:,} runs").wait_for()
        page.get_by_test_id("runs-grid").evaluate("el => el.scrollTop = el.scrollHeight")
        page.get_by_text("run-00000", exact=True).first.wait_for(timeout=TIMEOUT_MS)
        out["last_row"] = _since_navigation(page)
    else:
        out["last_row"] = None  # MLflow pages 100 runs per "load more" click
    context.close()

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    metric_bytes: list[int] = []
    page.on(
        "requestfinished",
        lambda r: (
            ("metrics" in r.url or "get-history" in r.url)
            and metric_bytes.append(r.sizes()["responseBodySize"])
        ),
    )
    page.goto(
        f"{url}/#/experiments/{ids['experiment']}/runs/{ids['hist']}/model-metrics",
        wait_until="commit",
    )
    selector = (
        "[data-key=loss] [data-testid=chart-canvas] canvas"
        if kind == "tracklet"
        else ".js-plotly-plot .scatterlayer path, .js-plotly-plot canvas"
    )
    try:
        page.wait_for_selector(selector, timeout=TIMEOUT_MS)
        out["chart"] = _since_navigation(page)
    except PlaywrightTimeout:
        out["chart"] = None
    if kind == "tracklet":
        y = page.locator("[data-key=loss] [data-testid=chart-canvas]")
        out["spikes"] = (
            float(y.get_attribute("data-y-max") or 0) >= 1e6
            and float(y.get_attribute("data-y-min") or 0) <= -1e6
        )
    page.wait_for_timeout(500)
    out["metric_kb"] = sum(metric_bytes) / 1024
    context.close()
    return out


def median(values: list[Any]) -> float | None:
    found = [v for v in values if v is not None]
    return statistics.median(found) if len(found) == len(values) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for kind in ("mlflow", "tracklet"):
            workdir = Path(tmp) / kind
            workdir.mkdir()
            server = Server(kind, workdir)
            try:
                ids = load(server.url, args.runs, args.points)
                results[kind] = [
                    measure(kind, server.url, ids, args.runs, browser) for _ in range(args.repeat)
                ]
            finally:
                server.stop()
        browser.close()

    def row(name: str, key: str, unit: str, target: str, note: str = "") -> Row:
        return Row(
            name,
            unit,
            median([r[key] for r in results["mlflow"]]),
            median([r[key] for r in results["tracklet"]]),
            target,
            higher_is_better=False,
            note=note,
        )

    spikes = all(r.get("spikes") for r in results["tracklet"])
    print_table(
        f"Web UI, {args.runs:,} runs and a {args.points:,}-step metric "
        f"(median of {args.repeat} cold loads, headless Chromium)",
        [
            row(f"{args.runs:,}-run experiment: first row visible", "first_row", "s", "<= 0.5 s"),
            row("... last row visible after scrolling", "last_row", "s", "<= 1 s",
                "MLflow: load more, 100 runs a click"),
            row(f"{args.points:,}-step metric chart drawn", "chart", "s", "<= 1 s",
                f"tracklet: both spikes visible: {spikes}"),
            row("metric bytes transferred", "metric_kb", "KB", "<= 300 KB"),
            row("JavaScript transferred, runs page", "js_kb", "KB", "<= 300 KB",
                "compressed: mlflow "
                f"{all(r['js_compressed'] for r in results['mlflow'])}, tracklet "
                f"{all(r['js_compressed'] for r in results['tracklet'])}"),
        ],
    )  # fmt: skip


if __name__ == "__main__":
    main()
