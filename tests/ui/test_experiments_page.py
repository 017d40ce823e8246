"""The experiments page in a real browser (UI.md §5.2 check 11, parts of 24)."""

from __future__ import annotations

import urllib.parse
from typing import Any

import httpx
import pytest
from tests.ui.conftest import UiServer, browser_module, shoot, start_server

pytestmark = browser_module(__name__)


def _rest(server: UiServer, name: str, view_type: str = "ALL") -> list[dict[str, Any]]:
    response = httpx.post(
        f"{server.url}/api/2.0/mlflow/experiments/search",
        json={"max_results": 1000, "view_type": view_type, "filter": f"name = '{name}'"},
    )
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json().get("experiments", [])
    return found


def test_create_rename_delete_restore(page: Any, ui_server: UiServer) -> None:
    page.goto(ui_server.url + "/")
    page.get_by_test_id("experiments-table").wait_for()
    assert page.get_by_test_id("experiment-name").filter(has_text="Default").count() == 1

    page.get_by_test_id("create-experiment").click()
    page.get_by_test_id("name-input").fill("ui-e2e")
    page.get_by_test_id("save").click()
    row = page.get_by_test_id("experiment-row").filter(has_text="ui-e2e")
    row.wait_for()
    [created] = _rest(ui_server, "ui-e2e")
    assert created["lifecycle_stage"] == "active"
    assert row.get_attribute("data-id") == created["experiment_id"]
    shoot(page, "experiments")

    row.get_by_test_id("rename").click()
    page.get_by_test_id("name-input").fill("ui-e2e-2")
    page.get_by_test_id("save").click()
    renamed = page.get_by_test_id("experiment-row").filter(has_text="ui-e2e-2")
    renamed.wait_for()
    assert _rest(ui_server, "ui-e2e") == []
    assert [e["experiment_id"] for e in _rest(ui_server, "ui-e2e-2")] == [created["experiment_id"]]

    renamed.get_by_test_id("delete").click()
    renamed.wait_for(state="detached")
    assert _rest(ui_server, "ui-e2e-2", "ACTIVE_ONLY") == []
    assert (
        _rest(ui_server, "ui-e2e-2", "DELETED_ONLY")[0]["experiment_id"] == created["experiment_id"]
    )

    page.get_by_test_id("show-deleted").check()
    assert "deleted=1" in page.url
    deleted = page.get_by_test_id("experiment-row").filter(has_text="ui-e2e-2")
    deleted.get_by_test_id("restore").click()
    deleted.get_by_test_id("delete").wait_for()
    assert _rest(ui_server, "ui-e2e-2", "ACTIVE_ONLY")[0]["lifecycle_stage"] == "active"


def test_search_box_filters_by_name(page: Any, ui_server: UiServer) -> None:
    for name in ("ui-search-alpha", "ui-search-beta"):
        httpx.post(f"{ui_server.url}/api/2.0/mlflow/experiments/create", json={"name": name})
    page.goto(ui_server.url + "/#/experiments")
    page.get_by_test_id("experiments-table").wait_for()
    page.keyboard.press("/")  # focuses the search box
    page.keyboard.type("search-al")
    rows = page.get_by_test_id("experiment-name")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=experiment-name]')]"
        ".map(e => e.textContent).join() === 'ui-search-alpha'"
    )
    assert rows.all_text_contents() == ["ui-search-alpha"]
    assert "q=search-al" in page.url


def test_theme_dark_by_os_and_light_choice_persists(browser: Any, ui_server: UiServer) -> None:
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(ui_server.url + "/#/settings")
    page.get_by_test_id("settings-page").wait_for()
    luminance = page.evaluate(
        """() => {
        const [r, g, b] = getComputedStyle(document.body).backgroundColor
            .match(/\\d+/g).slice(0, 3).map(v => {
                const c = Number(v) / 255;
                return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
            });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    }"""
    )
    assert luminance < 0.15
    shoot(page, "settings")
    page.get_by_test_id("theme-light").check()
    page.reload()
    page.get_by_test_id("settings-page").wait_for()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    assert page.get_by_test_id("theme-light").is_checked()
    context.close()
    assert problems == []


def test_static_prefix_every_request_under_it(
    page: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    server, stop = start_server(tmp_path_factory.mktemp("ui-prefix"), static_prefix="/tl")
    try:
        assert server.url.endswith("/tl")
        paths: list[str] = []
        page.on("request", lambda r: paths.append(urllib.parse.urlparse(r.url).path))
        page.goto(server.url + "/")
        page.get_by_test_id("experiment-name").filter(has_text="Default").wait_for()
        page.get_by_test_id("experiment-name").first.click()
        page.get_by_test_id("run-count").filter(has_text="0 runs").wait_for()
        assert paths
        assert all(path.startswith("/tl/") for path in paths), paths
    finally:
        page.goto("about:blank")  # close the page's event stream before its server stops
        stop()
