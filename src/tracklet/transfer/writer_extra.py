"""Writing imported logged models, the model registry and traces into tracklet's tables,
whatever they were read from (an MLflow database, a tracking server, an ``mlruns`` directory):
one transaction each, every row ON CONFLICT DO NOTHING (so a second import adds nothing)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from tracklet.store.sql import schema as ours
from tracklet.transfer.bulk import creation_seqs, insert_ignore

if TYPE_CHECKING:
    from tracklet.entities import Span, TraceInfo
    from tracklet.store.sql.store import SqlStore

Rows = list[dict[str, Any]]


def present(store: SqlStore, sql: str) -> set[Any]:
    """The first column of ``sql`` in the destination (the ids already imported)."""
    with store._reader() as db:
        cursor = db.dbapi.cursor()
        cursor.execute(sql)
        return {row[0] if len(row) == 1 else tuple(row) for row in cursor.fetchall()}


def write_logged_models(
    store: SqlStore, models: Rows, tags: Rows, params: Rows, metrics: Rows, counts: Counter[str]
) -> None:
    """Logged model rows (given a ``creation_seq`` here, in order) with their tags, params and
    metric rows."""
    if not models:
        return
    with store._writer.transaction() as db:
        cursor = db.dbapi.cursor()
        d = db.dialect_name
        seqs = creation_seqs(cursor, d, "logged_models", len(models))
        for model, seq in zip(models, seqs, strict=True):
            model["creation_seq"] = seq
        counts["logged models"] += insert_ignore(cursor, d, ours.logged_models, models)
        insert_ignore(cursor, d, ours.logged_model_tags, tags)
        insert_ignore(cursor, d, ours.logged_model_params, params)
        insert_ignore(cursor, d, ours.logged_model_metrics, metrics)


def metric_value(value: float) -> dict[str, Any]:
    """A metric value's ``value`` and ``is_nan`` columns (NaN is kept as a flag)."""
    nan = value != value
    return {"value": None if nan else value, "is_nan": nan}


def write_registry(
    store: SqlStore,
    models: Rows,
    versions: Rows,
    model_tags: Rows,
    version_tags: Rows,
    aliases: Rows,
    counts: Counter[str],
) -> None:
    """Registered models, their versions, tags and aliases."""
    if not models:
        return
    before = present(store, "SELECT name FROM registered_models")
    with store._writer.transaction() as db:
        cursor = db.dbapi.cursor()
        d = db.dialect_name
        insert_ignore(cursor, d, ours.registered_models, models)
        insert_ignore(cursor, d, ours.model_versions, versions)
        insert_ignore(cursor, d, ours.registered_model_tags, model_tags)
        insert_ignore(cursor, d, ours.model_version_tags, version_tags)
        insert_ignore(cursor, d, ours.registered_model_aliases, aliases)
    counts["registered models"] += sum(1 for m in models if m["name"] not in before)
    counts["model versions (total)"] += len(versions)


def trace_rows(
    traces: list[tuple[TraceInfo, int, list[Span]]],
) -> tuple[Rows, Rows, Rows, Rows]:
    """trace_info, trace_tags, trace_metadata and spans rows of (info, experiment id, spans);
    a trace given spans is tagged as keeping them in the tracking store, as MLflow's SQL
    store tags the traces it holds spans of."""
    from tracklet.entities.trace import SPANS_IN_TRACKING_STORE, TraceMetadataKey, TraceTagKey
    from tracklet.store.sql.span_rows import SPAN_COLUMNS, span_row

    infos: Rows = []
    tags: Rows = []
    metadata: Rows = []
    spans: Rows = []
    for info, experiment_id, trace_spans in traces:
        tid = info.trace_id
        meta = info.trace_metadata
        trace_tags = dict(info.tags)
        if trace_spans:
            trace_tags[TraceTagKey.SPANS_LOCATION] = SPANS_IN_TRACKING_STORE
        infos.append(
            {
                "trace_id": tid,
                "experiment_id": experiment_id,
                "timestamp_ms": info.request_time,
                "execution_time_ms": info.execution_duration,
                "status": info.state.value,
                "client_request_id": info.client_request_id,
                "request_preview": info.request_preview,
                "response_preview": info.response_preview,
                "name": (trace_tags.get(TraceTagKey.TRACE_NAME) or "")[:500] or None,
                "model_id": meta.get(TraceMetadataKey.MODEL_ID),
                "run_id": meta.get(TraceMetadataKey.SOURCE_RUN),
            }
        )
        tags.extend({"trace_id": tid, "key": k, "value": v} for k, v in trace_tags.items())
        metadata.extend({"trace_id": tid, "key": k, "value": v} for k, v in meta.items())
        spans.extend(dict(zip(SPAN_COLUMNS, span_row(s), strict=True)) for s in trace_spans)
    return infos, tags, metadata, spans


def write_traces(
    store: SqlStore, infos: Rows, tags: Rows, metadata: Rows, spans: Rows, counts: Counter[str]
) -> None:
    """Trace rows with their tags, metadata and spans."""
    if not infos:
        return
    with store._writer.transaction() as db:
        cursor = db.dbapi.cursor()
        d = db.dialect_name
        counts["traces"] += insert_ignore(cursor, d, ours.trace_info, infos)
        insert_ignore(cursor, d, ours.trace_tags, tags)
        insert_ignore(cursor, d, ours.trace_metadata, metadata)
        counts["spans"] += insert_ignore(cursor, d, ours.spans, spans)
