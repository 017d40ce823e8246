"""search_runs and search_experiments over SQL: the search AST compiled to SQLAlchemy Core.

Filters become joins, not correlated subqueries, so the planner may start from the most
selective index: each metric, param or tag key compared in the filter is one inner join on
(run, key), which cannot duplicate rows as there is one row per (run, key); each key only
ordered on is a left join. Datasets and ``IS [NOT] NULL`` become ``[NOT] EXISTS``.

Ordering puts missing values last in both directions and a NaN metric (stored as NULL) between
real values and missing ones, through a rank per term. Pages are keyset-based: the token holds
the last row's (rank, value) per term, and the next page is "rows after it". When the leading
term can be NULL the search runs in two segments, the non-NULL rows in value order and then
the NULL ones, so that each segment's ORDER BY is a plain index order (``metrics.acc DESC`` is
a backward scan of ``ix_latest_metrics_key_value``) and a page stops reading after its rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from tracklet import validation
from tracklet.entities import Experiment, LifecycleStage, PagedList, Run, ViewType
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.search import EXPERIMENTS, RUNS
from tracklet.search import page_token as tokens
from tracklet.search.ast import Comparison, Kind, Op, OrderBy
from tracklet.search.evaluate import (
    CREATION_ORDER,
    DATASET_CONTEXT_TAG,
    RUN_NAME_TAG,
    experiment_order,
    run_order,
)
from tracklet.search.parser import parse_filter, parse_order_by
from tracklet.store.run_columns import RunColumns
from tracklet.store.sql import experiments as experiment_queries
from tracklet.store.sql import run_parts
from tracklet.store.sql import runs as run_queries
from tracklet.store.sql.compiled import Db, literal
from tracklet.store.sql.keyset import Term, fetch, row_key, selection
from tracklet.store.sql.schema import (
    SEARCH_VALUE_PREFIX,
    datasets,
    experiment_tags,
    experiments,
    input_tags,
    latest_metrics,
    params,
    run_dataset_inputs,
    runs,
    tags,
)

Where = ColumnElement[bool]


# ---------------------------------------------------------------------- comparisons


def _pattern(dialect_name: str, value: str) -> str:
    # PostgreSQL's LIKE treats a backslash as an escape; SQLite's (and MLflow's Python
    # evaluation) has no escape character. Doubling backslashes gives one meaning on both.
    return value.replace("\\", "\\\\") if dialect_name == "postgresql" else value


def compare(dialect_name: str, column: Any, op: Op, value: Any) -> Where:
    """``column op value`` for a string or number column (never NULL-true); the one compiler
    of comparators for every search (runs, experiments, logged models)."""
    if op is Op.EQ:
        return column == value  # type: ignore[no-any-return]
    if op is Op.NE:
        return column != value  # type: ignore[no-any-return]
    if op is Op.LT:
        return column < value  # type: ignore[no-any-return]
    if op is Op.LE:
        return column <= value  # type: ignore[no-any-return]
    if op is Op.GT:
        return column > value  # type: ignore[no-any-return]
    if op is Op.GE:
        return column >= value  # type: ignore[no-any-return]
    if op is Op.LIKE:
        return column.like(_pattern(dialect_name, value))  # type: ignore[no-any-return]
    if op is Op.ILIKE:
        return column.ilike(_pattern(dialect_name, value))  # type: ignore[no-any-return]
    if op is Op.IN:
        return column.in_(list(value))  # type: ignore[no-any-return]
    if op is Op.NOT_IN:
        return column.not_in(list(value))  # type: ignore[no-any-return]
    raise MlflowException(f"Unsupported comparator {op.value}", INVALID_PARAMETER_VALUE)


def _prefix(column: Any) -> Any:
    # The exact expression of ix_params_key_value_prefix / ix_tags_key_value_prefix: literal
    # constants (not parameters), or neither SQLite nor PostgreSQL matches it to the index.
    return sa.func.substr(column, literal("1"), literal(str(SEARCH_VALUE_PREFIX)))


def _compare_value(dialect_name: str, column: Any, op: Op, value: Any) -> Where:
    """A comparison on a param or tag value, through the value-prefix index where it can."""
    if op is not Op.EQ:
        return compare(dialect_name, column, op, value)
    prefix_equal = _prefix(column) == value[:SEARCH_VALUE_PREFIX]
    if len(value) < SEARCH_VALUE_PREFIX:
        return prefix_equal  # type: ignore[no-any-return]  # a short prefix is the whole value
    return sa.and_(prefix_equal, column == value)


def _compare_metric(column: Any, op: Op, value: float) -> Where:
    # NaN is stored as NULL: false for every comparison except "!=", which is true.
    if op is Op.NE:
        return sa.or_(column != value, column.is_(None))
    return compare("", column, op, value)


_KEY_TABLES: dict[Kind, sa.Table] = {
    Kind.METRIC: latest_metrics,
    Kind.PARAM: params,
    Kind.TAG: tags,
}


Condition = Callable[[Any], Any]  # a value column -> a comparison on it
_SELECTIVE_ROWS = 2000
_MAX_JOINED_KEYS = 48


class _Joins:
    """The metric/param/tag rows a run search reads, one alias per (kind, key)."""

    def __init__(self) -> None:
        self.inner: dict[tuple[Kind, str], Any] = {}
        self.outer: dict[tuple[Kind, str], Any] = {}
        # Per inner alias, the comparisons on its value that its (key, value) index can seek.
        self.seekable: dict[tuple[Kind, str], list[Condition]] = {}
        # Aliases whose (key, value) index must not drive the query (see choose_driver).
        self.unindexed: set[tuple[Kind, str]] = set()
        # Inner-joined metrics compared with something other than "!=": never NaN.
        self.real_metrics: set[str] = set()

    def alias(self, kind: Kind, key: str, *, inner: bool) -> Any:
        name = (kind, key)
        if name in self.inner:
            return self.inner[name]
        if inner:
            found = self.outer.pop(name, None)
            alias = found if found is not None else _KEY_TABLES[kind].alias()
            self.inner[name] = alias
            return alias
        if name not in self.outer:
            self.outer[name] = _KEY_TABLES[kind].alias()
        return self.outer[name]

    def compare(self, kind: Kind, key: str, condition: Condition, seekable: bool) -> Any:
        """``condition`` on the value of (kind, key), inner-joined."""
        alias = self.alias(kind, key, inner=True)
        if seekable:
            self.seekable.setdefault((kind, key), []).append(condition)
        return condition(alias.c.value)

    def choose_driver(self, db: Db, lead: tuple[Kind, str] | None) -> None:
        """SQLite only: keep out of the plan every (key, value) index but the one worth
        starting from.

        Without statistics SQLite's planner takes any equality on an index as selective, so
        ``tags.model_family = 'transformer'`` would read a quarter of all runs and sort them,
        where walking the runs in order and stopping after a page reads a few hundred. A
        capped count on each index decides: an index matching fewer than _SELECTIVE_ROWS rows
        may drive; the lead ordering key's index always may (its order stops the scan early);
        the others are masked.
        """
        counts = {
            name: _count_capped(db, name, conditions)
            for name, conditions in self.seekable.items()
            if name != lead
        }
        best = min(counts, key=counts.__getitem__, default=None)
        for name in self.inner:
            if name != lead and not (name == best and counts[name] < _SELECTIVE_ROWS):
                self.unindexed.add(name)

    def check_size(self) -> None:
        """Refuse more joins than SQLite can take (64 tables) with room to spare; the parser
        bounds a filter's keys, and this bounds them together with order_by's."""
        count = len(self.inner) + len(self.outer)
        if count > _MAX_JOINED_KEYS:
            raise MlflowException(
                f"Invalid search: filter and order_by together name {count} distinct metrics, "
                f"params or tags; at most {_MAX_JOINED_KEYS} are allowed.",
                INVALID_PARAMETER_VALUE,
            )

    def from_clause(self) -> Any:
        joined: Any = runs
        for joins, outer in ((self.inner, False), (self.outer, True)):
            for name, alias in joins.items():
                # ``key || ''`` is no longer the indexed column: SQLite then reaches the row
                # through the (run_uuid, key) primary key instead.
                key_column = alias.c.key.concat("") if name in self.unindexed else alias.c.key
                on = sa.and_(alias.c.run_uuid == runs.c.run_uuid, key_column == name[1])
                joined = joined.join(alias, on, isouter=outer)
        return joined


def _count_capped(db: Db, name: tuple[Kind, str], conditions: Sequence[Condition]) -> int:
    table = _KEY_TABLES[name[0]]
    rows = (
        sa.select(literal("1"))
        .where(table.c.key == name[1], *(c(table.c.value) for c in conditions))
        .limit(_SELECTIVE_ROWS)
        .subquery()
    )
    return int(db.execute_core(sa.select(sa.func.count()).select_from(rows)).fetchone()[0])


def _dataset_exists(dialect_name: str, c: Comparison) -> Where:
    rdi = run_dataset_inputs
    if c.identifier.key == "context":
        query = sa.select(literal("1")).select_from(
            rdi.join(
                input_tags,
                sa.and_(
                    input_tags.c.run_uuid == rdi.c.run_uuid,
                    input_tags.c.dataset_uuid == rdi.c.dataset_uuid,
                ),
            )
        )
        query = query.where(
            input_tags.c.key == DATASET_CONTEXT_TAG,
            compare(dialect_name, input_tags.c.value, c.op, c.value),
        )
    else:
        column = datasets.c[c.identifier.key]
        query = sa.select(literal("1")).select_from(
            rdi.join(datasets, datasets.c.dataset_uuid == rdi.c.dataset_uuid)
        )
        query = query.where(compare(dialect_name, column, c.op, c.value))
    return query.where(rdi.c.run_uuid == runs.c.run_uuid).exists()


def _key_exists(kind: Kind, key: str) -> Any:
    table = params if kind is Kind.PARAM else tags
    return (
        sa.select(literal("1"))
        .where(table.c.run_uuid == runs.c.run_uuid, table.c.key == key)
        .exists()
    )


_RUN_COLUMNS: dict[str, Any] = {
    "run_id": runs.c.run_uuid,
    "status": runs.c.status,
    # RunInfo.user_id is "" for a NULL user, and search must agree with what runs show.
    "user_id": sa.func.coalesce(runs.c.user_id, ""),
    "artifact_uri": runs.c.artifact_uri,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
}


def _run_filters(dialect_name: str, comparisons: Sequence[Comparison], joins: _Joins) -> list[Any]:
    where: list[Any] = []
    for c in comparisons:
        kind, key, op, value = c.identifier.kind, c.identifier.key, c.op, c.value
        if kind is Kind.DATASET:
            where.append(_dataset_exists(dialect_name, c))
        elif op is Op.IS_NULL or op is Op.IS_NOT_NULL:
            exists = _key_exists(kind, key)
            where.append(exists if op is Op.IS_NOT_NULL else ~exists)
        elif kind is Kind.METRIC:
            number = float(value)  # type: ignore[arg-type]
            metric = partial(_compare_metric, op=op, value=number)
            where.append(joins.compare(kind, key, metric, seekable=op is not Op.NE))
            if op is not Op.NE:
                joins.real_metrics.add(key)
        elif kind in (Kind.PARAM, Kind.TAG) or key == "run_name":
            if kind is Kind.ATTRIBUTE:
                # MLflow compares the mlflow.runName tag (old clients' runs lack a name).
                kind, key = Kind.TAG, RUN_NAME_TAG
            string = partial(_compare_value, dialect_name, op=op, value=value)
            where.append(joins.compare(kind, key, string, seekable=op is Op.EQ))
        else:
            where.append(compare(dialect_name, _RUN_COLUMNS[key], op, value))
    return where


# ---------------------------------------------------------------------- ordering and keysets


# ---------------------------------------------------------------------- runs


def _run_term(order: OrderBy, joins: _Joins) -> Term:
    kind, key, asc = order.identifier.kind, order.identifier.key, order.ascending
    if kind is Kind.ATTRIBUTE:
        if order.identifier == CREATION_ORDER:
            return Term(runs.c.creation_seq, asc, 0, int)
        if key in ("start_time", "end_time"):
            return Term(runs.c[key], asc, 1, int)
        if key == "run_name":
            return Term(runs.c.name, asc, 1, str, collate=True)
        if key == "artifact_uri":
            return Term(runs.c.artifact_uri, asc, 1, str, collate=True)
        return Term(_RUN_COLUMNS[key], asc, 0, str, collate=True)
    inner = (kind, key) in joins.inner
    alias = joins.alias(kind, key, inner=inner)
    if kind is Kind.METRIC:
        if not inner:
            return Term(alias.c.value, asc, 2, float, missing=alias.c.run_uuid.is_(None))
        return Term(alias.c.value, asc, 0 if key in joins.real_metrics else 1, float)
    # An inner-joined param or tag was compared with a string, so its value is not NULL.
    return Term(alias.c.value, asc, 0 if inner else 1, str, collate=True)


# Where a page row holds the run's pack, after INFO_COLUMNS.
PACK_COLUMN = len(run_queries.INFO_COLUMNS)


def _run_page(
    db: Db,
    experiment_ids: Sequence[str],
    filter_string: str | None,
    run_view_type: int,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None = None,
) -> tuple[list[Any], str | None]:
    """The page's rows (``INFO_COLUMNS``, then the pack or None) and the next page's token
    (see search_runs)."""
    validation.validate_max_results(max_results)
    comparisons = parse_filter(filter_string, RUNS)
    order = run_order(parse_order_by(order_by, RUNS))
    ids = sorted({validation.parse_experiment_id(e) for e in experiment_ids})
    stages = LifecycleStage.view_type_to_stages(run_view_type or ViewType.ACTIVE_ONLY)
    query_id = tokens.fingerprint("runs", [*ids, "|", *stages], comparisons, order)
    if not ids:
        return [], None

    joins = _Joins()
    where = [runs.c.experiment_id.in_(ids), runs.c.lifecycle_stage.in_(stages)]
    where += _run_filters(db.dialect_name, comparisons, joins)
    terms = [_run_term(o, joins) for o in order]
    joins.check_size()
    if db.dialect_name == "sqlite" and joins.inner:
        lead = order[0].identifier
        joins.choose_driver(db, (lead.kind, lead.key) if lead.kind is not Kind.ATTRIBUTE else None)
    key = tokens.decode(page_token, query_id, [t.type for t in terms]) if page_token else None
    selected, positions = selection([*run_queries.INFO_COLUMNS, runs.c.pack], terms)
    from_clause = joins.from_clause()

    def select() -> Any:
        return sa.select(*selected).select_from(from_clause).where(*where)

    rows = fetch(db, select, terms, key, max_results + 1)
    next_token = None
    if len(rows) > max_results:
        rows = rows[:max_results]
        next_token = tokens.encode(query_id, row_key(terms, rows[-1], positions))
    return rows, next_token


def search_runs(
    db: Db,
    experiment_ids: Sequence[str],
    filter_string: str | None,
    run_view_type: int,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None = None,
) -> tuple[PagedList[Run], list[str]]:
    """Runs of ``experiment_ids`` matching the filter, in order, one page at a time.

    Args:
        db: a reader connection.
        experiment_ids: the experiments searched (an empty list finds nothing).
        filter_string: MLflow's run filter (spec §6.1), or empty.
        run_view_type: ViewType.ACTIVE_ONLY, DELETED_ONLY or ALL.
        max_results: page size, 1 to 50000.
        order_by: e.g. ``["metrics.acc DESC", "params.lr"]``.
        page_token: the token of the previous page, or None for the first page.

    Returns:
        The page, with ``token`` set when more runs follow; and the ids of its runs that have
        no pack (see ``repacker``).

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a bad filter, order, page size, token or
            experiment id.
    """
    rows, token = _run_page(
        db, experiment_ids, filter_string, run_view_type, max_results, order_by, page_token
    )
    infos = [run_queries.info_from_row(row) for row in rows]
    packs = [row[PACK_COLUMN] for row in rows]
    return PagedList(run_parts.load_runs(db, infos, packs), token), _unpacked(rows)


def search_runs_columns(
    db: Db,
    experiment_ids: Sequence[str],
    filter_string: str | None,
    run_view_type: int,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None = None,
) -> tuple[RunColumns, list[str]]:
    """``search_runs``'s page as columns (the same runs, order and token), with no Run
    objects: a DataFrame of many runs costs a fraction of building them."""
    rows, token = _run_page(
        db, experiment_ids, filter_string, run_view_type, max_results, order_by, page_token
    )
    packs = [row[PACK_COLUMN] for row in rows]
    return run_parts.load_columns(db, rows, packs, token), _unpacked(rows)


def _unpacked(rows: Sequence[Any]) -> list[str]:
    """The ids of the page's runs without a pack. Unfinished ones too: a job killed without
    ``end_run`` leaves its run RUNNING for good, and large experiments hold many; a run still
    logging loses its pack at its next write (one trigger update), at most once a search."""
    return [row[0] for row in rows if row[PACK_COLUMN] is None]


# ---------------------------------------------------------------------- experiments

_EXPERIMENT_COLUMNS: dict[str, Any] = {
    "name": experiments.c.name,
    "experiment_id": experiments.c.experiment_id,
    "creation_time": experiments.c.creation_time,
    "last_update_time": experiments.c.last_update_time,
}


def _experiment_filter(dialect_name: str, c: Comparison) -> Any:
    key, op = c.identifier.key, c.op
    value: Any = c.value
    if c.identifier.kind is Kind.TAG:
        t = experiment_tags.c
        query = sa.select(literal("1")).where(
            t.experiment_id == experiments.c.experiment_id, t.key == key
        )
        if op is Op.IS_NULL:
            return ~query.exists()
        if op is not Op.IS_NOT_NULL:
            query = query.where(compare(dialect_name, t.value, op, value))
        return query.exists()
    if key == "experiment_id":
        value = tuple(int(v) for v in value) if isinstance(value, tuple) else int(str(value))
    return compare(dialect_name, _EXPERIMENT_COLUMNS[key], op, value)


def _experiment_term(order: OrderBy) -> Term:
    key, asc = order.identifier.key, order.ascending
    if key == "name":
        return Term(experiments.c.name, asc, 0, str, collate=True)
    if key == "experiment_id":
        return Term(experiments.c.experiment_id, asc, 0, int)
    return Term(_EXPERIMENT_COLUMNS[key], asc, 1, int)


def search_experiments(
    db: Db,
    view_type: int,
    max_results: int,
    filter_string: str | None,
    order_by: Sequence[str] | None,
    page_token: str | None = None,
) -> PagedList[Experiment]:
    """Experiments matching the filter (spec §6.2), in order, one page at a time.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a bad filter, order, page size or token.
    """
    validation.validate_max_results(max_results)
    comparisons = parse_filter(filter_string, EXPERIMENTS)
    order = experiment_order(parse_order_by(order_by, EXPERIMENTS))
    stages = LifecycleStage.view_type_to_stages(view_type or ViewType.ACTIVE_ONLY)
    query_id = tokens.fingerprint("experiments", stages, comparisons, order)
    terms = [_experiment_term(o) for o in order]
    key = tokens.decode(page_token, query_id, [t.type for t in terms]) if page_token else None
    where = [experiments.c.lifecycle_stage.in_(stages)]
    where += [_experiment_filter(db.dialect_name, c) for c in comparisons]
    first = len(experiment_queries.COLUMNS)
    selected, positions = selection(experiment_queries.COLUMNS, terms)

    def select() -> Any:
        return sa.select(*selected).where(*where)

    rows = fetch(db, select, terms, key, max_results + 1)
    next_token = None
    if len(rows) > max_results:
        rows = rows[:max_results]
        next_token = tokens.encode(query_id, row_key(terms, rows[-1], positions))
    rows = [row[:first] for row in rows]
    return PagedList(experiment_queries.to_entities(db, rows), next_token)
