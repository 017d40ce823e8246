"""One tracing scenario, run with any module that has MLflow 3.17's tracing API (``mlflow``
itself, or ``tracklet``), so that the results of different clients and stores can be compared.

It records traces with ``@trace`` (functions, methods, an error) and ``start_span``, linked to an
active model and, for some, a run; then searches (model, run, filters, order, pages), reads
spans back, sets and deletes tags and deletes traces. It returns a summary of plain values.
"""

from __future__ import annotations

import json
import time
from typing import Any


def run_scenario(m: Any, experiment_name: str) -> dict[str, Any]:
    experiment_id = m.set_experiment(experiment_name).experiment_id
    model = m.set_active_model(name=f"{experiment_name}-agent")
    client = m.MlflowClient()

    class Tool:
        @m.trace(span_type="TOOL", attributes={"version": 2})
        def lookup(self, query: str, limit: int = 3) -> list[str]:
            return [query] * limit

    @m.trace(name="agent")
    def agent(question: str, *, temperature: float = 0.5) -> dict[str, Any]:
        with m.start_span("plan", span_type="LLM", attributes={"model": "small"}) as span:
            span.set_inputs({"question": question})
            span.set_outputs("a plan")
        found = Tool().lookup(question)
        m.update_current_trace(tags={"topic": question}, metadata={"mlflow.trace.session": "s1"})
        return {"answer": found[0], "temperature": temperature}

    @m.trace
    def broken(x: int) -> int:
        raise ValueError(f"bad {x}")

    with m.start_run() as run:
        for question in ("alpha", "beta", "gamma"):
            agent(question)
            time.sleep(0.002)
    try:
        broken(7)
    except ValueError as error:
        raised = str(error)
    time.sleep(0.002)  # distinct request times: the order is then the calls' order
    with m.start_span("manual") as span:
        span.set_inputs([1, 2])
        span.set_attribute("count", 2)
        span.set_outputs(None)
    m.flush_trace_async_logging()

    def ids(traces: list[Any]) -> list[str]:
        return [t.info.trace_id for t in traces]

    def names(traces: list[Any]) -> list[str]:
        return [t.info.tags.get("mlflow.traceName") for t in traces]

    everything = m.search_traces(locations=[experiment_id], return_type="list")
    by_model = m.search_traces(model_id=model.model_id, return_type="list")
    by_run = m.search_traces(locations=[experiment_id], run_id=run.info.run_id, return_type="list")
    errors = m.search_traces(filter_string="trace.status = 'ERROR'", return_type="list")
    planned = m.search_traces(filter_string="span.name = 'plan'", return_type="list")
    beta = m.search_traces(filter_string="tags.topic = 'beta'", return_type="list")
    session = m.search_traces(
        filter_string="metadata.`mlflow.trace.session` = 's1'", return_type="list"
    )
    oldest_first = m.search_traces(
        locations=[experiment_id], order_by=["timestamp_ms ASC"], return_type="list"
    )
    frame = m.search_traces(locations=[experiment_id], include_spans=False)
    first = client.search_traces(locations=[experiment_id], max_results=2)
    second = client.search_traces(locations=[experiment_id], max_results=2, page_token=first.token)
    trace = m.get_trace(ids(by_run)[0])
    spans = {s.name: s for s in trace.data.spans}
    failed = m.get_trace(ids(errors)[0]).data.spans[0]

    target = ids(by_run)[0]
    m.MlflowClient().set_trace_tag(target, "reviewed", "yes")
    tagged = m.get_trace(target).info.tags.get("reviewed")
    m.MlflowClient().delete_trace_tag(target, "reviewed")
    untagged = "reviewed" in m.get_trace(target).info.tags

    deleted_by_id = client.delete_traces(experiment_id, trace_ids=ids(errors))
    deleted_by_age = client.delete_traces(
        experiment_id, max_timestamp_millis=int(time.time() * 1000) + 60_000, max_traces=2
    )
    left = m.search_traces(locations=[experiment_id], return_type="list")
    return {
        "raised": raised,
        "count": len(everything),
        "by_model": sorted(names(by_model)),
        "by_run": sorted(names(by_run)),
        "errors": names(errors),
        "planned": len(planned),
        "beta": [t.info.tags["topic"] for t in beta],
        "session": len(session),
        "oldest_first": names(oldest_first),
        "newest_first": names(everything),
        "frame_columns": sorted(frame.columns),
        "frame_rows": len(frame),
        "pages": [len(first), len(second), bool(first.token)],
        "paged_unique": len(set(ids(first)) | set(ids(second))),
        "info": {
            "state": str(trace.info.state),
            "request_preview": json.loads(trace.info.request_preview),
            "response_preview": json.loads(trace.info.response_preview),
            "source_run": trace.info.trace_metadata.get("mlflow.sourceRun") == run.info.run_id,
            "model": trace.info.trace_metadata.get("mlflow.modelId") == model.model_id,
            "schema": trace.info.trace_metadata.get("mlflow.trace_schema.version"),
            "inputs": trace.info.trace_metadata.get("mlflow.traceInputs"),
            "topic": trace.info.tags.get("topic"),
            "duration": trace.info.execution_duration is not None,
        },
        "spans": {
            name: {
                "parent": None
                if s.parent_id is None
                else next(p.name for p in trace.data.spans if p.span_id == s.parent_id),
                "type": s.span_type,
                "inputs": s.inputs,
                "outputs": s.outputs,
                "status": s.status.status_code.value,
                "user_attributes": {
                    k: v for k, v in s.attributes.items() if not k.startswith("mlflow.")
                },
                "function": s.get_attribute("mlflow.spanFunctionName"),
                "log_level": s.get_attribute("mlflow.spanLogLevel"),
            }
            for name, s in spans.items()
        },
        "failed": {
            "status": failed.status.status_code.value,
            "description": failed.status.description,
            "events": [e.name for e in failed.events],
            "type": failed.events[0].attributes["exception.type"],
            "message": failed.events[0].attributes["exception.message"],
            "inputs": failed.inputs,
        },
        "tagged": tagged,
        "untagged": untagged,
        "deleted": [deleted_by_id, deleted_by_age],
        "left": len(left),
    }


