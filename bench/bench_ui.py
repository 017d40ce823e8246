"""The web UI: tracklet's against MLflow 3.17.2's, both in headless Chromium, same data, same run.

    python -m bench.bench_ui [--runs 10000] [--points 1000000] [--repeat 3]

Both servers run as subprocesses on SQLite (bench_server.Server) and get the same data over the
same REST calls (4 at a time): an experiment of ``--runs`` runs (5 params, 5 metrics, 3 tags
each) and a run with ``--points`` steps of ``loss`` carrying a +1e6 and a -1e6 spike. Each figure
is the median of ``--repeat`` cold loads (a fresh browser context: no cache) of the same URLs
(``#/experiments/<id>/runs``: MLflow 3.17's ``#/experiments/<id>`` is its GenAI overview),
timed in the page from navigation start: a predicate that holds for both UIs (an element whose
own text is the run's name, laid out inside the viewport: MLflow's runs table has it as a
``<span>``, tracklet's as a link) is polled on every animation frame and answers
``performance.now()`` the first frame it holds, so Playwright's round trips do not count. The
browser is Debian's /usr/bin/chromium (never a downloaded one).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import tempfile
from concurrent.futures import ThreadPoolExecutor
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


def _make_run(http: httpx.Client, experiment: str, i: int, base: int) -> None:
    rng = random.Random(i)
    run = http.post(
        "/runs/create",
        json={"experiment_id": experiment, "run_name": f"run-{i:05d}", "start_time": base + i},
    ).json()["run"]["info"]["run_id"]
    http.post(
        "/runs/log-batch",
        json={
            "run_id": run,
            "metrics": [
                {"key": f"m{k}", "value": rng.random(), "timestamp": 1, "step": 0} for k in range(5)
            ],
            "params": [{"key": f"p{k}", "value": str(rng.randint(0, 9))} for k in range(5)],
            "tags": [{"key": f"t{k}", "value": f"v{i % 3}"} for k in range(3)],
        },
    )
    http.post("/runs/update", json={"run_id": run, "status": "FINISHED", "end_time": base + i})


def load(url: str, runs: int, points: int) -> dict[str, str]:
    """The same data on either server; the ids the pages need."""
    http = httpx.Client(base_url=url + API, timeout=120)
    experiment = http.post("/experiments/create", json={"name": "ui-bench"}).json()["experiment_id"]
    rng = random.Random(1)
    base = 1_700_000_000_000
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: _make_run(http, experiment, i, base), range(runs)))
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


# In the page, polled every frame: performance.now() once an element whose own text is ``name``
# is laid out inside the viewport, else 0.
VISIBLE = """(name) => {
  const found = document.evaluate(`//body//*[normalize-space(text())='${name}']`, document,
    null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
  for (let i = 0; i < found.snapshotLength; i++) {
    const box = found.snapshotItem(i).getBoundingClientRect();
    if (box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < innerHeight) {
      return performance.now();
    }
  }
  return 0;
}"""
SCROLL_TO_END_AND_FIND = (
    "(name) => { const grid = document.querySelector('[data-testid=runs-grid]');"
    " if (grid) grid.scrollTop = grid.scrollHeight; return (" + VISIBLE + ")(name); }"
)
SELECTED = "(selector) => document.querySelector(selector) ? performance.now() : 0"


def _when(page: Any, predicate: str, arg: str) -> float | None:
    """Seconds from navigation start to the first frame where ``predicate(arg)`` held."""
    try:
        handle = page.wait_for_function(predicate, arg=arg, polling="raf", timeout=TIMEOUT_MS)
    except PlaywrightTimeout:
        return None
    return float(handle.json_value()) / 1000


def measure(kind: str, url: str, ids: dict[str, str], runs: int, browser: Any) -> dict[str, Any]:
    """One cold load of each page: JS bytes, first row, last row (tracklet), chart drawn."""
    out: dict[str, Any] = {}
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    scripts: list[Any] = []
    page.on("requestfinished", lambda r: r.resource_type == "script" and scripts.append(r))
    page.goto(f"{url}/#/experiments/{ids['experiment']}/runs", wait_until="commit")
    out["first_row"] = _when(page, VISIBLE, f"run-{runs - 1:05d}")
    if kind == "tracklet":
        # A user drags the scrollbar to the end as soon as the first row shows: every frame the
        # grid is scrolled to its end until the oldest run is visible, timed from navigation.
        out["last_row"] = _when(page, SCROLL_TO_END_AND_FIND, "run-00000")
    else:
        out["last_row"] = None  # MLflow pages 100 runs per "load more" click
    # Both UIs keep connections open (polling, an event stream): no "network idle"; by now the
    # page's scripts have loaded, and lazy ones get a moment more.
    page.wait_for_timeout(2000)
    out["js_kb"] = sum(r.sizes()["responseBodySize"] for r in scripts) / 1024
    out["js_compressed"] = all(
        (r.response() and r.response().headers.get("content-encoding")) for r in scripts
    )
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
    out["chart"] = _when(page, SELECTED, selector)
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
            row("... last row visible, scrolled to the end at once", "last_row", "s",
                "<= 1 s from navigation",
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
