"""Asynchronous logging: queue points in memory, write them in batches from one thread.

``log_metric(..., synchronous=False)`` (or ``MLFLOW_ENABLE_ASYNC_LOGGING=true``) appends to a
per-(run, key) column buffer under a lock and returns; a background thread swaps the buffers out
and writes each run's points as columns in one transaction. ``flush()`` (called by ``end_run``,
``flush_async_logging`` and at exit) waits until everything queued so far is written.

Failures are logged and kept; ``RunOperations.wait()`` raises the one that hit its run.

Durability: each queued entry is also copied into a memory-mapped spool file
(:mod:`tracklet.tracking.spool`) before the call returns, so a killed process loses nothing it
acknowledged: the next logger for the same store, or ``tracklet sync``, replays the spool. The
spool is removed whenever everything in it is written.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from collections.abc import Sequence
from typing import cast

from tracklet import env
from tracklet.entities import Metric, Param, RunTag
from tracklet.exceptions import MlflowException
from tracklet.store.base import MetricColumns, TrackingStore
from tracklet.tracking.spool import (
    KIND_POINT,
    POINT_SIZE,
    Spool,
    pack_point,
    replay_orphans,
    spool_directory,
)
from tracklet.tracking.spool import Batch as _Batch

_logger = logging.getLogger(__name__)

# A series' queued points, flat: step, timestamp, value, step, ... (one list extend a point
# instead of three appends; the writer slices the columns out).
_Points = list[int | float]


class RunOperations:
    """A handle on queued logging: ``wait()`` blocks until it is written and raises if the write
    failed (MLflow's name and method). Without a sequence number it stands for everything
    queued for the run when ``wait()`` is called (one shared handle per run: no allocation on
    the hot path).

    Args:
        logger: The asynchronous logger the writes were queued on.
        run_id: The run they belong to.
        seq: The queue position to wait for; everything queued at ``wait()`` time if None.
    """

    __slots__ = ("_logger", "_run_id", "_seq")

    def __init__(self, logger: AsyncLogger, run_id: str, seq: int | None = None) -> None:
        self._logger = logger
        self._run_id = run_id
        self._seq = seq

    def wait(self) -> None:
        """Block until the queued writes are in the store.

        Raises:
            MlflowException: The error the store raised for one of them (e.g. a bad value).
        """
        seq = self._logger.queued() if self._seq is None else self._seq
        self._logger.wait_for(seq)
        error = self._logger.error_for(self._run_id, seq)
        if error is not None:
            raise error


class AsyncLogger:
    """The queue and writer thread for one store.

    Producers take ``_lock`` (a plain lock: cheap) to append; the writer thread sleeps on
    ``_wakeup`` for up to the flush interval, swaps the buffers out under ``_lock`` and writes
    them; ``_done`` (a condition) tells flushers how far writing has got.
    """

    def __init__(self, store: TrackingStore) -> None:
        self._store = store
        self._interval = env.TRACKLET_ASYNC_FLUSH_INTERVAL.get()
        self._max_pending = env.TRACKLET_ASYNC_MAX_QUEUE.get()
        self._reset_state()
        _loggers.add(self)

    def _reset_state(self) -> None:
        self._lock = threading.Lock()
        self._wakeup = threading.Event()
        self._done = threading.Condition(threading.Lock())
        self._metrics: dict[str, dict[str, _Points]] = {}  # run_id -> key -> points
        self._batches: list[_Batch] = []
        self._seq = 0  # operations queued so far
        self._written = 0  # operations written (or failed) so far
        # Entries queued since the writer last took the queue: _seq - _base (a batch of n
        # entries lowers _base by n - 1). Producers only compare _seq with _check_at; there,
        # _after_add starts the writer, wakes it at a quarter of the queue, or waits for it
        # when the queue is full, and sets the next _check_at.
        self._base = 0
        self._check_at = 0
        self._errors: list[tuple[int, int, str, Exception]] = []
        self._handles: dict[str, RunOperations] = {}
        self._thread: threading.Thread | None = None
        # Created on the first entry after each drain; dropped (not closed) in a forked child,
        # whose copy of the mapping is the parent's file.
        self._spool: Spool | None = None
        self._spooling = env.TRACKLET_ASYNC_SPOOL.get()

    # ------------------------------------------------------------------ producers

    def add_metric(
        self, run_id: str, key: str, value: float, timestamp: int, step: int
    ) -> RunOperations:
        """Queue one checked point; returns the run's shared handle.

        The hot path of async logging, kept to a few hundred nanoseconds: the lock taken
        without ``with`` (which looks up and binds two methods), two dict lookups on strings
        the caller passes again and again (identity hits), one list extend, one copy into the
        spool and one counter; anything else happens when the counter reaches ``_check_at``.
        """
        self._lock.acquire()
        try:
            try:
                points = self._metrics[run_id][key]
            except KeyError:
                points = self._metrics.setdefault(run_id, {})[key] = []
            points += (step, timestamp, value)
            seq = self._seq = self._seq + 1
            spool = self._spool
            full = True  # until spooled here; else _spool_slowly decides
            if spool is not None:
                try:
                    number = spool.numbers[run_id][key]
                except KeyError:
                    number = -1  # a new series: add_point defines it
                end = spool.end
                if number >= 0 and end + POINT_SIZE <= spool.length:
                    # Spool.add_point's fast path, inline (see Spool): record, then kind byte.
                    pack_point(spool.map, end + 1, number, step, timestamp, value)
                    spool.map[end] = KIND_POINT
                    spool.end = end + POINT_SIZE
                    full = False
            if full:
                full = self._spool_slowly(run_id, key, step, timestamp, value)
        finally:
            self._lock.release()
        if seq >= self._check_at:
            self._after_add()
        if full:
            self.flush()  # the point is durable once stored; the drained spool starts afresh
        try:
            return self._handles[run_id]
        except KeyError:
            return self.handle(run_id)

    def _spool_slowly(self, run_id: str, key: str, step: int, timestamp: int, value: float) -> bool:
        """Under ``_lock``: the point through ``Spool.add_point`` (opening the spool after a
        drain); True if it could not be spooled though spooling is on (the spool is full:
        write it through)."""
        spool = self._spool or self._open_spool()
        return spool is not None and not spool.add_point(run_id, key, step, timestamp, value)

    def add_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> int:
        with self._lock:
            if params or tags:
                self._batches.append(_Batch(run_id, list(params), list(tags)))
            linked = [m for m in metrics if m.model_id or m.dataset_name]
            if linked:
                # Model-linked points keep their links: they go through the entity path, the
                # points of one call in one batch (one write, not one per point).
                self._batches.append(_Batch(run_id, metrics=linked))
            for m in metrics:
                if m.model_id or m.dataset_name:
                    continue
                points = self._metrics.setdefault(run_id, {}).setdefault(m.key, [])
                points += (m.step, m.timestamp, m.value)
            self._seq += 1
            seq = self._seq
            extra = len(metrics) + len(params) + len(tags) - 1
            self._base -= extra
            self._check_at -= extra
            spool = self._spool or self._open_spool()
            full = spool is not None and not spool.add_batch(
                _Batch(run_id, list(params), list(tags), list(metrics))
            )
        if seq >= self._check_at:
            self._after_add()
        if full:
            self.flush()
        return seq

    def _open_spool(self) -> Spool | None:
        """A new spool file (under ``_lock``); None when spooling is off or impossible."""
        if not self._spooling:
            return None
        try:
            self._spool = Spool(spool_directory(), self._store.tracking_uri)
        except OSError as error:
            self._spooling = False
            _logger.warning(
                "Asynchronous logging is not crash-safe in this process: cannot create its "
                "spool in %s (%s); queued points live in memory only until written.",
                spool_directory(),
                error,
            )
        return self._spool

    def handle(self, run_id: str) -> RunOperations:
        """The shared handle for everything queued for ``run_id``."""
        handle = self._handles.get(run_id)
        if handle is None:
            handle = self._handles[run_id] = RunOperations(self, run_id)
        return handle

    def _after_add(self) -> None:
        """``_check_at`` reached: start the writer, wake it, or wait for it; the next check."""
        if self._thread is None:
            with self._done:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="tracklet-async-logging", daemon=True
                    )
                    self._thread.start()
        wake = self._max_pending // 4
        with self._lock:
            pending = self._seq - self._base
            self._check_at = self._base + (wake if pending < wake else self._max_pending)
        if pending >= self._max_pending:
            # Back-pressure: the producer outran the writer by a whole queue; let it catch up.
            self.flush()
        elif pending >= wake:
            self._wakeup.set()

    # ------------------------------------------------------------------ flushing

    def queued(self) -> int:
        return self._seq

    def flush(self) -> None:
        """Wait until everything queued before this call is written."""
        self.wait_for(self._seq)

    def wait_for(self, seq: int) -> None:
        with self._done:
            while self._written < seq and self._thread is not None:
                self._wakeup.set()
                self._done.wait(0.5)

    def error_for(self, run_id: str, seq: int) -> Exception | None:
        with self._done:
            for low, high, failed_run, error in self._errors:
                if failed_run == run_id and low < seq <= high:
                    return error
        return None

    def _run(self) -> None:
        while True:
            self._wakeup.wait(self._interval)
            self._wakeup.clear()
            with self._lock:
                if self._seq == self._written:
                    continue
                metrics, self._metrics = self._metrics, {}
                batches, self._batches = self._batches, []
                low, high = self._written, self._seq
                self._base = self._seq
                self._check_at = self._seq + self._max_pending // 4
                spool = self._spool
                mark = spool.end if spool is not None else 0
            stored = self._write(metrics, batches, low, high)
            if spool is not None and stored:
                with self._lock:
                    if spool is self._spool:
                        spool.mark_stored(mark)
                        if spool.end == mark:  # nothing queued meanwhile: drained
                            spool.close()
                            self._spool = None
            with self._done:
                self._written = high
                self._done.notify_all()

    def _write(
        self,
        metrics: dict[str, dict[str, _Points]],
        batches: list[_Batch],
        low: int,
        high: int,
    ) -> bool:
        """Write the entries; False if some failed for a reason other than being refused
        (the store was unreachable, say), so that the spool keeps them for a replay."""
        stored = True
        for batch in batches:
            try:
                self._store.log_batch(batch.run_id, batch.metrics, batch.params, batch.tags)
            except Exception as error:
                stored = stored and isinstance(error, MlflowException)
                self._record_failure(batch.run_id, error, low, high)
        for run_id, by_key in metrics.items():
            series = {key: _columns(points) for key, points in by_key.items()}
            try:
                self._store.log_metric_columns(run_id, series)
            except Exception as error:
                stored = stored and isinstance(error, MlflowException)
                self._record_failure(run_id, error, low, high)
        return stored

    def _record_failure(self, run_id: str, error: Exception, low: int, high: int) -> None:
        _logger.error("Run %s: failed to log run data asynchronously: %s", run_id, error)
        with self._done:
            self._errors.append((low, high, run_id, error))
            del self._errors[:-100]


def _columns(points: _Points) -> MetricColumns:
    """A series' flat points as (steps, timestamps, values)."""
    return cast("MetricColumns", (points[0::3], points[1::3], points[2::3]))


_loggers: weakref.WeakSet[AsyncLogger] = weakref.WeakSet()
_by_store: dict[int, AsyncLogger] = {}
_by_store_lock = threading.Lock()


def logger_for(store: TrackingStore) -> AsyncLogger:
    logger = _by_store.get(id(store))
    if logger is None or logger._store is not store:
        with _by_store_lock:
            logger = _by_store.get(id(store))
            if logger is None or logger._store is not store:
                logger = _by_store[id(store)] = AsyncLogger(store)
                _replay_orphans(store)
    return logger


def _replay_orphans(store: TrackingStore) -> None:
    """What killed processes queued for this store, written now (see tracking/spool.py)."""
    if not env.TRACKLET_ASYNC_SPOOL.get():
        return
    try:
        files, entries = replay_orphans(spool_directory(), lambda _: store, store.tracking_uri)
    except Exception as error:
        _logger.error("Replaying the spools of killed processes failed: %s", error)
        return
    if files:
        _logger.warning(
            "Replayed %d entries that %d killed process(es) had queued for %s",
            entries,
            files,
            store.tracking_uri,
        )


def flush_store(store: TrackingStore) -> None:
    """Write everything queued for ``store`` (a no-op if nothing was ever queued)."""
    logger = _by_store.get(id(store))
    if logger is not None and logger._store is store:
        logger.flush()


def flush_all() -> None:
    for logger in list(_loggers):
        logger.flush()


def _flush_at_exit() -> None:
    try:
        flush_all()
    except Exception as error:  # pragma: no cover - exit path
        _logger.error("Flushing asynchronous logging at exit failed: %s", error)


def _after_fork_in_child() -> None:
    # The writer thread does not exist in a forked child, and its queue belongs to the parent.
    global _by_store_lock
    _by_store_lock = threading.Lock()
    _by_store.clear()
    for logger in list(_loggers):
        logger._reset_state()


atexit.register(_flush_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
