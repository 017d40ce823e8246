"""Experiments in the SQL store, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tracklet.entities import ExperimentTag, LifecycleStage, RunTag
from tracklet.exceptions import MlflowException
from tracklet.store.sql.store import SqlStore


def test_default_experiment_exists(store: SqlStore) -> None:
    default = store.get_experiment("0")
    assert default.name == "Default"
    assert default.lifecycle_stage == LifecycleStage.ACTIVE
    assert default.artifact_location == f"{store.artifact_root}/0"
    assert store.get_experiment_by_name("Default") == default


def test_create_and_get(store: SqlStore) -> None:
    experiment_id = store.create_experiment("exp", tags=[ExperimentTag("team", "a")])
    assert experiment_id.isdigit()
    assert experiment_id != "0"
    experiment = store.get_experiment(experiment_id)
    assert experiment.name == "exp"
    assert experiment.tags == {"team": "a"}
    assert experiment.artifact_location == f"{store.artifact_root}/{experiment_id}"
    assert experiment.creation_time == experiment.last_update_time
    assert isinstance(experiment.creation_time, int)
    assert experiment.creation_time > 1.7e12


def test_explicit_artifact_location_is_kept(store: SqlStore) -> None:
    experiment_id = store.create_experiment("exp", artifact_location="s3://bucket/path")
    assert store.get_experiment(experiment_id).artifact_location == "s3://bucket/path"


def test_duplicate_name_is_refused_even_when_deleted(store: SqlStore) -> None:
    experiment_id = store.create_experiment("exp")
    with pytest.raises(MlflowException) as error:
        store.create_experiment("exp")
    assert error.value.error_code == "RESOURCE_ALREADY_EXISTS"
    store.delete_experiment(experiment_id)
    with pytest.raises(MlflowException) as error:
        store.create_experiment("exp")
    assert error.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert store.get_experiment_by_name("exp").lifecycle_stage == "deleted"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("", "Invalid experiment name"), ("x" * 501, "500")],
)
def test_bad_names(store: SqlStore, name: str, fragment: str) -> None:
    with pytest.raises(MlflowException) as error:
        store.create_experiment(name)
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"
    assert fragment in error.value.message


def test_runs_uri_is_not_an_artifact_location(store: SqlStore) -> None:
    with pytest.raises(MlflowException) as error:
        store.create_experiment("exp", artifact_location="runs:/abc/x")
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"


def test_missing_experiment(store: SqlStore) -> None:
    with pytest.raises(MlflowException) as error:
        store.get_experiment("999")
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert error.value.message == "No Experiment with id=999 exists"
    with pytest.raises(MlflowException) as error:
        store.get_experiment("abc")
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"
    assert store.get_experiment_by_name("nope") is None


def test_rename(store: SqlStore) -> None:
    first = store.create_experiment("a")
    store.create_experiment("b")
    store.rename_experiment(first, "c")
    assert store.get_experiment(first).name == "c"
    with pytest.raises(MlflowException) as error:
        store.rename_experiment(first, "b")
    assert error.value.error_code == "RESOURCE_ALREADY_EXISTS"
    store.delete_experiment(first)
    with pytest.raises(MlflowException) as error:
        store.rename_experiment(first, "d")
    # MLflow answers INVALID_STATE (HTTP 500, retried for minutes); tracklet answers a 400.
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"


def test_delete_and_restore_cascade_to_runs(store: SqlStore) -> None:
    experiment_id = store.create_experiment("exp")
    kept = store.create_run(experiment_id, "u", 1, [RunTag("a", "b")], "kept")
    deleted_before = store.create_run(experiment_id, "u", 2, [], "gone")
    store.delete_run(deleted_before.info.run_id)
    store.delete_experiment(experiment_id)
    assert store.get_experiment(experiment_id).lifecycle_stage == "deleted"
    assert store.get_run(kept.info.run_id).info.lifecycle_stage == "deleted"
    with pytest.raises(MlflowException) as error:
        store.delete_experiment(experiment_id)
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    store.restore_experiment(experiment_id)
    assert store.get_experiment(experiment_id).lifecycle_stage == "active"
    # Restoring restores every run, including one deleted on its own before (as MLflow does).
    assert store.get_run(kept.info.run_id).info.lifecycle_stage == "active"
    assert store.get_run(deleted_before.info.run_id).info.lifecycle_stage == "active"
    with pytest.raises(MlflowException) as error:
        store.restore_experiment(experiment_id)
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_experiment_tags(store: SqlStore) -> None:
    experiment_id = store.create_experiment("exp")
    store.set_experiment_tag(experiment_id, ExperimentTag("k", "v1"))
    store.set_experiment_tag(experiment_id, ExperimentTag("k", "v2"))
    store.set_experiment_tag(experiment_id, ExperimentTag("empty", ""))
    assert store.get_experiment(experiment_id).tags == {"k": "v2", "empty": ""}
    store.delete_experiment_tag(experiment_id, "k")
    assert store.get_experiment(experiment_id).tags == {"empty": ""}
    with pytest.raises(MlflowException) as error:
        store.delete_experiment_tag(experiment_id, "k")
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as error:
        store.set_experiment_tag(experiment_id, ExperimentTag("big", "x" * 20001))
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "20000" in error.value.message
    assert "big" not in store.get_experiment(experiment_id).tags


def test_tags_on_deleted_experiment_are_refused(store: SqlStore) -> None:
    experiment_id = store.create_experiment("exp")
    store.delete_experiment(experiment_id)
    with pytest.raises(MlflowException) as error:
        store.set_experiment_tag(experiment_id, ExperimentTag("k", "v"))
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "must be in the 'active' state" in error.value.message


def test_search_experiments_basics(store: SqlStore) -> None:
    ids = [store.create_experiment(f"e{i}") for i in range(5)]
    store.delete_experiment(ids[0])
    active = store.search_experiments(max_results=1000)
    assert {e.name for e in active} == {"Default", "e1", "e2", "e3", "e4"}
    deleted = store.search_experiments(view_type=2)
    assert [e.name for e in deleted] == ["e0"]
    everything = store.search_experiments(view_type=3)
    assert len(everything) == 6
    page = store.search_experiments(view_type=3, max_results=4)
    assert len(page) == 4
    assert page.token
    rest = store.search_experiments(view_type=3, max_results=4, page_token=page.token)
    assert len(rest) == 2
    assert rest.token is None
    assert {e.experiment_id for e in page} | {e.experiment_id for e in rest} == {
        "0",
        *ids,
    }
