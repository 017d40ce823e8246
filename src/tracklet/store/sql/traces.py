"""Statements for traces: infos, tags, metadata, spans and run links.

A trace is written whole (info, tags, metadata, spans) by ``write_trace``; a trace that exists
already is merged: its info replaced, tags, metadata and spans upserted. OTLP ingestion may
create a trace from its spans before the client's StartTraceV3 arrives, and the other way round.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from tracklet.entities import (
    Span,
    SpanStatusCode,
    Trace,
    TraceData,
    TraceInfo,
    TraceLocation,
    TraceState,
)
from tracklet.entities.span import SpanAttributeKey
from tracklet.entities.trace import (
    SPANS_IN_TRACKING_STORE,
    TraceMetadataKey,
    TraceTagKey,
)
from tracklet.exceptions import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST, MlflowException
from tracklet.store.sql.compiled import Compiled, Db, bp, expanding, insert_for, literal, stmt
from tracklet.store.sql.schema import spans, trace_info, trace_metadata, trace_run_links, trace_tags
from tracklet.store.sql.span_rows import Positional
from tracklet.store.trace_base import trace_not_found
from tracklet.uri import append_to_uri_path

ti = trace_info.c
INFO_COLUMNS = (
    ti.trace_id,
    ti.experiment_id,
    ti.timestamp_ms,
    ti.execution_time_ms,
    ti.status,
    ti.client_request_id,
    ti.request_preview,
    ti.response_preview,
)
MAX_TAG_KEY = 250
MAX_TAG_VALUE = 8000
PREVIEW_MAX = 1000
# Tags the tracking store manages itself (spec §2.8); users cannot set them.
IMMUTABLE_TAGS = frozenset(
    {TraceTagKey.SPANS_LOCATION, "mlflow.trace.archiveLocation", "mlflow.trace.archivalFailure"}
)


def _upsert_info(dialect_name: str) -> Any:
    values = {c.name: bp(c.name) for c in trace_info.columns}
    insert = insert_for(dialect_name)(trace_info).values(**values)
    updated = {name: getattr(insert.excluded, name) for name in values if name != "trace_id"}
    return insert.on_conflict_do_update(index_elements=[ti.trace_id], set_=updated)


def _key_value_upsert(table: sa.Table) -> Any:
    def build(dialect_name: str) -> Any:
        insert = insert_for(dialect_name)(table).values(
            trace_id=bp("trace_id"), key=bp("key"), value=bp("value")
        )
        return insert.on_conflict_do_update(
            index_elements=[table.c.trace_id, table.c.key], set_={"value": insert.excluded.value}
        )

    return build


def _link_run(dialect_name: str) -> Any:
    insert = insert_for(dialect_name)(trace_run_links).values(
        trace_id=bp("trace_id"), run_id=bp("run_id")
    )
    return insert.on_conflict_do_nothing()


_UPSERT_TAG = Compiled(_key_value_upsert(trace_tags))
# Positional twins for the many rows of an OTLP request: (trace_id, key, value) tuples.
_KEY_VALUE = ("trace_id", "key", "value")
_WRITE_INFO = Positional(_upsert_info, tuple(c.name for c in trace_info.columns))
_WRITE_TAG = Positional(_key_value_upsert(trace_tags), _KEY_VALUE)
_WRITE_METADATA = Positional(_key_value_upsert(trace_metadata), _KEY_VALUE)
_LINK_RUN = Compiled(_link_run)
_INFOS = stmt(lambda: sa.select(*INFO_COLUMNS).where(ti.trace_id.in_(expanding("ids"))))
_EXISTING = stmt(lambda: sa.select(ti.trace_id).where(ti.trace_id.in_(expanding("ids"))))


def _key_values(table: sa.Table) -> Compiled:
    return stmt(
        lambda: sa.select(table.c.trace_id, table.c.key, table.c.value).where(
            table.c.trace_id.in_(expanding("ids"))
        )
    )


_TAGS = _key_values(trace_tags)
_METADATA = _key_values(trace_metadata)
_SPANS = stmt(
    lambda: (
        sa.select(spans.c.trace_id, spans.c.content)
        .where(spans.c.trace_id.in_(expanding("ids")))
        .order_by(spans.c.trace_id, spans.c.start_time_unix_nano, spans.c.span_id)
    )
)
_HAS_SPANS = stmt(
    lambda: sa.select(spans.c.trace_id).where(spans.c.trace_id.in_(expanding("ids"))).distinct()
)
_SET_TAG = _UPSERT_TAG
_DELETE_TAG = stmt(
    lambda: trace_tags.delete().where(
        trace_tags.c.trace_id == bp("trace_id"), trace_tags.c.key == bp("key")
    )
)
_SET_NAME = stmt(
    lambda: trace_info.update().where(ti.trace_id == bp("trace_id")).values(name=bp("name"))
)
_DELETE_BY_IDS = stmt(
    lambda: trace_info.delete().where(
        ti.experiment_id == bp("experiment_id"), ti.trace_id.in_(expanding("ids"))
    )
)


not_found = trace_not_found


def _truncate(value: str | None, limit: int) -> str | None:
    return value if value is None or len(value) <= limit else value[: limit - 3] + "..."


def check_tag(key: str, value: str) -> tuple[str, str]:
    """A trace tag as MLflow stores it: key at most 250 characters, value truncated to 8000."""
    if not isinstance(key, str) or not key or len(key) > MAX_TAG_KEY:
        raise MlflowException(
            f"Invalid trace tag key {key!r}: a non-empty string of at most {MAX_TAG_KEY} "
            "characters",
            INVALID_PARAMETER_VALUE,
        )
    return key, str(value)[:MAX_TAG_VALUE]


@functools.lru_cache(maxsize=256)
def _traces_root(artifact_location: str) -> str:
    # Parsed once per experiment location, not once per trace (OTLP ingest writes thousands).
    return append_to_uri_path(artifact_location, "traces").rstrip("/")


def stored_info(
    info: TraceInfo, artifact_location: str, has_spans: bool, finalized: bool = True
) -> TraceInfo:
    """The info as the tracking store keeps it: MLflow's server tags and metadata added
    (``infoFinalized`` once a client sent the info, not for one made from spans)."""
    tags = dict(info.tags)
    trace_id = info.trace_id.strip("/")
    tags[TraceTagKey.ARTIFACT_LOCATION] = f"{_traces_root(artifact_location)}/{trace_id}/artifacts"
    if has_spans:
        tags[TraceTagKey.SPANS_LOCATION] = SPANS_IN_TRACKING_STORE
    metadata = dict(info.trace_metadata)
    if finalized:
        metadata[TraceMetadataKey.INFO_FINALIZED] = "true"
    return TraceInfo(
        trace_id=info.trace_id,
        trace_location=info.trace_location,
        request_time=info.request_time,
        state=info.state,
        request_preview=_truncate(info.request_preview, PREVIEW_MAX),
        response_preview=_truncate(info.response_preview, PREVIEW_MAX),
        client_request_id=info.client_request_id,
        execution_duration=info.execution_duration,
        trace_metadata=metadata,
        tags={k: str(v)[:MAX_TAG_VALUE] for k, v in tags.items()},
    )


def write_info(db: Db, info: TraceInfo, experiment_id: int) -> None:
    """Insert or replace the trace's row; upsert its tags and metadata."""
    write_infos(db, [(info, experiment_id)])


