"""Params, tags and batches: conflicts, truncation, and all-or-nothing writes."""

from __future__ import annotations

import pytest

from tracklet.entities import Metric, Param, RunTag
from tracklet.exceptions import MlflowException
from tracklet.store.sql.store import SqlStore


def _run(store: SqlStore) -> str:
    return store.create_run("0", "u", 1, [], "r").info.run_id


def test_param_relogged_with_same_value_is_a_no_op(store: SqlStore) -> None:
    run_id = _run(store)
    store.log_param(run_id, Param("lr", "0.1"))
    store.log_param(run_id, Param("lr", "0.1"))
    store.log_batch(run_id, params=[Param("lr", "0.1")])
    assert store.get_run(run_id).data.params == {"lr": "0.1"}


def test_param_change_is_refused_with_mlflows_message(store: SqlStore) -> None:
    run_id = _run(store)
    store.log_param(run_id, Param("lr", "0.1"))
    with pytest.raises(MlflowException) as error:
        store.log_param(run_id, Param("lr", "0.2"))
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"
    assert error.value.message == (
        "Changing param values is not allowed. Param with key='lr' was already logged with "
        f"value='0.1' for run ID='{run_id}'. Attempted logging new value '0.2'."
    )
    assert store.get_run(run_id).data.params == {"lr": "0.1"}


def test_batch_with_a_conflicting_param_writes_nothing(store: SqlStore) -> None:
    run_id = _run(store)
    store.log_param(run_id, Param("lr", "0.1"))
    with pytest.raises(MlflowException) as error:
        store.log_batch(
            run_id,
            metrics=[Metric("m", 1.0, 1, 0)],
            params=[Param("new", "x"), Param("lr", "0.2")],
            tags=[RunTag("t", "v")],
        )
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"
    run = store.get_run(run_id)
    assert run.data.params == {"lr": "0.1"}
    assert run.data.metrics == {}
    assert "t" not in run.data.tags
    assert list(store.get_metric_history(run_id, "m")) == []


def test_duplicate_param_keys_in_one_batch(store: SqlStore) -> None:
    run_id = _run(store)
    with pytest.raises(MlflowException) as error:
        store.log_batch(run_id, params=[Param("a", "1"), Param("a", "1")])
    assert "Duplicate parameter keys" in error.value.message
    assert store.get_run(run_id).data.params == {}


def test_long_values_are_truncated_like_mlflow(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _run(store)
    store.log_param(run_id, Param("p", "x" * 6001))
    store.set_tag(run_id, RunTag("t", "y" * 8001))
    data = store.get_run(run_id).data
    assert data.params["p"] == "x" * 6000
    assert data.tags["t"] == "y" * 8000
    monkeypatch.setenv("MLFLOW_TRUNCATE_LONG_VALUES", "false")
    with pytest.raises(MlflowException) as error:
        store.log_param(run_id, Param("q", "x" * 6001))
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "6000" in error.value.message
    assert "'value'" in error.value.message
    assert "q" not in store.get_run(run_id).data.params


def test_empty_values_and_upserted_tags(store: SqlStore) -> None:
    run_id = _run(store)
    store.log_param(run_id, Param("empty", ""))
    store.set_tag(run_id, RunTag("t", "1"))
    store.log_batch(run_id, tags=[RunTag("t", "2"), RunTag("t", "3"), RunTag("u", "")])
    data = store.get_run(run_id).data
    assert data.params == {"empty": ""}
    assert data.tags["t"] == "3"
    assert data.tags["u"] == ""


def test_batch_writes_everything_together(store: SqlStore) -> None:
    run_id = _run(store)
    store.log_batch(
        run_id,
        metrics=[Metric("m", float(i), 10 + i, i) for i in range(3)],
        params=[Param(f"p{i}", str(i)) for i in range(100)],
        tags=[RunTag(f"t{i}", str(i)) for i in range(100)],
    )
    data = store.get_run(run_id).data
    assert data.metrics == {"m": 2.0}
    assert len(data.params) == 100
    assert data.params["p42"] == "42"
    assert data.tags["t99"] == "99"
