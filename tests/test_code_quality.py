"""The project's own checks run as part of the test command: ruff, mypy --strict, import layers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    assert found, f"{name} is not installed (it is in the dev extra)"
    return found


def _run(*command: str) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_lint() -> None:
    _run(_tool("ruff"), "check", "src", "tests", "bench")


def test_ruff_format() -> None:
    _run(_tool("ruff"), "format", "--check", "src", "tests", "bench")


@pytest.mark.slow
def test_mypy_strict() -> None:
    _run(_tool("mypy"))


def test_import_layers() -> None:
    _run(_tool("lint-imports"), "--no-cache")


def test_web_ui_is_not_python() -> None:
    # The web UI reads the server's JSON API only (ARCHITECTURE.md): its sources (ui/) and its
    # built assets (server/ui_assets/, package data) hold no Python that could import tracklet.
    for folder in (ROOT / "ui", ROOT / "src" / "tracklet" / "server" / "ui_assets"):
        assert not sorted(folder.rglob("*.py")), folder


MAX_MODULE_LINES = 500


def test_no_module_passes_500_lines() -> None:
    """Small modules with one responsibility (ARCHITECTURE.md): a module that grows past this
    is split by resource, as the SQL store, the client and the schema are."""
    long = {
        str(path.relative_to(ROOT)): lines
        for path in (ROOT / "src" / "tracklet").rglob("*.py")
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
