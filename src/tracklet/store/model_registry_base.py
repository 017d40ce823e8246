"""The ModelRegistryStore interface: registered models, model versions, their tags and aliases.

Implementations: ``store.sql`` (SQLite, PostgreSQL; composed into SqlStore, sharing its engine
and writer) and ``store.rest`` (an MLflow-protocol server). Every method raises
:class:`~tracklet.exceptions.MlflowException` with MLflow's error codes (RESOURCE_DOES_NOT_EXIST
for a missing model or version, RESOURCE_ALREADY_EXISTS for a duplicate name,
INVALID_PARAMETER_VALUE for bad input) and writes nothing when it raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # annotations only: the registry's entities load when it is first used
    from tracklet.entities import PagedList
    from tracklet.entities.model_registry import (
        ModelVersion,
        ModelVersionTag,
        RegisteredModel,
        RegisteredModelTag,
    )

SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT = 100
SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD = 1000
SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT = 10_000
SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD = 200_000


@runtime_checkable
class ModelRegistryStore(Protocol):
    """What the registry client and the server's registry routes need from storage."""

    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] = (),
        description: str | None = None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel: ...

    def update_registered_model(
        self, name: str, description: str | None, deployment_job_id: str | None = None
    ) -> RegisteredModel: ...

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel: ...

    def delete_registered_model(self, name: str) -> None: ...

    def get_registered_model(self, name: str) -> RegisteredModel: ...

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]: ...

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]: ...

    def set_registered_model_tag(self, name: str, tag: RegisteredModelTag) -> None: ...

    def delete_registered_model_tag(self, name: str, key: str) -> None: ...

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Sequence[ModelVersionTag] = (),
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        """The next version of ``name``: numbers run 1, 2, 3... with no gap, across processes."""
        ...

    def update_model_version(
        self, name: str, version: str, description: str | None = None
    ) -> ModelVersion: ...

    def transition_model_version_stage(
        self, name: str, version: str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion: ...

    def delete_model_version(self, name: str, version: str) -> None: ...

    def get_model_version(self, name: str, version: str) -> ModelVersion: ...

    def get_model_version_download_uri(self, name: str, version: str) -> str: ...

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]: ...

    def set_model_version_tag(self, name: str, version: str, tag: ModelVersionTag) -> None: ...

    def delete_model_version_tag(self, name: str, version: str, key: str) -> None: ...

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None: ...

    def delete_registered_model_alias(self, name: str, alias: str) -> None: ...

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...
