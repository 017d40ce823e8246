"""``tracklet.search_runs`` (fluent): the seed's searches, MLflow's DataFrame, paging, options."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import pandas as pd
import polars as pl  # in the dev extra; optional for users
import pytest

import tracklet as mlflow
from tracklet.entities import Run, ViewType
from tracklet.exceptions import MlflowException
from tracklet.tracking import fluent_search

INFO_COLUMNS = ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]


def log_models(api: object) -> dict[str, str]:
    """The seed's tagging example, through ``api`` (tracklet, or mlflow itself)."""
    ids = {}
    for name, env, family, accuracy in (
        ("bert", "production", "transformer", 0.97),
        ("gpt", "staging", "transformer", 0.99),
        ("resnet", "production", "cnn", 0.93),
        ("vit", "production", "transformer", 0.96),
    ):
        with api.start_run(run_name=name) as run:  # type: ignore[attr-defined]
            api.set_tags({"environment": env, "model_family": family})  # type: ignore[attr-defined]
            api.log_params({"lr": 0.01, "name": name})  # type: ignore[attr-defined]
            api.log_metrics({"accuracy": accuracy, "loss": 1 - accuracy})  # type: ignore[attr-defined]
            ids[name] = run.info.run_id
    return ids


def test_seed_searches(tracking_uri: str) -> None:
    mlflow.set_experiment("tagging")
    ids = log_models(mlflow)
    with mlflow.start_run(run_name="sweep") as parent:
        for lr in (0.1, 0.01, 0.001):
            with mlflow.start_run(nested=True) as child:
                mlflow.log_param("learning_rate", lr)
                ids[f"child-{lr}"] = child.info.run_id

    children = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert isinstance(children, pd.DataFrame)
    assert sorted(children["params.learning_rate"]) == ["0.001", "0.01", "0.1"]
    assert set(children["run_id"]) == {ids[f"child-{lr}"] for lr in (0.1, 0.01, 0.001)}
    assert (children["tags.mlflow.parentRunId"] == parent.info.run_id).all()

    best = mlflow.search_runs(
        filter_string="tags.environment = 'production' AND metrics.accuracy > 0.95",
        order_by=["metrics.accuracy DESC"],
    )
    assert list(best["run_id"]) == [ids["bert"], ids["vit"]]
    assert list(best["metrics.accuracy"]) == [0.97, 0.96]
    assert list(best.columns[:6]) == INFO_COLUMNS
    assert {"metrics.accuracy", "metrics.loss", "params.lr", "params.name"} <= set(best.columns)
    assert {"tags.environment", "tags.model_family", "tags.mlflow.runName"} <= set(best.columns)
    assert isinstance(best["start_time"].dtype, pd.DatetimeTZDtype)
    assert str(best["end_time"].dtype.tz) == "UTC"
    assert (best["status"] == "FINISHED").all()

    transformers = mlflow.search_runs(filter_string="tags.model_family = 'transformer'")
    assert set(transformers["run_id"]) == {ids["bert"], ids["gpt"], ids["vit"]}
    # Children lack the metric: NaN in its column; they lack tags: None.
    everything = mlflow.search_runs(order_by=["params.name ASC"])
    assert len(everything) == 8
    assert math.isnan(
        everything.loc[everything["run_id"] == ids["child-0.1"], "metrics.loss"].iloc[0]
    )
    assert everything.loc[everything["run_id"] == ids["child-0.1"], "tags.environment"].isna().all()


def test_dataframe_matches_mlflow(tracking_uri: str, tmp_path: Path) -> None:
    real_mlflow = pytest.importorskip("mlflow")
    from mlflow.tracking import fluent as mlflow_fluent
    from mlflow.tracking._tracking_service import utils as mlflow_uri

    mlflow.set_experiment("parity")
    ours = log_models(mlflow)
    # MLflow keeps its tracking URI and experiment in module globals and os.environ: restore
    # them, or they leak into tracklet (which reads MLFLOW_TRACKING_URI) and later tests.
    saved = (mlflow_uri._tracking_uri, mlflow_fluent._active_experiment_id)
    try:
        real_mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
        real_mlflow.set_experiment("parity")
        theirs = log_models(real_mlflow)
        expected = real_mlflow.search_runs(order_by=["params.name"])
    finally:
        mlflow_uri._tracking_uri, mlflow_fluent._active_experiment_id = saved
        os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
    found = mlflow.search_runs(order_by=["params.name"])
    assert list(found.columns[:6]) == list(expected.columns[:6]) == INFO_COLUMNS
    assert sorted(found.columns) == sorted(expected.columns)
    found = found[expected.columns]
    assert dict(found.dtypes) == dict(expected.dtypes)
    ignored = {"run_id", "experiment_id", "artifact_uri", "start_time", "end_time"}
    ignored |= {c for c in expected.columns if c.startswith("tags.mlflow.")}
    compared = [c for c in expected.columns if c not in ignored]
    pd.testing.assert_frame_equal(found[compared], expected[compared])
    assert [ours[n] for n in found["params.name"]] == list(found["run_id"])
    assert [theirs[n] for n in expected["params.name"]] == list(expected["run_id"])
    assert found["end_time"].notna().all()


