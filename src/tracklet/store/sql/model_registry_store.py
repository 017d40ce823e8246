"""The model registry on SQL: a mixin of SqlStore, on its one engine and its one writer.

Transactions and input checks live here; the statements in ``registered_models``,
``model_versions`` and ``registry_search``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from tracklet.entities import PagedList
from tracklet.entities.model_registry import (
    ALL_STAGES,
    DEFAULT_STAGES_FOR_GET_LATEST_VERSIONS,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
    get_canonical_stage,
)
from tracklet.exceptions import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)
from tracklet.store.model_registry_base import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
)
from tracklet.store.models_uri import parse_models_uri
from tracklet.store.sql import logged_models as logged_model_queries
from tracklet.store.sql import model_versions as version_queries
from tracklet.store.sql import registered_models as model_queries
from tracklet.store.sql import registry_search
from tracklet.store.sql.store_base import SqlStoreBase, now_ms

if TYPE_CHECKING:
    from tracklet.store.sql.compiled import Db


_LM = logged_model_queries.COLUMNS
_ARTIFACT_LOCATION = next(i for i, c in enumerate(_LM) if c.name == "artifact_location")
_SOURCE_RUN_ID = next(i for i, c in enumerate(_LM) if c.name == "source_run_id")
TagT = TypeVar("TagT", RegisteredModelTag, ModelVersionTag)


class ModelRegistrySqlStore(SqlStoreBase):
    """The ``ModelRegistryStore`` methods of :class:`~tracklet.store.sql.store.SqlStore`."""

    # ------------------------------------------------------------------ registered models

    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] = (),
        description: str | None = None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel:
        name = model_queries.validate_name(name)
        checked = _unique_tags(
            [RegisteredModelTag(*model_queries.validate_tag(t.key, t.value)) for t in tags]
        )
        with self._writer.transaction() as db:
            model_queries.insert(db, name, checked, description, deployment_job_id, now_ms())
            return _get_model(db, name)

    def update_registered_model(
        self, name: str, description: str | None, deployment_job_id: str | None = None
    ) -> RegisteredModel:
        name = model_queries.validate_name(name)
        with self._writer.transaction() as db:
            model_queries.update(db, name, description, deployment_job_id, now_ms())
            return _get_model(db, name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        name = model_queries.validate_name(name)
        new_name = model_queries.validate_name(new_name, "new_name")
        with self._writer.transaction() as db:
            model_queries.require(db, name)
            model_queries.rename(db, name, new_name, now_ms())
            return _get_model(db, new_name)

    def delete_registered_model(self, name: str) -> None:
        name = model_queries.validate_name(name)
        with self._writer.transaction() as db:
            model_queries.delete(db, name)

    def get_registered_model(self, name: str) -> RegisteredModel:
        name = model_queries.validate_name(name)
        with self._reader() as db:
            return _get_model(db, name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        with self._reader() as db:
            return registry_search.search_registered_models(
                db,
                filter_string,
                max_results,
                order_by,
                page_token,
                SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
            )

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        name = model_queries.validate_name(name)
        wanted = {get_canonical_stage(s) for s in (stages or ALL_STAGES)}
        with self._reader() as db:
            model_queries.require(db, name)
            latest = version_queries.latest_per_stage(db, [name])[name]
            aliases = model_queries.aliases_of(db, [name])[name]
        return [_with_aliases(v, aliases) for v in latest if v.current_stage in wanted]

    def set_registered_model_tag(self, name: str, tag: RegisteredModelTag) -> None:
        name = model_queries.validate_name(name)
        checked = RegisteredModelTag(*model_queries.validate_tag(tag.key, tag.value))
        with self._writer.transaction() as db:
            model_queries.require(db, name)
            model_queries.write_tags(db, name, [checked])

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        name = model_queries.validate_name(name)
        key = model_queries.validate_tag(key, "")[0]
        with self._writer.transaction() as db:
            model_queries.require(db, name)
            model_queries.delete_tag(db, name, key)

    # ------------------------------------------------------------------ model versions

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
        name = model_queries.validate_name(name)
        if not isinstance(source, str) or not source:
            raise MlflowException(
                "Missing value for required parameter 'source'.", INVALID_PARAMETER_VALUE
            )
        checked = _unique_tags(
            [ModelVersionTag(*model_queries.validate_tag(t.key, t.value)) for t in tags]
        )
        with self._writer.transaction() as db:
            storage_location, run_id, model_id = _resolve_source(db, source, run_id, model_id)
            now = now_ms()
            model_queries.touch(db, name, now)  # also the lock that orders the numbering
            version = version_queries.next_version(db, name)
            version_queries.insert(
                db,
                name,
                version,
                source,
                storage_location,
                run_id or None,
                run_link or None,
                description,
                None,
                model_id or None,
                checked,
                now,
            )
            return _get_version(db, name, version)

    def update_model_version(
        self, name: str, version: str, description: str | None = None
    ) -> ModelVersion:
        name = model_queries.validate_name(name)
        number = model_queries.parse_version(version)
        with self._writer.transaction() as db:
            version_queries.set_description(db, name, number, description, now_ms())
            return _get_version(db, name, number)

    def transition_model_version_stage(
        self, name: str, version: str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        name = model_queries.validate_name(name)
        number = model_queries.parse_version(version)
        canonical = get_canonical_stage(stage)
        if archive_existing_versions and canonical not in DEFAULT_STAGES_FOR_GET_LATEST_VERSIONS:
            raise MlflowException(
                "Model version transition cannot archive existing model versions because "
                f"'{stage}' is not an Active stage. Valid stages are "
                f"{list(DEFAULT_STAGES_FOR_GET_LATEST_VERSIONS)}",
                INVALID_PARAMETER_VALUE,
            )
        with self._writer.transaction() as db:
            now = now_ms()
            version_queries.set_stage(db, name, number, canonical, archive_existing_versions, now)
            model_queries.touch(db, name, now)
            return _get_version(db, name, number)

    def delete_model_version(self, name: str, version: str) -> None:
        name = model_queries.validate_name(name)
        number = model_queries.parse_version(version)
        with self._writer.transaction() as db:
            now = now_ms()
            version_queries.soft_delete(db, name, number, now)
            model_queries.delete_aliases_of_version(db, name, number)
            model_queries.touch(db, name, now)

    def get_model_version(self, name: str, version: str) -> ModelVersion:
        name = model_queries.validate_name(name)
        number = model_queries.parse_version(version)
        with self._reader() as db:
            return _get_version(db, name, number)

    def get_model_version_download_uri(self, name: str, version: str) -> str:
        name = model_queries.validate_name(name)
        number = model_queries.parse_version(version)
        with self._reader() as db:
            return version_queries.download_uri(db, name, number)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        with self._reader() as db:
            return registry_search.search_model_versions(
                db,
                filter_string,
                max_results,
                order_by,
                page_token,
                SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD,
            )

    def set_model_version_tag(self, name: str, version: str, tag: ModelVersionTag) -> None:
        name = model_queries.validate_name(name)
        number = model_queries.parse_version(version)
        checked = ModelVersionTag(*model_queries.validate_tag(tag.key, tag.value))
        with self._writer.transaction() as db:
            version_queries.require(db, name, number)
            version_queries.write_tags(db, name, number, [checked])

    def delete_model_version_tag(self, name: str, version: str, key: str) -> None:
        name = model_queries.validate_name(name)
        number = model_queries.parse_version(version)
        key = model_queries.validate_tag(key, "")[0]
        with self._writer.transaction() as db:
            version_queries.require(db, name, number)
            version_queries.delete_tag(db, name, number, key)

    # ------------------------------------------------------------------ aliases

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        name = model_queries.validate_name(name)
        alias = model_queries.validate_alias(alias, reserved=True)
        number = model_queries.parse_version(version)
        with self._writer.transaction() as db:
            version_queries.require(db, name, number)
            model_queries.set_alias(db, name, alias, number)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        name = model_queries.validate_name(name)
        alias = model_queries.validate_alias(alias)
        with self._writer.transaction() as db:
            model_queries.require(db, name)
            model_queries.delete_alias(db, name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        name = model_queries.validate_name(name)
        alias = model_queries.validate_alias(alias)
        with self._reader() as db:
            number = _resolve_version(db, name, None, alias, None)
            return _get_version(db, name, number)


# ---------------------------------------------------------------------- helpers


def _unique_tags(tags: list[TagT]) -> list[TagT]:
    """The last value of each key, as MLflow keeps it."""
    return list({t.key: t for t in tags}.values())


def _resolve_source(
    db: Db, source: str, run_id: str | None, model_id: str | None
) -> tuple[str | None, str | None, str | None]:
    """(storage location, run id, model id) of a version whose artifacts are ``source``: a
    ``models:/`` source is read from where it points, as MLflow's SQL store does."""
    storage: str | None = source
    if source.startswith("models:"):
        parsed = parse_models_uri(source)
        if parsed.model_id is not None:
            row = logged_model_queries.require(db, parsed.model_id)
            storage = row[_ARTIFACT_LOCATION]
            run_id = run_id or row[_SOURCE_RUN_ID]
            model_id = model_id or parsed.model_id
        else:
            name = str(parsed.name)
            number = _resolve_version(db, name, parsed.version, parsed.alias, parsed.stage)
            storage = version_queries.download_uri(db, name, number)
    if not run_id and model_id:
        run_id = logged_model_queries.require(db, model_id)[_SOURCE_RUN_ID]
    return storage, run_id, model_id


