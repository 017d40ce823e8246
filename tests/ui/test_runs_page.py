"""The runs table in a real browser (UI.md §5.2 checks 3-10 and the keyboard part of 24), on a
small D1 (150 runs, 5 parents with 4 children each, 2 running)."""

from __future__ import annotations

from typing import Any

import httpx
from tests.ui.conftest import UiServer, Watch, browser_module, shoot
from tests.ui.data import Runs

pytestmark = browser_module(__name__)


def _rest_ids(server: UiServer, experiment_id: str, filter_string: str = "") -> list[str]:
    ids: list[str] = []
    token = None
    while True:
        body = {"experiment_ids": [experiment_id], "filter": filter_string, "max_results": 1000}
        if token:
            body["page_token"] = token
        page = httpx.post(f"{server.url}/api/2.0/mlflow/runs/search", json=body).json()
        ids += [r["info"]["run_id"] for r in page.get("runs", [])]
        token = page.get("next_page_token")
        if not token:
            return ids


def _open(page: Any, server: UiServer, runs: Runs, query: str = "") -> None:
    page.goto(f"{server.url}/#/experiments/{runs.experiment_id}{query}")
    page.get_by_test_id("run-row").first.wait_for()
    _settled(page)


def _settled(page: Any) -> None:
    """Waits until the table holds every run of the current query."""
    page.wait_for_selector(".grid-wrap:not([data-loading])")


def _shown_ids(page: Any) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(
        "[data-testid=run-row]",
        "rows => rows.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))"
        ".map(r => r.dataset.runId)",
    )
    return ids


def test_every_row_reachable_by_scrolling(page: Any, ui_server: UiServer, runs_data: Runs) -> None:
    searches: list[Any] = []
    page.on("request", lambda r: "search-columns" in r.url and searches.append(r.post_data_json))
    _open(page, ui_server, runs_data)
    # index.html's bootstrap asked for the first page (all 150 runs); the table took it over.
    assert searches == [
        {"experiment_ids": [runs_data.experiment_id], "filter": "", "order_by": [],
         "max_results": 200}
    ]  # fmt: skip
    top_level = [
        r for r in runs_data.run_ids if not any(r in c for c in runs_data.parents.values())
    ]
    assert page.get_by_test_id("run-count").text_content() == f"{len(runs_data.run_ids)} runs"
    # Newest first (MLflow's default order); children sit under their (collapsed) parents.
    assert _shown_ids(page)[0] == top_level[-1]
    assert page.locator("[role=row]").count() < 200
    shoot(page, "runs")
    page.get_by_test_id("runs-grid").evaluate("el => el.scrollTop = el.scrollHeight")
    page.wait_for_function(
        "id => !!document.querySelector(`[data-run-id='${id}']`)", arg=top_level[0]
    )
    assert page.locator("[role=row]").count() < 200


def test_filter_matches_rest_and_survives_reload(
    page: Any, ui_server: UiServer, runs_data: Runs
) -> None:
    _open(page, ui_server, runs_data)
    page.get_by_test_id("filter").fill("metrics.m0 > 0.9")
    page.get_by_test_id("filter").press("Enter")
    expected = _rest_ids(ui_server, runs_data.experiment_id, "metrics.m0 > 0.9")
    count = page.get_by_test_id("run-count")
    count.filter(has_text=f"{len(expected)} runs").wait_for()
    assert "filter=metrics.m0" in page.url
    assert set(_shown_ids(page)) >= set(expected) - {
        c for kids in runs_data.parents.values() for c in kids
    }
    page.reload()
    count.filter(has_text=f"{len(expected)} runs").wait_for()
    assert page.get_by_test_id("filter").input_value() == "metrics.m0 > 0.9"


