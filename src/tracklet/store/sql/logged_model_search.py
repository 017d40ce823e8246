"""search_logged_models over SQL: experiments, filter, dataset scoping, order and pages.

Filters are parsed by the one search language (``tracklet.search``, grammar LOGGED_MODELS) and
compiled here to Core. A metric comparison uses the model's latest value of that metric (largest
step, then latest time), restricted to the requested datasets when ``datasets`` is given (spec
§6.4, with the intended semantics where MLflow 3.17 has a bug: a dataset without a digest
matches every digest of that name).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from tracklet import validation
from tracklet.entities import LifecycleStage, LoggedModel, LoggedModelStatus, PagedList
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.search import LOGGED_MODELS, Comparison, Kind, Op, page_token, parse_filter
from tracklet.store.sql import logged_models as model_queries
from tracklet.store.sql.compiled import Db
from tracklet.store.sql.schema import (
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
)
from tracklet.store.sql.search import compare

DEFAULT_MAX_RESULTS = 100
_ORDERABLE_ATTRIBUTES = {
    "name": "name",
    "model_id": "model_id",
    "model_type": "model_type",
    "status": "status",
    "source_run_id": "source_run_id",
    "creation_timestamp": "creation_timestamp",
    "creation_time": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
    "last_updated_time": "last_updated_timestamp",
}

lm = logged_models.c
mm = logged_model_metrics.c


def _invalid(message: str) -> MlflowException:
    return MlflowException(message, INVALID_PARAMETER_VALUE)


# ---------------------------------------------------------------------------- page tokens


def _decode_token(token: str | None, fingerprint: dict[str, object]) -> int:
    if not token:
        return 0
    offset = page_token.decode_offset(token)
    payload = page_token.decode_json(token)
    if payload.get("query") != fingerprint:
        raise _invalid(
            "The page token was issued for a different search (experiment_ids, filter_string, "
            "datasets or order_by differ)."
        )
    return offset


def _encode_token(offset: int, fingerprint: dict[str, object]) -> str:
    return base64.b64encode(json.dumps({"offset": offset, "query": fingerprint}).encode()).decode()


# ---------------------------------------------------------------------------- datasets


def _dataset_condition(datasets: Sequence[Mapping[str, Any]] | None, columns: Any = mm) -> Any:
    """Metric rows logged on one of ``datasets`` (None: no restriction)."""
    if not datasets:
        return None
    terms = []
    for dataset in datasets:
        name = dataset.get("dataset_name")
        digest = dataset.get("dataset_digest")
        if not name:
            raise _invalid("Each entry of 'datasets' needs a 'dataset_name'.")
        term = columns.dataset_name == name
        if digest:
            term = sa.and_(term, columns.dataset_digest == digest)
        terms.append(term)
    return sa.or_(*terms)


class _LatestMetrics:
    """Each model's latest value of a metric (largest step, then time), on a dataset scope.

    One derived table per (metric key, dataset scope) the query uses: the metric rows for which
    no newer row of the same model exists in the scope (an anti-join). A filter and an order on
    the same metric share it; with the (key, value) index the database can walk it in value
    order and stop after a page. Filters join it inner (a model without the metric does not
    match); orders join it outer (such a model sorts last).
    """

    def __init__(self) -> None:
        self._tables: dict[tuple[Any, ...], list[Any]] = {}

    def value(self, key: str, datasets: Sequence[Mapping[str, Any]] | None, inner: bool) -> Any:
        pairs = [(d.get("dataset_name"), d.get("dataset_digest") or None) for d in datasets or []]
        scope = tuple(sorted(pairs))
        entry = self._tables.get((key, scope))
        if entry is None:
            point = logged_model_metrics.alias(f"point_{len(self._tables)}")
            newer = logged_model_metrics.alias(f"newer_{len(self._tables)}")
            p, n = point.c, newer.c
            in_scope_p = _dataset_condition(datasets, p)
            in_scope_n = _dataset_condition(datasets, n)
            later = sa.or_(
                n.step > p.step,
                sa.and_(n.step == p.step, n.timestamp > p.timestamp),
                sa.and_(n.step == p.step, n.timestamp == p.timestamp, n.point_id > p.point_id),
            )
            newer_exists = sa.exists(
                sa.select(sa.literal_column("1"))
                .select_from(newer)
                .where(
                    n.model_id == p.model_id,
                    n.key == p.key,
                    later,
                    *([in_scope_n] if in_scope_n is not None else []),
                )
            )
            latest = (
                sa.select(p.model_id, p.value)
                .where(
                    p.key == key,
                    *([in_scope_p] if in_scope_p is not None else []),
                    sa.not_(newer_exists),
                )
                .subquery(f"latest_{len(self._tables)}")
            )
            entry = self._tables[(key, scope)] = [latest, inner]
        elif inner:
            entry[1] = True
        return entry[0].c.value

    def filtered(self, value: Any) -> bool:
        """Whether a filter compares this value: then no NULL (missing or NaN) is left."""
        return any(entry[1] and entry[0].c.value is value for entry in self._tables.values())

    def from_clause(self) -> Any:
        joined: Any = logged_models
        for latest, inner in self._tables.values():
            joined = joined.join(latest, latest.c.model_id == lm.model_id, isouter=not inner)
        return joined


# ---------------------------------------------------------------------------- filters


def _status_number(value: Any) -> int:
    try:
        return LoggedModelStatus.from_any(value).to_int()
    except MlflowException:
        raise _invalid(f"Invalid value {value!r} for attribute 'status'.") from None


def _key_value_test(dialect: str, table: sa.Table, key: str, op: Op, value: Any) -> Any:
    c = table.c
    return sa.exists(
        sa.select(sa.literal_column("1"))
        .select_from(table)
        .where(c.model_id == lm.model_id, c.key == key, compare(dialect, c.value, op, value))
    )


def _condition(
    dialect: str,
    comparison: Comparison,
    datasets: Sequence[Mapping[str, Any]] | None,
    latest: _LatestMetrics,
) -> Any:
    kind, key = comparison.identifier.kind, comparison.identifier.key
    op = comparison.op
    value: Any = comparison.value
    if kind is Kind.METRIC:
        return compare(dialect, latest.value(key, datasets, inner=True), op, value)
    if kind is Kind.PARAM:
        return _key_value_test(dialect, logged_model_params, key, op, value)
    if kind is Kind.TAG:
        return _key_value_test(dialect, logged_model_tags, key, op, value)
    if key == "status":
        # Stored as the enum number; 2, '2', 'READY' and 'LOGGED_MODEL_READY' all name it.
        if op in (Op.IN, Op.NOT_IN):
            value = tuple(_status_number(v) for v in value)
        else:
            value = _status_number(value)
    return compare(dialect, getattr(lm, key), op, value)


# ---------------------------------------------------------------------------- order


def _order_clauses(
    order_by: Sequence[Mapping[str, Any]] | None, latest: _LatestMetrics
) -> list[Any]:
    clauses: list[Any] = []
    seen: set[str] = set()
    creation_ascending: bool | None = None  # the direction of an explicit creation_timestamp
    for item in order_by or []:
        field_name = item.get("field_name")
        if not isinstance(field_name, str) or not field_name:
            raise _invalid("Each order_by entry needs a 'field_name'.")
        ascending = item.get("ascending", True)
        if not isinstance(ascending, bool):
            raise _invalid(f"order_by 'ascending' must be true or false, got {ascending!r}.")
        dataset_name, dataset_digest = item.get("dataset_name"), item.get("dataset_digest")
        if dataset_digest and not dataset_name:
            raise _invalid("order_by: 'dataset_digest' needs 'dataset_name' too.")
        if field_name in seen:
            raise _invalid(f"order_by lists the field {field_name!r} twice.")
        seen.add(field_name)
        if field_name.startswith("metrics."):
            key = field_name[len("metrics.") :].strip("`")
            scope = (
                [{"dataset_name": dataset_name, "dataset_digest": dataset_digest}]
                if dataset_name
                else None
            )
            expression = latest.value(key, scope, inner=False)
        else:
            name = field_name.removeprefix("attributes.")
            if name not in _ORDERABLE_ATTRIBUTES:
                raise _invalid(
                    f"Invalid order_by field {field_name!r}: expected one of "
                    f"{sorted(set(_ORDERABLE_ATTRIBUTES))} or metrics.<key>."
                )
            expression = getattr(lm, _ORDERABLE_ATTRIBUTES[name])
            if expression is lm.creation_timestamp:
                creation_ascending = ascending
        # Models without the value sort last, whichever the direction. (Not needed when a
        # filter on it already excludes them: leaving the term out lets the database walk the
        # (key, value) index in order and stop after a page.)
        if not (field_name.startswith("metrics.") and latest.filtered(expression)):
            clauses.append(expression.is_(None))
        clauses.append(expression.asc() if ascending else expression.desc())
    # MLflow's creation_timestamp DESC, then (where MLflow takes the random model id) creation
    # order in creation_timestamp's direction: models created in the same millisecond come back
    # newest first, or oldest first under ``creation_timestamp ASC``.
    if creation_ascending is None:
        clauses.append(lm.creation_timestamp.desc())
    clauses.append(lm.creation_seq.asc() if creation_ascending else lm.creation_seq.desc())
    return clauses


# ---------------------------------------------------------------------------- search


def search_logged_models(
    db: Db,
    experiment_ids: Sequence[str],
    filter_string: str | None,
    datasets: Sequence[Mapping[str, str | None]] | None,
    max_results: int | None,
    order_by: Sequence[Mapping[str, object]] | None,
    page_token: str | None,
) -> PagedList[LoggedModel]:
    if not experiment_ids:
        raise _invalid("Missing value for required parameter 'experiment_ids'.")
    limit = validation.validate_max_results(
        DEFAULT_MAX_RESULTS if max_results is None else max_results
    )
    ids = [validation.parse_experiment_id(e) for e in experiment_ids]
    fingerprint: dict[str, object] = {
        "experiment_ids": [str(i) for i in ids],
        "filter": filter_string or "",
        "datasets": [dict(d) for d in datasets or []],
        "order_by": [dict(o) for o in order_by or []],
    }
    offset = _decode_token(page_token, fingerprint)
    comparisons = parse_filter(filter_string, LOGGED_MODELS)
    dataset_filter = _dataset_condition(datasets)
    conditions = [lm.experiment_id.in_(ids), lm.lifecycle_stage == LifecycleStage.ACTIVE]
    latest = _LatestMetrics()
    conditions += [_condition(db.dialect_name, c, datasets, latest) for c in comparisons]
    if dataset_filter is not None and not any(
        c.identifier.kind is Kind.METRIC for c in comparisons
    ):
        # Without metric filters, ``datasets`` keeps models with any metric on one of them.
        conditions.append(
            sa.exists(
                sa.select(sa.literal_column("1"))
                .select_from(logged_model_metrics)
                .where(mm.model_id == lm.model_id, dataset_filter)
            )
        )
    order = _order_clauses(order_by, latest)
    rows = db.execute_core(
        sa.select(*model_queries.COLUMNS)
        .select_from(latest.from_clause())
        .where(*conditions)
        .order_by(*order)
        .offset(offset)
        .limit(limit + 1)
    ).fetchall()
    token = _encode_token(offset + limit, fingerprint) if len(rows) > limit else None
    return PagedList(model_queries.to_entities(db, rows[:limit]), token)
