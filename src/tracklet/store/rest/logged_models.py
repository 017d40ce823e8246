"""The logged-model half of the RestStore (spec §2.6 paths; model ids travel in the path)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tracklet.entities import PagedList
from tracklet.entities.logged_model import (
    LoggedModel,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
)
from tracklet.store.rest.http import HttpClient
from tracklet.wire import endpoints as ep
from tracklet.wire.logged_models import logged_model_from_json

MAX_PARAMS_PER_REQUEST = 100


def _pairs(items: Sequence[LoggedModelTag] | Sequence[LoggedModelParameter]) -> list[Any]:
    return [{"key": item.key, "value": item.value} for item in items]


class LoggedModelsOverRest:
    """Mixed into RestStore, which provides ``_http``."""

    _http: HttpClient

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[LoggedModelParameter] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        fields: dict[str, Any] = {"experiment_id": str(experiment_id)}
        for key, value in (
            ("name", name),
            ("source_run_id", source_run_id),
            ("model_type", model_type),
        ):
            if value:
                fields[key] = value
        if tags:
            fields["tags"] = _pairs(tags)
        if params:
            fields["params"] = _pairs(params[:MAX_PARAMS_PER_REQUEST])
        model = logged_model_from_json(self._http.call(ep.CREATE_LOGGED_MODEL, fields)["model"])
        if len(params) > MAX_PARAMS_PER_REQUEST:
            self.log_logged_model_params(model.model_id, params[MAX_PARAMS_PER_REQUEST:])
            model = self.get_logged_model(model.model_id)
        return model

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        body = self._http.call(ep.GET_LOGGED_MODEL, {}, {"model_id": model_id})
        return logged_model_from_json(body["model"])

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        body = self._http.call(
            ep.FINALIZE_LOGGED_MODEL,
            {"model_id": model_id, "status": LoggedModelStatus.from_any(status).to_proto()},
            {"model_id": model_id},
        )
        return logged_model_from_json(body["model"])

    def delete_logged_model(self, model_id: str) -> None:
        self._http.call(ep.DELETE_LOGGED_MODEL, {"model_id": model_id}, {"model_id": model_id})

    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        self._http.call(ep.SET_LOGGED_MODEL_TAGS, {"tags": _pairs(tags)}, {"model_id": model_id})

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._http.call(ep.DELETE_LOGGED_MODEL_TAG, {}, {"model_id": model_id, "tag_key": key})

    def log_logged_model_params(
        self, model_id: str, params: Sequence[LoggedModelParameter]
    ) -> None:
        for start in range(0, len(params), MAX_PARAMS_PER_REQUEST):
            chunk = params[start : start + MAX_PARAMS_PER_REQUEST]
            self._http.call(
                ep.LOG_LOGGED_MODEL_PARAMS,
                {"model_id": model_id, "params": _pairs(chunk)},
                {"model_id": model_id},
            )

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, str | None]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, object]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        fields: dict[str, Any] = {"experiment_ids": [str(e) for e in experiment_ids]}
        if filter_string:
            fields["filter"] = filter_string
        if datasets:
            fields["datasets"] = [{k: v for k, v in d.items() if v is not None} for d in datasets]
        if max_results is not None:
            fields["max_results"] = max_results
        if order_by:
            fields["order_by"] = [dict(o) for o in order_by]
        if page_token:
            fields["page_token"] = page_token
        body = self._http.call(ep.SEARCH_LOGGED_MODELS, fields)
        models = [logged_model_from_json(m) for m in body.get("models", [])]
        return PagedList(models, body.get("next_page_token") or None)
