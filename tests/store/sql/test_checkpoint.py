"""The WAL checkpointer: the log is started over under a steady stream of commits, and a long
reader costs writers one short wait."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tracklet.store.sql import checkpoint
from tracklet.store.sql.checkpoint import Checkpointer
from tracklet.store.sql.store import SqlStore

THRESHOLD = 256 * 1024
ROW = os.urandom(3000)  # with its page, a frame of its own per commit
STEPS_PER_LOOK = 100  # how far the writer runs ahead of the last look


@pytest.fixture
def small_wal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoint, "PASSIVE_BYTES", THRESHOLD)


def _writer(path: Path) -> sqlite3.Connection:
    """A connection set up as tracklet's writer: WAL, no automatic checkpoints."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, data BLOB)")
    return conn


def _commit_rows(conn: sqlite3.Connection, count: int) -> None:
    for _ in range(count):
        conn.execute("INSERT INTO t (data) VALUES (?)", (ROW,))


def _wal_size(path: Path) -> int:
    return os.path.getsize(str(path) + "-wal")


def test_the_wal_is_started_over_while_a_writer_logs_in_a_tight_loop(
    tmp_path: Path, small_wal: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PASSIVE checkpoint alone never catches up with a writer that commits without pause:
    the log would grow by every frame. Here it is started over and stays a few thresholds
    long, while every point reaches the database."""
    # Readers' waits are the next test's subject: here a reader preempted on a busy machine
    # must not turn a look into a backoff.
    monkeypatch.setattr(checkpoint, "RESTART_WAIT_MS", 5000)
    path = tmp_path / "steady.db"
    store = SqlStore(f"sqlite:///{path}")
    run_id = store.create_run("0", "u", 0, [], "steady").info.run_id
    keys = [f"layer{i}/grad_norm" for i in range(100)]
    steps = [0]
    looked_at = [0]  # the step the last look began at
    paced = threading.Condition()
    stop = threading.Event()

    def log() -> None:  # a training loop's log_metrics, as fast as it goes between looks
        while not stop.is_set():
            step = steps[0] + 1
            store.log_metric_points(run_id, (keys, [step] * 100, [step] * 100, [0.5] * 100))
            steps[0] = step
            # The looker's pace, not the scheduler's: a look delayed on a loaded machine would
            # let the log grow by whatever the writer did meanwhile.
            with paced:
                paced.wait_for(lambda: steps[0] - looked_at[0] < STEPS_PER_LOOK or stop.is_set())

    assert store._checkpointer is not None
    store._checkpointer.stop()  # this test looks instead (a process has one looker)
    writer = threading.Thread(target=log)
    writer.start()
    largest = 0
    try:
        # Each commit is a frame of 4 kB or more (three, measured, and a fold's many): run
        # until 80 thresholds were logged.
        while steps[0] * 4096 < 80 * THRESHOLD:
            with paced:
                looked_at[0] = steps[0]
                paced.notify_all()
            # The writer goes on while this look copies and starts the log over.
            store._checkpointer.checkpoint_if_needed()
            largest = max(largest, _wal_size(path))
    finally:
        stop.set()
        with paced:
            paced.notify_all()
        writer.join()
    # A log that only grew would be past 80 thresholds (~240, measured); started over, it
    # stays a few thresholds and a fold long (~16).
    assert largest < 40 * THRESHOLD, (largest / THRESHOLD, steps[0])
    history = store.get_metric_history(run_id, "layer7/grad_norm")
    assert list(history.steps) == list(range(1, steps[0] + 1))
    store.close()


def test_a_long_reader_costs_writers_one_short_wait(tmp_path: Path, small_wal: None) -> None:
    path = tmp_path / "reader.db"
    conn = _writer(path)
    _commit_rows(conn, 10)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == 10  # pins this snapshot
    _commit_rows(conn, 2 * THRESHOLD // len(ROW))  # frames the reader keeps from being copied
    checkpointer = Checkpointer(str(path), 60.0)

    started = time.monotonic()
    checkpointer.checkpoint_if_needed()
    first = time.monotonic() - started
    # One RESTART attempt, given up after RESTART_WAIT_MS (not the 60 s busy timeout).
    assert first < 2.0
    backoff_until = checkpointer._restart_after
    assert backoff_until > time.monotonic()
    assert checkpointer._restart_backoff == checkpoint.CHECK_INTERVAL_S
    # Writers go on meanwhile, and the next look does not try again before the backoff ends.
    _commit_rows(conn, 5)
    checkpointer.checkpoint_if_needed()
    assert checkpointer._restart_after == backoff_until
    # Each failure doubles the wait, up to RESTART_BACKOFF_S.
    for expected in (1.0, 2.0, 4.0, 5.0, 5.0):
        checkpointer._restart_after = 0.0
        checkpointer.checkpoint_if_needed()
        assert checkpointer._restart_backoff == expected

    # The reader leaves and the backoff ends: the next look starts the log over, so the next
    # commits reuse the file from its start instead of growing it.
    reader.execute("COMMIT")
    reader.close()
    checkpointer._restart_after = 0.0
    _commit_rows(conn, 20)
    checkpointer.checkpoint_if_needed()
    assert checkpointer._restart_backoff == 0.0  # a success ends the backoff
    size = _wal_size(path)
    _commit_rows(conn, 20)
    assert _wal_size(path) == size
    assert (
        conn.execute("SELECT count(*) FROM t").fetchone()[0]
        == 15 + 2 * THRESHOLD // len(ROW) + 20 + 20
    )
    conn.close()


def test_an_idle_wal_is_not_looked_at_again(
    tmp_path: Path, small_wal: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a look copied every frame, the next looks open no connection until a writer writes:
    the reused file keeps its size, so its size alone would bring a connection every look."""
    path = tmp_path / "idle.db"
    conn = _writer(path)
    _commit_rows(conn, 2 * THRESHOLD // len(ROW))
    checkpointer = Checkpointer(str(path), 60.0)
    connects = []
    connect = checkpointer._connect

    def counted(timeout_s: float) -> Any:
        connects.append(timeout_s)
        return connect(timeout_s)

    monkeypatch.setattr(checkpointer, "_connect", counted)
    checkpointer.checkpoint_if_needed()  # PASSIVE, then RESTART: the log is started over
    assert len(connects) == 2
    size = _wal_size(path)
    for _ in range(3):
        checkpointer.checkpoint_if_needed()
    assert len(connects) == 2
    assert _wal_size(path) == size

    # A writer reuses the file from its start (same size, a later mtime): one look copies it.
    time.sleep(0.02)  # past the file system's timestamp granularity
    _commit_rows(conn, 5)
    assert _wal_size(path) == size
    checkpointer.checkpoint_if_needed()
    assert len(connects) == 3
    checkpointer.checkpoint_if_needed()
    assert len(connects) == 3
    backfilled = sqlite3.connect(path).execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert 0 < backfilled[1] == backfilled[2] < 50  # the five commits' frames, all copied
    conn.close()