def test_filter_error_inline_and_rows_kept(
    page: Any, page_watch: Watch, ui_server: UiServer, runs_data: Runs
) -> None:
    page_watch.allowed_status.add(400)  # the bad filter's answer; a 5xx would still fail
    _open(page, ui_server, runs_data)
    before = _shown_ids(page)
    page_problems = []
    page.on("response", lambda r: r.status >= 500 and page_problems.append(r.url))
    reference = httpx.post(
        f"{ui_server.url}/api/2.0/mlflow/runs/search",
        json={"experiment_ids": [runs_data.experiment_id], "filter": "metrics.m0 >> 1"},
    ).json()["message"]
    page.get_by_test_id("filter").fill("metrics.m0 >> 1")
    page.get_by_test_id("filter").press("Enter")
    error = page.get_by_test_id("filter-error")
    error.wait_for()
    assert reference in error.text_content()
    assert _shown_ids(page)[:10] == before[:10]
    assert page_problems == []


def test_autocomplete_offers_keys_and_tab_inserts(
    page: Any, ui_server: UiServer, runs_data: Runs
) -> None:
    _open(page, ui_server, runs_data)
    box = page.get_by_test_id("filter")
    suggestions = page.get_by_test_id("suggestions").get_by_role("option")
    for prefix, expected in [
        ("metrics.", ["m0", "m1", "m2", "m3", "m4"]),
        ("params.", ["p0", "p1", "p2", "p3", "p4"]),
    ]:
        box.fill("")
        box.type(prefix)
        page.get_by_test_id("suggestions").wait_for()
        assert suggestions.all_text_contents() == expected
    box.fill("")
    box.type("tags.")
    page.get_by_test_id("suggestions").wait_for()
    tags = suggestions.all_text_contents()
    assert {"t0", "t1", "t2", "mlflow.runName", "mlflow.parentRunId"} == set(tags)
    box.fill("")
    box.type("metrics.m")
    box.press("ArrowDown")
    box.press("Tab")
    assert box.input_value() == "metrics.m1"


def test_sort_by_metric_header(page: Any, ui_server: UiServer, runs_data: Runs) -> None:
    _open(page, ui_server, runs_data, "?cols=metrics.m1")
    page.locator(".grid-head [data-column='metrics.m1']").click()
    page.wait_for_function("() => location.hash.includes('order=metrics.m1%20DESC')")
    page.wait_for_function(
        "() => document.querySelector('.grid-head [data-column=\"metrics.m1\"]')"
        ".getAttribute('aria-sort') === 'descending'"
    )
    response = httpx.post(
        f"{ui_server.url}/api/2.0/mlflow/runs/search",
        json={
            "experiment_ids": [runs_data.experiment_id],
            "order_by": ["metrics.m1 DESC"],
            "max_results": 1000,
        },
    ).json()["runs"]
    # Children sit under their parents, so row 1 is the best run that is not a child.
    children = {c for kids in runs_data.parents.values() for c in kids}
    response = [r for r in response if r["info"]["run_id"] not in children]
    best = next(m["value"] for m in response[0]["data"]["metrics"] if m["key"] == "m1")
    page.wait_for_function(
        "id => document.querySelector('[data-testid=run-row]') && "
        "[...document.querySelectorAll('[data-testid=run-row]')]"
        ".sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))"
        "[0].dataset.runId === id",
        arg=response[0]["info"]["run_id"],
    )
    values = page.eval_on_selector_all(
        "[data-testid=run-row]",
        "rows => rows.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))"
        ".slice(0, 2).map(r => r.querySelector('[data-column=\"metrics.m1\"]').title)",
    )
    assert float(values[0]) == best
    assert float(values[1]) <= float(values[0])


