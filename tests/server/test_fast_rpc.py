"""Plain RPC requests answered by the server's protocol itself (``fast_rpc``): the same bytes as
the ASGI way for answers and errors, the same log line, order kept on a pipelined connection,
and every request that needs more taking the ASGI way."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.live_server import serving

from tracklet.server.app import create_app
from tracklet.server.fast_rpc import FastRpcProtocol
from tracklet.server.rpc import RpcApp
from tracklet.server.settings import ServerSettings

LOG_BATCH = "/api/2.0/mlflow/runs/log-batch"
MISSING_RUN = json.dumps(
    {"run_id": "0" * 32, "metrics": [{"key": "a", "value": 1.0, "timestamp": 1, "step": 0}]}
).encode()
# A header that takes a request the ASGI way without changing its answer (uvicorn's proxy
# layer applies it to the client address only).
VIA_ASGI = "X-Forwarded-For: 127.0.0.1\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A tracklet server on SQLite, served by uvicorn with the protocol `tracklet server` uses."""
    path: Path = tmp_path_factory.mktemp("fast") / "fast.db"
    settings = ServerSettings(backend_store_uri=f"sqlite:///{path}", max_request_bytes=64 * 1024)
    with serving(create_app(settings), http=FastRpcProtocol, log_level="info") as port:
        yield f"127.0.0.1:{port}"


