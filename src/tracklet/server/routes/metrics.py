"""Metric history: one metric of one run (paged), and the UI's multi-run reads (spec §2.4)."""

from __future__ import annotations

import base64
import json
from typing import Any

from tracklet.entities import MetricHistory
from tracklet.exceptions import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST, MlflowException
from tracklet.search import page_token
from tracklet.server.rpc import ServerState, rpc
from tracklet.wire import endpoints as ep
from tracklet.wire.values import encode_double

Fields = dict[str, Any]
MAX_RUNS_PER_BULK_REQUEST = 100
MAX_RESULTS_PER_RUN = 2500  # get-history-bulk-interval
MAX_BULK_HISTORY_RESULTS = 25000  # get-history-bulk


def _encode_offset(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_offset(token: str) -> int:
    return page_token.decode_offset(token)


def _points(
    history: MetricHistory, start: int, stop: int, run_id: str | None = None
) -> list[Fields]:
    key = history.key
    steps, timestamps, values = history.steps, history.timestamps, history.values
    if run_id is None:
        return [
            {
                "key": key,
                "value": encode_double(values[i]),
                "timestamp": timestamps[i],
                "step": steps[i],
            }
            for i in range(start, stop)
        ]
    return [
        {
            "key": key,
            "value": encode_double(values[i]),
            "timestamp": timestamps[i],
            "step": steps[i],
            "run_id": run_id,
        }
        for i in range(start, stop)
    ]


def get_metric_history(state: ServerState, req: Fields) -> Fields:
    history = state.store.get_metric_history(req["run_id"], req["metric_key"])
    total = len(history)
    max_results = req.get("max_results")
    if max_results is None:  # absent: the whole history, no token (spec §2.4)
        return {"metrics": _points(history, 0, total)} if total else {}
    if max_results <= 0:
        raise MlflowException(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be a "
            "positive integer.",
            INVALID_PARAMETER_VALUE,
        )
    token = req.get("page_token")
    start = _decode_offset(token) if token else 0
    stop = min(total, start + max_results)
    out: Fields = {}
    if stop > start:
        out["metrics"] = _points(history, start, stop)
    if stop < total:
        out["next_page_token"] = _encode_offset(stop)
    return out


# MLflow's handler appends this to the messages of its request-schema checks.
_SEE_DOCS = " See the API docs for more information about request parameters."


def _check_run_count(run_ids: list[str], what: str) -> None:
    # The two bulk handlers word their limit differently in MLflow; clients match the text.
    if not run_ids:
        raise MlflowException(
            f"{what} request must specify at least one run_id.", INVALID_PARAMETER_VALUE
        )
    if len(run_ids) > MAX_RUNS_PER_BULK_REQUEST:
        if what == "GetMetricHistoryBulk":
            message = f"{what} request cannot specify more than {MAX_RUNS_PER_BULK_REQUEST}"
            message += f" run_ids. Received {len(run_ids)} run_ids."
        else:
            message = f"{what} request must specify at most {MAX_RUNS_PER_BULK_REQUEST} run_ids."
            message += f" Received {len(run_ids)} run_ids.{_SEE_DOCS}"
        raise MlflowException(message, INVALID_PARAMETER_VALUE)


def _history_or_empty(state: ServerState, run_id: str, key: str) -> MetricHistory:
    """A run's history of ``key``; MLflow's bulk handlers answer no points for an unknown run
    (they query the metrics table directly), so the UI's charts survive a deleted run."""
    try:
        return state.store.get_metric_history(run_id, key)
    except MlflowException as error:
        if error.error_code != RESOURCE_DOES_NOT_EXIST:
            raise
        return MetricHistory(key, [], [], [], run_id)


def evenly_spaced(total: int, count: int) -> list[int]:
    """At most ``count`` indices spread over ``range(total)``, first and last included."""
    if total <= count:
        return list(range(total))
    if count == 1:
        return [total - 1]
    spacing = (total - 1) / (count - 1)
    return sorted({round(i * spacing) for i in range(count)})


def get_metric_history_bulk_interval(state: ServerState, req: Fields) -> Fields:
    run_ids: list[str] = req["run_ids"]
    _check_run_count(run_ids, "GetMetricHistoryBulkInterval")
    max_results = req.get("max_results", MAX_RESULTS_PER_RUN)
    if not 1 <= max_results <= MAX_RESULTS_PER_RUN:
        raise MlflowException(
            f"max_results must be between 1 and {MAX_RESULTS_PER_RUN}.{_SEE_DOCS}",
            INVALID_PARAMETER_VALUE,
        )
    start_step, end_step = req.get("start_step"), req.get("end_step")
    if (start_step is None) != (end_step is None):
        raise MlflowException(
            "If either start step or end step are specified, both must be specified.",
            INVALID_PARAMETER_VALUE,
        )
    if start_step is not None and end_step is not None and start_step > end_step:
        raise MlflowException(
            "end_step must be greater than start_step. "
            f"Found start_step={start_step} and end_step={end_step}.",
            INVALID_PARAMETER_VALUE,
        )
    key = req["metric_key"]
    metrics: list[Fields] = []
    for run_id in run_ids:
        history = _history_or_empty(state, run_id, key)
        rows = sorted(
            (s, t, v)
            for s, t, v in zip(history.steps, history.timestamps, history.values, strict=True)
            if start_step is None or start_step <= s <= end_step  # type: ignore[operator]
        )
        for i in evenly_spaced(len(rows), max_results):
            step, timestamp, value = rows[i]
            metrics.append(
                {
                    "key": key,
                    "value": encode_double(value),
                    "timestamp": timestamp,
                    "step": step,
                    "run_id": run_id,
                }
            )
    return {"metrics": metrics} if metrics else {}


def get_metric_history_bulk(state: ServerState, req: Fields) -> Fields:
    run_ids = req.get("run_id", [])
    _check_run_count(run_ids, "GetMetricHistoryBulk")
    key = req.get("metric_key")
    if not key:
        raise MlflowException(
            "GetMetricHistoryBulk request must specify a metric_key.", INVALID_PARAMETER_VALUE
        )
    max_results = min(req.get("max_results", MAX_BULK_HISTORY_RESULTS), MAX_BULK_HISTORY_RESULTS)
    metrics: list[Fields] = []
    for run_id in sorted(run_ids):
        history = _history_or_empty(state, run_id, key)
        metrics.extend(_points(history, 0, min(len(history), max_results), run_id))
        if len(metrics) >= max_results:
            break
    return {"metrics": metrics[:max_results]}


routes = [
    *rpc(ep.GET_METRIC_HISTORY, get_metric_history),
    *rpc(ep.GET_METRIC_HISTORY_BULK_INTERVAL, get_metric_history_bulk_interval),
    *rpc(ep.GET_METRIC_HISTORY_BULK, get_metric_history_bulk),
]
