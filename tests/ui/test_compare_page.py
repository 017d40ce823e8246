"""Compare runs in a real browser (UI.md §5.2 check 18, and the compare link of 22) on D5."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import httpx
from tests.ui.conftest import UiServer, browser_module, shoot
from tests.ui.data import compare_runs

pytestmark = browser_module(__name__)


def test_compare_diff_parallel_coordinates_scatter(page: Any, ui_server: UiServer) -> None:
    experiment_id, run_ids = compare_runs(ui_server.url)
    runs = urllib.parse.quote(json.dumps(run_ids))
    experiments = urllib.parse.quote(json.dumps([experiment_id]))
    page.goto(f"{ui_server.url}/#/compare-runs?runs={runs}&experiments={experiments}")
    rows = page.get_by_test_id("diff-row")
    rows.first.wait_for()
    headers = page.get_by_test_id("diff-table").locator("thead th").all_text_contents()
    assert headers == ["Run", "cmp-0", "cmp-1", "cmp-2", "cmp-3", "cmp-4"]
    page.get_by_test_id("only-diff").check()
    page.wait_for_function(
        "() => ![...document.querySelectorAll('[data-testid=diff-row]')]"
        ".some(r => r.dataset.key.startsWith('params.same'))"
    )
    params = [
        k for k in rows.evaluate_all("r => r.map(e => e.dataset.key)") if k.startswith("params.")
    ]
    assert params == ["params.depth", "params.lr"]
    lr = rows.filter(has=page.locator("td.key", has_text="lr")).locator("td").all_text_contents()
    assert lr == ["lr", "0.1", "0.05", "0.03333333333333333", "0.025", "0.02"]

    chart = page.get_by_test_id("parcoords")
    assert chart.get_attribute("data-lines") == "5"
    assert chart.get_attribute("data-axes") == "depth|lr|acc|loss"
    # the canvas says how many polylines it holds once drawn (the benchmark times it)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=parcoords]').dataset.drawn === '5'"
    )
    # Brush the top part of the "acc" axis (acc = 0.5 .. 0.9): the top half keeps 3 runs.
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    axis_x = box["x"] + 60 + 2 * (box["width"] - 120) / 3
    top, bottom = box["y"] + 34, box["y"] + box["height"] - 26
    page.mouse.move(axis_x, top - 2)
    page.mouse.down()
    page.mouse.move(axis_x, (top + bottom) / 2 + 2, steps=4)
    page.mouse.up()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=parcoords]').dataset.lines === '3'"
    )
    scatter = page.get_by_test_id("scatter")
    page.get_by_test_id("scatter-x").select_option("params.lr")
    page.get_by_test_id("scatter-y").select_option("metrics.acc")
    assert scatter.get_attribute("data-points") == "5"
    page.locator("[data-testid=chart][data-key=loss]").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => document.querySelector('[data-key=loss] [data-testid=chart-canvas]')?.uplot"
    )
    shoot(page, "compare")


def test_many_runs_plot_first_then_the_diff_table(page: Any, ui_server: UiServer) -> None:
    # Over 50 runs the diff table mounts after the plots; it still comes, a column a run.
    http = httpx.Client(base_url=ui_server.url + "/api/2.0/mlflow", timeout=30)
    experiment_id = http.post("/experiments/create", json={"name": "ui-compare-many"}).json()[
        "experiment_id"
    ]
    run_ids = []
    for i in range(60):
        run_id = http.post(
            "/runs/create", json={"experiment_id": experiment_id, "run_name": f"many-{i}"}
        ).json()["run"]["info"]["run_id"]
        http.post(
            "/runs/log-batch",
            json={
                "run_id": run_id,
                "params": [{"key": "i", "value": str(i)}],
                "metrics": [{"key": "acc", "value": i / 60, "timestamp": 1, "step": 0}],
            },
        )
        run_ids.append(run_id)
    http.close()
    runs = urllib.parse.quote(json.dumps(run_ids))
    experiments = urllib.parse.quote(json.dumps([experiment_id]))
    page.goto(f"{ui_server.url}/#/compare-runs?runs={runs}&experiments={experiments}")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=parcoords]')?.dataset.drawn === '60'"
    )
    page.get_by_test_id("diff-table").wait_for()
    headers = page.get_by_test_id("diff-table").locator("thead th").all_text_contents()
    assert headers == ["Run", *(f"many-{i}" for i in range(60))]
