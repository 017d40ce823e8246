"""Browser tests of the web UI: one headless Chromium per session (Debian's /usr/bin/chromium,
never a downloaded browser), one tracklet server per session (uvicorn in a thread, on a fresh
SQLite store), a fresh page per test that fails the test on any console error, page error or
unexpected 4xx/5xx response. ``shoot`` saves light and dark screenshots to tests/ui/screenshots/.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from tests.ui.data import RunPage, Runs, many_runs, run_page

from tracklet.server.app import create_app
from tracklet.server.fast_rpc import FastRpcProtocol
from tracklet.server.settings import ServerSettings

CHROMIUM = os.environ.get("TRACKLET_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"


def browser_module(name: str) -> pytest.MarkDecorator:
    """The mark of a browser test module: its tests run in a row on one xdist worker (see
    ``browser``); different modules may run on the two workers at once."""
    return pytest.mark.xdist_group("ui_browser_" + name.rsplit(".", 1)[-1])


@dataclass
class UiServer:
    url: str
    root: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(root: Path, **overrides: Any) -> tuple[UiServer, Callable[[], None]]:
    """``tracklet server`` on a free loopback port in a thread; returns it and its stopper."""
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{root / 'server.db'}",
        artifacts_destination=str(root / "mlartifacts"),
        **overrides,
    )
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        http=FastRpcProtocol,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    prefix = settings.static_prefix.rstrip("/")
    url = f"http://127.0.0.1:{port}{prefix}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)

    return UiServer(url, root), stop


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    server, stop = start_server(tmp_path_factory.mktemp("ui-server"))
    yield server
    stop()


@pytest.fixture(scope="session")
def runs_data(ui_server: UiServer) -> Runs:
    return many_runs(ui_server.url)


@pytest.fixture(scope="session")
def run_page_data(ui_server: UiServer) -> RunPage:
    return run_page(ui_server.url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one module. Playwright's sync API keeps its event loop marked running on
    the thread, which breaks asyncio.run in later tests of the worker; so browser modules carry
    ``pytestmark = browser_module(__name__)`` (one xdist worker runs a module's tests in a row)
    and the loop ends with the module."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


@dataclass
class Watch:
    """What a page did wrong: console errors, page errors, failed responses."""

    problems: list[str] = field(default_factory=list)
    allowed_status: set[int] = field(default_factory=set)
    allowed_console: list[str] = field(default_factory=list)


def watch(page: Any, seen: Watch) -> None:
    def on_console(message: Any) -> None:
        expected = any(
            f"status of {status} " in message.text for status in seen.allowed_status
        ) or any(text in message.text for text in seen.allowed_console)
        # (Chromium logs every failed load; an allowed status is not an error)
        if message.type == "error" and not expected:
            seen.problems.append(f"console error: {message.text}")

    def on_response(response: Any) -> None:
        if response.status >= 400 and response.status not in seen.allowed_status:
            seen.problems.append(f"{response.status} {response.request.method} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.problems.append(f"page error: {error}"))
    page.on("response", on_response)
    page.on("dialog", lambda dialog: seen.problems.append(f"dialog opened: {dialog.message}"))


@pytest.fixture
def page_watch() -> Watch:
    return Watch()


@pytest.fixture
def page(browser: Any, page_watch: Watch) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme="light")
    opened = context.new_page()
    watch(opened, page_watch)
    yield opened
    context.close()
    assert page_watch.problems == [], page_watch.problems


def shoot(page: Any, name: str) -> None:
    """Screenshots of the page as it is, in light and in dark (the theme follows the OS)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    # A full-page capture draws the fixed top bar where the window is scrolled to, over the
    # page's middle: capture from the top, then give the test its scroll position back.
    scrolled = page.evaluate("window.scrollY")
    page.evaluate("window.scrollTo(0, 0)")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.wait_for_timeout(50)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{scheme}.png"), full_page=True)
    page.emulate_media(color_scheme="light")
    page.evaluate(f"window.scrollTo(0, {scrolled})")
