"""The web UI: tracklet's against MLflow 3.17.2's, both in headless Chromium, same data, same run.

    python -m bench.bench_ui [--runs 10000] [--points 1000000] [--repeat 3]
        [--ui both|tracklet|mlflow] [--rows table,chart,charts50,parcoords,live] [--data DIR]

``--ui`` and ``--rows`` narrow a run while iterating (the comparison is the full run: both UIs,
all rows); ``--data DIR`` keeps each server's database and ids in ``DIR/<ui>`` and reuses them on
the next run instead of loading the data again (the figures then come from a database that has
already been searched once, e.g. its runs packed).

Both servers run as subprocesses on SQLite (bench_server.Server) and get the same data over the
same REST calls (4 at a time): an experiment of ``--runs`` runs (5 params, 5 metrics, 3 tags
each), a run with ``--points`` steps of ``loss`` carrying a +1e6 and a -1e6 spike, a run with 50
metric keys of 1,000 steps (``keys50``) and a RUNNING run with 10 steps of ``loss`` (``live``).
Each figure
is the median of ``--repeat`` cold loads (a fresh browser context: no cache) of the same URLs
(``#/experiments/<id>/runs``: MLflow 3.17's ``#/experiments/<id>`` is its GenAI overview),
timed in the page from navigation start: a predicate that holds for both UIs (an element whose
own text is the run's name, laid out inside the viewport: MLflow's runs table has it as a
``<span>``, tracklet's as a link) is polled on every animation frame from the document's first
frame (an init script) and keeps ``performance.now()`` of the first frame it holds, so
Playwright's round trips do not count. The
browser is Debian's /usr/bin/chromium (never a downloaded one).

The other rows, each predicate the same for both UIs:

* 50 charts: ``keys50``'s metrics page in a viewport tall enough to hold all 50 charts (so that
  neither UI's lazy mounting decides), timed until 50 charts hold their data (tracklet's uPlot
  or MLflow's Plotly graph, read from the element); the metric-data requests (tracklet's
  ``metrics/series``, MLflow's ``get-history*``) are counted in the browser.
* Parallel coordinates: ``#/compare-runs`` over 1,000 of the runs (5 params and 5 metrics: 10
  axes), timed until the plot holds 1,000 lines (tracklet's canvas says how many it drew in
  ``data-drawn``; MLflow's Plotly ``parcoords`` trace its values); what MLflow does instead is
  noted.
* Live update: ``live``'s metrics page open and drawn, a point logged over REST at a new step,
  timed (wall clock, same machine) until a chart holds that step, waiting at most
  ``LIVE_WAIT`` seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
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
COMPARE_RUNS = 1000
CHART_KEYS = 50
LIVE_WAIT = 10.0
# Tall enough for 50 charts in either UI's grid: all of them in the viewport at once.
TALL = {"width": 1400, "height": 12_000}


def _make_run(http: httpx.Client, experiment: str, i: int, base: int) -> str:
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
    return str(run)


def load(url: str, runs: int, points: int) -> dict[str, Any]:
    """The same data on either server; the ids the pages need."""
    http = httpx.Client(base_url=url + API, timeout=120)
    experiment = http.post("/experiments/create", json={"name": "ui-bench"}).json()["experiment_id"]
    rng = random.Random(1)
    base = 1_700_000_000_000
    with ThreadPoolExecutor(4) as pool:
        run_ids = list(pool.map(lambda i: _make_run(http, experiment, i, base), range(runs)))
    keys50 = http.post(
        "/runs/create", json={"experiment_id": experiment, "run_name": "keys50", "start_time": base}
    ).json()["run"]["info"]["run_id"]
    for k in range(CHART_KEYS):
        batch = [
            {"key": f"k{k:02d}", "value": math.sin(s / 50 + k), "timestamp": base + s, "step": s}
            for s in range(1000)
        ]
        http.post("/runs/log-batch", json={"run_id": keys50, "metrics": batch})
    live = http.post(
        "/runs/create", json={"experiment_id": experiment, "run_name": "live", "start_time": base}
    ).json()["run"]["info"]["run_id"]
    batch = [
        {"key": "loss", "value": 1 / (s + 1), "timestamp": base + s, "step": s} for s in range(10)
    ]
    http.post("/runs/log-batch", json={"run_id": live, "metrics": batch})
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
    return {
        "experiment": experiment,
        "hist": hist,
        "compare": run_ids[:COMPARE_RUNS],
        "keys50": keys50,
        "live": live,
    }


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
# tracklet's chart of ``key`` drawn: its uPlot holds the points, and the y range its draw left
# on the element spans both spikes (+1e6 and -1e6).
CHART_WITH_SPIKES = """(key) => {
  const el = document.querySelector(`[data-key='${key}'] [data-testid=chart-canvas]`);
  return el && el.uplot && el.uplot.data[0].length > 0 && el.querySelector('canvas')
    && Number(el.dataset.yMax) >= 1e6 && Number(el.dataset.yMin) <= -1e6 ? performance.now() : 0;
}"""
# How many charts hold data: tracklet's uPlot (on its element) or MLflow's Plotly graph (its
# traces on the graph's element, drawn into the plot's SVG).
CHARTS_DRAWN = """(n) => {
  const uplots = [...document.querySelectorAll('[data-testid=chart-canvas]')]
    .filter(el => el.uplot && el.uplot.data[0].length > 0 && el.querySelector('canvas')).length;
  const plotly = [...document.querySelectorAll('.js-plotly-plot')]
    .filter(p => (p.data || []).some(t => t.x && t.x.length > 0)
      && p.querySelector('.scatterlayer .trace path[d], .gl-container canvas')).length;
  return Math.max(uplots, plotly) >= Number(n) ? performance.now() : 0;
}"""
# Parallel coordinates holding n lines: tracklet's canvas says how many it drew; MLflow's is a
# Plotly parcoords trace (WebGL), drawn once its canvases are in the plot.
PARCOORDS_DRAWN = """(n) => {
  const ours = document.querySelector('[data-testid=parcoords]');
  if (ours && Number(ours.dataset.drawn) >= Number(n)) return performance.now();
  for (const p of document.querySelectorAll('.js-plotly-plot')) {
    const t = (p.data || []).find(t => t.type === 'parcoords');
    if (t && t.dimensions.length && t.dimensions[0].values.length >= Number(n)
        && p.querySelector('.gl-canvas, canvas')) return performance.now();
  }
  return 0;
}"""
# What an MLflow compare page shows instead: the Plotly parcoords' lines, or a message.
PARCOORDS_STATE = """() => {
  for (const p of document.querySelectorAll('.js-plotly-plot')) {
    const t = (p.data || []).find(t => t.type === 'parcoords');
    if (t) return `parcoords of ${t.dimensions.length} axes x ${
      t.dimensions.length ? t.dimensions[0].values.length : 0} lines`;
  }
  const text = document.body.innerText;
  const said = text.match(/[^\\n]*(parallel|too many|maximum|limit)[^\\n]*/i);
  return said ? 'no plot; page says: ' + said[0].slice(0, 120) : 'no parallel-coordinates plot';
}"""
# Date.now() once a chart holds x == step (tracklet's uPlot data, MLflow's Plotly traces).
CHART_HAS_STEP = """(step) => {
  const s = Number(step);
  for (const el of document.querySelectorAll('[data-testid=chart-canvas]')) {
    if (el.uplot && Array.from(el.uplot.data[0]).includes(s)) return Date.now();
  }
  for (const p of document.querySelectorAll('.js-plotly-plot')) {
    for (const t of p.data || []) {
      if (t.x && Array.from(t.x).map(Number).includes(s)) return Date.now();
    }
  }
  return 0;
}"""


def _series_request(url: str) -> bool:
    return "/metrics/series" in url or "get-history" in url


def _when(page: Any, predicate: str, arg: str, timeout_ms: float = TIMEOUT_MS) -> float | None:
    """Seconds from navigation start to the first frame where ``predicate(arg)`` held, polled
    from when Playwright installs it (for checks after the page has loaded)."""
    try:
        handle = page.wait_for_function(predicate, arg=arg, polling="raf", timeout=timeout_ms)
    except PlaywrightTimeout:
        return None
    return float(handle.json_value()) / 1000


# Installed before navigation (an init script): from the document's first frame, each step's
# predicate is polled every animation frame, in order (a step starts once the one before it
# held), and the performance.now() of the first frame it held is kept. Polling from the start
# times the page, not Playwright's round trips to install a poll after navigating (up to
# ~0.1 s late under load, measured).
WATCH = """(steps) => {
  if (window.top !== window) return;
  const found = window.__benchWhen = {};
  let i = 0;
  const tick = () => {
    while (i < steps.length) {
      const [name, predicate, arg] = steps[i];
      const at = predicate(arg);
      if (!at) break;
      found[name] = at;
      i++;
    }
    if (i < steps.length) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


def _watch(context: Any, *steps: tuple[str, str, str]) -> None:
    """Polls ``steps`` ((name, predicate, arg), in order) in every page the context opens."""
    # The predicates inline, as code (no eval: tracklet's CSP has no 'unsafe-eval').
    listed = ", ".join(f"[{json.dumps(n)}, ({p}), {json.dumps(a)}]" for n, p, a in steps)
    context.add_init_script(f"({WATCH})([{listed}]);")


def _watched(page: Any, name: str, timeout_ms: float = TIMEOUT_MS) -> float | None:
    """Seconds from navigation start to the first frame where the watched step ``name`` held."""
    try:
        handle = page.wait_for_function(
            "(name) => window.__benchWhen && window.__benchWhen[name]",
            arg=name,
            polling=50,
            timeout=timeout_ms,
        )
    except PlaywrightTimeout:
        return None
    return float(handle.json_value()) / 1000


def measure_more(
    kind: str, url: str, ids: dict[str, Any], browser: Any, repeat: int, rows: set[str]
) -> dict[str, Any]:
    """One cold load each: 50 charts, parallel coordinates over 1,000 runs, a live update."""
    out: dict[str, Any] = {}
    if "charts50" in rows:
        out.update(_charts50(url, ids, browser))
    if "parcoords" in rows:
        out.update(_parcoords(kind, url, ids, browser))
    if "live" in rows:
        out.update(_live(url, ids, browser, repeat))
    return out


def _charts50(url: str, ids: dict[str, Any], browser: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    experiment = ids["experiment"]
    context = browser.new_context(viewport=TALL)
    _watch(context, ("charts50", CHARTS_DRAWN, str(CHART_KEYS)))
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: _series_request(r.url) and requests.append(r.url))
    page.goto(f"{url}/#/experiments/{experiment}/runs/{ids['keys50']}/model-metrics")
    out["charts50"] = _watched(page, "charts50", 2 * TIMEOUT_MS)  # MLflow: 22 s
    page.wait_for_timeout(500)
    out["charts50_requests"] = len(requests)
    context.close()
    return out


def _parcoords(kind: str, url: str, ids: dict[str, Any], browser: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    experiment = ids["experiment"]
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    _watch(context, ("parcoords", PARCOORDS_DRAWN, str(len(ids["compare"]))))
    page = context.new_page()
    runs = json.dumps(ids["compare"], separators=(",", ":"))
    page.goto(f"{url}/#/compare-runs?runs={runs}&experiments={json.dumps([experiment])}")
    out["parcoords"] = _watched(page, "parcoords")
    out["parcoords_state"] = page.evaluate(PARCOORDS_STATE) if kind == "mlflow" else ""
    context.close()
    return out


def _live(url: str, ids: dict[str, Any], browser: Any, repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    experiment = ids["experiment"]
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/#/experiments/{experiment}/runs/{ids['live']}/model-metrics")
    out["live_ready"] = _when(page, CHART_HAS_STEP, "9")
    step = 10 + repeat
    with httpx.Client(base_url=url + API, timeout=30) as http:
        http.post(
            "/runs/log-metric",
            json={
                "run_id": ids["live"],
                "key": "loss",
                "value": 0.01,
                "timestamp": 2,
                "step": step,
            },
        ).raise_for_status()
    logged = time.time()
    shown = _when(page, CHART_HAS_STEP, str(step), LIVE_WAIT * 1000)  # Date.now() / 1000
    out["live"] = None if shown is None else max(0.0, shown - logged)
    context.close()
    return out


def measure(
    kind: str, url: str, ids: dict[str, Any], runs: int, browser: Any, rows: set[str]
) -> dict[str, Any]:
    """One cold load of each page: JS bytes, first row, last row (tracklet), chart drawn."""
    out: dict[str, Any] = {}
    if "table" in rows:
        out.update(_table(kind, url, ids, runs, browser))
    if "chart" in rows:
        out.update(_chart(kind, url, ids, browser))
    return out


def _table(kind: str, url: str, ids: dict[str, Any], runs: int, browser: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    steps = [("first_row", VISIBLE, f"run-{runs - 1:05d}")]
    if kind == "tracklet":
        # A user drags the scrollbar to the end as soon as the first row shows: every frame the
        # grid is scrolled to its end until the oldest run is visible, timed from navigation.
        steps.append(("last_row", SCROLL_TO_END_AND_FIND, "run-00000"))
    _watch(context, *steps)
    page = context.new_page()
    scripts: list[Any] = []
    page.on("requestfinished", lambda r: r.resource_type == "script" and scripts.append(r))
    page.goto(f"{url}/#/experiments/{ids['experiment']}/runs", wait_until="commit")
    out["first_row"] = _watched(page, "first_row")
    if kind == "tracklet":
        out["last_row"] = _watched(page, "last_row")
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
    return out


def _chart(kind: str, url: str, ids: dict[str, Any], browser: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    if kind == "tracklet":  # drawn: the uPlot holds the data, its y range both spikes
        _watch(context, ("chart", CHART_WITH_SPIKES, "loss"))
    else:
        selector = ".js-plotly-plot .scatterlayer path, .js-plotly-plot canvas"
        _watch(context, ("chart", SELECTED, selector))
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
    out["chart"] = _watched(page, "chart")
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
    return statistics.median(found) if found and len(found) == len(values) else None


ROWS = ("table", "chart", "charts50", "parcoords", "live")


def _rows(text: str) -> set[str]:
    rows = {r.strip() for r in text.split(",") if r.strip()}
    if not rows or rows - set(ROWS):
        raise argparse.ArgumentTypeError(f"rows are a comma-separated subset of {','.join(ROWS)}")
    return rows


def _server_with_data(kind: str, tmp: str, data: str | None, args: Any) -> tuple[Server, Any]:
    """A server on freshly loaded data, or on the data kept in ``data/<kind>`` by an earlier
    run with the same sizes."""
    workdir = Path(data or tmp) / kind
    saved = workdir / f"ids-{args.runs}-{args.points}.json"
    if data and saved.exists():
        return Server(kind, workdir), json.loads(saved.read_text())
    if workdir.exists():
        for old in workdir.iterdir():
            old.unlink()
    workdir.mkdir(parents=True, exist_ok=True)
    server = Server(kind, workdir)
    try:
        ids = load(server.url, args.runs, args.points)
    except BaseException:
        server.stop()
        raise
    if data:
        saved.write_text(json.dumps(ids))
    return server, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ui", choices=("both", "tracklet", "mlflow"), default="both")
    parser.add_argument("--rows", type=_rows, default=set(ROWS), help=",".join(ROWS))
    parser.add_argument("--data", help="keep and reuse each server's data in DATA/<ui>")
    args = parser.parse_args()
    kinds = ("mlflow", "tracklet") if args.ui == "both" else (args.ui,)
    results: dict[str, list[dict[str, Any]]] = {"mlflow": [], "tracklet": []}
    compare: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for kind in kinds:
            server, ids = _server_with_data(kind, tmp, args.data, args)
            compare = ids["compare"]
            try:
                for repeat in range(args.repeat):
                    result = {
                        **measure(kind, server.url, ids, args.runs, browser, args.rows),
                        **measure_more(kind, server.url, ids, browser, repeat, args.rows),
                    }
                    print(kind, json.dumps(result), file=sys.stderr, flush=True)  # as it goes
                    results[kind].append(result)
            finally:
                server.stop()
        browser.close()

    def row(name: str, key: str, unit: str, target: str, note: str = "") -> Row | None:
        if not any(key in r for r in results["mlflow"] + results["tracklet"]):
            return None
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
    mlflow_parcoords = sorted({r.get("parcoords_state", "") for r in results["mlflow"]})
    live_ready = {k: all(r.get("live_ready") is not None for r in results[k]) for k in kinds}
    mlflow_live = (
        f"MLflow: not updated in {LIVE_WAIT:.0f} s"
        if all(r.get("live") is None for r in results["mlflow"])
        else "MLflow: updated"
    )
    rows = [
        row(f"{args.runs:,}-run experiment: first row visible", "first_row", "s", "<= 0.5 s"),
        row("... last row visible, scrolled to the end at once", "last_row", "s",
            "<= 1 s from navigation",
            "MLflow: load more, 100 runs a click"),
        row(f"{args.points:,}-step metric chart drawn", "chart", "s", "<= 1 s",
            f"tracklet: both spikes visible: {spikes}"),
        row("metric bytes transferred", "metric_kb", "KB", "<= 300 KB"),
        row("JavaScript transferred, runs page", "js_kb", "KB", "<= 300 KB",
            "compressed: mlflow "
            f"{all(r.get('js_compressed') for r in results['mlflow'])}, tracklet "
            f"{all(r.get('js_compressed') for r in results['tracklet'])}"),
        row(f"run with {CHART_KEYS} metric keys: all {CHART_KEYS} charts drawn", "charts50",
            "s", "<= 1 s"),
        row("... metric-data requests for those charts", "charts50_requests", "n",
            "<= 2"),
        row(f"parallel coordinates, {len(compare):,} runs x 10 axes", "parcoords",
            "s", "<= 1 s", "MLflow: " + "; ".join(mlflow_parcoords)),
        row("live update: a logged point on the open run's chart", "live", "s",
            "<= 3 s after logging", f"{mlflow_live} (chart drawn first: {live_ready})"),
    ]  # fmt: skip
    print_table(
        f"Web UI, {args.runs:,} runs and a {args.points:,}-step metric "
        f"(median of {args.repeat} cold loads, headless Chromium)",
        [r for r in rows if r is not None],
    )


if __name__ == "__main__":
    main()
