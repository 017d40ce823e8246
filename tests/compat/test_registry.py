"""The model registry against MLflow 3.17.2: one scenario (``registry_scenario``) run by MLflow's
client on a real ``mlflow server`` is the oracle; tracklet's client on SQLite and PostgreSQL
stores must give the same entities, orders, pages and error codes."""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

import pytest
from tests.compat.conftest import QUIET_MLFLOW, LiveServer
from tests.compat.registry_scenario import run_scenario

import tracklet

pytestmark = pytest.mark.xdist_group("mlflow_server")

SOURCE = "s3://bucket/models"


def _prefix() -> str:
    return f"r{time.monotonic_ns()}-"


def _normalized(result: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The result with the run's name prefix taken out, so two runs compare equal."""
    import json

    return dict(json.loads(json.dumps(result).replace(prefix, "P-")))


@pytest.fixture(scope="module")
def oracle(mlflow_server: LiveServer) -> dict[str, Any]:
    """The scenario as MLflow's client and server run it."""
    os.environ.update(QUIET_MLFLOW)
    import mlflow

    prefix = _prefix()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_scenario(mlflow.MlflowClient(mlflow_server.url), prefix, SOURCE)
    return _normalized(result, prefix)


def _compare(ours: dict[str, Any], oracle: dict[str, Any]) -> None:
    assert ours.keys() == oracle.keys()
    for key in ours:
        assert ours[key] == oracle[key], key


def test_tracklet_store_matches_mlflow(store_uri: str, oracle: dict[str, Any]) -> None:
    prefix = _prefix()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ours = run_scenario(tracklet.MlflowClient(store_uri), prefix, SOURCE)
    _compare(_normalized(ours, prefix), oracle)
