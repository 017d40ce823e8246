"""Live updates over Server-Sent Events: ``GET /ajax-api/2.0/tracklet/events?run_id=...`` or
``?experiment_id=...`` (repeated for several experiments).

The store is not polled per client. Each worker keeps one *feed* per watched run or experiment
set, shared by every stream open on it: the feed reads a cheap snapshot once a second (reads
that work the same with any number of workers and with SQLite or PostgreSQL), and when it
differs from the last one, advances the feed's change cursor (a counter, sent as the event's
``id``) and hands the ``runs`` events (run id, status, end time: a run's status changed or a
run appeared) and ``metrics`` events (run id, key, last step, timestamp: a watched run logged)
to every stream. A feed stops when its last stream closes. A comment line every 15 s keeps
proxies from closing a stream; streams end after a few minutes and EventSource reconnects by
itself (``retry``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tracklet.entities import ViewType
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.server.rpc import state_of
from tracklet.store.base import TrackingStore

PREFIX = "/ajax-api/2.0/tracklet"
POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
STREAM_SECONDS = 300.0
RECENT_RUNS = 100
QUEUE_SIZE = 64

RunState = dict[str, tuple[str, int | None]]
MetricState = dict[tuple[str, str], tuple[int, int]]
Snapshot = Callable[[], tuple[RunState, MetricState]]


def run_snapshot(store: TrackingStore, run_id: str) -> tuple[RunState, MetricState]:
    """The run's (status, end time) and each metric's (last step, timestamp)."""
    run = store.get_run(run_id)
    runs = {run_id: (run.info.status, run.info.end_time)}
    metrics = {(run_id, m.key): (m.step, m.timestamp) for m in run.data.metric_objs}
    return runs, metrics


def experiment_snapshot(
    store: TrackingStore, experiment_ids: list[str]
) -> tuple[RunState, MetricState]:
    """(status, end time) of the experiments' newest runs and of those running."""
    runs: RunState = {}
    for filter_string in ("", "attributes.status = 'RUNNING'"):
        page = store.search_runs_columns(
            experiment_ids, filter_string, ViewType.ACTIVE_ONLY, RECENT_RUNS, None, None
        )
        info = page.info
        for run_id, status, end in zip(
            info["run_id"], info["status"], info["end_time"], strict=True
        ):
            runs[run_id] = (status, end)
    return runs, {}


def _event(name: str, data: Any, cursor: int) -> str:
    return f"id: {cursor}\nevent: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def changes(
    old: tuple[RunState, MetricState], new: tuple[RunState, MetricState], run_feed: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The runs whose (status, end time) changed or that appeared, and the metrics that moved.
    A run gone from an experiment's recent/running lists has not changed; a run feed has one
    run, so nothing "appears" there."""
    runs, metrics = old
    new_runs, new_metrics = new
    changed = [
        {"run_id": rid, "status": status, "end_time": end}
        for rid, (status, end) in new_runs.items()
        if runs.get(rid) != (status, end) and (not run_feed or rid in runs)
    ]
    logged = [
        {"run_id": rid, "key": key, "last_step": step, "timestamp": stamp}
        for (rid, key), (step, stamp) in new_metrics.items()
        if metrics.get((rid, key)) != (step, stamp)
    ]
    return changed, logged


@dataclass
class _Feed:
    snapshot: Snapshot
    run_feed: bool
    streams: set[asyncio.Queue[str]] = field(default_factory=set)
    cursor: int = 0
    task: asyncio.Task[None] | None = None


class Hub:
    """The worker's feeds, by what they watch; see the module's doc."""

    def __init__(self, poll_seconds: float = POLL_SECONDS) -> None:
        self.poll_seconds = poll_seconds
        self._feeds: dict[str, _Feed] = {}

    @property
    def feeds(self) -> int:
        """How many feeds poll the store now (one per watched run or experiment set)."""
        return len(self._feeds)

    def subscribe(self, key: str, snapshot: Snapshot, run_feed: bool) -> asyncio.Queue[str]:
        feed = self._feeds.get(key)
        if feed is None:
            feed = self._feeds[key] = _Feed(snapshot, run_feed)
            feed.task = asyncio.get_running_loop().create_task(self._poll(feed))
        queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)
        feed.streams.add(queue)
        return queue

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
        try:
            state = await run_in_threadpool(feed.snapshot)
        except MlflowException:
            state = ({}, {})
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                new = await run_in_threadpool(feed.snapshot)
            except MlflowException:
                continue  # deleted meanwhile, say: the streams keep their heartbeats
            changed, logged = changes(state, new, feed.run_feed)
            state = ({**state[0], **new[0]}, new[1])
            if not changed and not logged:
                continue
            feed.cursor += 1
            message = ""
            if changed:
                message += _event("runs", {"runs": changed}, feed.cursor)
            if logged:
                message += _event("metrics", {"metrics": logged}, feed.cursor)
            for queue in feed.streams:
                with contextlib.suppress(asyncio.QueueFull):  # a stalled client skips a beat
                    queue.put_nowait(message)


def _hub(request: Request) -> Hub:
    state = request.app.state
    found: Hub | None = getattr(state, "ui_events", None)
    if found is None:
        found = state.ui_events = Hub()
    return found


async def _stream(hub: Hub, key: str, snapshot: Snapshot, run_feed: bool) -> AsyncIterator[str]:
    yield "retry: 1000\n\n"
    queue = hub.subscribe(key, snapshot, run_feed)
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


async def events(request: Request) -> Response:
    run_id = request.query_params.get("run_id", "")
    experiment_ids = sorted({e for e in request.query_params.getlist("experiment_id") if e})
    if not run_id and not experiment_ids:
        raise MlflowException(
            "Missing value for required parameter 'run_id' or 'experiment_id'.",
            INVALID_PARAMETER_VALUE,
        )
    store = state_of(request).store
    snapshot: Snapshot
    if run_id:
        await run_in_threadpool(store.get_run, run_id)  # 404 now rather than inside the stream
        key = "run:" + run_id

        def snapshot() -> tuple[RunState, MetricState]:
            return run_snapshot(store, run_id)
    else:
        key = "experiments:" + ",".join(experiment_ids)

        def snapshot() -> tuple[RunState, MetricState]:
            return experiment_snapshot(store, experiment_ids)

    return StreamingResponse(
        _stream(_hub(request), key, snapshot, bool(run_id)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


routes = [Route(f"{PREFIX}/events", events, methods=["GET"])]
