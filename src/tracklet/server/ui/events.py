"""Live updates over Server-Sent Events: ``GET /ajax-api/2.0/tracklet/events?run_id=...`` or
``?experiment_id=...`` (repeated for several experiments).

The change cursor lives in the store (``store.change_base``: a write to a run numbers it
above earlier writes), so a stream on any worker of any server over the database sees what was
written through any other. Each worker keeps one *feed* per watched run or experiment set, shared by
every stream open on it: once a second the feed asks the store for the runs numbered from its
cursor on (an index probe when nothing changed), and hands the ``runs`` events (run id, status,
end time: a run appeared or its status changed) and ``metrics`` events (run id, key, last step,
timestamp: a watched run logged) to every stream. The event's ``id`` is the store's number, so
a stream that reconnects (``Last-Event-ID``), to this worker or another, first gets what
changed since. A feed stops when its last stream closes. A comment line every 15 s keeps
proxies from closing a stream; streams end after a few minutes and EventSource reconnects by
itself (``retry``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.server.rpc import state_of
from tracklet.store.change_base import ChangeStore

_logger = logging.getLogger(__name__)
PREFIX = "/ajax-api/2.0/tracklet"
POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
STREAM_SECONDS = 300.0
QUEUE_SIZE = 64

# run id -> (status, end time); (run id, key) -> (last step, timestamp)
RunState = dict[str, tuple[str, int | None]]
MetricState = dict[tuple[str, str], tuple[int, int]]


@dataclass
class Watch:
    """What a feed watches: one run, or experiments' runs (then only runs events: the runs
    table reloads on a status change, not on every logged point)."""

    store: ChangeStore
    experiment_ids: Sequence[str] = ()
    run_id: str = ""


@dataclass
class _Feed:
    watch: Watch
    cursor: int
    streams: set[asyncio.Queue[str]] = field(default_factory=set)
    runs: RunState = field(default_factory=dict)
    metrics: MetricState = field(default_factory=dict)
    task: asyncio.Task[None] | None = None


def _event(name: str, data: Any, cursor: int) -> str:
    return f"id: {cursor}\nevent: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def read_changes(watch: Watch, after: int, runs: RunState, metrics: MetricState) -> tuple[int, str]:
    """What changed from change number ``after`` on, as SSE text, and the new cursor; updates
    the states. A run whose (status, end time) differs from ``runs`` (or is not there) counts
    as changed; a metric whose (step, timestamp) moved as logged."""
    store = watch.store
    found = store.changed_runs(watch.experiment_ids, [watch.run_id] if watch.run_id else [], after)
    cursor = max([after, *(r.change_seq for r in found)])
    changed = []
    for run in found:
        state = (run.status, run.end_time)
        if runs.get(run.run_id) != state:
            runs[run.run_id] = state
            changed.append({"run_id": run.run_id, "status": run.status, "end_time": run.end_time})
    logged = []
    if watch.run_id and found:
        for rid, key, step, stamp in store.latest_metric_steps([watch.run_id]):
            if metrics.get((rid, key)) != (step, stamp):
                metrics[(rid, key)] = (step, stamp)
                logged.append({"run_id": rid, "key": key, "last_step": step, "timestamp": stamp})
    message = ""
    if changed:
        message += _event("runs", {"runs": changed}, cursor)
    if logged:
        message += _event("metrics", {"metrics": logged}, cursor)
    return cursor, message


class Hub:
    """The worker's feeds, by what they watch; see the module's doc."""

    def __init__(self, poll_seconds: float = POLL_SECONDS) -> None:
        self.poll_seconds = poll_seconds
        self._feeds: dict[str, _Feed] = {}

    @property
    def feeds(self) -> int:
        """How many feeds poll the store now (one per watched run or experiment set)."""
        return len(self._feeds)

    async def subscribe(self, key: str, watch: Watch) -> asyncio.Queue[str]:
        feed = self._feeds.get(key)
        if feed is None:
            cursor = await run_in_threadpool(watch.store.change_cursor)
            feed = self._feeds.get(key)  # another stream may have started it meanwhile
            if feed is None:
                feed = self._feeds[key] = _Feed(watch, cursor)
                # What the runs at the cursor hold now, so that only later moves count.
                await run_in_threadpool(read_changes, watch, cursor, feed.runs, feed.metrics)
                feed.task = asyncio.get_running_loop().create_task(self._poll(feed))
        queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)
        feed.streams.add(queue)
        return queue

    def cursor(self, key: str) -> int | None:
        feed = self._feeds.get(key)
        return None if feed is None else feed.cursor

    def unsubscribe(self, key: str, queue: asyncio.Queue[str]) -> None:
        feed = self._feeds.get(key)
        if feed is None:
            return
        feed.streams.discard(queue)
        if not feed.streams:
            del self._feeds[key]
            if feed.task is not None:
                feed.task.cancel()

    async def _poll(self, feed: _Feed) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                feed.cursor, message = await run_in_threadpool(
                    read_changes, feed.watch, feed.cursor, feed.runs, feed.metrics
                )
            except Exception:  # a failed read (the database away, say): try again next beat
                _logger.warning("live updates: reading changes failed", exc_info=True)
                continue
            if not message:
                continue
            for queue in feed.streams:
                with contextlib.suppress(asyncio.QueueFull):  # a stalled client skips a beat
                    queue.put_nowait(message)


def _hub(request: Request) -> Hub:
    state = request.app.state
    found: Hub | None = getattr(state, "ui_events", None)
    if found is None:
        found = state.ui_events = Hub()
    return found


async def _stream(hub: Hub, key: str, watch: Watch, resume: int | None) -> AsyncIterator[str]:
    queue = await hub.subscribe(key, watch)
    yield "retry: 1000\n\n"  # after subscribing: a client that has read it misses nothing
    cursor = hub.cursor(key)
    if resume is not None and cursor is not None and resume <= cursor:
        # Reconnected: the runs changed from the stream's last event on, as they are now.
        _, missed = await run_in_threadpool(read_changes, watch, resume, {}, {})
        if missed:
            yield missed
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        while loop.time() - started < STREAM_SECONDS:
            try:
                yield await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield ": heartbeat\n\n"
    finally:
        hub.unsubscribe(key, queue)


def _resume(request: Request) -> int | None:
    last = request.headers.get("last-event-id", "")
    return int(last) if last.isdigit() else None


async def events(request: Request) -> Response:
    run_id = request.query_params.get("run_id", "")
    experiment_ids = sorted({e for e in request.query_params.getlist("experiment_id") if e})
    if not run_id and not experiment_ids:
        raise MlflowException(
            "Missing value for required parameter 'run_id' or 'experiment_id'.",
            INVALID_PARAMETER_VALUE,
        )
    store = state_of(request).store
    if not isinstance(store, ChangeStore):
        raise MlflowException(
            "Live updates need a SQL tracking store (it keeps the change cursor).",
            INVALID_PARAMETER_VALUE,
        )
    if run_id:
        await run_in_threadpool(store.get_run, run_id)  # 404 now rather than inside the stream
        key, watch = "run:" + run_id, Watch(store, run_id=run_id)
    else:
        key = "experiments:" + ",".join(experiment_ids)
        watch = Watch(store, experiment_ids=experiment_ids)
    return StreamingResponse(
        _stream(_hub(request), key, watch, _resume(request)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


routes = [Route(f"{PREFIX}/events", events, methods=["GET"])]
