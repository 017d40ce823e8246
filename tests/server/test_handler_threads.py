"""The RPC handlers' thread pool: results and exceptions come back to the caller, handlers run
beside each other (a slow one never holds up another), at most ``max_threads`` at once, each in
a copy of the caller's context."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from tracklet.server.handler_threads import HandlerThreads

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def test_result_and_exception_reach_the_caller() -> None:
    pool = HandlerThreads()

    async def calls() -> tuple[int, str]:
        total = await pool.run(lambda a, b: a + b, 2, 3)
        with pytest.raises(KeyError, match="missing"):
            await pool.run({}.__getitem__, "missing")
        name = await pool.run(lambda: threading.current_thread().name)
        return total, name

    total, name = asyncio.run(calls())
    assert total == 5
    assert name == "tracklet-handler"


def test_a_blocked_handler_never_holds_up_another() -> None:
    pool = HandlerThreads()
    released = threading.Event()

    def slow() -> str:
        assert released.wait(10)
        return "slow"

    def quick() -> str:
        released.set()
        return "quick"

    async def both() -> list[str]:
        slow_call = asyncio.ensure_future(pool.run(slow))
        await asyncio.sleep(0.05)  # slow is running and blocked
        done = [await pool.run(quick)]
        done.append(await slow_call)
        return done

    assert asyncio.run(both()) == ["quick", "slow"]


def test_at_most_max_threads_run_at_once_and_the_rest_wait() -> None:
    pool = HandlerThreads(max_threads=3)
    lock = threading.Lock()
    running, most = 0, 0

    def work(i: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return i * i

    async def many() -> list[int]:
        return await asyncio.gather(*(pool.run(work, i) for i in range(12)))

    assert asyncio.run(many()) == [i * i for i in range(12)]
    assert most == 3
    assert pool._threads == 3


def test_threads_are_reused_between_calls() -> None:
    pool = HandlerThreads()

    async def sequential() -> set[int]:
        return {await pool.run(threading.get_ident) for _ in range(50)}

    assert len(asyncio.run(sequential())) == 1
    assert pool._threads == 1


def test_each_call_sees_a_copy_of_the_callers_context() -> None:
    pool = HandlerThreads()

    def read_then_set() -> str:
        seen = request_id.get()
        request_id.set("changed by the handler")
        return seen

    async def call() -> tuple[str, str]:
        request_id.set("r-42")
        seen = await pool.run(read_then_set)
        return seen, request_id.get()

    assert asyncio.run(call()) == ("r-42", "r-42")


def test_a_caller_that_stops_waiting_leaves_the_handler_to_finish() -> None:
    pool = HandlerThreads()
    finished = threading.Event()
    started = threading.Event()

    def write() -> None:
        started.set()
        time.sleep(0.05)
        finished.set()

    async def abandon() -> None:
        call = asyncio.ensure_future(pool.run(write))
        while not started.is_set():
            await asyncio.sleep(0.005)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

    asyncio.run(abandon())
    assert finished.wait(5)