def write_infos(db: Db, infos: Sequence[tuple[TraceInfo, int]]) -> None:
    """``write_info`` for many traces: three statements, whatever their number."""
    rows: list[tuple[Any, ...]] = []
    tags: list[tuple[str, str, str]] = []
    metadata: list[tuple[str, str, str]] = []
    for info, experiment_id in infos:
        meta = info.trace_metadata
        tid = info.trace_id
        rows.append(
            (  # trace_info's columns, in order
                tid,
                experiment_id,
                info.request_time,
                info.execution_duration,
                info.state.value,
                info.client_request_id,
                info.request_preview,
                info.response_preview,
                _truncate(info.tags.get(TraceTagKey.TRACE_NAME), 500),
                meta.get(TraceMetadataKey.MODEL_ID),
                meta.get(TraceMetadataKey.SOURCE_RUN),
            )
        )
        tags.extend([(tid, k, v) for k, v in info.tags.items()])
        metadata.extend([(tid, k, v) for k, v in meta.items()])
    db.executemany(_WRITE_INFO, rows)
    db.executemany(_WRITE_TAG, tags)
    db.executemany(_WRITE_METADATA, metadata)


def mark_spans_stored(db: Db, trace_ids: Iterable[str]) -> None:
    """Tag traces whose spans this store holds (clients then read spans from it, not from
    artifacts), as MLflow's store does whenever it writes spans."""
    db.executemany(
        _WRITE_TAG, [(t, TraceTagKey.SPANS_LOCATION, SPANS_IN_TRACKING_STORE) for t in trace_ids]
    )


