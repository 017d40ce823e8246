"""search_registered_models and search_model_versions over SQL, through the one search language.

Filters (MLflow's rules, ``search.grammar.REGISTERED_MODELS`` / ``MODEL_VERSIONS``) compile to
WHERE clauses; a tag comparison is an EXISTS on the tag table, false when the tag is missing.
Prompts (models tagged ``mlflow.prompt.is_prompt = 'true'``) are left out unless the filter asks
for them, as MLflow does. Pages are keyset pages like the other searches' (``search.py``):
ordering ends with the unique key (name, version), so a token names one row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from tracklet.entities import PagedList
from tracklet.entities.model_registry import (
    IS_PROMPT_TAG_KEY,
    STAGE_DELETED_INTERNAL,
    ModelVersion,
    RegisteredModel,
)
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.search import MODEL_VERSIONS, REGISTERED_MODELS
from tracklet.search import page_token as tokens
from tracklet.search.ast import Comparison, Identifier, Kind, Op, OrderBy
from tracklet.search.parser import parse_filter, parse_order_by
from tracklet.store.sql import model_versions as version_queries
from tracklet.store.sql import registered_models as model_queries
from tracklet.store.sql.compiled import Db, literal
from tracklet.store.sql.keyset import Term, fetch, row_key, selection
from tracklet.store.sql.schema import (
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)
from tracklet.store.sql.search import compare

_NAME = Identifier(Kind.ATTRIBUTE, "name")
_VERSION = Identifier(Kind.ATTRIBUTE, "version_number")


def _check_max_results(max_results: object, limit: int) -> int:
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise MlflowException(
            f"Invalid value for max_results. It must be a positive integer, but got {max_results}",
            INVALID_PARAMETER_VALUE,
        )
    if max_results > limit:
        raise MlflowException(
            "Invalid value for request parameter max_results. It must be at most "
            f"{limit}, but got value {max_results}",
            INVALID_PARAMETER_VALUE,
        )
    return max_results


def _asks_for_prompts(comparisons: Sequence[Comparison]) -> bool:
    for c in comparisons:
        if c.identifier.kind is Kind.TAG and c.identifier.key == IS_PROMPT_TAG_KEY:
            value = str(c.value).lower()
            return (c.op is Op.EQ and value == "true") or (c.op is Op.NE and value == "false")
    return False


def _without_prompt_filter(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """MLflow drops a prompt-tag comparison when it excludes prompts anyway."""
    return [
        c
        for c in comparisons
        if not (c.identifier.kind is Kind.TAG and c.identifier.key == IS_PROMPT_TAG_KEY)
    ]


def _tag_exists(table: sa.Table, links: Sequence[Any], key: str, condition: Any = None) -> Any:
    query = sa.select(literal("1")).where(*links, table.c.key == key)
    if condition is not None:
        query = query.where(condition)
    return query.exists()


def _page(
    db: Db,
    entity: str,
    columns: Sequence[Any],
    where: list[Any],
    comparisons: Sequence[Comparison],
    order: Sequence[OrderBy],
    terms: list[Term],
    max_results: int,
    page_token: str | None,
) -> tuple[list[Any], str | None]:
    query_id = tokens.fingerprint(entity, [], tuple(comparisons), order)
    key = tokens.decode(page_token, query_id, [t.type for t in terms]) if page_token else None
    selected, positions = selection(columns, terms)

    def select() -> Any:
        return sa.select(*selected).where(*where)

    rows = fetch(db, select, terms, key, max_results + 1)
    next_token = None
    if len(rows) > max_results:
        rows = rows[:max_results]
        next_token = tokens.encode(query_id, row_key(terms, rows[-1], positions))
    return [row[: len(columns)] for row in rows], next_token


# ---------------------------------------------------------------------- registered models

_RM_ORDER_COLUMNS = {
    "name": registered_models.c.name,
    "last_updated_timestamp": registered_models.c.last_updated_time,
}


def _model_filter(dialect_name: str, c: Comparison) -> Any:
    if c.identifier.kind is Kind.TAG:
        t = registered_model_tags.c
        condition = compare(dialect_name, t.value, c.op, c.value)
        return _tag_exists(
            registered_model_tags, [t.name == registered_models.c.name], c.identifier.key, condition
        )
    return compare(dialect_name, registered_models.c.name, c.op, c.value)


def _model_term(order: OrderBy) -> Term:
    column = _RM_ORDER_COLUMNS[order.identifier.key]
    if order.identifier.key == "name":
        return Term(column, order.ascending, 0, str, collate=True)
    return Term(column, order.ascending, 0, int)


def search_registered_models(
    db: Db,
    filter_string: str | None,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
    limit: int,
) -> PagedList[RegisteredModel]:
    """Registered models matching the filter, ordered (name ASC last), one page at a time."""
    _check_max_results(max_results, limit)
    comparisons = list(parse_filter(filter_string, REGISTERED_MODELS))
    order = list(parse_order_by(order_by, REGISTERED_MODELS))
    if all(o.identifier != _NAME for o in order):
        order.append(OrderBy(_NAME, True))
    where: list[Any] = []
    if not _asks_for_prompts(comparisons):
        comparisons = _without_prompt_filter(comparisons)
        t = registered_model_tags.c
        where.append(
            ~_tag_exists(
                registered_model_tags,
                [t.name == registered_models.c.name],
                IS_PROMPT_TAG_KEY,
                t.value == literal("'true'"),
            )
        )
    where += [_model_filter(db.dialect_name, c) for c in comparisons]
    terms = [_model_term(o) for o in order]
    rows, token = _page(
        db,
        "registered_models",
        model_queries.COLUMNS,
        where,
        comparisons,
        order,
        terms,
        max_results,
        page_token,
    )
    latest = version_queries.latest_per_stage(db, [row[0] for row in rows])
    return PagedList(model_queries.to_entities(db, rows, latest), token)


# ---------------------------------------------------------------------- model versions

mv = model_versions.c
_MV_COLUMNS = {
    "name": mv.name,
    "run_id": mv.run_id,
    "source_path": mv.source,
    "version_number": mv.version,
    "creation_timestamp": mv.creation_time,
    "last_updated_timestamp": mv.last_updated_time,
}
DEFAULT_VERSION_ORDER = ("last_updated_timestamp DESC", "name ASC", "version_number DESC")


def _version_value(c: Comparison) -> int:
    value = c.value
    try:
        if isinstance(value, str):
            return int(value.strip())
        if isinstance(value, int):
            return value
    except ValueError:
        pass
    raise MlflowException(
        f"Invalid value for numeric attribute 'version_number': {value!r}",
        INVALID_PARAMETER_VALUE,
    )


def _version_filter(dialect_name: str, c: Comparison) -> Any:
    if c.identifier.kind is Kind.TAG:
        t = model_version_tags.c
        condition = compare(dialect_name, t.value, c.op, c.value)
        links = [t.name == mv.name, t.version == mv.version]
        return _tag_exists(model_version_tags, links, c.identifier.key, condition)
    key = c.identifier.key
    value = _version_value(c) if key == "version_number" else c.value
    return compare(dialect_name, _MV_COLUMNS[key], c.op, value)


def _version_term(order: OrderBy) -> Term:
    key = order.identifier.key
    if key == "name":
        return Term(mv.name, order.ascending, 0, str, collate=True)
    return Term(_MV_COLUMNS[key], order.ascending, 0, int)


def search_model_versions(
    db: Db,
    filter_string: str | None,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
    limit: int,
) -> PagedList[ModelVersion]:
    """Live model versions matching the filter; default order: last update DESC, name ASC,
    version DESC (the last two always break ties)."""
    _check_max_results(max_results, limit)
    comparisons = list(parse_filter(filter_string, MODEL_VERSIONS))
    order = list(parse_order_by(order_by or DEFAULT_VERSION_ORDER, MODEL_VERSIONS))
    if all(o.identifier != _NAME for o in order):
        order.append(OrderBy(_NAME, True))
    if all(o.identifier != _VERSION for o in order):
        order.append(OrderBy(_VERSION, False))
    where: list[Any] = [mv.current_stage != literal(f"'{STAGE_DELETED_INTERNAL}'")]
    if not _asks_for_prompts(comparisons):
        comparisons = _without_prompt_filter(comparisons)
        t = model_version_tags.c
        where.append(
            ~_tag_exists(
                model_version_tags,
                [t.name == mv.name, t.version == mv.version],
                IS_PROMPT_TAG_KEY,
                t.value == literal("'true'"),
            )
        )
    where += [_version_filter(db.dialect_name, c) for c in comparisons]
    terms = [_version_term(o) for o in order]
    rows, token = _page(
        db,
        "model_versions",
        version_queries.COLUMNS,
        where,
        comparisons,
        order,
        terms,
        max_results,
        page_token,
    )
    return PagedList(version_queries.to_entities(db, rows), token)
