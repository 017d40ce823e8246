"""The buffered request log of ``tracklet server``: the lines logging would have written, whole,
in order, within ``FLUSH_SECONDS``, before any other record; the plain ``logging`` path wherever
buffering could change what a handler sees."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from uvicorn.logging import DefaultFormatter

from tracklet.server import access_log
from tracklet.server.access_log import AccessLog, BufferedAccessLog

CALLER = ("middleware.py", 1, "_log")


@pytest.fixture
def console() -> Iterator[tuple[logging.Logger, logging.StreamHandler, str]]:  # type: ignore[type-arg]
    """A logger whose records reach one StreamHandler on a real file (as stderr would be)."""
    fd, path = tempfile.mkstemp()
    stream = os.fdopen(fd, "w")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(DefaultFormatter("%(levelprefix)s %(message)s", use_colors=False))
    parent = logging.getLogger("tracklet-test-access")
    parent.propagate = False
    parent.handlers = [handler]
    parent.setLevel(logging.INFO)
    logger = logging.getLogger("tracklet-test-access.server")
    yield logger, handler, path
    parent.handlers = []
    stream.close()
    os.unlink(path)


def _only(logger: logging.Logger, handler: logging.Handler) -> None:
    """The test's handler alone on the parent: pytest attaches its capture handlers to loggers
    that do not propagate, once a test has started."""
    assert logger.parent is not None
    logger.parent.handlers = [handler]


def _buffered(console) -> tuple[AccessLog, logging.Logger, str]:  # type: ignore[no-untyped-def]
    """The buffered access log over the console fixture's logger (its handler alone)."""
    logger, handler, path = console
    _only(logger, handler)
    return access_log.access_log(logger, CALLER, buffered=True), logger, path


def _read(path: str) -> str:
    with open(path) as file:
        return file.read()


def test_buffered_lines_match_what_logging_writes(console) -> None:  # type: ignore[no-untyped-def]
    log, logger, path = _buffered(console)
    assert isinstance(log, BufferedAccessLog)

    async def requests() -> str:
        log.write('1.2.3.4:5 "GET /a" 200 0.1ms')
        log.write('1.2.3.4:5 "POST /b?x=1" 404 2.5ms')
        held = _read(path)
        await asyncio.sleep(access_log.FLUSH_SECONDS * 3)
        return held

    held = asyncio.run(requests())
    assert held == ""  # nothing written per request...
    expected = (
        'INFO:     1.2.3.4:5 "GET /a" 200 0.1ms\nINFO:     1.2.3.4:5 "POST /b?x=1" 404 2.5ms\n'
    )
    assert _read(path) == expected  # ...and all of it once the loop's timer ran
    # What the logging path writes for the same line is byte for byte the same.
    plain = AccessLog(logger, CALLER)
    plain.write('1.2.3.4:5 "GET /a" 200 0.1ms')
    console[1].flush()
    assert _read(path) == expected + 'INFO:     1.2.3.4:5 "GET /a" 200 0.1ms\n'


def test_other_records_wait_for_held_lines(console) -> None:  # type: ignore[no-untyped-def]
    log, logger, path = _buffered(console)

    async def request_then_warning() -> None:
        log.write('- "GET /x" 500 1.0ms')
        logger.warning("Unexpected error serving GET /x")

    asyncio.run(request_then_warning())
    assert _read(path).splitlines() == [
        'INFO:     - "GET /x" 500 1.0ms',
        "WARNING:  Unexpected error serving GET /x",
    ]


def test_flush_all_writes_held_lines_at_shutdown(console) -> None:  # type: ignore[no-untyped-def]
    log, _logger, path = _buffered(console)

    async def one() -> None:
        log.write('- "GET /y" 200 0.2ms')

    asyncio.run(one())  # the loop ended before its timer: the line is still held
    assert _read(path) == ""
    access_log.flush_all()
    assert _read(path) == 'INFO:     - "GET /y" 200 0.2ms\n'