def existing(db: Db, trace_ids: Sequence[str]) -> set[str]:
    return {row[0] for row in db.execute_in(_EXISTING, "ids", list(trace_ids)).fetchall()}


_FINALIZED = stmt(
    lambda: sa.select(trace_metadata.c.trace_id).where(
        trace_metadata.c.trace_id.in_(expanding("ids")),
        trace_metadata.c.key == literal(f"'{TraceMetadataKey.INFO_FINALIZED}'"),
    )
)


def finalized(db: Db, trace_ids: Sequence[str]) -> set[str]:
    """The traces among ``trace_ids`` whose info a client has sent (StartTraceV3)."""
    return {row[0] for row in db.execute_in(_FINALIZED, "ids", list(trace_ids)).fetchall()}


def with_spans(db: Db, trace_ids: Sequence[str]) -> set[str]:
    return {row[0] for row in db.execute_in(_HAS_SPANS, "ids", list(trace_ids)).fetchall()}


def _grouped(db: Db, statement: Compiled, ids: Sequence[str]) -> dict[str, dict[str, str]]:
    grouped: dict[str, dict[str, str]] = {}
    for trace_id, key, value in db.execute_in(statement, "ids", list(ids)).fetchall():
        grouped.setdefault(trace_id, {})[key] = value
    return grouped


def load_infos(db: Db, rows: Sequence[Sequence[Any]]) -> list[TraceInfo]:
    """TraceInfos for rows of INFO_COLUMNS, in their order, with tags and metadata."""
    ids = [row[0] for row in rows]
    tags = _grouped(db, _TAGS, ids) if ids else {}
    metadata = _grouped(db, _METADATA, ids) if ids else {}
    return [
        TraceInfo(
            trace_id=row[0],
            trace_location=TraceLocation.from_experiment_id(str(row[1])),
            request_time=row[2],
            state=TraceState.from_any(row[4]),
            request_preview=row[6],
            response_preview=row[7],
            client_request_id=row[5],
            execution_duration=row[3],
            trace_metadata=metadata.get(row[0], {}),
            tags=tags.get(row[0], {}),
        )
        for row in rows
    ]


def get_infos(db: Db, trace_ids: Sequence[str]) -> dict[str, TraceInfo]:
    rows = db.execute_in(_INFOS, "ids", list(trace_ids)).fetchall()
    return {info.trace_id: info for info in load_infos(db, rows)}


def get_spans(db: Db, trace_ids: Sequence[str]) -> dict[str, list[Span]]:
    found: dict[str, list[Span]] = {}
    for trace_id, content in db.execute_in(_SPANS, "ids", list(trace_ids)).fetchall():
        found.setdefault(trace_id, []).append(Span.from_dict(json.loads(content)))
    return found


def get_traces(db: Db, trace_ids: Sequence[str]) -> list[Trace]:
    """The traces that exist among ``trace_ids``, in that order, root span first."""
    infos = get_infos(db, trace_ids)
    span_lists = get_spans(db, list(infos))
    traces = []
    for trace_id in trace_ids:
        info = infos.get(trace_id)
        if info is not None:
            found = span_lists.get(trace_id, [])
            found.sort(key=lambda s: (s.parent_id is not None, s.start_time_ns))
            traces.append(Trace(info, TraceData(found)))
    return traces


