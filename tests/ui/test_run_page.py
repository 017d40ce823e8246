"""The run page, its charts, artifacts and MLflow-shaped links in a real browser (UI.md §5.2
checks 12-14, 16-17, 20-22 on small data)."""

from __future__ import annotations

import json
import struct
import threading
import time
from typing import Any

import httpx
from tests.ui.conftest import UiServer, Watch, browser_module, shoot
from tests.ui.data import RunPage, series_values

pytestmark = browser_module(__name__)
API = "/api/2.0/mlflow"


def _run(server: UiServer, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = httpx.get(
        f"{server.url}{API}/runs/get", params={"run_id": run_id}
    ).json()["run"]
    return run


def _table(page: Any, testid: str) -> dict[str, str]:
    rows = (
        page.get_by_test_id(testid)
        .locator("tbody tr")
        .evaluate_all(
            "rows => rows.map(r => [r.cells[0].textContent, "
            "r.cells[1].querySelector('[data-value]')?.dataset.value ?? r.cells[1].textContent])"
        )
    )
    return dict(rows)


def test_overview_tables_equal_runs_get(
    page: Any, ui_server: UiServer, run_page_data: RunPage
) -> None:
    run_id = run_page_data.hist
    page.goto(f"{ui_server.url}/#/experiments/{run_page_data.experiment_id}/runs/{run_id}")
    page.get_by_test_id("params").wait_for()
    run = _run(ui_server, run_id)
    assert _table(page, "params") == {p["key"]: p["value"] for p in run["data"]["params"]}
    assert _table(page, "metrics") == {m["key"]: str(m["value"]) for m in run["data"]["metrics"]}
    user_tags = {
        t["key"]: t["value"] for t in run["data"]["tags"] if not t["key"].startswith("mlflow.")
    }
    assert _table(page, "tags") == user_tags
    assert page.get_by_test_id("run-title").text_content() == "hist"
    assert page.get_by_test_id("status").first.text_content() == "FINISHED"
    shoot(page, "run-overview")


def test_description_saved_verbatim_and_rendered_safely(
    page: Any, ui_server: UiServer, run_page_data: RunPage
) -> None:
    text = "**bold** <script>alert(1)</script>"
    page.goto(
        f"{ui_server.url}/#/experiments/{run_page_data.experiment_id}/runs/{run_page_data.keys}"
    )
    page.get_by_test_id("edit-description").click()
    page.get_by_test_id("description-input").fill(text)
    page.get_by_test_id("save-description").click()
    description = page.get_by_test_id("description")
    description.wait_for()
    tags = {t["key"]: t["value"] for t in _run(ui_server, run_page_data.keys)["data"]["tags"]}
    assert tags["mlflow.note.content"] == text
    assert description.locator("strong").text_content() == "bold"
    assert description.locator("script").count() == 0
    assert "<script>alert(1)</script>" in description.text_content()
    # (the page fixture fails the test if a dialog opened)


def test_tag_add_and_delete(page: Any, ui_server: UiServer, run_page_data: RunPage) -> None:
    page.goto(
        f"{ui_server.url}/#/experiments/{run_page_data.experiment_id}/runs/{run_page_data.keys}"
    )
    page.get_by_test_id("tag-key").fill("ui-tag")
    page.get_by_test_id("tag-value").fill("v 1")
    page.get_by_test_id("add-tag").click()
    page.get_by_test_id("tags").get_by_text("ui-tag").wait_for()
    tags = {t["key"]: t["value"] for t in _run(ui_server, run_page_data.keys)["data"]["tags"]}
    assert tags["ui-tag"] == "v 1"
    page.get_by_test_id("tags").locator("tr", has_text="ui-tag").get_by_test_id(
        "delete-tag"
    ).click()
    page.get_by_test_id("tags").get_by_text("ui-tag").wait_for(state="detached")
    tags = {t["key"]: t["value"] for t in _run(ui_server, run_page_data.keys)["data"]["tags"]}
    assert "ui-tag" not in tags


def _chart(page: Any, key: str) -> Any:
    canvas = page.locator(f"[data-testid=chart][data-key='{key}'] [data-testid=chart-canvas]")
    page.wait_for_function(
        "key => document.querySelector(`[data-key='${key}'] [data-testid=chart-canvas]`)?.uplot",
        arg=key,
    )
    return canvas


def _drag(page: Any, canvas: Any, lo: int, hi: int) -> None:
    """A drag across the chart from x = lo to x = hi."""
    box = canvas.evaluate(
        """(el, [lo, hi]) => { const u = el.uplot; const r = u.over.getBoundingClientRect();
        return {x0: r.left + u.valToPos(lo, 'x'), x1: r.left + u.valToPos(hi, 'x'),
                y: r.top + r.height / 2}; }""",
        [lo, hi],
    )
    page.mouse.move(box["x0"], box["y"])
    page.mouse.down()
    page.mouse.move(box["x1"], box["y"], steps=5)
    page.mouse.up()


def test_long_series_keeps_spikes_and_zoom_asks_for_raw_points(
    page: Any, ui_server: UiServer, run_page_data: RunPage
) -> None:
    series_bodies: list[Any] = []
    page.on(
        "request",
        lambda r: "tracklet/metrics/series" in r.url and series_bodies.append(r.post_data_json),
    )
    page.goto(
        f"{ui_server.url}/#/experiments/{run_page_data.experiment_id}/runs/{run_page_data.hist}"
        "/model-metrics"
    )
    canvas = _chart(page, "loss")
    assert canvas.get_attribute("data-sampled") == "true"
    assert int(canvas.get_attribute("data-points")) <= 4000  # M4: at most 4 per column
    meta = page.locator("[data-key=loss] .chart-meta").text_content()
    assert meta.startswith(f"{run_page_data.n_hist:,} points")
    assert float(canvas.get_attribute("data-y-max")) >= 1e6
    assert float(canvas.get_attribute("data-y-min")) <= -1e6
    assert canvas.get_attribute("data-band") == "true"
    shoot(page, "run-charts")
    spike = run_page_data.n_hist * 7 // 9
    lo, hi = spike - 300, spike + 300
    _drag(page, canvas, lo, hi)
    page.wait_for_function(
        "() => document.querySelector('[data-key=loss] [data-testid=chart-canvas]')"
        ".dataset.zoomed === '1'"
    )
    zoom = series_bodies[-1]
    assert lo - 100 <= zoom["x_min"] <= lo + 100  # a pixel is ~60 steps here
    assert hi - 100 <= zoom["x_max"] <= hi + 100
    assert canvas.get_attribute("data-sampled") == "false"
    assert canvas.get_attribute("data-band") == "false"
    assert int(canvas.get_attribute("data-points")) == zoom["x_max"] - zoom["x_min"] + 1
    # Zoom again, to a few pixels per step, and read the spike with the pointer.
    _drag(page, canvas, spike - 20, spike + 20)
    page.wait_for_function(
        "() => document.querySelector('[data-key=loss] [data-testid=chart-canvas]')"
        ".dataset.points < 60"
    )
    assert series_bodies[-1]["x_min"] >= lo
    at = canvas.evaluate(
        """(el, x) => { const u = el.uplot; const r = u.over.getBoundingClientRect();
        return {x: r.left + u.valToPos(x, 'x'), y: r.top + 20}; }""",
        spike,
    )
    page.mouse.move(at["x"], at["y"])
    tip = page.locator("[data-key=loss] [data-testid=chart-tip]")
    tip.filter(has_text=f"step {spike} ").wait_for()
    assert tip.text_content() == f"step {spike} → 1000000"
    page.mouse.dblclick(at["x"], at["y"])
    page.wait_for_function(
        "() => document.querySelector('[data-key=loss] [data-testid=chart-canvas]')"
        ".dataset.zoomed === ''"
    )
    assert canvas.get_attribute("data-sampled") == "true"


def test_chart_grid_one_request_search_and_controls(
    page: Any, ui_server: UiServer, run_page_data: RunPage
) -> None:
    requests: list[Any] = []
    page.on("request", lambda r: "tracklet/metrics/series" in r.url and requests.append(r))
    page.goto(
        f"{ui_server.url}/#/experiments/{run_page_data.experiment_id}/runs/{run_page_data.keys}"
        "/model-metrics"
    )
    charts = page.get_by_test_id("chart")
    _chart(page, "train/m00")
    assert charts.count() == 12
    # One request: index.html's bootstrap asked for the run's model keys before the app knew
    # them, and the grid took its answer over (no second request for the same series).
    assert len(requests) == 1
    assert requests[0].post_data_json == {
        "run_id": run_page_data.keys, "keys": "model", "x": "step", "width": 1000, "band": True,
        "format": "binary",
    }  # fmt: skip
    answer = requests[0].response()
    assert answer.headers["content-type"] == "application/octet-stream"
    (size,) = struct.unpack_from("<I", answer.body())
    header = json.loads(answer.body()[4 : 4 + size])
    assert [s["key"] for s in header["series"]] == sorted(
        [f"train/m{k:02d}" for k in range(8)] + [f"val/m{k:02d}" for k in range(4)]
    )
    page.get_by_test_id("chart-search").fill("m0[0-2]")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=chart]').length === 6")
    assert sorted(charts.evaluate_all("c => c.map(e => e.dataset.key)")) == [
        "train/m00", "train/m01", "train/m02", "val/m00", "val/m01", "val/m02",
    ]  # fmt: skip
    assert "keys=m0%5B0-2%5D" in page.url or "keys=m0[0-2]" in page.url
    assert len(requests) == 1  # the search reused the data already fetched


