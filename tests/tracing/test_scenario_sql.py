"""The tracing scenario with ``import tracklet as mlflow`` on SQLite and PostgreSQL; the
expected values were checked against MLflow 3.17.2 on its own SQLite store (see the compat
tests, which run the real MLflow client through the same scenario)."""

from __future__ import annotations

from tests.tracing.scenario import EXPECTED, run_scenario

import tracklet


def test_scenario_on_sql_stores(tracking_uri: str) -> None:
    assert run_scenario(tracklet, "traces") == EXPECTED
