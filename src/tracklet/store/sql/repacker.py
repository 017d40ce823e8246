"""Packing runs that searches find without a pack, off the read path.

A run gets its pack when it ends (``run_packs``). Runs that ended before the database had packs,
runs changed after they ended (a tag set from a notebook a week later), and runs that never
ended (a job killed without ``end_run``) have none and are read from their parts: three times
slower. Searches hand those run ids here; a thread of the
store's own gathers them for a moment and packs them in small write transactions. A search
never waits for the write lock, and a logging thread of the same process waits at most one
small transaction. Runs still pending when the process exits are packed at exit (for a few
seconds at most); any left over are handed over again by the next search that reads them.

(Ending a run packs it in the same transaction instead: measured, handing every ending run to
this thread made a loop of short runs 20% slower, the two threads trading the GIL and the
write lock.)
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Iterable

from tracklet.store.sql import run_packs
from tracklet.store.sql.engine import Writer

_logger = logging.getLogger(__name__)

# Runs per write transaction: about 3 ms of packing on SQLite.
BATCH = 100
# Pending runs beyond this are dropped; a later search hands them over again.
MAX_PENDING = 100_000
# The thread packs once no search has handed runs over for this long: packing beside a scan
# that is still reading parts shares the GIL and the file with it (measured: a first scan of
# 5,000 RUNNING runs read 9-11k runs/s beside the packing, 18-28k alone). Runs also gather.
GATHER_S = 0.05
# ... but never waits longer than this behind searches that keep coming.
MAX_DEFER_S = 1.0
EXIT_WAIT_S = 5.0

_repackers: weakref.WeakSet[Repacker] = weakref.WeakSet()


class Repacker:
    """Packs the runs it is given, in the background, through the store's writer."""

    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self._pending: dict[str, None] = {}  # insertion-ordered set
        self._wake = threading.Condition()
        self._busy = False
        self._stopped = False
        self._last_submit = 0.0
        self._thread: threading.Thread | None = None
        _repackers.add(self)

    def submit(self, run_ids: Iterable[str]) -> None:
        with self._wake:
            if self._stopped:
                return
            for run_id in run_ids:
                if len(self._pending) >= MAX_PENDING:
                    break
                self._pending[run_id] = None
            if not self._pending:
                return
            self._last_submit = time.monotonic()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="tracklet-repack", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def _next_batch(self) -> list[str] | None:
        with self._wake:
            while not self._pending and not self._stopped:
                self._busy = False
                self._wake.notify_all()  # for flush()
                self._wake.wait()
            if self._stopped:
                return None
            self._busy = True
        deadline = time.monotonic() + MAX_DEFER_S
        while (now := time.monotonic()) < deadline:
            with self._wake:
                quiet = now - self._last_submit
            if quiet >= GATHER_S:
                break
            time.sleep(GATHER_S - quiet)
        with self._wake:
            batch = list(self._pending)[:BATCH]
            for run_id in batch:
                del self._pending[run_id]
            return batch

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                with self._writer.transaction() as db:
                    run_packs.pack_runs(db, batch, self._writer.tail_sizes)
            except Exception as error:  # a read-only or busy database: searches still work
                _logger.debug("packing %d runs skipped: %s", len(batch), error)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every run handed over so far is packed (or skipped); at exit, and in
        tests. False if ``timeout`` seconds passed first."""
        with self._wake:
            return self._wake.wait_for(
                lambda: self._stopped or (not self._pending and not self._busy), timeout
            )

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._pending.clear()
            self._wake.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def forget_after_fork(self) -> None:
        # The thread does not exist in a forked child; the next search starts a new one.
        self._pending = {}
        self._last_submit = 0.0
        self._wake = threading.Condition()
        self._busy = False
        self._thread = None


def _pack_at_exit() -> None:
    for repacker in list(_repackers):
        repacker.flush(EXIT_WAIT_S)


atexit.register(_pack_at_exit)