def test_chart_controls_x_log_and_ema(
    page: Any, ui_server: UiServer, run_page_data: RunPage
) -> None:
    base = (
        f"{ui_server.url}/#/experiments/{run_page_data.experiment_id}/runs/{run_page_data.keys}"
        "/model-metrics?keys=train/m00"
    )
    page.goto(base)
    canvas = _chart(page, "train/m00")
    assert canvas.get_attribute("data-x") == "step"
    page.get_by_test_id("x-wall").click()
    page.wait_for_function(
        "() => document.querySelector('[data-key=\"train/m00\"] [data-testid=chart-canvas]')"
        ".dataset.x === 'wall'"
    )
    assert canvas.evaluate("el => el.uplot.scales.x.time") is True
    page.get_by_test_id("x-relative").click()
    page.wait_for_function(
        "() => document.querySelector('[data-key=\"train/m00\"] [data-testid=chart-canvas]')"
        ".dataset.x === 'relative'"
    )
    assert canvas.evaluate("el => [el.uplot.data[0][0], el.uplot.data[0][49]]") == [0, 49]
    page.get_by_test_id("log-y").check()
    page.wait_for_function(
        "() => document.querySelector('[data-key=\"train/m00\"] [data-testid=chart-canvas]')"
        ".uplot.scales.y.distr === 3"
    )
    page.get_by_test_id("x-step").click()
    page.goto(base + "&smooth=0.9")
    _chart(page, "train/m00")
    page.wait_for_function(
        "() => document.querySelector('[data-key=\"train/m00\"] [data-testid=chart-canvas]')"
        ".uplot.data.length === 3"
    )
    raw, smoothed = canvas.evaluate("el => [el.uplot.data[1], el.uplot.data[2]]")
    last = count = 0.0
    reference = []
    for value in raw:  # TensorBoard's debiased EMA
        last = last * 0.9 + 0.1 * value
        count += 1
        reference.append(last / (1 - 0.9**count))
    for i in (0, 7, 19, 33, 49):
        assert abs(smoothed[i] - reference[i]) < 1e-9


