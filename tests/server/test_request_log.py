"""One log line per request at INFO: peer, method and target, status, duration; the record names
the middleware as its caller, as ``logger.info`` would."""

from __future__ import annotations

import logging
import re

import pytest
from tests.server.conftest import TestClient


def test_one_log_line_per_request(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="tracklet.server"):
        client.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"})
        client.delete("/api/2.0/mlflow/runs/get")  # a 405: logged all the same
    first, second = (r for r in caplog.records if r.name == "tracklet.server")
    assert re.fullmatch(
        r'testclient:50000 "GET /api/2.0/mlflow/experiments/get\?experiment_id=0" 200 \d+\.\dms',
        first.getMessage(),
    )
    assert re.fullmatch(
        r'testclient:50000 "DELETE /api/2.0/mlflow/runs/get" 405 \d+\.\dms', second.getMessage()
    )
    assert (first.levelname, first.funcName) == ("INFO", "log_request")
    assert first.pathname.endswith("middleware.py")
    with caplog.at_level(logging.WARNING, logger="tracklet.server"):
        caplog.clear()
        client.get("/health")
    assert not [r for r in caplog.records if r.name == "tracklet.server"]
