"""The model registry half of the RestStore (spec §2.10), against tracklet's server or MLflow's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracklet.entities import PagedList
from tracklet.entities.model_registry import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
)
from tracklet.store.model_registry_base import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
)
from tracklet.store.rest.http import HttpClient
from tracklet.wire import endpoints as ep
from tracklet.wire.model_registry import model_version_from_json, registered_model_from_json


def _pairs(tags: Sequence[RegisteredModelTag] | Sequence[ModelVersionTag]) -> list[Any]:
    return [{"key": tag.key, "value": tag.value} for tag in tags]


def _set(fields: dict[str, Any], **optional: Any) -> dict[str, Any]:
    """``fields`` with the optional ones that are set (MLflow's client omits None)."""
    fields.update({k: v for k, v in optional.items() if v is not None})
    return fields


class ModelRegistryOverRest:
    """Mixed into RestStore, which provides ``_http``."""

    _http: HttpClient

    def _model(self, endpoint: ep.Endpoint, fields: dict[str, Any]) -> RegisteredModel:
        return registered_model_from_json(self._http.call(endpoint, fields)["registered_model"])

    def _version(self, endpoint: ep.Endpoint, fields: dict[str, Any]) -> ModelVersion:
        return model_version_from_json(self._http.call(endpoint, fields)["model_version"])

    # ------------------------------------------------------------------ registered models

    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] = (),
        description: str | None = None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel:
        fields = _set({"name": name}, description=description, deployment_job_id=deployment_job_id)
        if tags:
            fields["tags"] = _pairs(tags)
        return self._model(ep.CREATE_REGISTERED_MODEL, fields)

    def update_registered_model(
        self, name: str, description: str | None, deployment_job_id: str | None = None
    ) -> RegisteredModel:
        fields = _set({"name": name}, description=description, deployment_job_id=deployment_job_id)
        return self._model(ep.UPDATE_REGISTERED_MODEL, fields)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self._model(ep.RENAME_REGISTERED_MODEL, {"name": name, "new_name": new_name})

    def delete_registered_model(self, name: str) -> None:
        self._http.call(ep.DELETE_REGISTERED_MODEL, {"name": name})

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._model(ep.GET_REGISTERED_MODEL, {"name": name})

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        fields = _set(
            {"max_results": max_results},
            filter=filter_string or None,
            order_by=list(order_by) if order_by else None,
            page_token=page_token or None,
        )
        body = self._http.call(ep.SEARCH_REGISTERED_MODELS, fields)
        models = [registered_model_from_json(m) for m in body.get("registered_models", [])]
        return PagedList(models, body.get("next_page_token") or None)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        fields = _set({"name": name}, stages=list(stages) if stages else None)
        body = self._http.call(ep.GET_LATEST_VERSIONS, fields)
        return [model_version_from_json(v) for v in body.get("model_versions", [])]

    def set_registered_model_tag(self, name: str, tag: RegisteredModelTag) -> None:
        fields = {"name": name, "key": tag.key, "value": tag.value}
        self._http.call(ep.SET_REGISTERED_MODEL_TAG, fields)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._http.call(ep.DELETE_REGISTERED_MODEL_TAG, {"name": name, "key": key})

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
        fields = _set(
            {"name": name, "source": source},
            run_id=run_id,
            run_link=run_link,
            description=description,
            model_id=model_id,
        )
        if tags:
            fields["tags"] = _pairs(tags)
        return self._version(ep.CREATE_MODEL_VERSION, fields)

    def update_model_version(
        self, name: str, version: str, description: str | None = None
    ) -> ModelVersion:
        fields = _set({"name": name, "version": str(version)}, description=description)
        return self._version(ep.UPDATE_MODEL_VERSION, fields)

    def transition_model_version_stage(
        self, name: str, version: str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        fields = {
            "name": name,
            "version": str(version),
            "stage": stage,
            "archive_existing_versions": archive_existing_versions,
        }
        return self._version(ep.TRANSITION_MODEL_VERSION_STAGE, fields)

    def delete_model_version(self, name: str, version: str) -> None:
        self._http.call(ep.DELETE_MODEL_VERSION, {"name": name, "version": str(version)})

    def get_model_version(self, name: str, version: str) -> ModelVersion:
        return self._version(ep.GET_MODEL_VERSION, {"name": name, "version": str(version)})

    def get_model_version_download_uri(self, name: str, version: str) -> str:
        fields = {"name": name, "version": str(version)}
        return str(self._http.call(ep.GET_MODEL_VERSION_DOWNLOAD_URI, fields)["artifact_uri"])

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        fields = _set(
            {"max_results": max_results},
            filter=filter_string or None,
            order_by=list(order_by) if order_by else None,
            page_token=page_token or None,
        )
        body = self._http.call(ep.SEARCH_MODEL_VERSIONS, fields)
        versions = [model_version_from_json(v) for v in body.get("model_versions", [])]
        return PagedList(versions, body.get("next_page_token") or None)

    def set_model_version_tag(self, name: str, version: str, tag: ModelVersionTag) -> None:
        fields = {"name": name, "version": str(version), "key": tag.key, "value": tag.value}
        self._http.call(ep.SET_MODEL_VERSION_TAG, fields)

    def delete_model_version_tag(self, name: str, version: str, key: str) -> None:
        fields = {"name": name, "version": str(version), "key": key}
        self._http.call(ep.DELETE_MODEL_VERSION_TAG, fields)

    # ------------------------------------------------------------------ aliases

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        fields = {"name": name, "alias": alias, "version": str(version)}
        self._http.call(ep.SET_REGISTERED_MODEL_ALIAS, fields)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._http.call(ep.DELETE_REGISTERED_MODEL_ALIAS, {"name": name, "alias": alias})

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._version(ep.GET_MODEL_VERSION_BY_ALIAS, {"name": name, "alias": alias})
