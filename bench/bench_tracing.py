"""Tracing: tracklet vs mlflow 3.17.2, same machine, same run (issue 12's targets).

    python -m bench.bench_tracing                      # everything
    python -m bench.bench_tracing --traces 20000       # a smaller search store
    python -m bench.bench_tracing --skip-mlflow-otlp   # no mlflow server (slow to start)

Workloads (each library in a fresh interpreter and directory, local SQLite store):
- ``@trace`` on a trivial function, 10,000 calls: the caller's wall time per call (the export
  runs behind it; the time to flush it all is in the note).
- one trace of 1,000 nested spans (``start_span``), from the first call until ``get_trace``
  returns it with every span (flush included).
- ``search_traces(model_id=...)`` among N traces (N/10 per model), 100 results, infos only
  and with spans: tracklet only by default (MLflow's fill takes about 10 ms a trace).
- OTLP/HTTP ingest: 2 client processes POST protobuf ``ExportTraceServiceRequest`` bodies of
  500 spans (pre-encoded) to ``/v1/traces`` of each server; spans per second over both.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench._common import Row, emit, print_table, run_worker

MODULE = "bench.bench_tracing"


def _lib(name: str):  # type: ignore[no-untyped-def]
    if name == "mlflow":
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        import mlflow

        return mlflow
    import tracklet

    return tracklet


def w_calls(lib: str, count: str) -> None:
    m = _lib(lib)
    m.set_tracking_uri(f"sqlite:///{os.path.abspath('t.db')}")
    m.set_experiment("bench")

    @m.trace
    def f(x: int) -> int:
        return x + 1

    for i in range(200):  # warm-up: imports, the store, the exporter
        f(i)
    m.flush_trace_async_logging()
    n = int(count)
    start = time.perf_counter()
    for i in range(n):
        f(i)
    calls = time.perf_counter() - start
    start = time.perf_counter()
    m.flush_trace_async_logging()
    flush = time.perf_counter() - start
    found = m.search_traces(max_results=n + 200, return_type="list", include_spans=False)
    # MLflow drops traces when its export queue (1,000 by default) is full: count what landed.
    emit({"per_call_us": calls / n * 1e6, "flush": flush, "stored": len(found) - 200})


def w_nested(lib: str, depth: str) -> None:
    m = _lib(lib)
    m.set_tracking_uri(f"sqlite:///{os.path.abspath('t.db')}")
    m.set_experiment("bench")
    with m.start_span("warm-up"):
        pass
    m.flush_trace_async_logging()
    n = int(depth)
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        for i in range(n):
            span = stack.enter_context(m.start_span(f"level{i}"))
            span.set_inputs({"i": i})
    m.flush_trace_async_logging()
    trace = m.get_trace(m.get_last_active_trace_id())
    elapsed = time.perf_counter() - start
    assert len(trace.data.spans) == n, len(trace.data.spans)
    emit({"seconds": elapsed})


def w_search(lib: str, count: str) -> None:
    from tracklet import MlflowClient
    from tracklet.entities import Trace, TraceData, TraceInfo, TraceLocation, TraceState
    from tracklet.entities.span import Span, SpanStatus
    from tracklet.store.sql.store import SqlStore

    uri = f"sqlite:///{os.path.abspath('t.db')}"
    store = SqlStore(uri)
    n = int(count)
    now = 1_780_000_000_000
    start = time.perf_counter()
    for offset in range(0, n, 1000):
        batch = []
        for i in range(offset, min(n, offset + 1000)):
            trace_id = f"tr-{i:032x}"
            span = Span(
                trace_id,
                f"{i + 1:016x}",
                None,
                "predict",
                (now + i) * 1_000_000,
                (now + i + 3) * 1_000_000,
                SpanStatus("OK"),
                {"mlflow.traceRequestId": json.dumps(trace_id), "mlflow.spanInputs": '{"x": 1}'},
            )
            info = TraceInfo(
                trace_id,
                TraceLocation.from_experiment_id("0"),
                now + i,
                TraceState.OK,
                request_preview='{"x": 1}',
                execution_duration=3,
                trace_metadata={"mlflow.modelId": f"m-{i % 10}", "mlflow.user": "bench"},
                tags={"mlflow.traceName": "predict"},
            )
            batch.append(Trace(info, TraceData([span])))
        store.log_traces(batch)
    fill = time.perf_counter() - start
    client = MlflowClient(uri)
    infos, full = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        page = store.search_traces(["0"], "metadata.`mlflow.modelId` = 'm-3'", 100)
        infos.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        traces = client.search_traces(locations=["0"], model_id="m-3", max_results=100)
        full.append(time.perf_counter() - t0)
    assert len(page) == len(traces) == 100
    assert all(t.info.trace_metadata["mlflow.modelId"] == "m-3" for t in traces)
    emit({"infos": min(infos), "spans": min(full), "fill": fill})


def _body(client: int, request: int, spans: int) -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    message = ExportTraceServiceRequest()
    scope = message.resource_spans.add().scope_spans.add()
    base = time.time_ns()
    for i in range(spans):
        span = scope.spans.add()
        trace = (client << 40) | (request << 16) | (i // 10)
        span.trace_id = trace.to_bytes(16, "big")
        span.span_id = ((trace << 8) | (i % 10) + 1).to_bytes(8, "big")
        if i % 10:
            span.parent_span_id = ((trace << 8) | 1).to_bytes(8, "big")
        span.name = f"op{i % 10}"
        span.start_time_unix_nano = base + i
        span.end_time_unix_nano = base + i + 1000
        for key, value in (("mlflow.spanType", "TOOL"), ("http.route", "/x")):
            kv = span.attributes.add()
            kv.key, kv.value.string_value = key, value
        span.status.code = 1
    return message.SerializeToString()


def w_otlp_client(lib: str, url: str, experiment_id: str, client: str, requests: str) -> None:
    import httpx

    bodies = [_body(int(client), r, 500) for r in range(int(requests))]
    headers = {"content-type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id}
    with httpx.Client(timeout=300) as http:
        start = time.perf_counter()
        for body in bodies:
            response = http.post(f"{url}/v1/traces", content=body, headers=headers)
            assert response.status_code == 200, response.text
        elapsed = time.perf_counter() - start
    emit({"spans": 500 * len(bodies), "elapsed": elapsed})


def otlp_rate(kind: str, requests: int) -> float:
    import subprocess

    from bench.bench_server import Server

    with tempfile.TemporaryDirectory(prefix=f"bench-otlp-{kind}-") as workdir:
        server = Server(kind, Path(workdir))
        try:
            client = _lib(kind).MlflowClient(server.url)
            experiment_id = client.create_experiment("otlp")
            env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
            procs = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        MODULE,
                        "worker",
                        kind,
                        "otlp_client",
                        server.url,
                        experiment_id,
                        str(c),
                        str(requests),
                    ],
                    env=env,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for c in range(2)
            ]
            results = [json.loads(p.communicate(timeout=1800)[0].splitlines()[-1]) for p in procs]
        finally:
            server.stop()
    return sum(r["spans"] for r in results) / max(r["elapsed"] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10000)
    parser.add_argument("--depth", type=int, default=1000)
    parser.add_argument("--traces", type=int, default=100000)
    parser.add_argument("--otlp-requests", type=int, default=40)
    parser.add_argument("--skip-mlflow-otlp", action="store_true")
    args = parser.parse_args()
    rows = []
    theirs = run_worker(MODULE, "mlflow", "calls", str(args.calls), timeout=3600)
    ours = run_worker(MODULE, "tracklet", "calls", str(args.calls))
    rows.append(
        Row(
            f"@trace on a trivial function, {args.calls:,} calls, caller's time per call",
            "µs",
            theirs["per_call_us"],
            ours["per_call_us"],
            "<= 1/20 of mlflow and <= 25 µs",
            higher_is_better=False,
            note=f"flush after: tracklet {ours['flush']:.2f} s, mlflow {theirs['flush']:.2f} s; "
            f"traces stored: tracklet {ours['stored']:,}, mlflow {theirs['stored']:,}",
        )
    )
    theirs = run_worker(MODULE, "mlflow", "nested", str(args.depth), timeout=3600)
    ours = run_worker(MODULE, "tracklet", "nested", str(args.depth))
    rows.append(
        Row(
            f"one trace of {args.depth:,} nested spans, call to get_trace",
            "s",
            theirs["seconds"],
            ours["seconds"],
            "<= 1/20 of mlflow",
            higher_is_better=False,
        )
    )
    ours = run_worker(MODULE, "tracklet", "search", str(args.traces), timeout=3600)
    for key, what in (("infos", "infos"), ("spans", "with spans (client)")):
        rows.append(
            Row(
                f"search_traces(model_id=...) among {args.traces:,} traces, 100 results, {what}",
                "ms",
                None,
                ours[key] * 1000,
                "<= 30 ms",
                higher_is_better=False,
                note=f"fill {ours['fill']:.1f} s" if key == "infos" else "",
            )
        )
    theirs_rate = (
        None if args.skip_mlflow_otlp else otlp_rate("mlflow", max(2, args.otlp_requests // 8))
    )
    rows.append(
        Row(
            "OTLP/HTTP ingest, batches of 500 spans, 2 client processes",
            "spans/s",
            theirs_rate,
            otlp_rate("tracklet", args.otlp_requests),
            ">= 50,000 spans/s",
        )
    )
    print_table("Tracing: tracklet vs mlflow 3.17.2 (local SQLite; one run)", rows)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        _, _, lib, name, *rest = sys.argv
        workers = {"calls": w_calls, "nested": w_nested, "search": w_search}
        workers["otlp_client"] = w_otlp_client
        workers[name](lib, *rest)
    else:
        main()
