"""search_runs / search_experiments in SQL agree with the Python evaluator, on SQLite and
PostgreSQL: random runs, random filters and orders, every page."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from tracklet.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    ExperimentTag,
    InputTag,
    Metric,
    Param,
    Run,
    RunTag,
    ViewType,
)
from tracklet.search import evaluate
from tracklet.store.run_columns import INFO, RunColumns
from tracklet.store.sql.store import SqlStore

METRIC_KEYS = ["a", "b", "c d"]
METRIC_VALUES = [-1.0, 0.0, 0.5, 1.0, 2.5, math.nan, 1e300]
PARAM_KEYS = ["p", "q", "x.y"]
TAG_KEYS = ["t", "u"]
LONG = "L" * 100  # the length of the params/tags index prefix
# Strings that LIKE, case and the index prefix treat differently. Non-ASCII letters only in
# lower case: SQLite's lower() (ILIKE) folds ASCII letters only.
STRINGS = [
    "",
    "abc",
    "ABC",
    "aBc",
    "a%c",
    "a_c",
    "é",
    "0.01",
    LONG,
    LONG + "1",
    LONG + "2",
    "L" * 99,
]
PATTERNS = ["%", "a%", "%c", "a_c", "A%", "_", "", "%%1", "L%2", "é%", "%B%"]
VIEW_TYPES = [ViewType.ACTIVE_ONLY, ViewType.DELETED_ONLY, ViewType.ALL]
SLOW = settings(max_examples=40, deadline=None, derandomize=True)


def populate(store: SqlStore, rng: random.Random, n: int) -> tuple[str, list[str]]:
    """An experiment of ``n`` random runs; few distinct values, so filters match and tie."""
    experiment_id = store.create_experiment(f"exp-{rng.random()}")
    run_ids = []
    for _ in range(n):
        tags = [RunTag(k, rng.choice(STRINGS)) for k in TAG_KEYS if rng.random() < 0.6]
        name = rng.choice([None, "alpha", "Beta", "alpha-2"])
        run = store.create_run(
            experiment_id, rng.choice(["al", "bo"]), rng.randint(1, 4), tags, name
        )
        run_id = run.info.run_id
        metrics = []
        for key in METRIC_KEYS:
            for step in range(rng.randint(0, 2)):
                metrics.append(Metric(key, rng.choice(METRIC_VALUES), rng.randint(1, 9), step))
        params = [Param(k, rng.choice(STRINGS)) for k in PARAM_KEYS if rng.random() < 0.6]
        store.log_batch(run_id, metrics=metrics, params=params)
        if rng.random() < 0.4:
            inputs = [
                DatasetInput(
                    Dataset(rng.choice(["ds1", "ds2"]), rng.choice(["d1", "d2"]), "local", "{}"),
                    [InputTag("mlflow.data.context", rng.choice(["train", "eval"]))],
                )
                for _ in range(rng.randint(1, 2))
            ]
            store.log_inputs(run_id, datasets=inputs)
        if rng.random() < 0.5:
            store.update_run_info(
                run_id, rng.choice(["FINISHED", "FAILED"]), rng.randint(5, 7), None
            )
        if rng.random() < 0.2:
            store.delete_run(run_id)
        run_ids.append(run_id)
    return experiment_id, run_ids


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _number(value: float) -> str:
    return repr(value)


@st.composite
def run_comparisons(draw: st.DrawFn, run_ids: Sequence[str]) -> str:
    kind = draw(st.sampled_from(["metric", "param", "tag", "attr", "time", "run_id", "dataset"]))
    if kind == "metric":
        key = draw(st.sampled_from([*METRIC_KEYS, "zz"]))
        op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
        value = draw(st.sampled_from([v for v in METRIC_VALUES if not math.isnan(v)]))
        return f"metrics.`{key}` {op} {_number(value)}"
    if kind in ("param", "tag"):
        key = draw(st.sampled_from([*(PARAM_KEYS if kind == "param" else TAG_KEYS), "zz"]))
        op = draw(st.sampled_from(["=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"]))
        field = f"{kind}s.`{key}`"
        if op.startswith("IS"):
            return f"{field} {op}"
        value = draw(st.sampled_from(PATTERNS if "LIKE" in op else STRINGS))
        return f"{field} {op} {_quote(value)}"
    if kind == "attr":
        key = draw(st.sampled_from(["status", "user_id", "run_name", "`Run Name`"]))
        op = draw(st.sampled_from(["=", "!=", "LIKE", "ILIKE"]))
        value = draw(st.sampled_from(["FINISHED", "RUNNING", "al", "bo", "alpha", "ALPHA%", "%a%"]))
        return f"attributes.{key} {op} {_quote(value)}"
    if kind == "time":
        key = draw(st.sampled_from(["start_time", "end_time", "created"]))
        op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
        return f"{key} {op} {draw(st.integers(0, 8))}"
    if kind == "run_id":
        chosen = draw(st.lists(st.sampled_from(run_ids), min_size=1, max_size=3))
        op = draw(st.sampled_from(["IN", "NOT IN", "="]))
        if op == "=":
            return f"run_id = {_quote(chosen[0])}"
        return f"run_id {op} ({', '.join(_quote(r) for r in chosen)})"
    key = draw(st.sampled_from(["name", "digest", "context"]))
    op = draw(st.sampled_from(["=", "!=", "LIKE", "IN", "NOT IN"]))
    values = draw(st.lists(st.sampled_from(["ds1", "ds2", "d1", "train", "eval", "x"]), min_size=1))
    if op.endswith("IN"):
        return f"datasets.{key} {op} ({', '.join(_quote(v) for v in values)})"
    return f"datasets.{key} {op} {_quote(values[0])}"


RUN_ORDER_FIELDS = [
    *(f"metrics.`{k}`" for k in [*METRIC_KEYS, "zz"]),
    *(f"params.`{k}`" for k in PARAM_KEYS),
    *(f"tags.`{k}`" for k in TAG_KEYS),
    "start_time",
    "end_time",
    "run_name",
    "status",
    "user_id",
    "run_id",
]


@st.composite
def orders(draw: st.DrawFn, fields: Sequence[str]) -> list[str]:
    chosen = draw(st.lists(st.sampled_from(fields), max_size=3, unique=True))
    return [f"{f}{draw(st.sampled_from(['', ' ASC', ' DESC', ' desc']))}" for f in chosen]


def expected_runs(
    all_runs: Sequence[Run], view_type: int, filter_string: str, order_by: list[str]
) -> list[str]:
    stages = {ViewType.ACTIVE_ONLY: {"active"}, ViewType.DELETED_ONLY: {"deleted"}}.get(
        view_type, {"active", "deleted"}
    )
    visible = [r for r in all_runs if r.info.lifecycle_stage in stages]
    return [r.info.run_id for r in evaluate.search_runs(visible, filter_string, order_by)]


def all_pages(
    store: SqlStore,
    experiment_id: str,
    view_type: int,
    filter_string: str,
    order_by: list[str],
    page_size: int,
) -> list[str]:
    found: list[str] = []
    token = None
    while True:
        page = store.search_runs(
            [experiment_id], filter_string, view_type, page_size, order_by, token
        )
        assert len(page) <= page_size
        found += [r.info.run_id for r in page]
        token = page.token
        if token is None:
            return found
        assert len(page) == page_size


def check_runs(store: SqlStore, seed: int, n: int) -> None:
    experiment_id, run_ids = populate(store, random.Random(seed), n)
    runs = [store.get_run(r) for r in run_ids]

    @SLOW
    @given(
        st.lists(run_comparisons(run_ids), max_size=3),
        orders(RUN_ORDER_FIELDS),
        st.sampled_from(VIEW_TYPES),
        st.integers(1, 30),
    )
    def check(comparisons: list[str], order_by: list[str], view_type: int, page_size: int) -> None:
        filter_string = " and ".join(comparisons)
        expected = expected_runs(runs, view_type, filter_string, order_by)
        found = all_pages(store, experiment_id, view_type, filter_string, order_by, page_size)
        assert found == expected, (filter_string, order_by)

    check()


def test_runs_sql_agrees_with_the_evaluator(store: SqlStore) -> None:
    check_runs(store, 1, 24)
    check_runs(store, 2, 9)


def test_search_returns_whole_runs(store: SqlStore) -> None:
    experiment_id, run_ids = populate(store, random.Random(3), 6)
    page = store.search_runs([experiment_id], "", ViewType.ALL, 100, None, None)
    assert sorted(r.info.run_id for r in page) == sorted(run_ids)
    for run in page:
        assert run == store.get_run(run.info.run_id)


# ---------------------------------------------------------------------- experiments


EXPERIMENT_NAMES = ["alpha", "Alpha", "beta", "a_c", "a%c", "gamma-1", "é"]


def test_experiments_sql_agrees_with_the_evaluator(store: SqlStore) -> None:
    rng = random.Random(4)
    for i, name in enumerate(EXPERIMENT_NAMES):
        tags = [ExperimentTag(k, rng.choice(STRINGS)) for k in ("t", "u") if rng.random() < 0.6]
        experiment_id = store.create_experiment(name, tags=tags)
        if i % 3 == 2:
            store.delete_experiment(experiment_id)
    everything: list[Experiment] = []
    token = None
    while True:
        page = store.search_experiments(ViewType.ALL, 1000, None, None, token)
        everything += page
        token = page.token
        if not token:
            break
    ids = [e.experiment_id for e in everything]

    @st.composite
    def comparisons(draw: st.DrawFn) -> str:
        kind = draw(st.sampled_from(["name", "id", "time", "tag"]))
        if kind == "name":
            op = draw(st.sampled_from(["=", "!=", "LIKE", "ILIKE"]))
            value = draw(st.sampled_from([*EXPERIMENT_NAMES, *PATTERNS]))
            return f"{draw(st.sampled_from(['name', 'attribute.name']))} {op} {_quote(value)}"
        if kind == "id":
            chosen = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3))
            op = draw(st.sampled_from(["=", "!=", "IN", "NOT IN"]))
            if op in ("=", "!="):
                return f"experiment_id {op} {_quote(chosen[0])}"
            return f"experiment_id {op} ({', '.join(_quote(c) for c in chosen)})"
        if kind == "time":
            key = draw(st.sampled_from(["creation_time", "last_update_time"]))
            op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
            value = draw(st.sampled_from([e.creation_time or 0 for e in everything]))
            return f"{key} {op} {value + draw(st.integers(-1, 1))}"
        key = draw(st.sampled_from(["t", "u", "zz"]))
        op = draw(st.sampled_from(["=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"]))
        if op.startswith("IS"):
            return f"tags.{key} {op}"
        value = draw(st.sampled_from(PATTERNS if "LIKE" in op else STRINGS))
        return f"tags.{key} {op} {_quote(value)}"

    fields = ["name", "experiment_id", "creation_time", "last_update_time"]

    @SLOW
    @given(
        st.lists(comparisons(), max_size=3),
        orders(fields),
        st.sampled_from(VIEW_TYPES),
        st.integers(1, 5),
    )
    def check(filters: list[str], order_by: list[str], view_type: int, page_size: int) -> None:
        filter_string = " AND ".join(filters)
        stages = {ViewType.ACTIVE_ONLY: {"active"}, ViewType.DELETED_ONLY: {"deleted"}}.get(
            view_type, {"active", "deleted"}
        )
        visible = [e for e in everything if e.lifecycle_stage in stages]
        expected = [
            e.experiment_id for e in evaluate.search_experiments(visible, filter_string, order_by)
        ]
        found: list[str] = []
        token = None
        while True:
            page = store.search_experiments(view_type, page_size, filter_string, order_by, token)
            found += [e.experiment_id for e in page]
            token = page.token
            if not token:
                break
        assert found == expected, (filter_string, order_by)

    check()


# ---------------------------------------------------------------------- runs as columns


def _comparable(columns: RunColumns) -> tuple[object, ...]:
    """Columns with NaN written as "NaN" (NaN != NaN), keeping each part's key order."""

    def values(column: list[object]) -> list[object]:
        return ["NaN" if isinstance(v, float) and math.isnan(v) else v for v in column]

    parts = [
        [(key, values(column)) for key, column in getattr(columns, prefix).items()]
        for prefix in ("metrics", "params", "tags")
    ]
    return columns.size, columns.info, *parts, columns.token


def test_columns_are_the_runs_as_columns(store: SqlStore) -> None:
    experiment_id, _ = populate(store, random.Random(5), 30)
    for order_by in ([], ["metrics.a DESC"], ["params.p", "tags.t DESC"], ["metrics.`c d`"]):
        for page_size in (1, 7, 1000):
            token = None
            while True:
                args = ([experiment_id], "", ViewType.ALL, page_size, order_by, token)
                page = store.search_runs(*args)
                columns = store.search_runs_columns(*args)
                assert _comparable(columns) == _comparable(RunColumns.from_runs(page, page.token))
                token = page.token
                if token is None:
                    break


def test_columns_of_no_runs(store: SqlStore) -> None:
    experiment_id = store.create_experiment("empty")
    columns = store.search_runs_columns([experiment_id])
    assert (columns.size, columns.metrics, columns.params, columns.tags) == (0, {}, {}, {})
    assert columns.info == {name: [] for name in INFO}
    assert columns.token is None
