"""Issue 9 finding 6: ``synchronous=False`` loses nothing it acknowledged when the process is
killed: every enqueued point is in a memory-mapped spool before the call returns, and is
replayed into the store by the next process (or ``tracklet sync``)."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracklet.cli import main as cli
from tracklet.entities import Metric, Param, RunTag
from tracklet.store.schemes import get_store
from tracklet.tracking import spool as spool_module
from tracklet.tracking.client import MlflowClient

# Logs steps 0, 1, 2, ... with synchronous=False; after each call returns, the step is written
# to a shared 8-byte counter (a mapped file), so the parent knows exactly what was acknowledged.
_CHILD = textwrap.dedent(
    """
    import mmap, os, struct, sys
    from tracklet.tracking.client import MlflowClient
    uri, run_id, counter_path = sys.argv[1:4]
    client = MlflowClient(uri)
    with open(counter_path, "r+b") as f:
        counter = mmap.mmap(f.fileno(), 8)
    pack = struct.Struct("<q").pack_into
    client.log_param(run_id, "lr", "0.1", synchronous=False)
    pack(counter, 0, 0)
    step = 0
    while True:
        client.log_metric(run_id, "loss", 0.5, timestamp=1, step=step, synchronous=False)
        step += 1
        pack(counter, 0, step)
    """
)


def _start(uri: str, run_id: str, counter: Path, spool_dir: Path) -> subprocess.Popen[bytes]:
    counter.write_bytes(b"\xff" * 8)
    environment = {
        **os.environ,
        "TRACKLET_ASYNC_SPOOL_DIR": str(spool_dir),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, uri, run_id, str(counter)],
        env=environment,
        stderr=subprocess.PIPE,
    )


def _acknowledged(counter: Path) -> int:
    return int.from_bytes(counter.read_bytes(), "little", signed=True)


def test_kill_9_during_async_logging_loses_no_acknowledged_point(
    tmp_path: Path, sqlite_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool_dir = tmp_path / "spool"
    monkeypatch.setenv("TRACKLET_ASYNC_SPOOL_DIR", str(spool_dir))
    client = MlflowClient(sqlite_uri)
    trials = 5
    runs = [client.create_run("0").info.run_id for _ in range(trials)]
    counters = [tmp_path / f"counter{i}" for i in range(trials)]
    children = [_start(sqlite_uri, r, c, spool_dir) for r, c in zip(runs, counters, strict=True)]
    deadline = time.monotonic() + 60
    for i, child in enumerate(children):
        # Each trial is killed at another point: after 2,000 to 20,000 acknowledged points.
        target = 2000 * 10 ** (i / 4)
        while _acknowledged(counters[i]) < target and child.poll() is None:
            assert time.monotonic() < deadline, "the child logged too slowly"
            time.sleep(0.005)
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        if child.stderr is not None:
            child.stderr.close()
    acknowledged = [_acknowledged(c) for c in counters]
    assert all(count >= 2000 for count in acknowledged)
    # (A child starting late may already have replayed a sibling killed before it.)
    assert list(spool_dir.glob("*.spool"))

    # The next process to log asynchronously to the store replays the spools.
    later = MlflowClient(sqlite_uri)
    later.log_metric(runs[0], "later", 1.0, synchronous=False).wait()
    assert list(spool_dir.glob("*.spool")) == []
    for run_id, count in zip(runs, acknowledged, strict=True):
        history = later.get_metric_history(run_id, "loss")
        steps = {m.step for m in history}
        assert set(range(count)) <= steps, f"lost {count - len(set(range(count)) & steps)}"
        assert later.get_run(run_id).data.params == {"lr": "0.1"}


def test_tracklet_sync_replays_every_store_and_skips_live_spools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool_dir = tmp_path / "spool"
    monkeypatch.setenv("TRACKLET_ASYNC_SPOOL_DIR", str(spool_dir))
    uris = [f"sqlite:///{tmp_path / name}.db" for name in ("a", "b")]
    run_ids = []
    for uri in uris:
        store = get_store(uri)
        run_id = store.create_run("0", "", 0, [], None).info.run_id
        run_ids.append(run_id)
        orphan = spool_module.Spool(str(spool_dir), uri)
        orphan.add_point(run_id, "acc", 3, 7, 0.25)
        orphan.add_point(run_id, "acc", 4, 8, math.nan)
        batch = spool_module.Batch(
            run_id, [Param("p", "1")], [RunTag("t", "x")], [Metric("linked", 1.0, 9, 1)]
        )
        assert orphan.add_batch(batch)
        _abandon(orphan)  # as a killed process leaves it: lock released, file in place
    live = spool_module.Spool(str(spool_dir), uris[0])
    live.add_point(run_ids[0], "live", 1, 1, 1.0)

    result = CliRunner().invoke(cli, ["sync"])
    assert result.exit_code == 0, result.output
    assert "Replayed 10 entries from 2 spool file(s)" in result.output
    assert [p.name for p in spool_dir.glob("*.spool")] == [os.path.basename(live.path)]
    for uri, run_id in zip(uris, run_ids, strict=True):
        run = get_store(uri).get_run(run_id)
        assert run.data.params == {"p": "1"}
        assert run.data.tags["t"] == "x"
        history = get_store(uri).get_metric_history(run_id, "acc")
        assert [(m.step, m.timestamp) for m in history] == [(3, 7), (4, 8)]
        assert math.isnan(history[1].value)
        assert "live" not in run.data.metrics
    live.close()


def test_stored_entries_are_not_replayed_and_a_torn_tail_is_ignored(tmp_path: Path) -> None:
    spool = spool_module.Spool(str(tmp_path), "sqlite:///x.db")
    spool.add_point("r", "k", 1, 1, 1.0)
    spool.mark_stored(spool.end)
    spool.add_point("r", "k", 2, 2, 2.0)
    spool.add_point("r", "j", 3, 3, 3.0)
    end = spool.end
    spool.add_point("r", "k", 4, 4, 4.0)
    data = bytearray(Path(spool.path).read_bytes())
    data[end] = 0  # the kind byte is written last: a record torn by a kill has none
    pending = spool_module.read(bytes(data))
    assert pending.points == {("r", "k"): ([2], [2], [2.0]), ("r", "j"): ([3], [3], [3.0])}
    assert pending.tracking_uri == "sqlite:///x.db"
    spool.close()
    assert not os.path.exists(spool.path)


def test_a_drained_spool_is_removed(tmp_path: Path, sqlite_uri: str) -> None:
    os.environ["TRACKLET_ASYNC_SPOOL_DIR"] = str(tmp_path / "spool")
    client = MlflowClient(sqlite_uri)
    run_id = client.create_run("0").info.run_id
    for step in range(100):
        client.log_metric(run_id, "m", 1.0, step=step, synchronous=False)
    assert len(list((tmp_path / "spool").glob("*.spool"))) == 1
    client.set_tag(run_id, "t", "v", synchronous=False).wait()
    assert list((tmp_path / "spool").glob("*.spool")) == []
    assert len(client.get_metric_history(run_id, "m")) == 100


def test_a_full_spool_writes_through(tmp_path: Path, sqlite_uri: str) -> None:
    os.environ["TRACKLET_ASYNC_SPOOL_DIR"] = str(tmp_path / "spool")
    os.environ["TRACKLET_ASYNC_SPOOL_MAX_BYTES"] = str(1 << 20)  # 1 MiB: ~36,000 points
    client = MlflowClient(sqlite_uri)
    run_id = client.create_run("0").info.run_id
    for step in range(100_000):
        client.log_metric(run_id, "m", 1.0, timestamp=1, step=step, synchronous=False)
    client.set_tag(run_id, "t", "v", synchronous=False).wait()
    assert len(client.get_metric_history(run_id, "m")) == 100_000


def _abandon(spool: spool_module.Spool) -> None:
    """Drop a spool as a killed process would: unmapped and unlocked, the file left behind."""
    spool.map.close()
    os.close(spool._fd)


def test_spooling_off_queues_in_memory_only(tmp_path: Path, sqlite_uri: str) -> None:
    os.environ["TRACKLET_ASYNC_SPOOL_DIR"] = str(tmp_path / "spool")
    os.environ["TRACKLET_ASYNC_SPOOL"] = "false"
    client = MlflowClient(sqlite_uri)
    run_id = client.create_run("0").info.run_id
    for step in range(1000):
        client.log_metric(run_id, "m", float(step), timestamp=1, step=step, synchronous=False)
    assert not (tmp_path / "spool").exists()
    client.set_tag(run_id, "t", "v", synchronous=False).wait()
    history = client.get_metric_history(run_id, "m")
    assert [(m.step, m.value) for m in history] == [(s, float(s)) for s in range(1000)]
