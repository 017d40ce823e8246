"""Logged models (list and detail) and the experiment's chart grid in a real browser."""

from __future__ import annotations

from typing import Any

import httpx
from tests.ui.conftest import UiServer, browser_module, shoot
from tests.ui.data import RunPage

pytestmark = browser_module(__name__)
API = "/api/2.0/mlflow"


def test_logged_models_list_and_detail(
    page: Any, ui_server: UiServer, run_page_data: RunPage
) -> None:
    http = httpx.Client(base_url=ui_server.url + API)
    model = http.post(
        "/logged-models",
        json={
            "experiment_id": run_page_data.experiment_id,
            "name": "ui-model",
            "source_run_id": run_page_data.hist,
            "params": [{"key": "alpha", "value": "0.5"}],
            "tags": [{"key": "owner", "value": "ui"}],
        },
    ).json()["model"]
    http.close()
    model_id = model["info"]["model_id"]
    page.goto(f"{ui_server.url}/#/experiments/{run_page_data.experiment_id}/models")
    row = page.locator(f"[data-testid=model-row][data-id='{model_id}']")
    row.wait_for()
    assert "ui-model" in row.text_content()
    shoot(page, "models")
    row.get_by_role("link", name="ui-model").click()
    page.get_by_test_id("model-title").filter(has_text="ui-model").wait_for()
    params = page.get_by_test_id("model-params").locator("tbody td").all_text_contents()
    assert params == ["alpha", "0.5"]
    assert page.get_by_test_id("model-tags").locator("tbody td").all_text_contents() == [
        "owner",
        "ui",
    ]
    shoot(page, "model")


def test_experiment_chart_grid_search(
    page: Any, ui_server: UiServer, run_page_data: RunPage
) -> None:
    requests: list[Any] = []
    page.on("request", lambda r: "tracklet/metrics/series" in r.url and requests.append(r))
    page.goto(f"{ui_server.url}/#/experiments/{run_page_data.experiment_id}/charts")
    grid = page.get_by_test_id("chart-grid")
    grid.wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-key=loss] [data-testid=chart-canvas]')?.uplot"
    )
    keys = sorted(page.get_by_test_id("chart").evaluate_all("c => c.map(e => e.dataset.key)"))
    assert keys[0] == "loss"
    assert "system/cpu_utilization_percentage" in keys
    assert len(keys) == 14
    assert len(requests) == 1
    page.get_by_test_id("chart-search").fill("^val/")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=chart]').length === 4")
    shoot(page, "experiment-charts")
