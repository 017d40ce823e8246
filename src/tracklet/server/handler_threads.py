"""The threads RPC handlers run on when they may block (a networked database, a search).

Starlette's ``run_in_threadpool`` goes through anyio: a capacity limiter, a task group's
cancel scope and anyio's worker bookkeeping, ~45 µs of CPU a call; this pool is a queue and a
future, ~16 µs. On PostgreSQL every RPC takes the hop, so that difference is a few percent of a
``log-batch`` request. Like anyio's default, at most ``MAX_THREADS`` handlers run at once (the
rest wait in order) and each runs in a copy of the caller's context; a caller that stops
waiting (its client went away) leaves the handler to finish, as anyio's shielded call would.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")
MAX_THREADS = 40  # anyio's default thread limit

_Job = tuple[
    asyncio.AbstractEventLoop,
    "asyncio.Future[Any]",
    contextvars.Context,
    Callable[..., Any],
    tuple[Any, ...],
]


class HandlerThreads:
    """A pool of daemon threads, started as calls need them, up to ``max_threads``."""

    def __init__(self, max_threads: int = MAX_THREADS) -> None:
        self.max_threads = max_threads
        self._jobs: SimpleQueue[_Job] = SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0  # threads waiting for a job and not yet promised one

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` on a pool thread; its result, or its exception raised here."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._idle:
                self._idle -= 1
                start = False
            else:
                start = self._threads < self.max_threads
                self._threads += start
        self._jobs.put((loop, future, contextvars.copy_context(), func, args))
        if start:
            threading.Thread(target=self._work, name="tracklet-handler", daemon=True).start()
        return await future

    def _work(self) -> None:
        jobs = self._jobs
        while True:
            loop, future, context, func, args = jobs.get()
            try:
                result, error = context.run(func, *args), None
            except BaseException as failure:  # handed to the caller, as anyio would
                result, error = None, failure
            # Idle before the caller hears back: its next call finds this thread free.
            with self._lock:
                self._idle += 1
            _deliver(loop, future, result, error)
            del loop, future, context, func, args, result, error


def _deliver(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: Any,
    error: BaseException | None,
) -> None:
    try:
        loop.call_soon_threadsafe(_settle, future, result, error)
    except RuntimeError:  # the loop is closed: nobody waits any more
        pass


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


# One pool a process, as anyio's: every app and event loop of the process shares it.
handler_threads = HandlerThreads()
