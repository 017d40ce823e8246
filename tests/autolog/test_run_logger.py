"""Autologging's per-step metric buffer: points recorded during training are queued by the
background worker in chunks (not by the training thread), none is lost or reordered by the
end of the run, and a chunk that fails there is raised by ``wait()``."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import tracklet
from tracklet.autolog import _training
from tracklet.autolog._training import RunLogger
from tracklet.tracking import background


class _Lazy:
    """A value converted by float() only when its chunk is queued (as a tensor is)."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.converted_on: str | None = None

    def __float__(self) -> float:
        self.converted_on = threading.current_thread().name
        return self.value


@pytest.fixture
def client(tmp_path: Path) -> tracklet.MlflowClient:
    tracklet.set_tracking_uri(f"sqlite:///{tmp_path / 'points.db'}")
    return tracklet.MlflowClient()


def test_chunks_are_queued_on_the_worker_and_every_point_is_written(
    client: tracklet.MlflowClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_training, "_BUFFERED_POINTS", 100)
    run_id = client.create_run("0").info.run_id
    logger = RunLogger(client, run_id)
    values = [_Lazy(step / 10) for step in range(245)]  # two points a step
    with background.held():  # as inside a patched fit: the chunks start anyway
        for step, value in enumerate(values):
            logger.record_metrics({"loss": value, "acc": 1.0 - step / 1000}, step)
        background.wait(run_id)
    # Four full chunks were queued by the worker; the rest is still buffered here.
    assert {v.converted_on for v in values[:200]} == {"tracklet-artifacts"}
    assert {v.converted_on for v in values[200:]} == {None}
    logger.wait()
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(s, s / 10) for s in range(245)]
    assert len(client.get_metric_history(run_id, "acc")) == 245
    assert client.get_run(run_id).data.metrics == {"loss": 24.4, "acc": 1.0 - 244 / 1000}


def test_a_chunk_failing_on_the_worker_is_raised_by_wait(
    client: tracklet.MlflowClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_training, "_BUFFERED_POINTS", 10)
    run_id = client.create_run("0").info.run_id
    logger = RunLogger(client, run_id)
    for step in range(10):
        logger.record_metrics({"loss": "not a number" if step == 3 else 0.5}, step)
    background.wait(run_id)
    logger.record_metrics({"loss": 0.25}, 10)
    with pytest.raises(ValueError, match="not a number"):
        logger.wait()
    # The later points are still written; the failed chunk's are not half written.
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")] == [(10, 0.25)]
