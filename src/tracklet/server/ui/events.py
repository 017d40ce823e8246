"""Live updates over Server-Sent Events: ``GET /ajax-api/2.0/tracklet/events?run_id=...`` or
``?experiment_id=...``.

Each stream polls the store once a second (cheap reads that work the same with any number of
workers and with SQLite or PostgreSQL) and sends ``runs`` events (run id, status, end time) when
a run's status changes or a run appears, and ``metrics`` events (run id, key, last step,
timestamp) when a watched run logs. A comment line every 15 s keeps proxies from closing the
stream. Streams end after a few minutes; EventSource reconnects by itself (``retry``)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
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

RunState = dict[str, tuple[str, int | None]]
MetricState = dict[tuple[str, str], tuple[int, int]]


def run_snapshot(store: TrackingStore, run_id: str) -> tuple[RunState, MetricState]:
    """The run's (status, end time) and each metric's (last step, timestamp)."""
    run = store.get_run(run_id)
    runs = {run_id: (run.info.status, run.info.end_time)}
    metrics = {(run_id, m.key): (m.step, m.timestamp) for m in run.data.metric_objs}
    return runs, metrics


def experiment_snapshot(store: TrackingStore, experiment_id: str) -> tuple[RunState, MetricState]:
    """(status, end time) of the experiment's newest runs and of those running."""
    runs: RunState = {}
    for filter_string in ("", "attributes.status = 'RUNNING'"):
        page = store.search_runs_columns(
            [experiment_id], filter_string, ViewType.ACTIVE_ONLY, RECENT_RUNS, None, None
        )
        info = page.info
        for run_id, status, end in zip(
            info["run_id"], info["status"], info["end_time"], strict=True
        ):
            runs[run_id] = (status, end)
    return runs, {}


def _event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _stream(store: TrackingStore, run_id: str, experiment_id: str) -> AsyncIterator[str]:
    def snapshot() -> tuple[RunState, MetricState]:
        if run_id:
            return run_snapshot(store, run_id)
        return experiment_snapshot(store, experiment_id)

    yield "retry: 1000\n\n"
    runs, metrics = await run_in_threadpool(snapshot)
    started = last_sent = time.monotonic()
    while time.monotonic() - started < STREAM_SECONDS:
        await asyncio.sleep(POLL_SECONDS)
        new_runs, new_metrics = await run_in_threadpool(snapshot)
        changed = [
            {"run_id": rid, "status": status, "end_time": end}
            for rid, (status, end) in new_runs.items()
            if runs.get(rid) != (status, end) and (not run_id or rid in runs)
        ]
        # A run gone from an experiment's recent/running lists has not changed; only new ones count.
        logged = [
            {"run_id": rid, "key": key, "last_step": step, "timestamp": stamp}
            for (rid, key), (step, stamp) in new_metrics.items()
            if metrics.get((rid, key)) != (step, stamp)
        ]
        runs.update(new_runs)
        metrics = new_metrics
        if changed:
            yield _event("runs", {"runs": changed})
        if logged:
            yield _event("metrics", {"metrics": logged})
        now = time.monotonic()
        if changed or logged:
            last_sent = now
        elif now - last_sent >= HEARTBEAT_SECONDS:
            last_sent = now
            yield ": heartbeat\n\n"


async def events(request: Request) -> Response:
    run_id = request.query_params.get("run_id", "")
    experiment_id = request.query_params.get("experiment_id", "")
    if not run_id and not experiment_id:
        raise MlflowException(
            "Missing value for required parameter 'run_id' or 'experiment_id'.",
            INVALID_PARAMETER_VALUE,
        )
    store = state_of(request).store
    if run_id:
        await run_in_threadpool(store.get_run, run_id)  # 404 now rather than inside the stream
    return StreamingResponse(
        _stream(store, run_id, experiment_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


routes = [Route(f"{PREFIX}/events", events, methods=["GET"])]
