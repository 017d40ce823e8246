"""Every TrackingStore method of the RestStore, against the in-process server (no socket)."""

from __future__ import annotations

import math

import pytest

from tracklet import validation
from tracklet.entities import (
    Dataset,
    DatasetInput,
    ExperimentTag,
    InputTag,
    LoggedModelOutput,
    Metric,
    Param,
    RunTag,
    ViewType,
)
from tracklet.exceptions import MlflowException
from tracklet.store.base import TrackingStore
from tracklet.store.rest.store import RestStore
from tracklet.tracking.client import MlflowClient
from tracklet.wire import endpoints as ep


def test_is_a_tracking_store(rest_store: RestStore) -> None:
    assert isinstance(rest_store, TrackingStore)


def test_experiments(rest_store: RestStore) -> None:
    experiment_id = rest_store.create_experiment("e", tags=[ExperimentTag("team", "a")])
    experiment = rest_store.get_experiment(experiment_id)
    assert (experiment.name, experiment.tags) == ("e", {"team": "a"})
    assert experiment.artifact_location == f"mlflow-artifacts:/{experiment_id}"
    assert rest_store.get_experiment_by_name("e") == experiment
    assert rest_store.get_experiment_by_name("missing") is None
    rest_store.rename_experiment(experiment_id, "e2")
    rest_store.set_experiment_tag(experiment_id, ExperimentTag("k", "v"))
    rest_store.delete_experiment_tag(experiment_id, "team")
    assert rest_store.get_experiment(experiment_id).tags == {"k": "v"}
    rest_store.delete_experiment(experiment_id)
    assert rest_store.get_experiment(experiment_id).lifecycle_stage == "deleted"
    deleted = rest_store.search_experiments(view_type=ViewType.DELETED_ONLY)
    assert [e.name for e in deleted] == ["e2"]
    rest_store.restore_experiment(experiment_id)
    with pytest.raises(MlflowException) as info:
        rest_store.create_experiment("e2")
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_search_experiments_pages(rest_store: RestStore) -> None:
    for i in range(5):
        rest_store.create_experiment(f"x{i}")
    names, token = [], None
    while True:
        page = rest_store.search_experiments(max_results=2, page_token=token)
        names += [e.name for e in page]
        token = page.token
        if not token:
            break
    assert sorted(names) == ["Default", "x0", "x1", "x2", "x3", "x4"]


def test_runs_and_their_data(rest_store: RestStore) -> None:
    run = rest_store.create_run("0", "me", 1000, [RunTag("t", "1")], "r1")
    run_id = run.info.run_id
    assert run.info.run_name == "r1"
    assert run.data.tags == {"t": "1", "mlflow.runName": "r1"}
    rest_store.log_metric(run_id, Metric("loss", 0.5, 10, 1))
    rest_store.log_metric(run_id, Metric("loss", math.nan, 11, 2))
    rest_store.log_param(run_id, Param("lr", "0.1"))
    rest_store.set_tag(run_id, RunTag("k", "v"))
    rest_store.delete_tag(run_id, "t")
    rest_store.log_batch(
        run_id,
        metrics=[Metric("acc", float(i), 100 + i, i) for i in range(2500)],
        params=[Param(f"p{i}", str(i)) for i in range(150)],
        tags=[RunTag(f"t{i}", "x") for i in range(120)],
    )
    got = rest_store.get_run(run_id)
    assert math.isnan(got.data.metrics["loss"])
    assert got.data.metrics["acc"] == 2499.0
    assert len(got.data.params) == 151
    assert "t" not in got.data.tags
    history = rest_store.get_metric_history(run_id, "acc")
    assert list(history.steps) == list(range(2500))
    info = rest_store.update_run_info(run_id, "FINISHED", 2000, "renamed")
    assert (info.status, info.end_time, info.run_name) == ("FINISHED", 2000, "renamed")
    rest_store.delete_run(run_id)
    assert rest_store.get_run(run_id).info.lifecycle_stage == "deleted"
    rest_store.restore_run(run_id)
    with pytest.raises(MlflowException) as info_exc:
        rest_store.log_param(run_id, Param("lr", "0.2"))
    assert info_exc.value.error_code == "INVALID_PARAMETER_VALUE"


