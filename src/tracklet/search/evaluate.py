"""The search AST evaluated in Python over entities: the oracle the SQL store is tested against,
and the way to search a handful of runs or experiments already in memory.

Semantics (the SQL store implements the same):

- A comparison on a metric, param, tag or dataset field the entity lacks is false, ``!=``
  included; ``IS NULL`` / ``IS NOT NULL`` test whether the key is there.
- NaN metrics: every comparison is false except ``!=``.
- ``LIKE`` is case-sensitive, ``ILIKE`` case-insensitive; ``%`` matches any run of characters and
  ``_`` one character, over the whole value; there is no escape character.
- ``run_name`` filters read the ``mlflow.runName`` tag (as MLflow's SQL store does); ordering
  by ``run_name`` reads ``RunInfo.run_name``.
- Ordering: missing values sort last in both directions; a NaN metric sorts after real values
  and before missing ones. Runs are then ordered by ``start_time DESC`` (unless ordered on it)
  and by creation, in start_time's direction (MLflow's ``run_id`` is random); experiments
  by default ``creation_time DESC, experiment_id``, and with an explicit order by
  ``experiment_id DESC`` last, as in MLflow.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from tracklet.entities import Experiment, Run
from tracklet.search.ast import Filter, Identifier, Kind, Op, OrderBy
from tracklet.search.grammar import EXPERIMENTS, RUNS
from tracklet.search.parser import parse_filter, parse_order_by

RUN_NAME_TAG = "mlflow.runName"
DATASET_CONTEXT_TAG = "mlflow.data.context"

START_TIME = Identifier(Kind.ATTRIBUTE, "start_time")
RUN_ID = Identifier(Kind.ATTRIBUTE, "run_id")
CREATION_TIME = Identifier(Kind.ATTRIBUTE, "creation_time")
EXPERIMENT_ID = Identifier(Kind.ATTRIBUTE, "experiment_id")
# Not in any grammar (no filter or order_by can name it): the runs' creation order.
CREATION_ORDER = Identifier(Kind.ATTRIBUTE, "creation order")


@lru_cache(maxsize=256)
def like_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """The regular expression equivalent of a SQL LIKE pattern (no escape character)."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(parts), flags)


_COMPARE: dict[Op, Callable[[Any, Any], bool]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
    Op.LIKE: lambda lhs, pattern: like_regex(pattern, False).fullmatch(lhs) is not None,
    Op.ILIKE: lambda lhs, pattern: like_regex(pattern, True).fullmatch(lhs) is not None,
    Op.RLIKE: lambda lhs, pattern: re.search(pattern, lhs) is not None,
    Op.IN: lambda lhs, values: lhs in values,
    Op.NOT_IN: lambda lhs, values: lhs not in values,
}


def compare(lhs: Any, op: Op, value: Any) -> bool:
    """``lhs op value``, false whenever ``lhs`` is None (a missing field)."""
    if lhs is None:
        return False
    return _COMPARE[op](lhs, value)


# ---------------------------------------------------------------------- runs


def _run_field(run: Run, identifier: Identifier) -> Any:
    kind, key = identifier.kind, identifier.key
    if kind is Kind.METRIC:
        return run.data.metrics.get(key)
    if kind is Kind.PARAM:
        return run.data.params.get(key)
    if kind is Kind.TAG:
        return run.data.tags.get(key)
    if key == "run_name":
        return run.data.tags.get(RUN_NAME_TAG)
    return getattr(run.info, key)


def _dataset_values(run: Run, key: str) -> Iterable[str]:
    for dataset_input in run.inputs.dataset_inputs:
        if key == "context":
            yield from (t.value for t in dataset_input.tags if t.key == DATASET_CONTEXT_TAG)
        else:
            yield getattr(dataset_input.dataset, key)


def run_matches(run: Run, comparisons: Filter) -> bool:
    """Whether ``run`` satisfies every comparison."""
    for c in comparisons:
        kind = c.identifier.kind
        if kind is Kind.DATASET:
            if not any(compare(v, c.op, c.value) for v in _dataset_values(run, c.identifier.key)):
                return False
        elif c.op is Op.IS_NULL or c.op is Op.IS_NOT_NULL:
            fields = run.data.params if kind is Kind.PARAM else run.data.tags
            if (c.identifier.key in fields) != (c.op is Op.IS_NOT_NULL):
                return False
        elif not compare(_run_field(run, c.identifier), c.op, c.value):
            return False
    return True


def _rank(value: Any) -> tuple[int, Any]:
    """(rank, value): rank 0 for a real value, 1 for NaN, 2 for missing; sorts in rank order."""
    if value is None:
        return 2, 0
    if isinstance(value, float) and math.isnan(value):
        return 1, 0
    return 0, value