def _get_model(db: Db, name: str) -> RegisteredModel:
    row = model_queries.require(db, name)
    latest = version_queries.latest_per_stage(db, [name])
    return model_queries.to_entities(db, [row], latest)[0]


def _get_version(db: Db, name: str, number: int) -> ModelVersion:
    return version_queries.to_entities(db, [version_queries.require(db, name, number)])[0]


def _with_aliases(version: ModelVersion, aliases: dict[str, str]) -> ModelVersion:
    named = [alias for alias, number in aliases.items() if number == version.version]
    return replace(version, aliases=named)


def _resolve_version(
    db: Db, name: str, version: str | None, alias: str | None, stage: str | None
) -> int:
    """The version number ``models:/name/<version|stage|latest>`` or ``name@alias`` names."""
    if version is not None:
        return model_queries.parse_version(version)
    if alias is not None and alias.lower() != "latest":
        number = model_queries.alias_version(db, name, alias)
        if number is None:
            model_queries.require(db, name)
            raise MlflowException(
                f"Registered model alias {alias} not found.", INVALID_PARAMETER_VALUE
            )
        return number
    model_queries.require(db, name)
    wanted = (
        ALL_STAGES if stage is None or stage.lower() == "latest" else (get_canonical_stage(stage),)
    )
    candidates = [
        int(v.version)
        for v in version_queries.latest_per_stage(db, [name])[name]
        if v.current_stage in wanted
    ]
    if not candidates:
        what = "Latest version" if stage is None or stage.lower() == "latest" else stage
        raise MlflowException(f"{what} not found for model {name}.", RESOURCE_DOES_NOT_EXIST)
    return max(candidates)