def test_metric_columns_and_long_histories_page(rest_store: RestStore) -> None:
    run_id = rest_store.create_run("0", "me", 1, [], None).info.run_id
    n = 30_000
    rest_store.log_metric_columns(
        run_id,
        {
            "a": (list(range(n)), [5] * n, [float(i) for i in range(n)]),
            "b": ([0, 1], [1, 2], [math.inf, -math.inf]),
        },
    )
    history = rest_store.get_metric_history(run_id, "a")
    assert len(history) == n
    assert history[-1].value == n - 1
    assert list(rest_store.get_metric_history(run_id, "b").values) == [math.inf, -math.inf]
    assert len(rest_store.get_metric_history(run_id, "unknown")) == 0


def test_a_step_of_columns_is_the_log_batch_request(rest_store: RestStore) -> None:
    run_id = rest_store.create_run("0", "me", 1, [], None).info.run_id
    sent: list[dict[str, object]] = []
    real_call = rest_store._call

    def call(endpoint: ep.Endpoint, fields: dict[str, object] | None = None) -> object:
        sent.append({"endpoint": endpoint.name, **(fields or {})})
        return real_call(endpoint, fields)

    rest_store._call = call  # type: ignore[method-assign]
    columns = {"a": ([3], [7], [0.5]), "b": ([3], [7], [math.nan]), "c": ([3], [7], [math.inf])}
    rest_store.log_metric_columns(run_id, columns)
    rest_store.log_batch(
        run_id,
        [Metric(key, values[0], 7, 3) for key, (_, _, values) in columns.items()],
    )
    rest_store.log_metric_points(
        run_id, (["a", "b", "c"], [3, 3, 3], [7, 7, 7], [0.5, math.nan, math.inf])
    )
    first, second, third = sent
    assert first == second == third
    assert first["metrics"] == [
        {"key": "a", "value": 0.5, "timestamp": 7, "step": 3},
        {"key": "b", "value": "NaN", "timestamp": 7, "step": 3},
        {"key": "c", "value": "Infinity", "timestamp": 7, "step": 3},
    ]
    assert rest_store.get_run(run_id).data.metrics["a"] == 0.5
    with pytest.raises(MlflowException, match="differ in length"):
        rest_store.log_metric_columns(run_id, {"z": ([1], [2, 3], [0.5]), "a": ([1], [1], [1.0])})
    assert [x["endpoint"] for x in sent].count("logBatch") == 3  # refused before any was sent
    assert rest_store.checks_points_remotely

    # Fluent log_metrics sends a step as columns even for keys never checked here: the
    # server checks them (and names a bad one) whichever shape the request was built from.
    client = MlflowClient("http://localhost")
    client._store_cache = rest_store
    step = {"never/seen/before": 1.0, "bad key!": 2.0}
    assert not validation.known_valid_keys.intersection(step)
    with pytest.raises(MlflowException, match="bad key!") as info:
        client._log_metric_step(run_id, step, 9, 4, True)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert sent[-1]["metrics"] == [
        {"key": "never/seen/before", "value": 1.0, "timestamp": 9, "step": 4},
        {"key": "bad key!", "value": 2.0, "timestamp": 9, "step": 4},
    ]


def test_search_runs_pages(rest_store: RestStore) -> None:
    ids = {rest_store.create_run("0", "me", i, [], None).info.run_id for i in range(7)}
    seen, token = [], None
    while True:
        page = rest_store.search_runs(["0"], max_results=3, page_token=token)
        seen += [r.info.run_id for r in page]
        token = page.token
        if not token:
            break
    assert len(seen) == 7
    assert set(seen) == ids


def test_inputs_and_outputs(rest_store: RestStore) -> None:
    run_id = rest_store.create_run("0", "me", 1, [], None).info.run_id
    dataset = Dataset("ds", "abcd", "code", '{"a": 1}', '{"mlflow_colspec": []}', None)
    rest_store.log_inputs(run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "t")])])
    rest_store.log_outputs(run_id, [LoggedModelOutput("m-1", 2)])
    run = rest_store.get_run(run_id)
    assert run.inputs.dataset_inputs[0].dataset == dataset
    assert run.outputs.model_outputs == [LoggedModelOutput("m-1", 2)]


def test_errors_carry_the_servers_code(rest_store: RestStore) -> None:
    with pytest.raises(MlflowException) as info:
        rest_store.get_run("0" * 32)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "not found" in info.value.message
