"""The trace half of the RestStore, sending traces the way MLflow 3.17's client does (spec §4.2):
spans over OTLP/HTTP (``POST /v1/traces``, one request per experiment and batch), then one
StartTraceV3 per trace with its info; reads through the v3 endpoints, tags and deletion through
the v2 paths, as the 3.x client does."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tracklet.entities import PagedList, Span, Trace, TraceData, TraceInfo
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.store.rest.http import HttpClient
from tracklet.store.trace_base import SEARCH_TRACES_DEFAULT_MAX_RESULTS, trace_not_found
from tracklet.wire import endpoints as tep
from tracklet.wire.errors import exception_from_response
from tracklet.wire.traces import (
    span_from_otel_json,
    span_to_otel_json,
    trace_info_from_json,
    trace_info_to_json,
)

BATCH_GET_SIZE = 10  # MLflow's MLFLOW_SEARCH_TRACES_MAX_BATCH_SIZE
DELETE_BATCH_SIZE = 100


def _trace_from_json(data: Any) -> Trace:
    spans = [span_from_otel_json(s) for s in data.get("spans") or []]
    spans.sort(key=lambda s: (s.parent_id is not None, s.start_time_ns))
    return Trace(trace_info_from_json(data["trace_info"]), TraceData(spans))


class TracesOverRest:
    """Mixed into RestStore, which provides ``_http``."""

    _http: HttpClient

    def log_spans(self, experiment_id: str, spans: Sequence[Span]) -> Sequence[Span]:
        if not spans:
            return spans
        body = {
            "resourceSpans": [
                {
                    "resource": {"attributes": []},
                    "scopeSpans": [{"spans": [span_to_otel_json(s, hex_ids=True) for s in spans]}],
                }
            ]
        }
        response = self._http._send(
            "POST",
            tep.OTLP_TRACES_PATH.lstrip("/"),
            content=json.dumps(body, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json", tep.EXPERIMENT_ID_HEADER: experiment_id},
        )
        if response.status_code != 200:
            raise exception_from_response(response.status_code, response.content, str(response.url))
        return spans

    def start_trace(self, trace_info: TraceInfo) -> TraceInfo:
        body = self._http.call(
            tep.START_TRACE_V3,
            {"trace": {"trace_info": trace_info_to_json(trace_info), "spans": []}},
        )
        return trace_info_from_json(body["trace"]["trace_info"])

    def log_traces(self, traces: Sequence[Trace]) -> None:
        by_experiment: dict[str, list[Span]] = {}
        for trace in traces:
            experiment_id = trace.info.experiment_id
            if experiment_id is None:
                raise MlflowException(
                    f"Trace {trace.trace_id} has no experiment.", INVALID_PARAMETER_VALUE
                )
            by_experiment.setdefault(experiment_id, []).extend(trace.data.spans)
        for experiment_id, spans in by_experiment.items():
            self.log_spans(experiment_id, spans)
        for trace in traces:
            self.start_trace(trace.info)

    def get_trace_info(self, trace_id: str) -> TraceInfo:
        body = self._http.call(
            tep.GET_TRACE_INFO_V3, {"trace_id": trace_id}, {"trace_id": trace_id}
        )
        return trace_info_from_json(body["trace"]["trace_info"])

    def get_trace(self, trace_id: str) -> Trace:
        found = self.batch_get_traces([trace_id])
        if not found:
            raise trace_not_found(trace_id)
        return found[0]

    def batch_get_traces(self, trace_ids: Sequence[str]) -> list[Trace]:
        found: dict[str, Trace] = {}
        ids = list(trace_ids)
        for start in range(0, len(ids), BATCH_GET_SIZE):
            body = self._http.call(
                tep.BATCH_GET_TRACES, {"trace_ids": ids[start : start + BATCH_GET_SIZE]}
            )
            for data in body.get("traces") or []:
                trace = _trace_from_json(data)
                found[trace.trace_id] = trace
        return [found[i] for i in ids if i in found]

    def search_traces(
        self,
        locations: Sequence[str],
        filter_string: str | None = None,
        max_results: int = SEARCH_TRACES_DEFAULT_MAX_RESULTS,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[TraceInfo]:
        fields: dict[str, Any] = {
            "locations": [
                {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": str(e)}}
                for e in locations
            ],
            "max_results": max_results,
        }
        if filter_string:
            fields["filter"] = filter_string
        if order_by:
            fields["order_by"] = list(order_by)
        if page_token:
            fields["page_token"] = page_token
        body = self._http.call(tep.SEARCH_TRACES_V3, fields)
        infos = [trace_info_from_json(t) for t in body.get("traces") or []]
        return PagedList(infos, body.get("next_page_token") or None)

    def delete_traces(
        self,
        experiment_id: str,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        fields: dict[str, Any] = {"experiment_id": experiment_id}
        if max_timestamp_millis is not None:
            fields["max_timestamp_millis"] = max_timestamp_millis
        if max_traces is not None:
            fields["max_traces"] = max_traces
        if not trace_ids:
            return int(self._http.call(tep.DELETE_TRACES, fields).get("traces_deleted", 0))
        deleted = 0
        ids = list(trace_ids)
        for start in range(0, len(ids), DELETE_BATCH_SIZE):
            fields["request_ids"] = ids[start : start + DELETE_BATCH_SIZE]
            deleted += int(self._http.call(tep.DELETE_TRACES, fields).get("traces_deleted", 0))
        return deleted

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        self._http.call(tep.SET_TRACE_TAG, {"key": key, "value": value}, {"request_id": trace_id})

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        self._http.call(tep.DELETE_TRACE_TAG, {"key": key}, {"request_id": trace_id})

    def link_traces_to_run(self, trace_ids: Sequence[str], run_id: str) -> None:
        self._http.call(tep.LINK_TRACES_TO_RUN, {"trace_ids": list(trace_ids), "run_id": run_id})
