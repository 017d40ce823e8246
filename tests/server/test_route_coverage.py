"""Issue 18 item 3: every route of MLflow 3.17.2's server is served by tracklet or listed, with
its reason, in docs/ROUTES-NOT-SERVED.md (and nothing listed there is served)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tracklet.server.app import all_routes

DOC = Path(__file__).resolve().parents[2] / "docs" / "ROUTES-NOT-SERVED.md"
_ROW = re.compile(r"^\| `([A-Z]+)` \| `([^`]+)` \| (.+) \|$")


def _normal(path: str) -> str:
    """Flask's ``<type:name>`` and Starlette's ``{name:type}`` both become ``{}``."""
    return re.sub(r"<[^>]*>", "{}", re.sub(r"\{[^}]*\}", "{}", path))


_LIST_MLFLOW_ROUTES = """
import json
from mlflow.server import app
print(json.dumps([[m, r.rule] for r in app.url_map.iter_rules() for m in r.methods or ()]))
"""


def _mlflow_routes() -> set[tuple[str, str]]:
    """MLflow's route table, read in a fresh interpreter: tests in this process may have
    imported parts of MLflow (its auth app, say) that add routes to its Flask app."""
    listed = subprocess.run(
        [sys.executable, "-c", _LIST_MLFLOW_ROUTES],
        capture_output=True,
        text=True,
        check=True,
        timeout=240,
    )
    return {
        (method, _normal(rule))
        for method, rule in json.loads(listed.stdout.strip().splitlines()[-1])
        if method not in ("HEAD", "OPTIONS")
    }


def _served() -> set[tuple[str, str]]:
    return {
        (method, _normal(route.path))
        for route in all_routes()
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    }


def _listed() -> dict[tuple[str, str], str]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if match := _ROW.match(line):
            method, path, why = match.groups()
            rows[(method, path)] = why.strip()
    return rows


def test_every_mlflow_route_is_served_or_listed_with_a_reason() -> None:
    mlflow_routes, served, listed = _mlflow_routes(), _served(), _listed()
    assert len(mlflow_routes) > 300  # the table was read
    unaccounted = sorted(mlflow_routes - served - set(listed))
    assert not unaccounted, f"serve these or list them in {DOC.name}: {unaccounted}"
    assert not sorted(set(listed) & served), "served routes are still listed as not served"
    assert not sorted(set(listed) - mlflow_routes), "listed routes MLflow does not have"
    assert all(len(why) > 20 for why in listed.values())


def test_the_routes_issue_18_names_are_served() -> None:
    served = _served()
    for route in [
        ("GET", "/api/2.0/mlflow/logged-models/{}/artifacts/directories"),
        ("GET", "/ajax-api/2.0/mlflow/logged-models/{}/artifacts/directories"),
        ("GET", "/ajax-api/2.0/mlflow/logged-models/{}/artifacts/files"),
    ]:
        assert route in served, route
