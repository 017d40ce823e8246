"""search_traces over SQL: locations, the filter (grammar TRACES of the one search language),
order and offset pages (spec §6.5).

Metadata ``mlflow.modelId`` and ``mlflow.sourceRun`` and the tag ``mlflow.traceName`` are
columns of ``trace_info`` too, so the common searches (by model, by run, by name) use its
indexes; other tags, metadata and span fields become ``EXISTS`` subqueries.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from tracklet import validation
from tracklet.entities import PagedList, TraceInfo
from tracklet.entities.trace import TraceMetadataKey, TraceTagKey
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.search import TRACES, Comparison, Kind, Op, page_token, parse_filter, parse_order_by
from tracklet.store.sql import traces as trace_queries
from tracklet.store.sql.compiled import Db
from tracklet.store.sql.schema import spans, trace_info, trace_metadata, trace_run_links, trace_tags
from tracklet.store.sql.search import compare

ti = trace_info.c
MAX_RESULTS = 500
_NEGATIVE = frozenset({Op.NE, Op.NOT_IN})
_POSITIVE_OF = {Op.NE: Op.EQ, Op.NOT_IN: Op.IN}
_END_TIME = ti.timestamp_ms + ti.execution_time_ms
_ATTRIBUTE_COLUMNS: dict[str, Any] = {
    "status": ti.status,
    "request_id": ti.trace_id,
    "client_request_id": ti.client_request_id,
    "name": ti.name,
    "timestamp_ms": ti.timestamp_ms,
    "execution_time_ms": ti.execution_time_ms,
    "end_time_ms": _END_TIME,
    "experiment_id": ti.experiment_id,
    "run_id": ti.run_id,
}
# Immutable metadata and the name tag, kept as trace_info columns as well.
_METADATA_COLUMNS = {TraceMetadataKey.MODEL_ID: ti.model_id, TraceMetadataKey.SOURCE_RUN: ti.run_id}
_TAG_COLUMNS = {TraceTagKey.TRACE_NAME: ti.name}


def _invalid(message: str) -> MlflowException:
    return MlflowException(message, INVALID_PARAMETER_VALUE)


def _cmp(dialect: str, column: Any, op: Op, value: Any) -> Any:
    if op is Op.RLIKE:
        return column.regexp_match(value)
    return compare(dialect, column, op, value)


def _key_value(dialect: str, table: sa.Table, key: str, op: Op, value: Any) -> Any:
    rows = sa.select(table.c.trace_id).where(table.c.trace_id == ti.trace_id, table.c.key == key)
    if op is Op.IS_NULL:
        return ~rows.exists()
    if op is Op.IS_NOT_NULL:
        return rows.exists()
    return rows.where(_cmp(dialect, table.c.value, op, value)).exists()


def _span_attribute(dialect: str, key: str) -> Any:
    """The stored (JSON-encoded) value of a span attribute, read from the span's content."""
    if dialect == "sqlite":
        return sa.func.json_extract(spans.c.content, f'$.attributes."{key}"')
    from sqlalchemy.dialects.postgresql import JSONB

    attributes = sa.cast(spans.c.content, JSONB).op("->", return_type=JSONB)("attributes")
    return attributes.op("->>", return_type=sa.Text)(key)


def _span(dialect: str, key: str, op: Op, value: Any) -> Any:
    if key == "content":
        column: Any = spans.c.content
    elif key.startswith("attributes."):
        column = _span_attribute(dialect, key[len("attributes.") :])
        # Attribute values are stored JSON-encoded: 'gpt' is stored as '"gpt"'.
        if op in (Op.EQ, Op.NE):
            op, value = (Op.IN if op is Op.EQ else Op.NOT_IN), (value, json.dumps(value))
        elif op in (Op.IN, Op.NOT_IN):
            value = tuple(value) + tuple(json.dumps(v) for v in value)
    else:
        column = {"name": spans.c.name, "type": spans.c.type, "status": spans.c.status}[key]
        if key == "status":
            value = _span_status_value(value)
    positive = _POSITIVE_OF.get(op, op)
    matching = (
        sa.select(spans.c.trace_id)
        .where(spans.c.trace_id == ti.trace_id, _cmp(dialect, column, positive, value))
        .exists()
    )
    return ~matching if op in _NEGATIVE else matching


def _span_status_value(value: Any) -> Any:
    def one(v: str) -> str:
        return v.upper().removeprefix("STATUS_CODE_")

    return tuple(one(v) for v in value) if isinstance(value, tuple) else one(str(value))


