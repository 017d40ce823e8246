"""Trace pages (list with search, span tree and timeline, inputs/outputs, attributes) and
registry pages (registered models, a model's versions with stages and aliases, a version's links
to its source run and logged model), in a real browser over data written with plain REST."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from tests.ui.conftest import UiServer, browser_module, shoot
from tests.ui.data import RunPage

pytestmark = browser_module(__name__)


def _b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def _span(trace: str, span: str, parent: str, name: str, start: int, end: int, io: Any) -> Any:
    attributes = {
        "mlflow.spanInputs": json.dumps(io[0]),
        "mlflow.spanOutputs": json.dumps(io[1]),
        "mlflow.spanType": json.dumps("CHAIN"),
        "temperature": "0.5",
    }
    out = {
        "trace_id": _b64(trace),
        "span_id": _b64(span),
        "name": name,
        "start_time_unix_nano": str(start),
        "end_time_unix_nano": str(end),
        "attributes": [{"key": k, "value": {"string_value": v}} for k, v in attributes.items()],
        "status": {"code": "STATUS_CODE_OK"},
    }
    if parent:
        out["parent_span_id"] = _b64(parent)
    return out


def _trace(
    http: httpx.Client, experiment_id: str, hex_id: str, topic: str, request: str = '{"q": "hi"}'
) -> str:
    t0 = 1_700_000_000 * 10**9
    spans = [
        _span(hex_id, "1" * 16, "", "agent", t0, t0 + 500_000_000, ({"q": "hi"}, "hello")),
        _span(hex_id, "2" * 16, "1" * 16, "retrieve", t0 + 10**7, t0 + 10**8, ("hi", ["doc"])),
        _span(hex_id, "3" * 16, "1" * 16, "llm", t0 + 2 * 10**8, t0 + 4 * 10**8, ("p", "hello")),
    ]
    info = {
        "trace_id": "tr-" + hex_id,
        "trace_location": {
            "type": "MLFLOW_EXPERIMENT",
            "mlflow_experiment": {"experiment_id": experiment_id},
        },
        "request_time": "2026-01-01T00:00:00Z",
        "execution_duration": "0.5s",
        "state": "OK",
        "request_preview": request,
        "response_preview": '"hello"',
        "tags": {"topic": topic},
    }
    response = http.post(
        "/api/3.0/mlflow/traces", json={"trace": {"trace_info": info, "spans": spans}}
    )
    assert response.status_code == 200, response.text
    return "tr-" + hex_id


def test_traces_list_search_and_span_tree(page: Any, ui_server: UiServer) -> None:
    http = httpx.Client(base_url=ui_server.url)
    experiment_id = http.post(
        "/api/2.0/mlflow/experiments/create", json={"name": "ui-traces"}
    ).json()["experiment_id"]
    greet = _trace(http, experiment_id, "a" * 32, "greet")
    _trace(http, experiment_id, "b" * 32, "other")
    http.close()
    page.goto(f"{ui_server.url}/#/experiments/{experiment_id}/traces")
    page.get_by_test_id("trace-row").nth(1).wait_for()
    page.get_by_test_id("traces-filter").fill("tags.topic = 'greet'")
    page.get_by_test_id("traces-filter").press("Enter")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=trace-row]').length === 1"
    )
    assert page.get_by_test_id("trace-row").get_attribute("data-trace-id") == greet
    shoot(page, "traces")
    page.get_by_test_id("trace-row").get_by_role("link").click()
    page.get_by_test_id("span-row").nth(2).wait_for()
    tree = page.get_by_test_id("span-row").evaluate_all(
        "rows => rows.map(r => [r.dataset.name, Number(r.dataset.depth)])"
    )
    assert tree == [["agent", 0], ["retrieve", 1], ["llm", 1]]
    bars = page.get_by_test_id("span-bar").evaluate_all(
        "bars => bars.map(b => [parseFloat(b.style.left), parseFloat(b.style.width)])"
    )
    assert [round(left) for left, _ in bars] == [0, 2, 40]  # starts at 0, 10 and 200 of 500 ms
    assert round(bars[2][1]) == 40
    assert json.loads(page.get_by_test_id("span-inputs").text_content()) == {"q": "hi"}
    page.get_by_test_id("span-row").nth(1).click()
    assert json.loads(page.get_by_test_id("span-outputs").text_content()) == ["doc"]
    attributes = page.get_by_test_id("span-attributes").text_content()
    assert "temperature" in attributes
    assert "mlflow.spanInputs" not in attributes
    shoot(page, "trace")


def test_trace_previews_are_single_line_cells(page: Any, ui_server: UiServer) -> None:
    # A long, multi-line request (pretty-printed JSON) stays one truncated line in its row.
    http = httpx.Client(base_url=ui_server.url)
    experiment_id = http.post(
        "/api/2.0/mlflow/experiments/create", json={"name": "ui-trace-previews"}
    ).json()["experiment_id"]
    long_request = json.dumps({"messages": [{"role": "user", "content": "x" * 80}] * 12}, indent=2)
    _trace(http, experiment_id, "c" * 32, "long", request=long_request)
    _trace(http, experiment_id, "d" * 32, "short")
    http.close()
    page.goto(f"{ui_server.url}/#/experiments/{experiment_id}/traces")
    page.get_by_test_id("trace-row").nth(1).wait_for()
    cells = page.get_by_test_id("trace-row").evaluate_all(
        """rows => rows.map(row => {
          const cell = row.querySelector('[data-testid=trace-request]');
          const text = cell.firstElementChild;
          const style = getComputedStyle(cell);
          return {
            row: row.getBoundingClientRect().height,
            cell: cell.getBoundingClientRect().height,
            text: text.getBoundingClientRect().height,
            line: parseFloat(getComputedStyle(text).lineHeight) || 20,
            truncated: text.scrollWidth > text.clientWidth,
            border: style.borderTopWidth + " " + style.borderLeftWidth,
            title: cell.title,
            id: row.dataset.traceId,
          };
        })"""
    )
    assert len(cells) == 2
    for cell in cells:
        assert cell["cell"] <= cell["row"]
        assert cell["text"] <= cell["line"] + 1  # one line of text
        assert cell["border"] == "0px 0px"  # no box drawn around it
    by_id = {cell["id"]: cell for cell in cells}
    long_cell, short_cell = by_id["tr-" + "c" * 32], by_id["tr-" + "d" * 32]
    # the whole preview in the title (the server may cut a long preview, not this short)
    assert len(long_cell["title"]) > 500
    assert long_cell["title"][:500] == long_request[:500]
    assert long_cell["truncated"]
    assert not short_cell["truncated"]
    # the long text makes its row no taller (give or take the 1px border the last row lacks)
    assert abs(long_cell["row"] - short_cell["row"]) <= 1


def test_registry_models_versions_and_links(
    page: Any, ui_server: UiServer, run_page_data: RunPage
) -> None:
    http = httpx.Client(base_url=ui_server.url + "/api/2.0/mlflow")
    name = "ui-registry-model"
    http.post("/registered-models/create", json={"name": name, "description": "the best"})
    http.post("/registered-models/set-tag", json={"name": name, "key": "team", "value": "ui"})
    model_id = http.post(
        "/logged-models",
        json={
            "experiment_id": run_page_data.experiment_id,
            "name": "m",
            "source_run_id": run_page_data.hist,
        },
    ).json()["model"]["info"]["model_id"]
    for _ in range(2):
        response = http.post(
            "/model-versions/create",
            json={
                "name": name,
                "source": f"models:/{model_id}",
                "run_id": run_page_data.hist,
                "model_id": model_id,
            },
        )
        assert response.status_code == 200, response.text
    http.post(
        "/model-versions/transition-stage",
        json={
            "name": name,
            "version": "1",
            "stage": "Production",
            "archive_existing_versions": False,
        },
    )
    http.post("/registered-models/alias", json={"name": name, "alias": "champion", "version": "2"})
    http.close()
    page.goto(f"{ui_server.url}/#/models")
    page.locator(f"[data-testid=registered-model][data-name='{name}']").wait_for()
    shoot(page, "registry")
    page.locator(f"[data-testid=registered-model][data-name='{name}'] a").first.click()
    page.get_by_test_id("model-version").nth(1).wait_for()
    assert page.get_by_test_id("model-description").text_content() == "the best"
    stages = page.get_by_test_id("model-version").evaluate_all(
        "rows => rows.map(r => [r.dataset.version,"
        " r.querySelector('[data-testid=stage]').textContent,"
        " [...r.querySelectorAll('[data-testid=alias]')].map(a => a.textContent)])"
    )
    assert stages == [["2", "None", ["@champion"]], ["1", "Production", []]]
    assert "team" in page.get_by_test_id("model-tags").text_content()
    shoot(page, "registered-model")
    page.get_by_role("link", name="Version 2").click()
    page.get_by_test_id("source-run").wait_for()
    assert page.get_by_test_id("source-run").text_content() == run_page_data.hist
    page.get_by_test_id("logged-model").click()
    page.wait_for_function(f"() => location.hash.endsWith('/models/{model_id}')")
