"""OTLP/HTTP trace ingest: ``POST /v1/traces`` (spec §4.3).

The body is an ``ExportTraceServiceRequest``, protobuf (``application/x-protobuf``, what MLflow's
client and the OpenTelemetry SDK send) or OTLP/JSON, optionally gzip- or deflate-compressed. The
header ``x-mlflow-experiment-id`` names the experiment; ``x-mlflow-run-id`` links the traces to
a run. The answer is an empty ``ExportTraceServiceResponse``.
"""

from __future__ import annotations

import gzip
import json
import zlib

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracklet.entities import Span
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.server.rpc import PayloadTooLarge, ServerState, state_of
from tracklet.wire import endpoints as ep
from tracklet.wire.otlp import ProtobufError, spans_from_json, spans_from_protobuf

PROTOBUF = "application/x-protobuf"


def _invalid(message: str) -> MlflowException:
    return MlflowException(message, INVALID_PARAMETER_VALUE)


def _decompress(body: bytes, encoding: str, limit: int) -> bytes:
    if encoding in ("", "identity"):
        return body
    try:
        if encoding == "gzip":
            inflated = gzip.decompress(body)
        elif encoding == "deflate":
            inflated = zlib.decompress(body)
        else:
            raise _invalid(f"Unsupported Content-Encoding {encoding!r}: use gzip or deflate.")
    except (OSError, zlib.error, EOFError) as error:
        raise _invalid(f"Could not decompress the request body: {error}") from None
    if len(inflated) > limit:
        raise PayloadTooLarge(limit)
    return inflated


def _decode(body: bytes, content_type: str) -> list[Span]:
    try:
        if content_type == "application/json":
            parsed = json.loads(body)
            if not isinstance(parsed, dict):
                raise ValueError("not an object")
            return spans_from_json(parsed)
        if content_type in (PROTOBUF, "application/protobuf", ""):
            return spans_from_protobuf(body)
    except (ProtobufError, ValueError, UnicodeDecodeError) as error:
        raise _invalid(f"Invalid OTLP ExportTraceServiceRequest: {error}") from None
    raise _invalid(
        f"Unsupported Content-Type {content_type!r}: use {PROTOBUF} or application/json."
    )


def _ingest(state: ServerState, experiment_id: str, run_id: str | None, spans: list[Span]) -> None:
    state.store.log_spans(experiment_id, spans)
    if run_id:
        trace_ids = sorted({span.trace_id for span in spans})
        for start in range(0, len(trace_ids), 100):
            state.store.link_traces_to_run(trace_ids[start : start + 100], run_id)


async def export_traces(request: Request) -> Response:
    state = state_of(request)
    experiment_id = request.headers.get(ep.EXPERIMENT_ID_HEADER)
    if not experiment_id:
        raise _invalid(f"Missing required header {ep.EXPERIMENT_ID_HEADER!r}.")
    limit = state.settings.max_request_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    body = await request.body()
    if len(body) > limit:
        raise PayloadTooLarge(limit)
    if not body:
        raise _invalid("The OTLP request body is empty.")
    body = _decompress(body, request.headers.get("content-encoding", "").lower(), limit)
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    spans = _decode(body, content_type)
    if spans:
        run_id = request.headers.get(ep.RUN_ID_HEADER)
        await run_in_threadpool(_ingest, state, experiment_id, run_id, spans)
    if content_type == "application/json":
        return Response(b"{}", media_type="application/json")
    return Response(b"", media_type=PROTOBUF)


routes = [Route(ep.OTLP_TRACES_PATH, export_traces, methods=["POST"])]