def test_list_output_names_and_all_experiments(tracking_uri: str) -> None:
    first = mlflow.create_experiment("first")
    second = mlflow.create_experiment("second")
    made = {}
    for experiment_id in (first, second):
        with mlflow.start_run(experiment_id=experiment_id) as run:
            made[experiment_id] = run.info.run_id
    runs = mlflow.search_runs([first], output_format="list")
    assert isinstance(runs, list)
    assert all(isinstance(r, Run) for r in runs)
    assert [r.info.run_id for r in runs] == [made[first]]
    by_name = mlflow.search_runs(experiment_names=["second", "missing"], output_format="list")
    assert [r.info.run_id for r in by_name] == [made[second]]
    everywhere = mlflow.search_runs(search_all_experiments=True, output_format="list")
    assert {r.info.run_id for r in everywhere} == set(made.values())
    mlflow.set_experiment(experiment_id=second)
    assert list(mlflow.search_runs()["run_id"]) == [made[second]]
    with pytest.raises(MlflowException, match="not both"):
        mlflow.search_runs([first], experiment_names=["second"])
    with pytest.raises(ValueError, match="Unsupported output format"):
        mlflow.search_runs([first], output_format="csv")  # type: ignore[arg-type]


def test_no_runs_gives_mlflow_columns(tracking_uri: str) -> None:
    frame = mlflow.search_runs([mlflow.create_experiment("empty")])
    assert list(frame.columns) == INFO_COLUMNS
    assert len(frame) == 0


def test_pages_and_max_results(tracking_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fluent_search, "NUM_RUNS_PER_PAGE_PANDAS", 3)
    experiment_id = mlflow.create_experiment("paged")
    client = mlflow.MlflowClient()
    made = [client.create_run(experiment_id, start_time=i).info.run_id for i in range(8)]
    client.delete_run(made[0])
    found = mlflow.search_runs([experiment_id], output_format="list")
    assert [r.info.run_id for r in found] == made[:0:-1]
    limited = mlflow.search_runs([experiment_id], max_results=4, order_by=["start_time"])
    assert list(limited["run_id"]) == made[1:5]
    deleted = mlflow.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert list(deleted["run_id"]) == [made[0]]
    assert deleted["end_time"].isna().all()


def _same_value(pandas_value: object, polars_value: object) -> bool:
    """One cell of the pandas frame against the polars one: missing is NaN/NaT/None in pandas
    and null in polars; a logged NaN metric is NaN in both."""
    if isinstance(polars_value, float) and math.isnan(polars_value):
        return isinstance(pandas_value, float) and math.isnan(pandas_value)
    if polars_value is None:
        return bool(pd.isna(pandas_value))  # type: ignore[call-overload]
    return pandas_value == polars_value


def test_polars_output_has_the_pandas_values(tracking_uri: str) -> None:
    client = mlflow.MlflowClient()
    with mlflow.start_run(run_name="full") as full:
        mlflow.log_metrics({"m": 1.5, "nan": math.nan, "inf": math.inf})
        mlflow.log_params({"p": "x", "only_full": "1"})
        mlflow.set_tag("t", "a")
    with mlflow.start_run(run_name="partial") as partial:
        mlflow.log_metric("m", -2.0)
        mlflow.log_param("p", "y")
    running = client.create_run(full.info.experiment_id, run_name="running")

    found = mlflow.search_runs(output_format="polars", order_by=["attributes.run_name"])
    expected = mlflow.search_runs(order_by=["attributes.run_name"])
    assert isinstance(found, pl.DataFrame)
    assert found.columns == list(expected.columns)
    assert found["run_id"].to_list() == [
        full.info.run_id,
        partial.info.run_id,
        running.info.run_id,
    ]
    for name in expected.columns:
        pandas_values = list(expected[name])
        polars_values = found[name].to_list()
        assert len(polars_values) == len(pandas_values) == 3, name
        for pandas_value, polars_value in zip(pandas_values, polars_values, strict=True):
            assert _same_value(pandas_value, polars_value), (name, pandas_value, polars_value)
    # Types as a polars user expects them: UTC datetimes, float metrics, string params and tags.
    for name in ("start_time", "end_time"):
        dtype = found.schema[name]
        assert isinstance(dtype, pl.Datetime), dtype
        assert dtype.time_zone == "UTC"
    assert found["end_time"].to_list()[2] is None  # the running run has not ended
    assert found.schema["metrics.m"] == pl.Float64
    # As in pandas, a metric a run never logged is NaN (not null).
    assert found["metrics.m"].to_list()[:2] == [1.5, -2.0]
    assert math.isnan(found["metrics.m"].to_list()[2])
    assert found["metrics.inf"].to_list()[0] == math.inf
    assert found.schema["params.p"] == pl.String
    assert found["params.only_full"].to_list() == ["1", None, None]
    assert found["tags.t"].to_list() == ["a", None, None]
    assert found["tags.mlflow.runName"].to_list() == ["full", "partial", "running"]


def test_polars_output_without_polars_says_what_to_install(
    tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)  # as if it were not installed
    with pytest.raises(MlflowException, match="pip install polars") as error:
        mlflow.search_runs(output_format="polars")
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"