def test_columns_filter_sort_shared_by_url(
    browser: Any, page: Any, ui_server: UiServer, runs_data: Runs
) -> None:
    _open(page, ui_server, runs_data)
    page.get_by_test_id("columns-button").click()
    picker = page.get_by_test_id("column-picker")
    picker.locator("[data-column='params.p3']").uncheck()
    picker.locator("[data-column='tags.t2']").check()
    page.get_by_test_id("columns-button").click()
    page.get_by_test_id("filter").fill("params.p0 = 'v1'")
    page.get_by_test_id("filter").press("Enter")
    page.locator(".grid-head [data-column='metrics.m2']").click()
    page.wait_for_function("() => location.hash.includes('order=')")
    _settled(page)
    url = page.url
    first = _shown_ids(page)[0]
    headers = page.eval_on_selector_all(
        ".grid-head [data-column]", "h => h.map(e => e.dataset.column)"
    )
    assert "params.p3" not in headers
    assert "tags.t2" in headers
    fresh = browser.new_context()
    other = fresh.new_page()
    other.goto(url)
    other.get_by_test_id("run-row").first.wait_for()
    _settled(other)
    assert (
        other.eval_on_selector_all(".grid-head [data-column]", "h => h.map(e => e.dataset.column)")
        == headers
    )
    assert other.get_by_test_id("filter").input_value() == "params.p0 = 'v1'"
    assert _shown_ids(other)[0] == first
    fresh.close()


def test_group_by_param(page: Any, ui_server: UiServer, runs_data: Runs) -> None:
    _open(page, ui_server, runs_data, "?group=params.p0")
    groups = page.get_by_test_id("group-row")
    groups.first.wait_for()
    shoot(page, "runs-grouped")
    # Groups are windowed like runs: collapse each in turn to bring the next to the top.
    for i in range(3):
        groups.nth(i).click()
        page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=group-row]').length >= n", arg=i + 1
        )
    values = groups.evaluate_all("g => g.map(e => [e.dataset.value, Number(e.dataset.count)])")
    assert [v for v, _ in values] == ["v0", "v1", "v2"]
    assert sum(c for _, c in values) == len(runs_data.run_ids)
    assert page.get_by_test_id("run-row").count() == 0
    groups.first.click()  # expand v0 again: its runs come back under it
    page.wait_for_function(
        "() => document.querySelector('[data-testid=run-row]')?.style.top === '32px'"
    )


def test_nested_runs_expand_and_child_match(
    page: Any, ui_server: UiServer, runs_data: Runs
) -> None:
    parent, children = next(iter(runs_data.parents.items()))
    _open(page, ui_server, runs_data, "?order=attributes.start_time%20ASC")
    row = page.locator(f"[data-run-id='{parent}']")
    row.get_by_test_id("expander").click()
    for child in children:
        assert page.locator(f"[data-run-id='{child}']").get_attribute("data-depth") == "1"
    shoot(page, "runs-nested")
    child = children[1]
    name = f"run-{runs_data.run_ids.index(child):04d}"
    page.get_by_test_id("filter").fill(f"attributes.run_name = '{name}'")
    page.get_by_test_id("filter").press("Enter")
    page.get_by_test_id("run-count").filter(has_text="1 run").wait_for()
    page.locator(f"[data-run-id='{child}'][data-depth='1']").wait_for()
    assert _shown_ids(page) == [parent, child]


def test_keyboard_moves_focus_and_opens_run(
    page: Any, ui_server: UiServer, runs_data: Runs
) -> None:
    _open(page, ui_server, runs_data)
    first, second = _shown_ids(page)[:2]
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("j")
    assert page.locator(".grid-row.focused").get_attribute("data-run-id") == second
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => location.hash.endsWith('/runs/{second}')")
    page.keyboard.press("?")
    page.get_by_test_id("shortcuts").wait_for()
    page.keyboard.press("Escape")
    page.get_by_test_id("shortcuts").wait_for(state="detached")
    assert first != second


