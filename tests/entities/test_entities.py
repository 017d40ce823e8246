"""Entities: frozen dataclasses with MLflow's attribute names and behaviour."""

from __future__ import annotations

import dataclasses
import math

import pytest

from tracklet.entities import (
    LifecycleStage,
    Metric,
    MetricHistory,
    PagedList,
    Param,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    SourceType,
    ViewType,
)
from tracklet.exceptions import MlflowException


def test_entities_are_frozen() -> None:
    metric = Metric("m", 1.0, 2, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        metric.value = 2.0  # type: ignore[misc]


def test_run_info_iterates_like_mlflow() -> None:
    info = RunInfo("abc", "0", "u", "RUNNING", 1, None, "active", "/a", "r")
    as_dict = dict(info)
    assert as_dict["run_id"] == as_dict["run_uuid"] == "abc"
    assert as_dict["run_name"] == "r"


def test_run_data_dicts() -> None:
    data = RunData.from_entities(
        metrics=[Metric("m", 0.5, 1, 2)], params=[Param("p", "1")], tags=[RunTag("t", "v")]
    )
    assert data.metrics == {"m": 0.5}
    assert data.params == {"p": "1"}
    assert data.tags == {"t": "v"}
    assert data._metric_objs == [Metric("m", 0.5, 1, 2)]


def test_metric_history_is_a_sequence_of_metrics() -> None:
    history = MetricHistory("m", [1, 2, 3], [10, 20, 30], [0.1, math.nan, 0.3], "run")
    assert len(history) == 3
    assert history[0] == Metric("m", 0.1, 10, 1, run_id="run")
    assert history[-1].step == 3
    assert [m.step for m in history[1:]] == [2, 3]
    assert history == list(history)  # NaN points compare equal to themselves
    assert history.to_dict() == {"step": [1, 2, 3], "timestamp": [10, 20, 30],
                                 "value": [0.1, history.values[1], 0.3]}  # fmt: skip
    with pytest.raises(ValueError, match="same length"):
        MetricHistory("m", [1], [], [])


def test_enums() -> None:
    assert RunStatus.from_string("FAILED") == 4
    assert RunStatus.to_string(5) == "KILLED"
    assert RunStatus.is_terminated(RunStatus.FINISHED)
    assert not RunStatus.is_terminated(RunStatus.RUNNING)
    with pytest.raises(MlflowException):
        RunStatus.from_string("DONE")
    assert ViewType.from_string("active_only") == ViewType.ACTIVE_ONLY
    assert LifecycleStage.view_type_to_stages(ViewType.ALL) == ["active", "deleted"]
    assert SourceType.to_string(SourceType.LOCAL) == "LOCAL"


def test_paged_list_token() -> None:
    page = PagedList([1, 2], "next")
    assert page == [1, 2]
    assert page.token == "next"
    assert page.to_list() == [1, 2]
