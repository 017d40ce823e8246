"""Runs as columns for the runs table, and the metric / param / tag keys of experiments.

``POST /ajax-api/2.0/tracklet/runs/search-columns`` takes SearchRuns' fields and answers one page
of runs as ``{"n", "columns": {name: [value per run]}, "next_page_token"}``: one JSON array per
column is a fraction of MLflow's nested runs/search body to encode, send and parse.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracklet.entities import ViewType
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.server.rpc import state_of
from tracklet.server.ui import windows
from tracklet.server.ui.replies import field, json_body, json_reply
from tracklet.store.base import TrackingStore
from tracklet.store.run_columns import NAN, RunColumns

PREFIX = "/ajax-api/2.0/tracklet"
MAX_RESULTS = 50_000
RUN_NAME_TAG = "mlflow.runName"
PARENT_TAG = "mlflow.parentRunId"


def _cell(value: float) -> float | str | None:
    # RunColumns marks a missing metric with NAN itself; a logged NaN is another NaN object.
    if value is NAN:
        return None
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def to_json(page: RunColumns) -> dict[str, Any]:
    """The wire shape of a page of runs as columns."""
    info = page.info
    tags = page.tags
    columns: dict[str, list[Any]] = {
        "run_id": info["run_id"],
        "run_name": tags.get(RUN_NAME_TAG, [None] * page.size),
        "experiment_id": info["experiment_id"],
        "status": info["status"],
        "start_time": info["start_time"],
        "end_time": info["end_time"],
        "parent_run_id": tags.get(PARENT_TAG, [None] * page.size),
    }
    for key, values in page.metrics.items():
        columns["metrics." + key] = [_cell(v) for v in values]
    for key, strings in page.params.items():
        columns["params." + key] = strings
    for key, strings in tags.items():
        columns["tags." + key] = strings
    out: dict[str, Any] = {"n": page.size, "columns": columns}
    if page.token:
        out["next_page_token"] = page.token
    return out


def view_type_of(body: dict[str, Any]) -> int:
    raw = body.get("run_view_type", "ACTIVE_ONLY")
    if isinstance(raw, int) and not isinstance(raw, bool) and raw in (1, 2, 3):
        return raw
    if isinstance(raw, str):
        return ViewType.from_string(raw)
    raise MlflowException(
        f"Invalid value {raw!r} for parameter 'run_view_type' supplied.", INVALID_PARAMETER_VALUE
    )


def _experiment_ids(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise MlflowException(
            "Invalid value for parameter 'experiment_ids' supplied: a non-empty list of ids.",
            INVALID_PARAMETER_VALUE,
        )
    return value


async def search_columns(request: Request) -> Response:
    body = await json_body(request)
    experiment_ids = _experiment_ids(body.get("experiment_ids"))
    if "window" in body:
        return await _window(request, body, experiment_ids)
    max_results = field(body, "max_results", int, 1000)
    if not 1 <= max_results <= MAX_RESULTS:
        raise MlflowException(
            f"Invalid value {max_results} for parameter 'max_results' supplied: "
            f"1 to {MAX_RESULTS}.",
            INVALID_PARAMETER_VALUE,
        )
    order_by = field(body, "order_by", list, [])
    store = state_of(request).store
    page = await run_in_threadpool(
        store.search_runs_columns,
        experiment_ids,
        field(body, "filter", str, ""),
        view_type_of(body),
        max_results,
        [str(term) for term in order_by] or None,
        field(body, "page_token", str, "") or None,
    )
    return json_reply(request, to_json(page))


async def _window(request: Request, body: dict[str, Any], experiment_ids: list[str]) -> Response:
    """Rows ``offset`` to ``offset + limit`` of the whole query, from a snapshot (see windows)."""
    spec = field(body, "window", dict, {})
    offset, limit = spec.get("offset", 0), spec.get("limit", 200)
    for name, value in (("offset", offset), ("limit", limit)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_RESULTS:
            raise MlflowException(
                f"Invalid value {value!r} for parameter 'window.{name}' supplied: "
                f"0 to {MAX_RESULTS}.",
                INVALID_PARAMETER_VALUE,
            )
    query: windows.Query = (
        tuple(experiment_ids),
        field(body, "filter", str, ""),
        view_type_of(body),
        tuple(str(term) for term in field(body, "order_by", list, [])),
    )
    snapshots = _snapshots(request)
    snapshot = snapshots.find(field(body, "snapshot", str, ""), query)
    if snapshot is None:
        store = state_of(request).store
        snapshot = snapshots.add(query, await run_in_threadpool(windows.run_query, store, query))
    found = snapshot

    def reply() -> Response:
        out = to_json(windows.window(found.columns, offset, offset + limit))
        out.update(total=found.columns.size, offset=offset, snapshot=found.id)
        return json_reply(request, out)

    # Off the event loop: a background chunk's encoding must not hold up the window a scroll
    # asks for meanwhile.
    return await run_in_threadpool(reply)


def _snapshots(request: Request) -> windows.Snapshots:
    state = request.app.state
    found: windows.Snapshots | None = getattr(state, "ui_snapshots", None)
    if found is None:
        found = state.ui_snapshots = windows.Snapshots()
    return found


def _key_counts(page: RunColumns, counts: dict[str, dict[str, int]]) -> None:
    for key, metric_values in page.metrics.items():
        present = sum(1 for v in metric_values if v is not NAN)
        counts["metrics"][key] = counts["metrics"].get(key, 0) + present
    for kind in ("params", "tags"):
        for key, values in getattr(page, kind).items():
            present = sum(1 for v in values if v is not None)
            counts[kind][key] = counts[kind].get(key, 0) + present


def experiment_keys(
    store: TrackingStore, experiment_ids: list[str], snapshots: windows.Snapshots | None = None
) -> dict[str, Any]:
    """Each metric, param and tag key of the experiments' active runs, with how many runs have
    it (what the column picker, filter autocomplete and chart grid offer); from the runs
    table's snapshot of the same runs when there is one."""
    counts: dict[str, dict[str, int]] = {"metrics": {}, "params": {}, "tags": {}}
    found = snapshots and snapshots.latest((tuple(experiment_ids), "", ViewType.ACTIVE_ONLY, ()))
    if found and found.columns.size < windows.MAX_RUNS:
        _key_counts(found.columns, counts)
    else:
        token: str | None = None
        while True:
            page = store.search_runs_columns(
                experiment_ids, "", ViewType.ACTIVE_ONLY, MAX_RESULTS, None, token
            )
            _key_counts(page, counts)
            token = page.token
            if not token:
                break
    return {
        kind: [{"key": k, "runs": n} for k, n in sorted(found.items())]
        for kind, found in counts.items()
    }


async def keys(request: Request) -> Response:
    ids = [v for v in request.query_params.getlist("experiment_ids") if v]
    ids = [part for v in ids for part in v.split(",") if part]
    store = state_of(request).store
    found = await run_in_threadpool(
        experiment_keys, store, _experiment_ids(ids), _snapshots(request)
    )
    return json_reply(request, found)


routes = [
    Route(f"{PREFIX}/runs/search-columns", search_columns, methods=["POST"]),
    Route(f"{PREFIX}/experiments/keys", keys, methods=["GET"]),
]
