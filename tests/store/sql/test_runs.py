"""Runs in the SQL store: creation, reading, updates and soft deletion."""

from __future__ import annotations

import re

import pytest

from tracklet.entities import LifecycleStage, Metric, Param, RunStatus, RunTag
from tracklet.exceptions import MlflowException
from tracklet.store.sql.store import SqlStore


def test_create_run_defaults(store: SqlStore) -> None:
    experiment_id = store.create_experiment("exp")
    run = store.create_run(experiment_id, "alice", 1_700_000_000_000, [RunTag("t", "v")], None)
    info = run.info
    assert re.fullmatch(r"[0-9a-f]{32}", info.run_id)
    assert info.run_uuid == info.run_id
    assert info.experiment_id == experiment_id
    assert info.user_id == "alice"
    assert info.status == "RUNNING"
    assert info.start_time == 1_700_000_000_000
    assert info.end_time is None
    assert info.lifecycle_stage == LifecycleStage.ACTIVE
    assert info.artifact_uri == f"{store.artifact_root}/{experiment_id}/{info.run_id}/artifacts"
    # A generated adjective-animal-NNN name, also recorded as the mlflow.runName tag.
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", info.run_name or "")
    assert run.data.tags == {"t": "v", "mlflow.runName": info.run_name}
    assert store.get_run(info.run_id) == run


def test_run_name_and_tag(store: SqlStore) -> None:
    named = store.create_run("0", "u", 1, [], "mine")
    assert named.info.run_name == "mine"
    assert named.data.tags["mlflow.runName"] == "mine"
    tagged = store.create_run("0", "u", 1, [RunTag("mlflow.runName", "via-tag")], None)
    assert tagged.info.run_name == "via-tag"
    with pytest.raises(MlflowException) as error:
        store.create_run("0", "u", 1, [RunTag("mlflow.runName", "a")], "b")
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"


def test_create_run_in_missing_or_deleted_experiment(store: SqlStore) -> None:
    with pytest.raises(MlflowException) as error:
        store.create_run("12345", "u", 1, [], None)
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    experiment_id = store.create_experiment("exp")
    store.delete_experiment(experiment_id)
    with pytest.raises(MlflowException) as error:
        store.create_run(experiment_id, "u", 1, [], None)
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"


def test_get_missing_run(store: SqlStore) -> None:
    with pytest.raises(MlflowException) as error:
        store.get_run("0123456789abcdef0123456789abcdef")
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert error.value.message == "Run with id=0123456789abcdef0123456789abcdef not found"


def test_update_run_info(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", 1, [], "r").info.run_id
    info = store.update_run_info(run_id, "FINISHED", 5, None)
    assert (info.status, info.end_time, info.run_name) == ("FINISHED", 5, "r")
    info = store.update_run_info(run_id, "RUNNING", None, "renamed")
    assert (info.status, info.end_time, info.run_name) == ("RUNNING", 5, "renamed")
    assert store.get_run(run_id).data.tags["mlflow.runName"] == "renamed"
    with pytest.raises(MlflowException) as error:
        store.update_run_info(run_id, "BOGUS", None, None)
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"
    assert store.get_run(run_id).info.status == "RUNNING"


def test_set_tag_run_name_renames_run(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", 1, [], "before").info.run_id
    store.set_tag(run_id, RunTag("mlflow.runName", "after"))
    assert store.get_run(run_id).info.run_name == "after"


def test_deleted_run_refuses_writes_but_stays_readable(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", 1, [], "r").info.run_id
    store.log_param(run_id, Param("p", "1"))
    store.delete_run(run_id)
    run = store.get_run(run_id)
    assert run.info.lifecycle_stage == "deleted"
    assert run.data.params == {"p": "1"}
    expected = f"The run {run_id} must be in the 'active' state. Current state is deleted."
    writes = [
        lambda: store.log_metric(run_id, Metric("m", 1.0, 1, 0)),
        lambda: store.log_param(run_id, Param("q", "2")),
        lambda: store.set_tag(run_id, RunTag("t", "v")),
        lambda: store.log_batch(run_id, [Metric("m", 1.0, 1, 0)]),
        lambda: store.update_run_info(run_id, "FINISHED", 2, None),
        lambda: store.delete_tag(run_id, "t"),
    ]
    for write in writes:
        with pytest.raises(MlflowException) as error:
            write()
        assert error.value.error_code == "INVALID_PARAMETER_VALUE"
        assert error.value.message == expected
    store.restore_run(run_id)
    store.log_metric(run_id, Metric("m", 1.0, 1, 0))
    assert store.get_run(run_id).data.metrics == {"m": 1.0}


def test_writes_to_missing_run(store: SqlStore) -> None:
    missing = "f" * 32
    for write in (
        lambda: store.log_metric(missing, Metric("m", 1.0, 1, 0)),
        lambda: store.log_param(missing, Param("p", "1")),
        lambda: store.set_tag(missing, RunTag("t", "v")),
        lambda: store.delete_run(missing),
    ):
        with pytest.raises(MlflowException) as error:
            write()
        assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_delete_tag(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", 1, [RunTag("a", "1"), RunTag("b", "2")], "r").info.run_id
    store.delete_tag(run_id, "a")
    assert "a" not in store.get_run(run_id).data.tags
    with pytest.raises(MlflowException) as error:
        store.delete_tag(run_id, "a")
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert error.value.message == f"No tag with name: a in run with id {run_id}"


def test_status_names() -> None:
    assert [RunStatus.to_string(s) for s in RunStatus.all_status()] == [
        "RUNNING",
        "SCHEDULED",
        "FINISHED",
        "FAILED",
        "KILLED",
    ]