def set_tag(db: Db, trace_id: str, key: str, value: str) -> None:
    if not existing(db, [trace_id]):
        raise not_found(trace_id)
    db.execute(_SET_TAG, {"trace_id": trace_id, "key": key, "value": value})
    if key == TraceTagKey.TRACE_NAME:
        db.execute(_SET_NAME, {"trace_id": trace_id, "name": _truncate(value, 500)})


def delete_tag(db: Db, trace_id: str, key: str) -> None:
    if not existing(db, [trace_id]):
        raise not_found(trace_id)
    if db.rowcount(_DELETE_TAG, {"trace_id": trace_id, "key": key}) == 0:
        raise MlflowException(
            f"No trace tag with key '{key}' for trace with ID '{trace_id}'",
            RESOURCE_DOES_NOT_EXIST,
        )
    if key == TraceTagKey.TRACE_NAME:
        db.execute(_SET_NAME, {"trace_id": trace_id, "name": None})


def delete(
    db: Db,
    experiment_id: int,
    max_timestamp_millis: int | None,
    max_traces: int | None,
    trace_ids: Sequence[str] | None,
) -> int:
    if trace_ids is None:
        oldest = (
            sa.select(ti.trace_id)
            .where(ti.experiment_id == experiment_id, ti.timestamp_ms <= max_timestamp_millis)
            .order_by(ti.timestamp_ms, ti.trace_id)
        )
        if max_traces is not None:
            oldest = oldest.limit(max_traces)
        rows = db.execute_core(oldest).fetchall()
        trace_ids = [row[0] for row in rows]
    deleted = 0
    for start in range(0, len(trace_ids), 500):
        chunk = list(trace_ids[start : start + 500])
        cursor = db.execute_in(_DELETE_BY_IDS, "ids", chunk, {"experiment_id": experiment_id})
        deleted += int(cursor.rowcount)
    return deleted


def link_runs(db: Db, trace_ids: Sequence[str], run_id: str) -> None:
    missing = [t for t in trace_ids if t not in existing(db, trace_ids)]
    if missing:
        raise not_found(missing[0])
    db.executemany(_LINK_RUN, [{"trace_id": t, "run_id": run_id} for t in trace_ids])


def span_status_of(spans_: Sequence[Span]) -> TraceState:
    root = next((s for s in spans_ if s.parent_id is None), None)
    if root is None or root.end_time_ns is None:
        return TraceState.IN_PROGRESS
    return TraceState.ERROR if root.status.status_code is SpanStatusCode.ERROR else TraceState.OK


def info_from_spans(trace_id: str, experiment_id: str, spans_: Sequence[Span]) -> TraceInfo:
    """An info for a trace known only by spans (OTLP ingest before StartTraceV3)."""
    root = next((s for s in spans_ if s.parent_id is None), None)
    start = min(s.start_time_ns for s in spans_)
    tags: dict[str, str] = {}
    metadata = {TraceMetadataKey.SCHEMA_VERSION: "3"}
    request = response = None
    duration = None
    if root is not None:
        tags[TraceTagKey.TRACE_NAME] = root.name
        request = root.raw_attributes.get(SpanAttributeKey.INPUTS)
        response = root.raw_attributes.get(SpanAttributeKey.OUTPUTS)
        if root.end_time_ns is not None:
            duration = (root.end_time_ns - root.start_time_ns) // 1_000_000
    return TraceInfo(
        trace_id=trace_id,
        trace_location=TraceLocation.from_experiment_id(experiment_id),
        request_time=start // 1_000_000,
        state=span_status_of(spans_),
        request_preview=_truncate(request, PREVIEW_MAX),
        response_preview=_truncate(response, PREVIEW_MAX),
        execution_duration=duration,
        trace_metadata=metadata,
        tags=tags,
    )
