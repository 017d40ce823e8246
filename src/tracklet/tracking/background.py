"""Work done off the caller's thread: autologging's training plots, the files of the models it
logs, and the end of the runs it started around a fit.

One worker thread runs submitted jobs in order. A job is keyed by its run id (and by the ids
of the logged models it writes). Reading a run or its artifacts (``get_run``,
``list_artifacts``, ``download_artifacts``, ``runs:/`` URIs), a logged model (``models:/``
URIs, ``get_logged_model``), searching, ``end_run``, ``flush_async_logging()`` and
interpreter exit wait for the jobs of that key (or for all), so nothing is lost and nothing is
read half written. A job's own errors are its business (autologging turns them into
warnings); one that escapes is logged here and does not stop the worker.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterator

_logger = logging.getLogger(__name__)

_cond = threading.Condition()
_pending: Counter[str] = Counter()  # key (run or model id) -> jobs submitted and not done
_ALL = ""  # the key every job also has
_jobs: queue.SimpleQueue[tuple[tuple[str, ...], Callable[[], None]]] = queue.SimpleQueue()
_thread: threading.Thread | None = None


class _Held(threading.local):
    depth = 0
    jobs: list[tuple[tuple[str, ...], Callable[[], None]]] | None = None


_held = _Held()


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Jobs this thread submits inside start when the outermost block exits: until then the
    worker does not compete with this thread for the interpreter (a training thread's own
    logging would otherwise wait for it at each I/O). Readers still wait for them."""
    _held.depth += 1
    try:
        yield
    finally:
        _held.depth -= 1
        if _held.depth == 0:
            _release()


def _release() -> None:
    jobs, _held.jobs = _held.jobs, None
    for item in jobs or ():
        _jobs.put(item)


def submit(run_id: str, job: Callable[[], None], *also: str, hold: bool = True) -> None:
    """Run ``job()`` on the worker thread; readers of ``run_id`` (and of the ``also`` keys,
    e.g. the logged models it writes) wait for it. ``hold=False`` starts it now even inside
    :func:`held` (training's metric points: they must reach the store while it trains)."""
    global _thread
    keys = (_ALL, run_id, *also)
    with _cond:
        for key in keys:
            _pending[key] += 1
        if _thread is None:
            _thread = threading.Thread(target=_work, name="tracklet-artifacts", daemon=True)
            _thread.start()
            _register_exit_wait()
    if hold and _held.depth:
        if _held.jobs is None:
            _held.jobs = []
        _held.jobs.append((keys, job))
    else:
        _jobs.put((keys, job))


def _work() -> None:
    while True:
        keys, job = _jobs.get()
        try:
            job()
        except Exception as error:
            _logger.warning("Background work for run %s failed: %s", keys[1], error)
        finally:
            with _cond:
                for key in keys:
                    _pending[key] -= 1
                    if _pending[key] <= 0:
                        del _pending[key]
                _cond.notify_all()


def wait(key: str | None = None) -> None:
    """Block until the jobs queued for ``key`` (a run or model id; every job if None) are
    done."""
    if _thread is None or threading.current_thread() is _thread:
        return  # nothing ever queued, or a job reading back what it wrote
    _release()  # this thread's held jobs, if any: they must run for the wait to end
    with _cond:
        while _pending.get(_ALL if key is None else key, 0):
            _cond.wait()


def pending(key: str | None = None) -> int:
    """How many jobs are queued and not done (for ``key``, or in all)."""
    with _cond:
        return _pending.get(key, 0) if key is not None else _pending.get(_ALL, 0)


def _wait_at_exit() -> None:
    try:
        wait()
    except Exception as error:  # pragma: no cover - exit path
        _logger.error("Waiting for background artifact work at exit failed: %s", error)


def _after_fork_in_child() -> None:
    # The worker does not survive a fork: the parent finishes its jobs, the child starts afresh.
    global _thread, _cond, _jobs
    _thread = None
    _held.depth, _held.jobs = 0, None
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
