"""Artifact work done off the caller's thread (autologging's training plots).

One worker thread runs submitted jobs in order. Reading a run's artifacts (``list_artifacts``,
``download_artifacts``, ``runs:/`` URIs), ``flush_async_logging()`` and interpreter exit wait
for the jobs queued for that run (or for all), so nothing is lost and nothing is read half
written. A job's own errors are its business (autologging turns them into warnings); one that
escapes is logged here and does not stop the worker.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
from collections import Counter
from collections.abc import Callable

_logger = logging.getLogger(__name__)

_cond = threading.Condition()
_pending: Counter[str] = Counter()  # run id -> jobs submitted and not done
_jobs: queue.SimpleQueue[tuple[str, Callable[[], None]]] = queue.SimpleQueue()
_thread: threading.Thread | None = None


def submit(run_id: str, job: Callable[[], None]) -> None:
    """Run ``job()`` on the worker thread; readers of ``run_id``'s artifacts wait for it."""
    global _thread
    with _cond:
        _pending[run_id] += 1
        if _thread is None:
            _thread = threading.Thread(target=_work, name="tracklet-artifacts", daemon=True)
            _thread.start()
            _register_exit_wait()
    _jobs.put((run_id, job))


def _work() -> None:
    while True:
        run_id, job = _jobs.get()
        try:
            job()
        except Exception as error:
            _logger.warning("Background artifact work for run %s failed: %s", run_id, error)
        finally:
            with _cond:
                _pending[run_id] -= 1
                if _pending[run_id] <= 0:
                    del _pending[run_id]
                _cond.notify_all()


def wait(run_id: str | None = None) -> None:
    """Block until the jobs queued for ``run_id`` (for every run if None) are done."""
    if _thread is None or threading.current_thread() is _thread:
        return  # nothing ever queued, or a job reading back what it wrote
    with _cond:
        while _pending.get(run_id, 0) if run_id is not None else _pending:
            _cond.wait()


def pending(run_id: str | None = None) -> int:
    """How many jobs are queued and not done (for ``run_id``, or in all)."""
    with _cond:
        return _pending.get(run_id, 0) if run_id is not None else sum(_pending.values())


def _wait_at_exit() -> None:
    try:
        wait()
    except Exception as error:  # pragma: no cover - exit path
        _logger.error("Waiting for background artifact work at exit failed: %s", error)


def _after_fork_in_child() -> None:
    # The worker does not survive a fork: the parent finishes its jobs, the child starts afresh.
    global _thread, _cond, _jobs
    _thread = None
    _cond = threading.Condition()
    _jobs = queue.SimpleQueue()
    _pending.clear()


def _register_exit_wait() -> None:
    # Before the interpreter's atexit handlers: those remove temporary directories a job may
    # still be writing (concurrent.futures waits for its workers the same way).
    register = getattr(threading, "_register_atexit", None)
    try:
        if register is not None:
            register(_wait_at_exit)
            return
    except RuntimeError:  # the interpreter is already shutting down
        pass
    atexit.register(_wait_at_exit)


os.register_at_fork(after_in_child=_after_fork_in_child)
