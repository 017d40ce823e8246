"""``tracklet server`` moves what it built at start-up out of the cyclic collector's sight
(``gc.freeze``), so a full collection while serving traverses only what requests made since;
apps that tests build do not."""

from __future__ import annotations

import gc
import subprocess
import sys
import warnings
from pathlib import Path

from tracklet.server.app import create_app
from tracklet.server.config import TrackletUvicornConfig
from tracklet.server.settings import ServerSettings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def test_the_started_server_freezes_what_it_built(settings: ServerSettings) -> None:
    gc.unfreeze()
    try:
        with TestClient(create_app(settings), base_url="http://localhost") as client:
            assert client.get("/health").status_code == 200
            assert gc.get_freeze_count() == 0  # a test's app: nothing frozen
        with TestClient(create_app(settings, freeze_gc=True), base_url="http://localhost") as c:
            frozen = gc.get_freeze_count()
            # The modules, the store and the routes: tens of thousands of objects at least.
            assert frozen > 10_000
            assert c.get("/health").status_code == 200
    finally:
        gc.unfreeze()


def test_tracklet_server_builds_its_app_freezing(settings: ServerSettings) -> None:
    config = TrackletUvicornConfig(settings, host="127.0.0.1", port=0)
    config.load()
    gc.unfreeze()
    try:
        app = config.loaded_app
        while not hasattr(app, "router"):  # uvicorn's wrappers (proxy headers) around it
            app = app.app
        with TestClient(app, base_url="http://localhost") as client:
            assert client.get("/health").status_code == 200
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


_STARTS_A_SERVER = """
import sys, warnings
from tracklet.server.app import create_app
from tracklet.server.settings import ServerSettings
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient
settings = ServerSettings(
    backend_store_uri="sqlite:///" + sys.argv[1] + "/t.db", artifacts_destination=sys.argv[1] + "/a"
)
app = create_app(settings, freeze_gc=sys.argv[2] == "1")
with TestClient(app, base_url="http://localhost") as c:
    assert c.get("/health").status_code == 200
    print("numpy" in sys.modules)
"""


def test_the_started_server_imports_the_charts_numpy_path_before_serving(tmp_path: Path) -> None:
    # In a fresh interpreter: this process has imported numpy long ago.
    def numpy_loaded(freeze: str) -> str:
        args = [sys.executable, "-c", _STARTS_A_SERVER, str(tmp_path), freeze]
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()

    assert numpy_loaded("1") == "True"  # tracklet server: the first chart pays no import
    assert numpy_loaded("0") == "False"  # an app a test builds stays light
