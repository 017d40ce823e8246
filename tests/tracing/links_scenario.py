"""Span links and per-function sampling, run with any module that has MLflow 3.17's tracing
API (``mlflow`` itself or ``tracklet``), so that clients and stores can be compared."""

from __future__ import annotations

from typing import Any


def run_links_scenario(m: Any, experiment_name: str) -> dict[str, Any]:
    experiment_id = m.set_experiment(experiment_name).experiment_id
    link = m.entities.Link
    with m.start_span("first") as first:
        first.set_inputs({"q": 1})
    target = (first.trace_id, first.span_id)
    good = link(trace_id=first.trace_id, span_id=first.span_id, attributes={"why": "retry"})
    bad = link(trace_id="not-hex", span_id="zz")

    @m.trace(links=[bad, good])
    def linked(x: int) -> int:
        with m.start_span("inner", links=[link(first.trace_id, first.span_id)]):
            return x

    linked(1)
    m.flush_trace_async_logging()
    linked_id = m.get_last_active_trace_id()
    spans = m.get_trace(linked_id).data.spans
    links = {
        s.name: [((lk.trace_id, lk.span_id) == target, lk.attributes) for lk in s.links]
        for s in spans
    }

    @m.trace(sampling_ratio_override=0.0)
    def dropped() -> Any:
        with m.start_span("child") as child:
            return m.get_current_active_span(), child.trace_id

    @m.trace(sampling_ratio_override=1.0)
    def kept() -> int:
        return 2

    active, child_trace = dropped()
    m.flush_trace_async_logging()
    after_dropped = m.get_last_active_trace_id()
    kept()
    m.flush_trace_async_logging()
    names = sorted(
        t.data.spans[0].name for t in m.search_traces(locations=[experiment_id], return_type="list")
    )
    return {
        "links": links,
        "dropped: no active span, no trace id": (active, child_trace),
        "dropped left the last trace id": after_dropped == linked_id,
        "kept is last": m.get_last_active_trace_id() not in (linked_id, None),
        "stored roots": names,
    }


EXPECTED: dict[str, Any] = {
    "links": {"linked": [(True, {"why": "retry"})], "inner": [(True, None)]},
    "dropped: no active span, no trace id": (None, "MLFLOW_NO_OP_SPAN_TRACE_ID"),
    "dropped left the last trace id": True,
    "kept is last": True,
    "stored roots": ["first", "kept", "linked"],
}
