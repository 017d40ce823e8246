"""Issue 18 item 5 through the servers: runs started in the same millisecond, searched with
MLflow 3.17.2's own client, page by page.

``tracklet server`` answers them in creation order (newest first under the default order and
``start_time DESC``, oldest first under ``start_time ASC``). ``mlflow server`` answers the same
runs in the order of their random ids (its tie-breaker is ``run_uuid ASC`` whatever the
direction): that is checked too, as the reason there is no order of MLflow's to copy. Distinct
start times come back in the same order from both.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from tests.compat.conftest import QUIET_MLFLOW, LiveServer

pytestmark = pytest.mark.xdist_group("mlflow_server")

T = 1_700_000_000_000


def _pages(client: Any, experiment_id: str, order_by: list[str] | None, size: int) -> list[str]:
    found: list[str] = []
    token = None
    while True:
        page = client.search_runs([experiment_id], "", 1, size, order_by, token)
        found += [run.info.run_name for run in page]
        token = page.token
        if not token:
            return found


@pytest.mark.parametrize("kind", ["tracklet", "mlflow"])
def test_runs_started_in_one_millisecond(
    kind: str, request: pytest.FixtureRequest, unique: str
) -> None:
    server: LiveServer = request.getfixturevalue(f"{kind}_server")
    os.environ.update(QUIET_MLFLOW)
    from mlflow import MlflowClient

    client = MlflowClient(server.url)
    experiment_id = client.create_experiment(unique)
    ids = {}
    for name, start in (("a", T), ("b", T), ("c", T), ("d", T), ("late", T + 1), ("early", T - 1)):
        ids[name] = client.create_run(experiment_id, start, run_name=name).info.run_id
    tied = ["a", "b", "c", "d"]
    if kind == "mlflow":
        by_id = sorted(tied, key=ids.__getitem__)
        newest_first = oldest_first = by_id
    else:
        newest_first, oldest_first = tied[::-1], tied
    for size in (1, 3, 10):
        for order in (None, ["start_time DESC"], ["attributes.start_time DESC"]):
            assert _pages(client, experiment_id, order, size) == ["late", *newest_first, "early"]
        assert _pages(client, experiment_id, ["start_time ASC"], size) == [
            "early",
            *oldest_first,
            "late",
        ]