def test_artifact_previews(
    page: Any, page_watch: Watch, ui_server: UiServer, run_page_data: RunPage
) -> None:
    # Chromium reports each script the sandbox blocked in evil.html: the expected outcome.
    page_watch.allowed_console.append("the document's frame is sandboxed")
    transfers: list[tuple[str, int, str | None]] = []

    def on_response(response: Any) -> None:
        if "get-artifact" in response.url:
            body = response.body()
            transfers.append((response.url, len(body), response.request.headers.get("range")))

    page.on("response", on_response)
    page.goto(
        f"{ui_server.url}/#/experiments/{run_page_data.experiment_id}/runs/{run_page_data.files}"
        "/artifacts"
    )
    node = page.get_by_test_id("artifact-node")
    preview = page.get_by_test_id("artifact-preview")
    node.filter(has_text="plot.png").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=image-preview]')?.naturalWidth === 512"
    )
    node.filter(has_text="table.csv").click()
    table = preview.get_by_test_id("csv-preview")
    table.wait_for()
    assert table.locator("tbody tr").count() == 100
    assert table.locator("thead th").all_text_contents() == ["a", "b", "text"]
    assert table.locator("tbody tr").nth(3).locator("td").all_text_contents() == [
        "3", "9", 'row "3", ok',
    ]  # fmt: skip
    csv = [t for t in transfers if "table.csv" in t[0]]
    assert csv[-1][2] == "bytes=0-1048575"
    assert csv[-1][1] <= 1024 * 1024
    node.filter(has_text="data").first.click()
    node.filter(has_text="config.json").click()
    preview.get_by_test_id("text-preview").filter(has_text='"nested": true').wait_for()
    assert preview.get_by_test_id("text-preview").text_content().startswith('{\n  "b": [\n')
    node.filter(has_text="model").first.click()
    node.filter(has_text="MLmodel").click()
    preview.get_by_test_id("flavors").wait_for()
    assert preview.get_by_test_id("flavors").locator(".badge").all_text_contents() == [
        "python_function", "sklearn",
    ]  # fmt: skip
    shoot(page, "run-artifacts")
    node.filter(has_text="evil.html").click()
    frame = preview.get_by_test_id("html-preview")
    frame.wait_for()
    assert frame.get_attribute("sandbox") == ""
    page.frame_locator("[data-testid=html-preview]").locator("h1").wait_for()
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xss") is None
    node.filter(has_text="big.bin").click()
    preview.get_by_test_id("no-preview").filter(has_text="3.0 MiB").wait_for()
    assert preview.get_by_test_id("download").get_attribute("href").startswith("get-artifact?")
    assert all(size <= 1024 * 1024 for _, size, _ in transfers)


