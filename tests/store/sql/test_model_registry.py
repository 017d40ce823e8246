"""The SQL model registry's own rules: cascades, soft deletes, models:/ sources, validation."""

from __future__ import annotations

import pytest

from tracklet.entities import LoggedModelStatus
from tracklet.entities.model_registry import ModelVersionTag, RegisteredModelTag
from tracklet.exceptions import MlflowException
from tracklet.store.sql.store import SqlStore


def _code(call: object) -> str:
    try:
        call()  # type: ignore[operator]
    except MlflowException as error:
        return error.error_code
    return "no error"


def test_delete_model_removes_versions_tags_and_aliases(store: SqlStore) -> None:
    store.create_registered_model("m", [RegisteredModelTag("a", "1")])
    store.create_model_version("m", "s3://b/1", tags=[ModelVersionTag("k", "v")])
    store.set_registered_model_alias("m", "best", "1")
    store.delete_registered_model("m")
    assert _code(lambda: store.get_model_version("m", "1")) == "RESOURCE_DOES_NOT_EXIST"
    # The name is free again and numbering starts over.
    store.create_registered_model("m")
    assert store.create_model_version("m", "s3://b/2").version == "1"
    assert store.get_registered_model("m").tags == {}
    assert store.get_registered_model("m").aliases == {}


def test_deleted_version_is_redacted_and_loses_its_aliases(store: SqlStore) -> None:
    store.create_registered_model("m")
    store.create_model_version("m", "s3://b/1")
    store.create_model_version("m", "s3://b/2")
    store.set_registered_model_alias("m", "best", "2")
    store.delete_model_version("m", "2")
    assert store.get_registered_model("m").aliases == {}
    assert _code(lambda: store.get_model_version_by_alias("m", "best")) == (
        "INVALID_PARAMETER_VALUE"
    )
    assert _code(lambda: store.delete_model_version("m", "2")) == "RESOURCE_DOES_NOT_EXIST"
    assert [v.version for v in store.get_registered_model("m").latest_versions] == ["1"]


def test_models_uri_sources_resolve_to_storage(store: SqlStore) -> None:
    experiment_id = store.create_experiment("e")
    run = store.create_run(experiment_id, "u", 0, [], "r")
    model = store.create_logged_model(experiment_id, "lm", run.info.run_id)
    store.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    store.create_registered_model("m")
    first = store.create_model_version("m", f"models:/{model.model_id}")
    assert (first.run_id, first.model_id) == (run.info.run_id, model.model_id)
    assert store.get_model_version_download_uri("m", "1") == model.artifact_location
    store.set_registered_model_alias("m", "prod", "1")
    copied = store.create_model_version("m", "models:/m@prod")
    assert copied.source == "models:/m@prod"
    assert store.get_model_version_download_uri("m", copied.version) == model.artifact_location
    assert _code(lambda: store.create_model_version("m", "models:/nope/1")) == (
        "RESOURCE_DOES_NOT_EXIST"
    )
    assert _code(lambda: store.create_model_version("m", "models:/a/b/c")) == (
        "INVALID_PARAMETER_VALUE"
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.create_registered_model(""),
        lambda s: s.create_registered_model("a:b"),
        lambda s: s.create_registered_model("m", [RegisteredModelTag("../x", "v")]),
        lambda s: s.get_model_version("m", "one"),
        lambda s: s.set_registered_model_alias("m", "bad alias", "1"),
        lambda s: s.search_model_versions(max_results=0),
        lambda s: s.search_model_versions("version_number = 1.5"),
        lambda s: s.search_registered_models("tags.a IS NULL"),
        lambda s: s.search_registered_models(order_by=["creation_timestamp"]),
        lambda s: s.search_model_versions(page_token="garbage"),
    ],
)
def test_bad_input_is_invalid_parameter_value(store: SqlStore, call: object) -> None:
    store.create_registered_model("m")
    assert _code(lambda: call(store)) == "INVALID_PARAMETER_VALUE"  # type: ignore[operator]


def test_page_token_belongs_to_its_search(store: SqlStore) -> None:
    store.create_registered_model("m")
    for _ in range(3):
        store.create_model_version("m", "s3://b/x")
    page = store.search_model_versions("name = 'm'", max_results=1)
    assert page.token is not None
    assert (
        _code(
            lambda: store.search_model_versions(
                "name = 'other'", max_results=1, page_token=page.token
            )
        )
        == "INVALID_PARAMETER_VALUE"
    )