EXPECTED: dict[str, Any] = {
    "raised": "bad 7",
    "count": 5,
    "by_model": ["agent", "agent", "agent", "broken", "manual"],
    "by_run": ["agent", "agent", "agent"],
    "errors": ["broken"],
    "planned": 3,
    "beta": ["beta"],
    "session": 3,
    "oldest_first": ["agent", "agent", "agent", "broken", "manual"],
    "newest_first": ["manual", "broken", "agent", "agent", "agent"],
    "frame_columns": sorted(
        [
            "trace_id",
            "trace",
            "client_request_id",
            "state",
            "request_time",
            "execution_duration",
            "request",
            "response",
            "trace_metadata",
            "tags",
            "spans",
            "assessments",
        ]
    ),
    "frame_rows": 5,
    "pages": [2, 2, True],
    "paged_unique": 4,
    "info": {
        "state": "OK",
        "request_preview": {"question": "gamma", "temperature": 0.5},
        "response_preview": {"answer": "gamma", "temperature": 0.5},
        "source_run": True,
        "model": True,
        "schema": "3",
        "inputs": '{"question": "gamma", "temperature": 0.5}',
        "topic": "gamma",
        "duration": True,
    },
    "spans": {
        "agent": {
            "parent": None,
            "type": "UNKNOWN",
            "inputs": {"question": "gamma", "temperature": 0.5},
            "outputs": {"answer": "gamma", "temperature": 0.5},
            "status": "OK",
            "user_attributes": {},
            "function": "agent",
            "log_level": 10,
        },
        "plan": {
            "parent": "agent",
            "type": "LLM",
            "inputs": {"question": "gamma"},
            "outputs": "a plan",
            "status": "OK",
            "user_attributes": {"model": "small"},
            "function": None,
            "log_level": 20,
        },
        "lookup": {
            "parent": "agent",
            "type": "TOOL",
            "inputs": {"query": "gamma", "limit": 3},
            "outputs": ["gamma", "gamma", "gamma"],
            "status": "OK",
            "user_attributes": {"version": 2},
            "function": "lookup",
            "log_level": 20,
        },
    },
    "failed": {
        "status": "ERROR",
        "description": "ValueError: bad 7",
        "events": ["exception"],
        "type": "ValueError",
        "message": "bad 7",
        "inputs": {"x": 7},
    },
    "tagged": "yes",
    "untagged": False,
    "deleted": [1, 2],
    "left": 2,
}
