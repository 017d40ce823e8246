"""Entities to MLflow's JSON shapes and back."""

from __future__ import annotations

import math

from tracklet import jsonio
from tracklet.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunTag,
)
from tracklet.wire.codec import (
    experiment_from_json,
    experiment_to_json,
    metric_to_json,
    run_from_json,
    run_to_json,
)


def _run() -> Run:
    info = RunInfo("abc", "1", "me", "FINISHED", 10, 20, "active", "mlflow-artifacts:/1/abc", "r")
    data = RunData.from_entities(
        metrics=[Metric("loss", 0.5, 11, 1), Metric("nan", math.nan, 12, 2)],
        params=[Param("lr", "0.1")],
        tags=[RunTag("mlflow.runName", "r")],
    )
    inputs = RunInputs(
        [DatasetInput(Dataset("ds", "d1", "code", "{}", "{}", None), [InputTag("k", "v")])],
        [LoggedModelInput("m-1")],
    )
    return Run(info, data, inputs, RunOutputs([LoggedModelOutput("m-2", 3)]))


def test_run_json_has_mlflows_shape() -> None:
    body = run_to_json(_run())
    assert body["info"]["run_uuid"] == body["info"]["run_id"] == "abc"
    assert body["data"]["metrics"][1] == {"key": "nan", "value": "NaN", "timestamp": 12, "step": 2}
    assert body["inputs"]["dataset_inputs"][0]["dataset"] == {
        "name": "ds",
        "digest": "d1",
        "source_type": "code",
        "source": "{}",
        "schema": "{}",
    }
    assert body["outputs"] == {"model_outputs": [{"model_id": "m-2", "step": 3}]}


def test_run_round_trips_through_json_text() -> None:
    run = _run()
    back = run_from_json(jsonio.loads(jsonio.dumps(run_to_json(run))))
    assert back.info == run.info
    assert back.data.params == run.data.params
    assert back.data.metrics["loss"] == 0.5
    assert math.isnan(back.data.metrics["nan"])
    assert back.inputs == run.inputs
    assert back.outputs == run.outputs


def test_empty_run_parts() -> None:
    run = Run(RunInfo("abc", "0", "", "RUNNING", 1, None, "active"))
    body = run_to_json(run)
    assert body["data"] == {}
    assert body["inputs"] == {}
    assert "outputs" not in body
    assert "end_time" not in body["info"]


def test_experiment_round_trip_and_infinities() -> None:
    experiment = Experiment("3", "e", "mlflow-artifacts:/3", "active", {"a": "b"}, 1, 2)
    assert experiment_from_json(experiment_to_json(experiment)) == experiment
    assert metric_to_json(Metric("k", math.inf, 1, 0))["value"] == "Infinity"
    assert metric_to_json(Metric("k", -math.inf, 1, 0))["value"] == "-Infinity"
