"""PostgreSQL planner statistics for the searched tables (store/sql/planner_stats).

A never-analyzed table makes the planner take a filtered, metric-ordered run search for a
quadratic nested loop (seconds at 5,000 runs); the first search must gather the statistics.
Asserted on the catalog (a deterministic property), not on timings.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest

from tracklet.entities import Param
from tracklet.store.sql import planner_stats
from tracklet.store.sql.compiled import Db
from tracklet.store.sql.store import SqlStore

pytestmark = pytest.mark.postgres


@pytest.fixture
def db(postgres_uri: str) -> Iterator[Db]:
    with psycopg.connect(postgres_uri, autocommit=True) as conn:
        yield Db(conn, "postgresql")


def _has_column_stats(db: Db, table: str) -> bool:
    row = db.dbapi.execute(
        "SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = %s",
        (table,),
    ).fetchone()
    return bool(row[0])


def _fill_params(store: SqlStore, experiment_id: str) -> None:
    """Enough params rows (1.5 KB values, stored inline) for MIN_PAGES pages, never analyzed."""
    run_id = store.create_run(experiment_id, "u", 0, [], "r").info.run_id
    for batch in range(2):
        params = [Param(f"p{batch}_{i}", secrets.token_hex(750)) for i in range(100)]
        store.log_batch(run_id, metrics=[], params=params, tags=[])


def test_first_search_analyzes_a_never_analyzed_searched_table(postgres_uri: str, db: Db) -> None:
    store = SqlStore(postgres_uri)
    try:
        experiment_id = store.create_experiment("e")
        _fill_params(store, experiment_id)
        # Only params is big enough to matter; the small tables are left alone.
        assert planner_stats.stale_tables(db) == ["params"]
        assert not _has_column_stats(db, "params")

        page = store.search_runs([experiment_id], "params.p0_0 != 'x'", max_results=10)

        assert len(page) == 1
        assert _has_column_stats(db, "params")
        assert planner_stats.stale_tables(db) == []
    finally:
        store.close()


def test_checks_are_throttled_and_postgresql_only(postgres_uri: str, db: Db) -> None:
    store = SqlStore(postgres_uri)
    try:
        experiment_id = store.create_experiment("e")
        store.search_runs([experiment_id])  # the check of the next CHECK_EVERY_S: nothing stale
        _fill_params(store, experiment_id)
        store.search_runs([experiment_id])
        assert planner_stats.stale_tables(db) == ["params"]  # not checked again so soon
    finally:
        store.close()
    assert planner_stats.PlannerStats("sqlite").ensure(db) == []
    assert planner_stats.PlannerStats("postgresql").ensure(db) == ["params"]
    assert planner_stats.stale_tables(db) == []
