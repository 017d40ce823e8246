"""MlflowClient's model registry methods (MLflow 3.17 names and arguments).

The registry lives in the store for the client's registry URI (by default its tracking URI): a
SQL database, or a tracking server (tracklet's or MLflow's) over REST.
"""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING, Any

from tracklet.exceptions import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_ALREADY_EXISTS,
    MlflowException,
)
from tracklet.store.model_registry_base import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
)
from tracklet.tracking.client_registry_access import RegistryStoreAccess

# The registry's entities are imported by the methods that build them, on first use: every
# ``import tracklet`` builds MlflowClient, few processes touch the registry.
if TYPE_CHECKING:
    from tracklet.entities import PagedList
    from tracklet.entities.model_registry import ModelVersion, RegisteredModel

DEFAULT_AWAIT_MAX_SLEEP_SECONDS = 300
_STAGES_DEPRECATION = (
    "Model registry stages are deprecated in MLflow and tracklet; use aliases "
    "(set_registered_model_alias) instead."
)


class RegistryClientMixin(RegistryStoreAccess):
    """Model registry methods of :class:`tracklet.MlflowClient`."""

    # ------------------------------------------------------------------ registered models

    def create_registered_model(
        self,
        name: str,
        tags: dict[str, Any] | None = None,
        description: str | None = None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel:
        """Create a registered model.

        Args:
            name: The model's unique name (no '/' or ':').
            tags: Tags of the model; values are stringified.
            description: A free-text description.
            deployment_job_id: MLflow's deployment job id, kept as given.

        Returns:
            The new RegisteredModel. RESOURCE_ALREADY_EXISTS if the name is taken.
        """
        from tracklet.entities.model_registry import IS_PROMPT_TAG_KEY, RegisteredModelTag

        if tags and IS_PROMPT_TAG_KEY in tags:
            raise MlflowException(
                "Prompts cannot be registered as models.", INVALID_PARAMETER_VALUE
            )
        return self._registry_store.create_registered_model(
            name,
            [RegisteredModelTag(k, str(v)) for k, v in (tags or {}).items()],
            description,
            deployment_job_id,
        )

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a registered model; its versions, tags and aliases follow.

        Args:
            name: The current name.
            new_name: The new name (RESOURCE_ALREADY_EXISTS if taken).

        Returns:
            The renamed RegisteredModel.
        """
        return self._registry_store.rename_registered_model(name, new_name)

    def update_registered_model(
        self, name: str, description: str | None = None, deployment_job_id: str | None = None
    ) -> RegisteredModel:
        """Set a registered model's description (and deployment job id).

        Args:
            name: The registered model.
            description: The new description (None clears it).
            deployment_job_id: MLflow's deployment job id, kept as given.

        Returns:
            The updated RegisteredModel.
        """
        return self._registry_store.update_registered_model(name, description, deployment_job_id)

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model with all its versions, tags and aliases.

        Args:
            name: The registered model.
        """
        self._registry_store.delete_registered_model(name)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """A registered model with its tags, aliases and latest version per stage.

        Args:
            name: The registered model (RESOURCE_DOES_NOT_EXIST if missing).

        Returns:
            The RegisteredModel.
        """
        return self._registry_store.get_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """Registered models matching a filter, one page at a time.

        Args:
            filter_string: e.g. ``"name LIKE 'fraud%' AND tags.team = 'risk'"`` (``name``
                with = != LIKE ILIKE IN NOT IN; ``tags.<key>`` with = != LIKE ILIKE).
            max_results: Page size, at most 1000.
            order_by: e.g. ``["name DESC"]``; keys ``name``, ``timestamp``,
                ``last_updated_timestamp``; ``name ASC`` always breaks ties.
            page_token: The previous page's ``token``.

        Returns:
            A PagedList of RegisteredModel; its ``token`` fetches the next page.
        """
        return self._registry_store.search_registered_models(
            filter_string, max_results, order_by, page_token
        )

    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (deprecated, as in MLflow: use aliases).

        Args:
            name: The registered model.
            stages: Stages such as ``["Production"]``; every stage when None.

        Returns:
            One ModelVersion per stage that has any.
        """
        warnings.warn(_STAGES_DEPRECATION, FutureWarning, stacklevel=2)
        return self._registry_store.get_latest_versions(name, stages)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        """Set a tag on a registered model.

        Args:
            name: The registered model.
            key: The tag key.
            value: The tag value (stringified).
        """
        from tracklet.entities.model_registry import RegisteredModelTag

        self._registry_store.set_registered_model_tag(name, RegisteredModelTag(key, str(value)))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Delete a registered model's tag (nothing happens if it has none by that key).

        Args:
            name: The registered model.
            key: The tag key.
        """
        self._registry_store.delete_registered_model_tag(name, key)

    # ------------------------------------------------------------------ model versions

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int = DEFAULT_AWAIT_MAX_SLEEP_SECONDS,
        model_id: str | None = None,
    ) -> ModelVersion:
        """Register ``source`` as the next version of ``name`` (1, 2, 3... with no gap).

        Args:
            name: The registered model (it must exist).
            source: Where the model's artifacts are: ``runs:/<run_id>/<path>``,
                ``models:/<model_id>``, ``models:/<name>/<version>`` or an artifact URI.
            run_id: The run that produced the model.
            tags: Tags of the version; values are stringified.
            run_link: A link to the run, kept as given.
            description: A free-text description.
            await_creation_for: Seconds to wait for the version to leave
                PENDING_REGISTRATION (tracklet's stores register synchronously; a remote
                registry may not). 0 returns at once.
            model_id: The logged model being registered.

        Returns:
            The new ModelVersion.
        """
        from tracklet.entities.model_registry import IS_PROMPT_TAG_KEY, ModelVersionTag

        if tags and IS_PROMPT_TAG_KEY in tags:
            raise MlflowException(
                "Prompts cannot be registered as models.", INVALID_PARAMETER_VALUE
            )
        version = self._registry_store.create_model_version(
            name,
            source,
            run_id,
            [ModelVersionTag(k, str(v)) for k, v in (tags or {}).items()],
            run_link,
            description,
            model_id,
        )
        return self._await_version(version, await_creation_for)

    def _await_version(self, version: ModelVersion, await_for: int | None) -> ModelVersion:
        from tracklet.entities.model_registry import ModelVersionStatus

        pending = ModelVersionStatus.PENDING_REGISTRATION.value
        deadline = time.monotonic() + (await_for or 0)
        while version.status == pending and time.monotonic() < deadline:
            time.sleep(min(3.0, max(0.0, deadline - time.monotonic())))
            version = self._registry_store.get_model_version(version.name, version.version)
        if version.status == ModelVersionStatus.FAILED_REGISTRATION.value:
            raise MlflowException(
                f"Model version creation failed for model name: {version.name} version: "
                f"{version.version} with status: {version.status} and message: "
                f"{version.status_message}"
            )
        if version.status == pending and await_for:
            raise MlflowException(
                f"Exceeded max wait time for model name: {version.name} version: "
                f"{version.version} to become READY. Status: {version.status}. "
                f"Wait Time: {await_for}"
            )
        return version

    def update_model_version(
        self, name: str, version: str, description: str | None = None
    ) -> ModelVersion:
        """Set a model version's description.

        Args:
            name: The registered model.
            version: The version number.
            description: The new description.

        Returns:
            The updated ModelVersion.
        """
        return self._registry_store.update_model_version(name, str(version), description)

    def transition_model_version_stage(
        self, name: str, version: str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to a stage (the legacy workflow; deprecated in favour of aliases).

        Args:
            name: The registered model.
            version: The version number.
            stage: None, Staging, Production or Archived (any case).
            archive_existing_versions: Archive the other versions in that stage (Staging or
                Production only).

        Returns:
            The updated ModelVersion.
        """
        warnings.warn(_STAGES_DEPRECATION, FutureWarning, stacklevel=2)
        return self._registry_store.transition_model_version_stage(
            name, str(version), stage, archive_existing_versions
        )

    def delete_model_version(self, name: str, version: str) -> None:
        """Delete a version; its number is never given to another version.

        Args:
            name: The registered model.
            version: The version number.
        """
        self._registry_store.delete_model_version(name, str(version))

    def get_model_version(self, name: str, version: str) -> ModelVersion:
        """A model version with its tags and aliases.

        Args:
            name: The registered model.
            version: The version number (RESOURCE_DOES_NOT_EXIST if missing).

        Returns:
            The ModelVersion.
        """
        return self._registry_store.get_model_version(name, str(version))

    def get_model_version_download_uri(self, name: str, version: str) -> str:
        """Where the version's artifacts are read from.

        Args:
            name: The registered model.
            version: The version number.

        Returns:
            The artifact URI (a logged model's or run's location, or the source itself).
        """
        return self._registry_store.get_model_version_download_uri(name, str(version))

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """Model versions matching a filter, one page at a time.

        Args:
            filter_string: e.g. ``"name = 'fraud' AND version_number > 2"`` (``name``,
                ``run_id``, ``source_path``, ``version_number``, ``tags.<key>``).
            max_results: Page size, at most 200,000.
            order_by: e.g. ``["version_number DESC"]``; keys ``name``, ``version_number``,
                ``creation_timestamp``, ``last_updated_timestamp``.
            page_token: The previous page's ``token``.

        Returns:
            A PagedList of ModelVersion; its ``token`` fetches the next page.
        """
        return self._registry_store.search_model_versions(
            filter_string, max_results, order_by, page_token
        )

    def _version_or_stage(self, name: str, version: str | None, stage: str | None) -> str:
        if (version is None) == (stage is None):
            raise MlflowException(
                "version and stage cannot be set together; exactly one of them is required.",
                INVALID_PARAMETER_VALUE,
            )
        if stage is None:
            return str(version)
        warnings.warn(_STAGES_DEPRECATION, FutureWarning, stacklevel=3)
        latest = self._registry_store.get_latest_versions(name, [stage])
        if not latest:
            raise MlflowException(f"Could not find any model version for {stage} stage")
        return latest[0].version

    def set_model_version_tag(
        self,
        name: str,
        version: str | None = None,
        key: str | None = None,
        value: Any = None,
        stage: str | None = None,
    ) -> None:
        """Tag a version, named by ``version`` or (deprecated) the newest in ``stage``.

        Args:
            name: The registered model.
            version: The version number.
            key: The tag key.
            value: The tag value (stringified).
            stage: Instead of ``version``: the stage whose newest version is tagged.
        """
        from tracklet.entities.model_registry import ModelVersionTag

        number = self._version_or_stage(name, version, stage)
        tag = ModelVersionTag(key, str(value))  # type: ignore[arg-type]  # the store checks key
        self._registry_store.set_model_version_tag(name, number, tag)

    def delete_model_version_tag(
        self,
        name: str,
        version: str | None = None,
        key: str | None = None,
        stage: str | None = None,
    ) -> None:
        """Delete a version's tag, the version named by ``version`` or (deprecated) ``stage``.

        Args:
            name: The registered model.
            version: The version number.
            key: The tag key.
            stage: Instead of ``version``: the stage whose newest version is meant.
        """
        number = self._version_or_stage(name, version, stage)
        self._registry_store.delete_model_version_tag(name, number, key)  # type: ignore[arg-type]

    def copy_model_version(self, src_model_uri: str, dst_name: str) -> ModelVersion:
        """Register the version ``src_model_uri`` names as a new version of ``dst_name``
        (created if missing), with its run, tags, link and description.

        Args:
            src_model_uri: ``models:/<name>/<version>``, ``models:/<name>@<alias>``, ...
            dst_name: The registered model to copy it into.

        Returns:
            The new ModelVersion, whose source is ``models:/<name>/<version>``.
        """
        from tracklet.entities.model_registry import ModelVersionTag
        from tracklet.store.models_uri import is_models_uri

        if not is_models_uri(src_model_uri):
            raise MlflowException(
                f"Unsupported source model URI: '{src_model_uri}'. The `copy_model_version` API "
                "only copies models stored in the 'models:/' scheme."
            )
        try:
            source = self._model_version_for_uri(src_model_uri)
        except MlflowException as error:
            raise MlflowException(
                f"Failed to fetch model version from source model URI: '{src_model_uri}'. "
                f"Error: {error}"
            ) from error
        try:
            self.create_registered_model(dst_name)
        except MlflowException as error:
            if error.error_code != RESOURCE_ALREADY_EXISTS:
                raise
        return self._registry_store.create_model_version(
            dst_name,
            f"models:/{source.name}/{source.version}",
            source.run_id,
            [ModelVersionTag(k, v) for k, v in source.tags.items()],
            source.run_link,
            source.description,
            source.model_id,
        )