def _run_id(dialect: str, op: Op, value: Any) -> Any:
    """The source run (metadata) or a run the trace was linked to afterwards."""
    positive = _POSITIVE_OF.get(op, op)
    linked = (
        sa.select(trace_run_links.c.trace_id)
        .where(
            trace_run_links.c.trace_id == ti.trace_id,
            _cmp(dialect, trace_run_links.c.run_id, positive, value),
        )
        .exists()
    )
    if op in _NEGATIVE:
        return sa.and_(~linked, sa.or_(ti.run_id.is_(None), _cmp(dialect, ti.run_id, op, value)))
    return sa.or_(_cmp(dialect, ti.run_id, op, value), linked)


def _condition(dialect: str, comparison: Comparison) -> Any:
    kind, key = comparison.identifier.kind, comparison.identifier.key
    op, value = comparison.op, comparison.value
    if kind is Kind.ATTRIBUTE:
        if key == "run_id":
            return _run_id(dialect, op, value)
        if key == "status":
            value = (
                tuple(v.upper() for v in value) if isinstance(value, tuple) else str(value).upper()
            )
        if key == "text":
            return _span(dialect, "content", op, value)
        if key == "prompt":
            raise _invalid(
                "Filtering traces by linked prompt is not supported: tracklet has no prompt "
                "registry."
            )
        return _cmp(dialect, _ATTRIBUTE_COLUMNS[key], op, value)
    if kind is Kind.TAG:
        if key in _TAG_COLUMNS and op not in (Op.IS_NULL, Op.IS_NOT_NULL):
            return _cmp(dialect, _TAG_COLUMNS[key], op, value)
        return _key_value(dialect, trace_tags, key, op, value)
    if kind is Kind.METADATA:
        column = _METADATA_COLUMNS.get(key)
        if column is not None:
            if op is Op.IS_NULL:
                return column.is_(None)
            if op is Op.IS_NOT_NULL:
                return column.is_not(None)
            return _cmp(dialect, column, op, value)
        return _key_value(dialect, trace_metadata, key, op, value)
    if kind is Kind.SPAN:
        return _span(dialect, key, op, value)
    raise _invalid(
        f"Filtering traces by {kind.value} is not supported: tracklet does not store "
        "assessments or issues."
    )


def _order_terms(order_by: Sequence[str] | None) -> list[Any]:
    terms = []
    keys = set()
    for term in parse_order_by(order_by, TRACES):
        column = _ATTRIBUTE_COLUMNS[term.identifier.key]
        keys.add(term.identifier.key)
        terms.append(column.asc() if term.ascending else column.desc())
    if "timestamp_ms" not in keys:
        terms.append(ti.timestamp_ms.desc())
    if "request_id" not in keys:
        terms.append(ti.trace_id.asc())
    return terms


def _experiment_ids(locations: Sequence[str]) -> list[int]:
    if not locations:
        raise _invalid("search_traces needs at least one location (experiment id).")
    return [validation.parse_experiment_id(str(loc)) for loc in locations]


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def _decode_offset(token: str | None, query: str) -> int:
    if not token:
        return 0
    offset = page_token.decode_offset(token)
    payload = page_token.decode_json(token)
    if payload.get("query") != query:
        raise _invalid(
            "The page token was issued for a different search (locations, filter_string or "
            "order_by differ)."
        )
    return offset


def search(
    db: Db,
    locations: Sequence[str],
    filter_string: str | None,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> PagedList[TraceInfo]:
    """One page of trace infos; a token when more rows exist."""
    if not isinstance(max_results, int) or max_results < 1 or max_results > MAX_RESULTS:
        raise _invalid(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at "
            f"most {MAX_RESULTS} and greater than 0."
        )
    experiment_ids = _experiment_ids(locations)
    comparisons = parse_filter(filter_string, TRACES)
    terms = _order_terms(order_by)
    query = _fingerprint(sorted(experiment_ids), [str(c) for c in comparisons], order_by or [])
    offset = _decode_offset(page_token, query)
    dialect = db.dialect_name
    where = [ti.experiment_id.in_(experiment_ids)]
    where += [_condition(dialect, c) for c in comparisons]
    statement = (
        sa.select(*trace_queries.INFO_COLUMNS)
        .where(*where)
        .order_by(*terms)
        .limit(max_results + 1)
        .offset(offset)
    )
    rows = db.execute_core(statement).fetchall()
    token = None
    if len(rows) > max_results:
        rows = rows[:max_results]
        payload = {"offset": offset + max_results, "query": query}
        token = base64.b64encode(json.dumps(payload).encode()).decode()
    return PagedList(trace_queries.load_infos(db, rows), token)
