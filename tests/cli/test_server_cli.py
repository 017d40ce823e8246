"""``tracklet server`` as users run it: a subprocess that starts fast, stops cleanly on SIGTERM,
and with several workers over PostgreSQL loses and duplicates nothing under concurrent writers."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracklet.cli import main
from tracklet.entities import Metric, Param
from tracklet.exceptions import MlflowException
from tracklet.store.rest.store import RestStore

TRACKLET = str(Path(sys.executable).parent / "tracklet")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], str, float]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed by the caller's fixture
    start = time.perf_counter()
    process = subprocess.Popen(
        [TRACKLET, "server", "--port", str(port), *args],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    while not _healthy(url):
        assert process.poll() is None, (tmp_path / "server.log").read_text()
        assert time.perf_counter() - start < 30, "server did not start"
        time.sleep(0.01)
    return process, url, time.perf_counter() - start


@pytest.fixture
def stop_later() -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_help_names_mlflows_flags() -> None:
    result = CliRunner().invoke(main, ["server", "--help"])
    assert result.exit_code == 0
    for flag in (
        "--backend-store-uri",
        "--default-artifact-root",
        "--artifacts-destination",
        "--serve-artifacts / --no-serve-artifacts",
        "--host",
        "--port",
        "--workers",
        "--allowed-hosts",
        "--max-request-size",
    ):
        assert flag in result.output
    assert CliRunner().invoke(main, ["ui", "--help"]).exit_code == 0


@pytest.mark.slow
def test_starts_and_stops_cleanly_on_sigterm(
    tmp_path: Path, stop_later: list[subprocess.Popen[bytes]]
) -> None:
    process, url, _ = _start(tmp_path)  # start-up time is bench_server's, not a unit test's
    stop_later.append(process)
    assert (tmp_path / "tracklet.db").exists()  # the library's default database
    with urllib.request.urlopen(f"{url}/version") as response:
        assert response.read() == b"3.17.2"
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0
    log = (tmp_path / "server.log").read_text()
    assert '"GET /version" 200' in log  # one line per request
    assert "Application shutdown complete" in log


@pytest.mark.slow
@pytest.mark.postgres
def test_two_workers_on_postgres_keep_every_point(
    tmp_path: Path, postgres_uri: str, stop_later: list[subprocess.Popen[bytes]]
) -> None:
    process, url, _ = _start(
        tmp_path, "--workers", "2", "--backend-store-uri", postgres_uri, "--log-level", "warning"
    )
    stop_later.append(process)
    setup = RestStore(url)
    experiment_id = setup.create_experiment("concurrent")
    run_ids = [setup.create_run(experiment_id, "u", 1, [], None).info.run_id for _ in range(4)]
    errors: list[BaseException] = []
    singles, batches = 150, 4

    def writer(index: int) -> None:
        store = RestStore(url)  # its own connections, spread over the workers
        try:
            for run_id in run_ids:  # every client writes to every run
                for step in range(singles):
                    store.log_metric(run_id, Metric(f"single{index}", float(step), 1, step))
                for b in range(batches):
                    store.log_batch(
                        run_id,
                        metrics=[
                            Metric(f"batch{index}", float(i), 2, b * 1000 + i) for i in range(1000)
                        ],
                    )
                store.log_param(run_id, Param(f"p{index}", str(index)))
            try:  # racing creates: exactly one wins, the others see RESOURCE_ALREADY_EXISTS
                store.create_experiment("raced")
            except MlflowException as exc:
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
        except BaseException as exc:
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not errors, errors
    for run_id in run_ids:
        run = setup.get_run(run_id)
        assert run.data.params == {f"p{i}": str(i) for i in range(4)}
        for index in range(4):
            single = setup.get_metric_history(run_id, f"single{index}")
            assert list(single.steps) == list(range(singles))
            batch = setup.get_metric_history(run_id, f"batch{index}")
            assert sorted(batch.steps) == list(range(batches * 1000))
    assert setup.get_experiment_by_name("raced") is not None
    setup.close()
    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0
    children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True)
    assert children.stdout.split() == []