def test_mlflow_links_open_the_right_pages(
    page: Any, ui_server: UiServer, run_page_data: RunPage
) -> None:
    hist, experiment = run_page_data.hist, run_page_data.experiment_id
    page.goto(f"{ui_server.url}/#/runs/{hist}")
    page.wait_for_function(f"() => location.hash === '#/experiments/{experiment}/runs/{hist}'")
    page.get_by_test_id("run-title").filter(has_text="hist").wait_for()
    page.goto(
        f'{ui_server.url}/#/metric?runs=["{hist}","{run_page_data.keys}"]&metric="loss"'
        f'&experiments=["{experiment}"]&x_axis=relative&y_axis_scale=linear'
    )
    assert page.get_by_test_id("metric-title").text_content() == "loss"
    # The "keys" run never logged loss: it is neither charted nor counted among the runs.
    counted = page.get_by_test_id("metric-runs")
    counted.wait_for()
    assert counted.text_content() == "1 run (1 more without loss)"
    canvas = _chart(page, "loss")
    labels = canvas.evaluate("el => el.uplot.series.slice(1).map(s => s.label)")
    assert "hist" in labels, labels
    assert not any(label.startswith("keys") for label in labels), labels
    assert canvas.get_attribute("data-x") == "relative"
    shoot(page, "metric")


def test_live_refresh_of_a_running_run(
    page: Any, ui_server: UiServer, run_page_data: RunPage
) -> None:
    rest = httpx.Client(base_url=ui_server.url + API)
    run_id = rest.post(
        "/runs/create", json={"experiment_id": run_page_data.experiment_id, "run_name": "live"}
    ).json()["run"]["info"]["run_id"]
    rest.post(
        "/runs/log-metric",
        json={"run_id": run_id, "key": "loss", "value": 1.0, "timestamp": 1, "step": 0},
    )
    page.goto(
        f"{ui_server.url}/#/experiments/{run_page_data.experiment_id}/runs/{run_id}/model-metrics"
    )
    canvas = _chart(page, "loss")
    values = series_values(10)

    def log() -> None:
        for step in range(1, 5):
            time.sleep(0.3)
            rest.post(
                "/runs/log-metric",
                json={
                    "run_id": run_id,
                    "key": "loss",
                    "value": abs(values[step]),
                    "timestamp": step + 1,
                    "step": step,
                },
            )
        rest.post("/runs/update", json={"run_id": run_id, "status": "FINISHED", "end_time": 10})

    thread = threading.Thread(target=log)
    thread.start()
    page.wait_for_function(
        "() => document.querySelector('[data-key=loss] [data-testid=chart-canvas]')"
        ".uplot?.data[0].at(-1) === 4",
        timeout=8000,
    )
    page.get_by_test_id("status").filter(has_text="FINISHED").wait_for(timeout=8000)
    thread.join()
    rest.close()
    assert canvas.get_attribute("data-points") == "5"
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