def test_paged_loading_reaches_every_row_then_nests(
    page: Any, ui_server: UiServer, runs_data: Runs
) -> None:
    """First rows from a 10-run page, the total and the rest from windows of the server's
    snapshot (the same rows a 10k-run experiment loads 200 at a time); once every row is in,
    the nested tree as with one request."""
    page.add_init_script("localStorage.setItem('tracklet.runsPage', '10')")
    windows: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: "search-columns" in r.url and windows.append(r.post_data_json or {}),
    )
    _open(page, ui_server, runs_data)
    top_level = [
        r for r in runs_data.run_ids if not any(r in c for c in runs_data.parents.values())
    ]
    assert page.get_by_test_id("run-count").text_content() == f"{len(runs_data.run_ids)} runs"
    assert _shown_ids(page)[0] == top_level[-1]
    # (index.html's bootstrap asks for the default 200 at once; the 10-run page is another key)
    windows = [w for w in windows if w.get("max_results") != 200]
    assert windows[0]["max_results"] == 10
    offsets = [w["window"]["offset"] for w in windows if "window" in w]
    assert offsets[0] == 10
    assert len({w.get("snapshot") for w in windows if "window" in w} - {None}) == 1
    page.get_by_test_id("runs-grid").evaluate("el => el.scrollTop = el.scrollHeight")
    page.wait_for_function(
        "id => !!document.querySelector(`[data-run-id='${id}']`)", arg=top_level[0]
    )
    parent = next(iter(runs_data.parents))
    assert page.locator(f"[data-run-id='{parent}'] [data-testid=expander]").count() == 1


def test_pin_and_hide_persist_per_experiment(
    page: Any, ui_server: UiServer, runs_data: Runs
) -> None:
    _open(page, ui_server, runs_data)
    third = _shown_ids(page)[2]
    row = page.locator(f"[data-run-id='{third}']")
    row.get_by_test_id("pin-run").click()
    page.wait_for_function(
        f"() => document.querySelector('[data-pinned]')?.dataset.runId === '{third}'"
    )
    assert _shown_ids(page)[0] == third
    assert _shown_ids(page).count(third) == 1
    page.locator(f"[data-run-id='{third}']").get_by_test_id("hide-run").click()
    page.reload()
    page.get_by_test_id("run-row").first.wait_for()
    _settled(page)
    first = page.locator("[data-testid=run-row]").first
    assert _shown_ids(page)[0] == third
    assert first.get_attribute("data-pinned") == "1"
    assert first.get_attribute("data-hidden") == "1"
    stored = page.evaluate(f"localStorage.getItem('tracklet.runMarks.{runs_data.experiment_id}')")
    assert stored == f'{{"pinned":["{third}"],"hidden":["{third}"]}}'
    page.locator(f"[data-run-id='{third}']").get_by_test_id("pin-run").click()
    page.locator(f"[data-run-id='{third}']").get_by_test_id("hide-run").click()
    assert (
        page.evaluate(f"localStorage.getItem('tracklet.runMarks.{runs_data.experiment_id}')")
        is None
    )


def test_runs_of_several_experiments_with_non_finite_metrics(
    page: Any, ui_server: UiServer
) -> None:
    http = httpx.Client(base_url=f"{ui_server.url}/api/2.0/mlflow")
    experiments, runs = [], {}
    for name, value in (("ui-multi-a", "NaN"), ("ui-multi-b", "-Infinity")):
        experiment_id = http.post("/experiments/create", json={"name": name}).json()[
            "experiment_id"
        ]
        run_id = http.post("/runs/create", json={"experiment_id": experiment_id}).json()["run"][
            "info"
        ]["run_id"]
        metric = {"key": "score", "value": value, "timestamp": 1, "step": 0}
        http.post("/runs/log-batch", json={"run_id": run_id, "metrics": [metric]})
        experiments.append(experiment_id)
        runs[run_id] = name
    http.close()
    page.goto(f"{ui_server.url}/#/experiments")
    for experiment_id in experiments:
        page.locator(f"[data-testid=experiment-row][data-id='{experiment_id}'] input").check()
    page.get_by_test_id("compare-experiments").click()
    page.get_by_test_id("compare-experiments-page").wait_for()
    _settled(page)
    assert page.get_by_test_id("run-count").text_content() == "2 runs"
    cells = page.get_by_test_id("run-row").evaluate_all(
        "rows => rows.map(r => [r.dataset.runId,"
        " r.querySelector('[data-column=experiment]').textContent,"
        " r.querySelector('[data-column=\"metrics.score\"]').textContent])"
    )
    assert sorted(cells) == sorted(
        [rid, name, "NaN" if name.endswith("a") else "-Inf"] for rid, name in runs.items()
    )
    shoot(page, "runs-multi")