def _sorted(
    items: list[Any], terms: Sequence[OrderBy], field: Callable[[Any, Identifier], Any]
) -> list[Any]:
    # Stable sorts from the least significant term up; rank (missing last) ignores direction.
    for term in reversed(terms):

        def key(
            item: Any, identifier: Identifier = term.identifier, asc: bool = term.ascending
        ) -> tuple[int, Any]:
            rank, value = _rank(field(item, identifier))
            return (rank, value) if asc else (-rank, value)

        items.sort(key=key, reverse=not term.ascending)
    return items


def _run_order_field(run: Run, identifier: Identifier) -> Any:
    if identifier.kind is Kind.ATTRIBUTE:
        return getattr(run.info, identifier.key)
    return _run_field(run, identifier)


def run_order(order_by: Sequence[OrderBy]) -> tuple[OrderBy, ...]:
    """The full ordering of runs: ``order_by``, then ``start_time DESC`` as in MLflow, then
    creation order in start_time's direction.

    MLflow breaks start_time ties on the (random) run id; runs started in the same millisecond
    come back newest first here (oldest first under ``start_time ASC``).
    """
    terms = list(order_by)
    fields = {t.identifier for t in terms}
    start = next((t for t in terms if t.identifier == START_TIME), None)
    if start is None:
        start = OrderBy(START_TIME, ascending=False)
        terms.append(start)
    if RUN_ID not in fields:  # a run id is unique: nothing after it would matter
        terms.append(OrderBy(CREATION_ORDER, ascending=start.ascending))
    return tuple(terms)


def sort_runs(runs: Iterable[Run], order_by: Sequence[OrderBy] = ()) -> list[Run]:
    """Runs in search order (``order_by`` plus the implicit tie-breakers); ``runs`` come in
    the order they were created."""

    def field(item: tuple[int, Run], identifier: Identifier) -> Any:
        if identifier == CREATION_ORDER:
            return item[0]
        return _run_order_field(item[1], identifier)

    ordered = _sorted(list(enumerate(runs)), run_order(order_by), field)
    return [run for _, run in ordered]


def search_runs(
    runs: Iterable[Run], filter_string: str | None = None, order_by: Sequence[str] | None = None
) -> list[Run]:
    """The runs matching ``filter_string``, ordered by ``order_by``, as the SQL store returns
    them (lifecycle stage is the caller's to filter); ``runs`` come in creation order.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a malformed filter or order.
    """
    comparisons = parse_filter(filter_string, RUNS)
    terms = parse_order_by(order_by, RUNS)
    return sort_runs((r for r in runs if run_matches(r, comparisons)), terms)


# ---------------------------------------------------------------------- experiments


def _experiment_field(experiment: Experiment, identifier: Identifier) -> Any:
    if identifier.kind is Kind.TAG:
        return experiment.tags.get(identifier.key)
    if identifier.key == "experiment_id":
        return int(experiment.experiment_id)
    return getattr(experiment, identifier.key)


def experiment_matches(experiment: Experiment, comparisons: Filter) -> bool:
    """Whether ``experiment`` satisfies every comparison."""
    for c in comparisons:
        if c.op is Op.IS_NULL or c.op is Op.IS_NOT_NULL:
            if (c.identifier.key in experiment.tags) != (c.op is Op.IS_NOT_NULL):
                return False
            continue
        value: Any = c.value
        if c.identifier == EXPERIMENT_ID:
            value = tuple(int(v) for v in value) if isinstance(value, tuple) else int(str(value))
        if not compare(_experiment_field(experiment, c.identifier), c.op, value):
            return False
    return True


def experiment_order(order_by: Sequence[OrderBy]) -> tuple[OrderBy, ...]:
    """The full ordering of experiments, with MLflow's tie-breaker."""
    if not order_by:
        return (OrderBy(CREATION_TIME, ascending=False), OrderBy(EXPERIMENT_ID, ascending=True))
    if any(t.identifier == EXPERIMENT_ID for t in order_by):
        return tuple(order_by)
    return (*order_by, OrderBy(EXPERIMENT_ID, ascending=False))


def search_experiments(
    experiments: Iterable[Experiment],
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """The experiments matching ``filter_string`` in search order.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a malformed filter or order.
    """
    comparisons = parse_filter(filter_string, EXPERIMENTS)
    terms = experiment_order(parse_order_by(order_by, EXPERIMENTS))
    matching = [e for e in experiments if experiment_matches(e, comparisons)]
    return _sorted(matching, terms, _experiment_field)
