"""``python -m tracklet`` runs the same command as the ``tracklet`` script."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tracklet", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: tracklet [OPTIONS] COMMAND")
    for command in ("server", "ui", "sync"):
        assert f"\n  {command} " in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "tracklet", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"tracklet, version {version('tracklet')}"


def test_python_dash_m_reports_usage_errors() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tracklet", "no-such-command"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "No such command 'no-such-command'" in done.stderr
