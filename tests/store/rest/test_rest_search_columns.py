"""RestStore.search_runs_columns: the columns of search_runs's page, over the REST protocol."""

from __future__ import annotations

from tracklet.entities import Metric, Param, RunTag, ViewType
from tracklet.store.rest.store import RestStore


def test_columns_of_a_page_and_its_token(rest_store: RestStore) -> None:
    experiment_id = rest_store.create_experiment("columns")
    for i in range(3):
        run = rest_store.create_run(experiment_id, "u", 100 + i, [RunTag("t", f"v{i}")], f"r{i}")
        metrics = [Metric("acc", i / 2, 1, 0)] if i else []
        rest_store.log_batch(run.info.run_id, metrics=metrics, params=[Param("lr", str(i))])
    first = rest_store.search_runs_columns([experiment_id], "", ViewType.ALL, 2, ["params.lr"])
    assert first.size == 2
    assert first.params["lr"] == ["0", "1"]
    assert first.tags["t"] == ["v0", "v1"]
    assert first.metrics["acc"][1] == 0.5
    assert first.token is not None
    rest = rest_store.search_runs_columns(
        [experiment_id], "", ViewType.ALL, 2, ["params.lr"], first.token
    )
    assert (rest.size, rest.params["lr"], rest.metrics["acc"], rest.token) == (
        1,
        ["2"],
        [1.0],
        None,
    )
