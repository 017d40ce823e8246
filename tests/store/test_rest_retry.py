"""An unreachable or busy tracking server: a warning within seconds, MLflow's retry variables,
and a final error that names them."""

from __future__ import annotations

import logging
import os
import socket
import time

import httpx
import pytest

import tracklet
from tracklet.exceptions import MlflowException
from tracklet.store.rest.http import HttpClient
from tracklet.store.rest.retry import RetryPolicy
from tracklet.wire import endpoints as ep


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _retry_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "tracklet.store.rest"]


def test_closed_port_warns_at_once_retries_then_names_the_variables(
    caplog: pytest.LogCaptureFixture,
) -> None:
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "2"
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = "0.1"
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_JITTER"] = "0"
    port = _closed_port()
    client = tracklet.MlflowClient(f"http://127.0.0.1:{port}")
    caplog.set_level(logging.WARNING, logger="tracklet.store.rest")
    started = time.time()
    with pytest.raises(MlflowException) as info:
        client.get_experiment("0")
    elapsed = time.time() - started
    first, second = _retry_records(caplog)
    assert first.levelno == logging.WARNING
    assert first.created - started < 1.0  # heard at once, not after the retries
    text = first.getMessage()
    assert f"http://127.0.0.1:{port}" in text
    assert "Connection refused" in text
    assert "GET api/2.0/mlflow/experiments/get" in text
    assert "Retrying up to 2 times over about 0 s" in text
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES=2" in text
    assert "retry 2 of 2 in 0.2 s" in second.getMessage()
    message = info.value.message
    assert info.value.error_code == "TEMPORARILY_UNAVAILABLE"
    assert f"127.0.0.1:{port}" in message
    assert "Gave up after 3 attempts" in message
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" in message
    assert "MLFLOW_HTTP_REQUEST_TIMEOUT" in message
    assert 0.2 <= elapsed < 5  # 0 s + 0.2 s of backoff, as configured


def test_no_retries_fails_at_once_without_retry_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    client = tracklet.MlflowClient(f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(MlflowException, match="Gave up after 1 attempt in"):
        client.get_run("r" * 32)
    assert _retry_records(caplog) == []


def test_default_plan_is_mlflows_four_minutes() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.backoff_factor, policy.timeout) == (7, 2.0, 120.0)
    # 0 + 4 + 8 + 16 + 32 + 64 + 120 (capped) seconds, plus up to 1 s of jitter each.
    assert policy.total_wait() == 244 + 7


def _mock(handler: object) -> HttpClient:
    return HttpClient("http://server:5000", transport=httpx.MockTransport(handler))  # type: ignore[arg-type]


def test_busy_server_retries_are_logged_with_the_status(caplog: pytest.LogCaptureFixture) -> None:
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "3"
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_JITTER"] = "0"
    answers = [httpx.Response(503), httpx.Response(429, headers={"retry-after": "0"})]

    def busy(request: httpx.Request) -> httpx.Response:
        return answers.pop(0) if answers else httpx.Response(200, json={"ok": 1})

    caplog.set_level(logging.WARNING, logger="tracklet.store.rest")
    assert _mock(busy).call(ep.GET_RUN, {"run_id": "r"}) == {"ok": 1}
    messages = [r.getMessage() for r in _retry_records(caplog)]
    assert len(messages) == 2
    assert "answered HTTP 503" in messages[0]
    assert "Retrying up to 3 times" in messages[0]
    assert "answered HTTP 429; retry 2 of 3 in 0.0 s" in messages[1]


def test_connect_timeout_is_short_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "1"
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_JITTER"] = "0"
    calls = []

    def unroutable(request: httpx.Request) -> httpx.Response:
        calls.append(request.extensions["timeout"])
        raise httpx.ConnectTimeout("timed out", request=request)

    with pytest.raises(MlflowException, match="no connection within the connect timeout"):
        _mock(unroutable).call(ep.GET_RUN, {"run_id": "r"})
    assert len(calls) == 2
    # An unroutable host is reported in seconds, not after MLFLOW_HTTP_REQUEST_TIMEOUT (120 s).
    assert calls[0]["connect"] == 10.0
    assert calls[0]["read"] == 120.0
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "3"
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    with pytest.raises(MlflowException):
        _mock(unroutable).call(ep.GET_RUN, {"run_id": "r"})
    assert calls[-1]["connect"] == 3.0


def test_read_timeout_names_the_timeout_variable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    with pytest.raises(MlflowException, match="set MLFLOW_HTTP_REQUEST_TIMEOUT to a larger"):
        _mock(slow).call(ep.GET_RUN, {"run_id": "r"})


def test_other_transport_errors_become_mlflow_exceptions() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    with pytest.raises(MlflowException, match="RemoteProtocolError: peer closed connection"):
        _mock(broken).call(ep.GET_RUN, {"run_id": "r"})
