"""Artifacts written off the training thread (autologging's plots): readers of the run wait for
them, a failing job is reported and does not stop the worker, and exit waits for the queue."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import tracklet
from tracklet.tracking import background


@pytest.fixture
def client(tmp_path: Path) -> tracklet.MlflowClient:
    tracklet.set_tracking_uri(f"sqlite:///{tmp_path / 'bg.db'}")
    return tracklet.MlflowClient()


def _slow_text(client: tracklet.MlflowClient, run_id: str, release: threading.Event) -> None:
    release.wait(5)
    client.log_text(run_id, "drawn", "plot.txt")


def test_reading_a_runs_artifacts_waits_for_its_queued_work(
    client: tracklet.MlflowClient, tmp_path: Path
) -> None:
    run_id = client.create_run("0").info.run_id
    other = client.create_run("0").info.run_id
    release = threading.Event()
    background.submit(run_id, lambda: _slow_text(client, run_id, release))
    # Another run's reads do not wait for it.
    assert client.list_artifacts(other) == []
    assert background.pending(run_id) == 1
    threading.Timer(0.2, release.set).start()
    assert [f.path for f in client.list_artifacts(run_id)] == ["plot.txt"]
    assert background.pending() == 0
    release.clear()
    background.submit(run_id, lambda: _slow_text(client, run_id, release))
    threading.Timer(0.2, release.set).start()
    local = client.download_artifacts(run_id, "plot.txt", str(tmp_path))
    assert Path(local).read_text() == "drawn"
    release.clear()
    background.submit(run_id, lambda: _slow_text(client, run_id, release))
    threading.Timer(0.2, release.set).start()
    tracklet.flush_async_logging()
    assert background.pending() == 0


def test_a_failing_job_is_reported_and_the_worker_goes_on(
    client: tracklet.MlflowClient, caplog: pytest.LogCaptureFixture
) -> None:
    run_id = client.create_run("0").info.run_id

    def fail() -> None:
        raise RuntimeError("disk full")

    with caplog.at_level(logging.WARNING, logger="tracklet.tracking.background"):
        background.submit(run_id, fail)
        background.submit(run_id, lambda: client.log_text(run_id, "after", "after.txt"))
        background.wait(run_id)
    assert "disk full" in caplog.text
    assert [f.path for f in client.list_artifacts(run_id)] == ["after.txt"]


def test_interpreter_exit_waits_for_queued_work(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'exit.db'}"
    script = f"""
import time, tracklet
from tracklet.tracking import background
tracklet.set_tracking_uri({uri!r})
client = tracklet.MlflowClient()
run_id = client.create_run("0").info.run_id
print(run_id)
def job():
    time.sleep(0.5)
    client.log_text(run_id, "late", "late.txt")
background.submit(run_id, job)
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert time.perf_counter() - start >= 0.5
    tracklet.set_tracking_uri(uri)
    run_id = out.stdout.strip()
    assert [f.path for f in tracklet.MlflowClient().list_artifacts(run_id)] == ["late.txt"]
