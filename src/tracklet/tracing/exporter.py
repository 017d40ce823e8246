"""The exporter thread: finished traces are encoded and written here, in batches, off the
caller's thread.

``submit`` (called when a root span ends) appends to a queue; one daemon thread drains it,
turns each live trace into entities (JSON-encoding inputs, outputs and attributes) and writes
them with one ``log_traces`` per destination and batch. A batch that fails is retried trace by
trace, so one bad trace (say, its experiment was deleted) loses only itself. Failures are logged
once per destination and kind of error, never raised into user code. At interpreter exit the
queue is flushed, bounded by ``TRACKLET_TRACE_FLUSH_TIMEOUT`` seconds.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence

from tracklet.entities import Trace
from tracklet.tracing.span import _LiveTrace

_logger = logging.getLogger("tracklet.tracing")
BATCH_SIZE = 500
# How long the exporter lets finished traces gather before writing them (unless a batch is
# full or someone flushes): fewer, larger transactions, and a caller in a tight traced loop is
# not interrupted by an export after every call.
LINGER_SECONDS = 0.5
LINGER_BACKLOG = 50_000  # ...unless this many are waiting (bounds the memory they hold)

# (tracking URI, live traces) -> None; set by the tracing API (it knows stores and experiments).
Writer = Callable[[str | None, Sequence[_LiveTrace]], Sequence[tuple[Trace, BaseException]]]


class Exporter:
    def __init__(self, write: Writer) -> None:
        self._write = write
        # Live traces, and flush markers (Events set once everything before them is written).
        self._queue: collections.deque[_LiveTrace | threading.Event] = collections.deque()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._reported: set[tuple[str | None, str]] = set()
        self._flush_now = threading.Event()  # set while a flush waits: no lingering then
        self._flush_lock = threading.Lock()
        self._flushes = 0  # flush markers queued

    def submit(self, trace: _LiveTrace) -> None:
        """Queue a finished trace (the caller's thread: an append and, if idle, a wake-up)."""
        self._queue.append(trace)
        if self._thread is None:
            self._start()
        if not self._wake.is_set():
            self._wake.set()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(
                    target=self._run, name="tracklet-trace-export", daemon=True
                )
                thread.start()
                self._thread = thread
                atexit.register(self._flush_at_exit)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            self._linger()
            while self._queue:
                batch: list[_LiveTrace] = []
                marker = None
                while self._queue and len(batch) < BATCH_SIZE:
                    item = self._queue.popleft()
                    if isinstance(item, threading.Event):
                        marker = item
                        break
                    batch.append(item)
                if batch:
                    self._export(batch)
                if marker is not None:
                    with self._flush_lock:
                        self._flushes -= 1
                        if not self._flushes:
                            self._flush_now.clear()
                    marker.set()

    def _linger(self) -> None:
        deadline = time.monotonic() + LINGER_SECONDS
        while len(self._queue) < LINGER_BACKLOG:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._flush_now.wait(min(remaining, 0.05)):
                return

    def _export(self, batch: list[_LiveTrace]) -> None:
        by_uri: dict[str | None, list[_LiveTrace]] = {}
        for trace in batch:
            by_uri.setdefault(trace.tracking_uri, []).append(trace)
        for uri, traces in by_uri.items():
            try:
                failures = self._write(uri, traces)
            except BaseException as error:  # never let the thread die
                self._report(uri, error, len(traces))
                continue
            for _trace, failure in failures:
                self._report(uri, failure, 1)

    def _report(self, uri: str | None, error: BaseException, count: int) -> None:
        kind = (uri, type(error).__name__)
        if kind in self._reported:
            _logger.debug("Failed to export %d trace(s) to %s: %s", count, uri, error)
            return
        self._reported.add(kind)
        _logger.warning(
            "Failed to export %d trace(s) to %s: %s (further failures of this kind are logged "
            "at DEBUG level)",
            count,
            uri,
            error,
        )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every trace submitted so far is exported; False on timeout."""
        if self._thread is None:
            return True
        marker = threading.Event()
        with self._flush_lock:
            self._flushes += 1
            self._queue.append(marker)
            self._flush_now.set()
        self._wake.set()
        return marker.wait(timeout)

    def _flush_at_exit(self) -> None:
        timeout = float(os.environ.get("TRACKLET_TRACE_FLUSH_TIMEOUT", "30"))
        if not self.flush(timeout):
            _logger.warning("Some traces were not exported within %s s at exit.", timeout)

    def after_fork(self) -> None:
        # The parent's thread does not exist in a forked child; its queue is the parent's.
        self._queue.clear()
        self._thread = None
        self._wake = threading.Event()
        self._flush_now = threading.Event()
        self._flush_lock = threading.Lock()
        self._flushes = 0