@pytest.fixture
def direct_answers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The endpoints answered directly since the test began."""
    answered: list[str] = []
    answer_post = RpcApp.answer_post

    def counted(self: RpcApp, *args: Any) -> bytes:
        answered.append(self.endpoint.name)
        return answer_post(self, *args)

    monkeypatch.setattr(RpcApp, "answer_post", counted)
    return answered


def _run(server: str) -> str:
    url = f"http://{server}/api/2.0/mlflow"
    experiment = httpx.post(f"{url}/experiments/create", json={"name": f"e{time.time_ns()}"})
    created = httpx.post(
        f"{url}/runs/create", json={"experiment_id": experiment.json()["experiment_id"]}
    )
    run_id: str = created.json()["run"]["info"]["run_id"]
    return run_id


def _post(
    server: str, path: str, body: bytes, extra: str = "", content_type: str = "application/json"
) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: {server}\r\nContent-Type: {content_type}\r\n"
    return (head + extra + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def _responses(server: str, payload: bytes, count: int) -> list[bytes]:
    """Send ``payload`` on one connection and read ``count`` responses (Content-Length bodies)."""
    host, port = server.split(":")
    answers = []
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(payload)
        data = b""
        while len(answers) < count:
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                assert chunk, f"closed after {len(answers)} answers"
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            if head.startswith(b"HTTP/1.1 100 "):  # an interim answer to Expect
                data = rest
                continue
            if b"transfer-encoding: chunked" in head.lower():  # a plain-text refusal
                while not rest.endswith(b"0\r\n\r\n"):
                    rest += sock.recv(65536)
                length = len(rest)
            else:
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            while len(rest) < length:
                rest += sock.recv(65536)
            answers.append(head + b"\r\n\r\n" + rest[:length])
            data = rest[length:]
    return answers


def _without_date(answer: bytes) -> bytes:
    return b"\r\n".join(line for line in answer.split(b"\r\n") if not line.startswith(b"date: "))


def _batch(run_id: str, step: int) -> bytes:
    metrics = [
        {"key": f"k{i}", "value": step + i / 10, "timestamp": 7, "step": step} for i in range(20)
    ]
    return json.dumps({"run_id": run_id, "metrics": metrics}).encode()


def test_a_plain_request_is_answered_directly_with_the_asgi_ways_bytes(
    server: str, direct_answers: list[str]
) -> None:
    run_id = _run(server)
    direct_answers.clear()
    [direct] = _responses(server, _post(server, LOG_BATCH, _batch(run_id, 1)), 1)
    assert direct_answers == ["logBatch"]
    [via_asgi] = _responses(server, _post(server, LOG_BATCH, _batch(run_id, 2), VIA_ASGI), 1)
    assert direct_answers == ["logBatch"]  # not answered directly
    assert direct.startswith(b"HTTP/1.1 200 OK\r\n")
    assert _without_date(direct) == _without_date(via_asgi)
    history = httpx.get(
        f"http://{server}/api/2.0/mlflow/metrics/get-history",
        params={"run_id": run_id, "metric_key": "k3"},
    ).json()["metrics"]
    assert [(m["step"], m["value"]) for m in history] == [(1, 1.3), (2, 2.3)]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error_code"),
    [
        (
            MISSING_RUN,
            "application/json",
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        (b'{"run_id": ', "application/json", 400, "INVALID_PARAMETER_VALUE"),
        (b'{"run_id": "x"}', "text/plain", 400, "INVALID_PARAMETER_VALUE"),
        (
            b'{"metrics": [{"key": "a", "value": 1.0, "timestamp": 1, "step": 0}]}',
            "application/json",
            400,
            "INVALID_PARAMETER_VALUE",
        ),
    ],
)
def test_errors_are_answered_directly_as_the_asgi_way_answers_them(
    server: str,
    direct_answers: list[str],
    body: bytes,
    content_type: str,
    status: int,
    error_code: str,
) -> None:
    [direct] = _responses(server, _post(server, LOG_BATCH, body, content_type=content_type), 1)
    [via_asgi] = _responses(
        server, _post(server, LOG_BATCH, body, VIA_ASGI, content_type=content_type), 1
    )
    assert direct_answers == ["logBatch"]
    assert direct.startswith(f"HTTP/1.1 {status} ".encode())
    assert json.loads(direct.partition(b"\r\n\r\n")[2])["error_code"] == error_code
    assert _without_date(direct) == _without_date(via_asgi)


def test_an_unexpected_failure_is_a_logged_json_500(
    server: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    run_id = _run(server)

    def broken(self: RpcApp, *args: Any) -> bytes:
        raise RuntimeError("a bug")

    monkeypatch.setattr(RpcApp, "answer_post", broken)
    with caplog.at_level(logging.INFO, logger="tracklet.server"):
        [answer] = _responses(server, _post(server, LOG_BATCH, _batch(run_id, 1)), 1)
    assert answer.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error_code"] == "INTERNAL_ERROR"
    assert b"a bug" not in answer
    failures = [r for r in caplog.records if r.getMessage().startswith("Unexpected error")]
    assert failures
    assert failures[0].exc_info is not None
    assert any(f'"POST {LOG_BATCH}" 500' in r.getMessage() for r in caplog.records)


def test_each_direct_answer_is_logged(
    server: str, direct_answers: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    run_id = _run(server)
    direct_answers.clear()
    with caplog.at_level(logging.INFO, logger="tracklet.server"):
        _responses(server, _post(server, LOG_BATCH, _batch(run_id, 1)), 1)
        _responses(server, _post(server, LOG_BATCH + "?via=query", _batch(run_id, 2)), 1)
    assert direct_answers == ["logBatch", "logBatch"]
    lines = [r.getMessage() for r in caplog.records if LOG_BATCH in r.getMessage()]
    assert len(lines) == 2
    assert f'"POST {LOG_BATCH}?via=query" 200 ' in lines[1]
    assert lines[0].startswith("127.0.0.1:")
    assert f'"POST {LOG_BATCH}" 200 ' in lines[0]


def test_pipelined_requests_are_answered_in_order(server: str, direct_answers: list[str]) -> None:
    run_id = _run(server)
    direct_answers.clear()
    get = f"GET /api/2.0/mlflow/runs/get?run_id={run_id} HTTP/1.1\r\nHost: {server}\r\n\r\n"
    payload = (
        _post(server, LOG_BATCH, _batch(run_id, 1))
        + get.encode()
        + _post(server, LOG_BATCH, _batch(run_id, 2))
        + get.encode()
    )
    answers = _responses(server, payload, 4)
    assert [a.split(b"\r\n")[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 4
    assert json.loads(answers[0].partition(b"\r\n\r\n")[2]) == {}
    metrics = lambda a: json.loads(a.partition(b"\r\n\r\n")[2])["run"]["data"]["metrics"]  # noqa: E731
    assert {m["key"]: m["value"] for m in metrics(answers[1])}["k3"] == 1.3  # after the first
    assert {m["key"]: m["value"] for m in metrics(answers[3])}["k3"] == 2.3  # after the second
    # The first came alone; the second behind an unanswered GET, so it took its turn the ASGI
    # way (answered directly, it could have overtaken the GET).
    assert direct_answers == ["logBatch"]


@pytest.mark.parametrize("version", ["HTTP/1.1", "HTTP/1.0"])
def test_a_connection_the_client_closes_is_closed_after_the_answer(
    server: str, direct_answers: list[str], version: str
) -> None:
    run_id = _run(server)
    direct_answers.clear()
    answers = []
    for extra in ("", VIA_ASGI):
        request = _post(server, LOG_BATCH, _batch(run_id, 1), extra + "Connection: close\r\n")
        request = request.replace(b"HTTP/1.1", version.encode(), 1)
        host, port = server.split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(request)
            data = b""
            while chunk := sock.recv(65536):  # until the server closes
                data += chunk
        answers.append(data)
    assert direct_answers == ["logBatch"]
    assert b"\r\nconnection: close\r\n" in answers[0]
    assert _without_date(answers[0]) == _without_date(answers[1])


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ("Origin: http://elsewhere.example\r\n", b"403 Forbidden"),  # a cross-origin write
        ("Origin: http://{server}\r\n", b"200 OK"),  # the UI's own: CORS headers to add
        ("Expect: 100-continue\r\n", b"200 OK"),
        ("Host: 127.0.0.1\r\n", b"400 Bad Request"),  # a second Host
    ],
)
def test_requests_that_need_more_take_the_asgi_way(
    server: str, direct_answers: list[str], extra: str, status: bytes
) -> None:
    run_id = _run(server)
    direct_answers.clear()
    request = _post(server, LOG_BATCH, _batch(run_id, 1), extra.format(server=server))
    [answer] = _responses(server, request, 1)
    assert direct_answers == []
    assert answer.split(b"\r\n")[0] == b"HTTP/1.1 " + status


def test_a_chunked_or_oversized_body_takes_the_asgi_way(
    server: str, direct_answers: list[str]
) -> None:
    run_id = _run(server)
    direct_answers.clear()
    body = _batch(run_id, 1)
    chunked = (
        f"POST {LOG_BATCH} HTTP/1.1\r\nHost: {server}\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode() + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    [answer] = _responses(server, chunked, 1)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    big = json.dumps({"run_id": run_id, "tags": [{"key": "t", "value": "x" * 70_000}]}).encode()
    [too_large] = _responses(server, _post(server, LOG_BATCH, big), 1)
    assert too_large.startswith(b"HTTP/1.1 413 ")
    assert direct_answers == []
