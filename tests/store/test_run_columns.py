"""RunColumns: runs as DataFrame columns, from Run objects and joined page by page."""

from __future__ import annotations

import math

from tracklet.entities import Metric, Param, Run, RunData, RunInfo, RunTag
from tracklet.store.run_columns import RunColumns


def _run(run_id: str, metrics: dict[str, float], params: dict[str, str]) -> Run:
    info = RunInfo(run_id, "1", "u", "FINISHED", 5, 6, "active", f"/a/{run_id}", run_id)
    data = RunData.from_entities(
        [Metric(k, v, 1, 0) for k, v in metrics.items()],
        [Param(k, v) for k, v in params.items()],
        [RunTag("mlflow.runName", run_id)],
    )
    return Run(info, data)


def test_from_runs_fills_missing_values_and_keeps_first_appearance_order() -> None:
    runs = [_run("r1", {"b": 1.0}, {"p": "x"}), _run("r2", {"a": 2.0, "b": 3.0}, {})]
    columns = RunColumns.from_runs(runs, "next")
    assert columns.size == 2
    assert columns.token == "next"
    assert columns.info["run_id"] == ["r1", "r2"]
    assert columns.info["artifact_uri"] == ["/a/r1", "/a/r2"]
    assert list(columns.metrics) == ["b", "a"]
    assert columns.metrics["b"] == [1.0, 3.0]
    assert math.isnan(columns.metrics["a"][0])
    assert columns.metrics["a"][1] == 2.0
    assert columns.params == {"p": ["x", None]}
    assert columns.tags == {"mlflow.runName": ["r1", "r2"]}


def test_concat_joins_pages_with_missing_values_in_between() -> None:
    first = RunColumns.from_runs([_run("r1", {}, {"p": "x"})], "t1")
    second = RunColumns.from_runs([_run("r2", {"m": 1.5}, {"q": "y"}), _run("r3", {}, {})])
    joined = RunColumns.concat([first, second])
    assert joined.size == 3
    assert joined.token is None
    assert joined.info["run_id"] == ["r1", "r2", "r3"]
    assert joined.params == {"p": ["x", None, None], "q": [None, "y", None]}
    assert math.isnan(joined.metrics["m"][0])
    assert joined.metrics["m"][1:2] == [1.5]
    assert math.isnan(joined.metrics["m"][2])
    named = joined.named()
    assert list(named)[:6] == [
        "run_id",
        "experiment_id",
        "status",
        "artifact_uri",
        "start_time",
        "end_time",
    ]
    assert list(named)[6:] == ["metrics.m", "params.p", "params.q", "tags.mlflow.runName"]


def test_concat_of_no_pages_is_empty() -> None:
    empty = RunColumns.concat([])
    assert (empty.size, empty.metrics, empty.params, empty.tags, empty.token) == (
        0,
        {},
        {},
        {},
        None,
    )
    assert all(values == [] for values in empty.info.values())