def test_large_batches_are_written_in_whole_lines(console) -> None:  # type: ignore[no-untyped-def]
    log, _logger, path = _buffered(console)
    lines = [
        f'10.0.0.1:{i} "POST /api/2.0/mlflow/runs/log-batch" 200 0.{i % 10}ms' for i in range(500)
    ]

    async def many() -> None:
        for line in lines:
            log.write(line)

    asyncio.run(many())
    access_log.flush_all()
    assert _read(path).splitlines() == ["INFO:     " + line for line in lines]
    chunks = access_log._whole_line_chunks("".join(line + "\n" for line in lines).encode())
    assert len(chunks) > 1
    assert all(len(chunk) <= 4096 and chunk.endswith(b"\n") for chunk in chunks)


def test_outside_an_event_loop_a_line_is_written_at_once(console) -> None:  # type: ignore[no-untyped-def]
    log, _logger, path = _buffered(console)
    log.write('- "GET /z" 200 0.3ms')
    assert _read(path) == 'INFO:     - "GET /z" 200 0.3ms\n'


@pytest.mark.parametrize(
    "case",
    ["time in the format", "a second handler", "a handler subclass", "a filter", "not asked"],
)
def test_logging_path_wherever_buffering_could_change_the_output(console, case: str) -> None:  # type: ignore[no-untyped-def]
    logger, handler, _ = console
    _only(logger, handler)
    buffered = True
    if case == "time in the format":
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    elif case == "a second handler":
        logger.addHandler(logging.NullHandler())
    elif case == "a handler subclass":
        parent = logger.parent
        assert parent is not None
        parent.handlers = [logging.FileHandler(os.devnull, delay=True)]
    elif case == "a filter":
        logger.addFilter(logging.Filter("nothing"))
    else:
        buffered = False
    try:
        log = access_log.access_log(logger, CALLER, buffered=buffered)
        assert type(log) is AccessLog
    finally:
        logger.handlers = []
        logger.filters = []


def test_the_logging_path_names_its_caller(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tracklet.server")
    log = access_log.access_log(logger, ("/x/middleware.py", 42, "_log"), buffered=True)
    assert type(log) is AccessLog  # pytest's capture handlers are on the root logger
    with caplog.at_level(logging.INFO, logger="tracklet.server"):
        log.write('- "GET /w" 200 0.1ms')
    (record,) = [r for r in caplog.records if r.name == "tracklet.server"]
    assert (record.getMessage(), record.pathname, record.lineno, record.funcName) == (
        '- "GET /w" 200 0.1ms',
        "/x/middleware.py",
        42,
        "_log",
    )


def test_tracklet_server_writes_each_request_line_soon(tmp_path: Path) -> None:
    """The CLI's server: every request's line on its console, in order, while it runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    console_path = tmp_path / "console.log"
    with open(console_path, "wb") as console_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "tracklet", "server", "--port", str(port)],
            cwd=tmp_path,
            stdout=console_file,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1).close()
                break
            except OSError:
                assert server.poll() is None
                assert time.monotonic() < deadline
                time.sleep(0.05)
        targets = [f"/api/2.0/mlflow/experiments/get?experiment_id={i}" for i in range(3)]
        statuses = [_status(url + target) for target in targets]
        time.sleep(access_log.FLUSH_SECONDS * 5)
        lines = console_path.read_text().splitlines()  # the server still runs
    finally:
        server.terminate()
        server.wait(20)
    assert statuses == [200, 404, 404]  # experiments 1 and 2 do not exist
    requests = [line for line in lines if '"GET /api/' in line]
    assert [line.split('"')[1] for line in requests] == [f"GET {t}" for t in targets]
    assert [line.split()[-2] for line in requests] == ["200", "404", "404"]
    assert all(line.startswith("INFO:     127.0.0.1:") for line in requests)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
