"""The Python evaluator: MLflow's semantics over Run and Experiment entities."""

from __future__ import annotations

import math

import pytest

from tracklet.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInputs,
)
from tracklet.exceptions import MlflowException
from tracklet.search import evaluate


def run(
    run_id: str,
    start_time: int | None = 1,
    metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    datasets: list[DatasetInput] | None = None,
    **info: object,
) -> Run:
    fields: dict[str, object] = {
        "experiment_id": "1",
        "user_id": "u",
        "status": "FINISHED",
        "end_time": None,
        "lifecycle_stage": "active",
        **info,
    }
    return Run(
        RunInfo(run_id=run_id, start_time=start_time, **fields),  # type: ignore[arg-type]
        RunData.from_entities(metrics=[Metric(k, v, 0) for k, v in (metrics or {}).items()])
        if metrics
        else RunData(params=params or {}, tags=tags or {}),
        RunInputs(dataset_inputs=datasets or []),
    )


def ids(runs: list[Run], filter_string: str = "", order_by: list[str] | None = None) -> list[str]:
    return [r.info.run_id for r in evaluate.search_runs(runs, filter_string, order_by)]


def test_metrics_nan_and_missing() -> None:
    # Runs come in creation order; these all start at 1, so ties list the newest first.
    runs = [run("a", metrics={"m": 1.0}), run("b", metrics={"m": math.nan}), run("c")]
    assert ids(runs, "metrics.m != 2") == ["b", "a"]
    assert ids(runs, "metrics.m >= 1") == ["a"]
    assert ids(runs, "metrics.m = 1") == ["a"]
    assert ids(runs, "", ["metrics.m DESC"]) == ["a", "b", "c"]
    assert ids(runs, "", ["metrics.m"]) == ["a", "b", "c"]


def test_strings_like_and_null() -> None:
    runs = [run("a", params={"p": "Adam"}), run("b", params={"p": "adam%"}), run("c")]
    assert ids(runs, "params.p LIKE 'A%'") == ["a"]
    assert ids(runs, "params.p ILIKE 'a%'") == ["b", "a"]
    assert ids(runs, "params.p LIKE 'adam_'") == ["b"]
    assert ids(runs, "params.p LIKE '%\n%'") == []
    assert ids(runs, "params.p != 'x'") == ["b", "a"]
    assert ids(runs, "params.p IS NULL") == ["c"]
    assert ids(runs, "params.p IS NOT NULL") == ["b", "a"]


def test_like_matches_across_newlines() -> None:
    assert evaluate.like_regex("a%b", False).fullmatch("a\nb")


def test_attributes_run_name_and_tie_breakers() -> None:
    runs = [
        run("b", 2, tags={"mlflow.runName": "x"}, run_name="x"),
        run("a", 2, tags={"mlflow.runName": "y"}, run_name="y"),
        run("c", 3, run_name="x"),  # a name but no tag: filters read the tag, as MLflow's SQL
        run("d", None),
    ]
    # Start time ties: creation order in start_time's direction (newest first by default).
    assert ids(runs) == ["c", "a", "b", "d"]
    assert ids(runs, "attributes.run_name = 'x'") == ["b"]
    assert ids(runs, "", ["run_name DESC"]) == ["a", "c", "b", "d"]
    assert ids(runs, "run_id IN ('a', 'd')") == ["a", "d"]
    assert ids(runs, "start_time >= 2", ["start_time"]) == ["b", "a", "c"]


def test_datasets_match_any_input() -> None:
    mnist = Dataset("mnist", "d1", "local", "{}")
    runs = [
        run("a", datasets=[DatasetInput(mnist, [InputTag("mlflow.data.context", "train")])]),
        run("b", datasets=[DatasetInput(mnist, []), DatasetInput(Dataset("c", "d2", "s", "{}"))]),
        run("c"),
    ]
    assert ids(runs, "datasets.name = 'mnist'") == ["b", "a"]
    assert ids(runs, "datasets.name != 'mnist'") == ["b"]
    assert ids(runs, "datasets.context = 'train'") == ["a"]
    assert ids(runs, "datasets.digest IN ('d2')") == ["b"]


def test_experiments() -> None:
    experiments = [
        Experiment("1", "alpha", "x", "active", {"team": "a"}, 10, 10),
        Experiment("2", "beta", "x", "active", {}, 20, 20),
        Experiment("3", "Alpha", "x", "active", {"team": "b"}, 20, 5),
    ]

    def names(filter_string: str = "", order_by: list[str] | None = None) -> list[str]:
        found = evaluate.search_experiments(experiments, filter_string, order_by)
        return [e.name for e in found]

    assert names() == ["beta", "Alpha", "alpha"]  # creation_time DESC, experiment_id ASC
    assert names("name ILIKE 'alpha'") == ["Alpha", "alpha"]
    assert names("tags.team IS NULL") == ["beta"]
    assert names("experiment_id IN ('1', '003')") == ["Alpha", "alpha"]
    # An explicit order ends with experiment_id DESC, as MLflow's SQL store does.
    assert names("", ["creation_time"]) == ["alpha", "Alpha", "beta"]
    assert names("", ["last_update_time DESC"]) == ["beta", "alpha", "Alpha"]


def test_bad_filter_raises() -> None:
    with pytest.raises(MlflowException):
        evaluate.search_runs([], "metrics.a > 'x'")
